/**
 * The one layer harness (STYLE.md §5): every layer type goes through `runLayerTest`, which checks
 *   (a) shape inference: configure() and a model's output shape against the expected shape,
 *       and a batch smaller than the built one (buffer views) gives the same per-example outputs;
 *   (b) parameter counts against numbers computed by hand (and weight shapes when given);
 *   (c) config round trip: getConfig() → createLayer() → the same config, and with the weights
 *       copied, the same forward output;
 *   (d) finite-difference gradients on the reference backend: the layer's input gradient and
 *       every trainable weight's gradient, inside a tiny model (see "the tap" below);
 *   (e) training steps (trainBatch, SGD) lower the loss on a fixed batch, at every step when
 *       nothing in the model is random;
 *   (f) the backend under test (native) agrees with the reference: forward outputs in inference
 *       and training mode, every weight gradient and the layer's input gradient.
 *
 * The tap. A model never computes the gradient of its data input (Keras does not either), and a
 * layer is only asked for its input gradient when something before it has trainable weights.
 * So the gradient-check model is `input → tap_k → layer`, where tap_k is a Dense(c) on the last
 * axis whose kernel is set to (k+1)·I and bias to 0: the layer's k-th input is exactly (k+1)·x
 * (a product with an identity matrix rounds nothing), the model asks the layer for its input
 * gradients, and a spy on layer.backward records them. Perturbing x then perturbs every input
 * of the layer, so the finite difference of L with respect to x must equal Σ_k (k+1)·dL/du_k.
 * The taps' own kernels are trainable weights too and get checked as well; their gradient
 * xᵀ·dL/du_k tests each input gradient separately (Add has two inputs).
 *
 * Randomness. Layers with a random stream (Dropout) would draw a new mask at every forward pass;
 * the check saves every layer's stream position and restores it before each pass, so all
 * passes of one check use the same mask and the loss is a smooth function again. Augmentation
 * layers have no gradient by design (they sit on the data) and say so with `gradCheck.skip`.
 *
 * @example
 * runLayerTest({
 *   name: 'dense 5→3 relu', make: () => new Dense({ units: 3, activation: 'relu' }),
 *   inputShape: [5], expectedOutputShape: [3], expectedParams: { trainable: 18, nonTrainable: 0 },
 *   backend: backendUnderTest(),
 * });
 */
import { describe, expect, it } from 'vitest';
import type { Backend, F32 } from '../../src/backend/backend.js';
import type { Layer } from '../../src/nn/layer.js';
import { Flatten } from '../../src/nn/layers/basic.js';
import { Dense } from '../../src/nn/layers/dense.js';
import { LossHead } from '../../src/nn/losses.js';
import { MODEL_INPUT, Model, type ModelLayer } from '../../src/nn/model.js';
import { createLayer } from '../../src/nn/registry.js';
import { type Shape, sizeOf } from '../../src/nn/shape.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import type { StreamState } from '../../src/tensor/prng.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { trainBatch } from '../../src/train/step.js';
import { type FdOptions, type FdReport, dot, expectCloseScaled, expectFdReports, fdCheck, labels, reference, uniform } from './check.js';

export interface LayerTestOptions {
  name: string;
  /** a fresh, unconfigured layer */
  make: () => Layer;
  inputShape?: Shape;
  /** for layers with several inputs (Add); all shapes must be equal (they come from one input) */
  inputShapes?: Shape[];
  expectedOutputShape: Shape;
  expectedParams: { trainable: number; nonTrainable: number };
  /** weight name → shape, checked when given */
  expectedWeightShapes?: Record<string, number[]>;
  /** the backend under test; the reference backend is the oracle */
  backend: Backend;
  /** examples per batch in the gradient check and the comparisons (default 2) */
  batch?: number;
  /** input data generator (default uniform in [−1, 1)) */
  input?: (seed: number, n: number) => Float32Array;
  /** layers after the tested one in the gradient-check model (e.g. to keep a softmax in the middle) */
  after?: () => Layer[];
  gradCheck?: Partial<FdOptions> | { skip: string };
  /** SGD steps on a fixed batch; maxRatio bounds final/initial loss */
  trainStep?: { steps?: number; learningRate?: number; maxRatio?: number } | { skip: string };
}

const isSkip = (v: unknown): v is { skip: string } => typeof v === 'object' && v !== null && 'skip' in v;

function shapesOf(o: LayerTestOptions): Shape[] {
  const shapes = o.inputShapes ?? (o.inputShape ? [o.inputShape] : []);
  if (shapes.length === 0) throw new Error(`${o.name}: give inputShape or inputShapes`);
  if (!shapes.every((s) => s.join() === shapes[0].join())) throw new Error(`${o.name}: the harness feeds every input from one model input; shapes must be equal`);
  return shapes;
}

// ---- models the checks use --------------------------------------------------------------------

/** The layer alone, each of its inputs wired to the model input. */
export function singleLayerModel(layer: Layer, inputShape: Shape, arity = 1): Model {
  return new Model(inputShape, [{ layer, inputs: Array<string>(arity).fill(MODEL_INPUT) }], 'single');
}

export interface Tapped {
  model: Model;
  layer: Layer;
  taps: Dense[];
}

/** input → tap_k (Dense, kernel (k+1)·I after build) → layer → after… (see the header). */
export function tappedModel(layer: Layer, inputShapes: Shape[], after: Layer[] = []): Tapped {
  const c = inputShapes[0][inputShapes[0].length - 1];
  const taps = inputShapes.map((_, k) => new Dense({ name: `tap${k}`, units: c }));
  const entries: ModelLayer[] = taps.map((t) => ({ layer: t, inputs: [MODEL_INPUT] }));
  entries.push({ layer, inputs: taps.map((t) => t.name) });
  for (const l of after) entries.push({ layer: l });
  return { model: new Model(inputShapes[0], entries, 'tapped'), layer, taps };
}

/** Build, make biases and batch-norm statistics non-trivial, and set the taps to (k+1)·I. */
export function buildTapped(t: Tapped, backend: Backend, batch: number, seed: number): Tapped {
  t.model.build({ batchSize: batch, backend, seed });
  randomizeWeights(t.model, seed + 100, new Set(t.taps.map((d) => d.name)));
  t.taps.forEach((tap, k) => {
    const c = tap.units;
    tap.kernel.value.fill(0);
    for (let i = 0; i < c; i++) tap.kernel.value[i * c + i] = k + 1;
    tap.bias?.value.fill(0);
  });
  return t;
}

/**
 * Biases, beta, gamma and moving statistics drawn away from their (zero/one) initial values so
 * that comparisons and gradient checks exercise them; kernels keep their initializers.
 */
export function randomizeWeights(model: Model, seed: number, skipLayers: Set<string> = new Set()): void {
  const rng = new RandomStream(seed, 15);
  for (const p of model.params()) {
    if (skipLayers.has(p.layer.name)) continue;
    if (p.weightName === 'moving_variance') rng.fillUniform(p.value, 0.5, 2);
    else if (p.weightName === 'gamma') rng.fillUniform(p.value, 0.7, 1.4);
    else if (p.weightName === 'bias' || p.weightName === 'beta' || p.weightName === 'moving_mean') rng.fillUniform(p.value, -0.3, 0.3);
  }
}

// ---- random streams ---------------------------------------------------------------------------

export function saveStreams(model: Model): (StreamState | null)[] {
  return model.layers.map((l) => l.rng?.getState() ?? null);
}

export function restoreStreams(model: Model, states: (StreamState | null)[]): void {
  model.layers.forEach((l, i) => {
    const s = states[i];
    if (s) l.rng = RandomStream.fromState(s);
  });
}

// ---- gradients --------------------------------------------------------------------------------

/** Records copies of the input gradients a layer returns from backward (a spy). */
export function spyInputGradients(layer: Layer): { last: (Float32Array | null)[] } {
  const box: { last: (Float32Array | null)[] } = { last: [] };
  const original = layer.backward.bind(layer);
  layer.backward = (dy: F32): (F32 | null)[] => {
    const result = original(dy);
    box.last = result.map((g) => (g ? Float32Array.from(g) : null));
    return result;
  };
  return box;
}

export interface Gradients {
  output: Float32Array;
  /** param name → copy of its gradient (trainable params only) */
  weights: Map<string, Float32Array>;
}

/** One forward (streams restored first) and backward of L = Σ r·y; copies of y and every gradient. */
export function gradientsOf(model: Model, x: F32, r: F32, training: boolean, streams: (StreamState | null)[]): Gradients {
  restoreStreams(model, streams);
  const output = Float32Array.from(model.forward(x, { training }));
  model.backward(Float32Array.from(r), { throughSoftmax: true });
  const weights = new Map<string, Float32Array>();
  for (const p of model.trainableParams()) weights.set(p.name, Float32Array.from(p.grad as F32));
  return { output, weights };
}

/**
 * Finite-difference check of every trainable weight of `model` (and of x when `inputGradient`
 * is given) for L = Σ r·model(x), all passes from the same stream positions.
 */
export function checkModelGradients(
  model: Model, x: F32, r: F32, training: boolean, analytic: Gradients, fd: Partial<FdOptions>,
  streams: (StreamState | null)[], inputGradient?: Float32Array,
): FdReport[] {
  const loss = (): number => {
    restoreStreams(model, streams);
    return dot(r, model.forward(x, { training }));
  };
  const reports: FdReport[] = [];
  if (inputGradient) reports.push(fdCheck('input', x, inputGradient, loss, fd));
  for (const p of model.trainableParams()) {
    reports.push(fdCheck(p.name, p.value, analytic.weights.get(p.name) as Float32Array, loss, fd));
  }
  return reports;
}

/** Σ_k (k+1)·dL/du_k: the gradient with respect to x through the taps. */
function inputGradientThroughTaps(grads: (Float32Array | null)[], n: number): Float32Array {
  const out = new Float32Array(n);
  grads.forEach((g, k) => {
    if (!g) throw new Error(`the layer returned no gradient for its input ${k}`);
    for (let i = 0; i < n; i++) out[i] += (k + 1) * g[i];
  });
  return out;
}

// ---- the harness ------------------------------------------------------------------------------

export function runLayerTest(o: LayerTestOptions): void {
  const shapes = shapesOf(o);
  const batch = o.batch ?? 2;
  const makeInput = o.input ?? ((seed: number, n: number) => uniform(seed, n));
  const inputLength = batch * sizeOf(shapes[0]);

  describe(o.name, () => {
    it('infers the output shape', () => {
      expect(o.make().configure(shapes)).toEqual(o.expectedOutputShape);
      expect(singleLayerModel(o.make(), shapes[0], shapes.length).outputShape).toEqual(o.expectedOutputShape);
    });

    it('has the hand-counted parameters', () => {
      const layer = o.make();
      const model = singleLayerModel(layer, shapes[0], shapes.length).build({ batchSize: 1, backend: o.backend, seed: 1 });
      const { trainable, nonTrainable } = o.expectedParams;
      expect(model.countParams()).toEqual({ total: trainable + nonTrainable, trainable, nonTrainable });
      expect(layer.countParams()).toEqual(o.expectedParams);
      if (o.expectedWeightShapes) {
        expect(Object.fromEntries(layer.params.map((p) => [p.weightName, [...p.shape]]))).toEqual(o.expectedWeightShapes);
      }
    });

    it('round-trips its config through createLayer, with the same output', () => {
      const first = buildTapped(tappedModel(o.make(), shapes), o.backend, batch, 3);
      const config = first.layer.getConfig();
      expect(JSON.parse(JSON.stringify(config)), 'getConfig() must be plain JSON').toEqual(config);
      const { type, ...rest } = config;
      const clone = createLayer(type, rest);
      expect(clone.getConfig()).toEqual(config);
      const second = buildTapped(tappedModel(clone, shapes), o.backend, batch, 4);
      second.model.setWeights(first.model.getWeights());
      const x = makeInput(5, inputLength);
      const a = Float32Array.from(first.model.forward(x, { training: false }));
      expect(second.model.forward(x, { training: false })).toEqual(a);
      if (first.layer.rng === null) {
        // no random stream: training mode is deterministic too
        const b = Float32Array.from(first.model.forward(x, { training: true }));
        expect(second.model.forward(x, { training: true })).toEqual(b);
      }
    });

    it('a smaller batch (buffer views) gives the same per-example outputs at inference', () => {
      const full = batch + 1;
      const t = buildTapped(tappedModel(o.make(), shapes, o.after?.() ?? []), o.backend, full, 6);
      const x = makeInput(6, full * sizeOf(shapes[0]));
      const all = Float32Array.from(t.model.forward(x, { training: false }));
      const per = t.model.outputSize;
      const one = Float32Array.from(t.model.forward(x.subarray(0, sizeOf(shapes[0])), { training: false }));
      // a native kernel may tile one row differently from several (another summation order):
      // allow a rounding; a wrong view or stale geometry would be off by O(1)
      expectCloseScaled(one, all.subarray(0, per), 1e-6, 'first example alone');
      expect(t.model.forward(x, { training: false })).toEqual(all);
    });

    if (isSkip(o.gradCheck)) {
      it.skip(`gradients match finite differences — skipped: ${o.gradCheck.skip}`, () => undefined);
    } else {
      const fd = o.gradCheck ?? {};
      it('gradients (input and weights) match finite differences on the reference backend', () => {
        const t = buildTapped(tappedModel(o.make(), shapes, o.after?.() ?? []), reference, batch, 7);
        const spy = spyInputGradients(t.layer);
        const x = makeInput(8, inputLength);
        const r = uniform(9, batch * t.model.outputSize);
        const streams = saveStreams(t.model);
        const analytic = gradientsOf(t.model, x, r, true, streams);
        const dx = inputGradientThroughTaps(spy.last, inputLength);
        expectFdReports(checkModelGradients(t.model, x, r, true, analytic, fd, streams, dx));
      });
    }

    if (isSkip(o.trainStep)) {
      it.skip(`training lowers the loss — skipped: ${o.trainStep.skip}`, () => undefined);
    } else {
      const ts = o.trainStep ?? {};
      it('training steps (trainBatch, SGD) lower the loss on a fixed batch', () => {
        const layer = o.make();
        const entries: ModelLayer[] = [{ layer, inputs: Array<string>(shapes.length).fill(MODEL_INPUT) }];
        if (o.expectedOutputShape.length > 1) entries.push({ layer: new Flatten() });
        entries.push({ layer: new Dense({ units: 3, activation: 'softmax' }) });
        const n = 8;
        const model = new Model(shapes[0], entries, 'train').build({ batchSize: n, backend: o.backend, seed: 11 });
        const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
        // plain gradient descent with a modest step: on a fixed batch each step must go down
        const optimizer = createOptimizer({ name: 'sgd', learningRate: ts.learningRate ?? 0.1 });
        // plain uniform data: the special inputs of the gradient check (wide ladders) train badly
        const x = uniform(12, n * sizeOf(shapes[0]));
        const y = labels(13, n, 3);
        const before = layer.params.map((p) => Float32Array.from(p.value));
        const losses: number[] = [];
        for (let i = 0; i < (ts.steps ?? 15); i++) losses.push(trainBatch(model, loss, optimizer, x, y, null).lossSum / n);
        const trace = `losses ${losses.map((l) => l.toFixed(4)).join(' ')}`;
        expect(losses.every(Number.isFinite), trace).toBe(true);
        if (layer.rng === null) {
          // deterministic model and batch: every step goes down, and not by rounding noise
          losses.slice(1).forEach((l, i) => expect(l, trace).toBeLessThan(losses[i]));
          expect(losses[losses.length - 1], trace).toBeLessThan(losses[0] * (ts.maxRatio ?? 0.99));
        } else {
          // a new dropout mask or augmentation every step: only the trend is certain
          expect(losses[losses.length - 1], trace).toBeLessThan(losses[0] * (ts.maxRatio ?? 0.9));
        }
        layer.params.forEach((p, i) => {
          if (p.trainable) expect(p.value, `${p.name} must be trained`).not.toEqual(before[i]);
        });
      });
    }

    const compare = o.backend.name !== 'reference';
    it.skipIf(!compare)(`${o.backend.name} matches the reference backend (outputs and gradients)${compare ? '' : ' — skipped: the backend under test is the reference'}`, () => {
      const after = o.after;
      const make = (b: Backend): Tapped => buildTapped(tappedModel(o.make(), shapes, after?.() ?? []), b, batch, 21);
      const ref = make(reference);
      const nat = make(o.backend);
      const refSpy = spyInputGradients(ref.layer);
      const natSpy = spyInputGradients(nat.layer);
      const x = makeInput(22, inputLength);
      const r = uniform(23, batch * ref.model.outputSize);
      // float32 kernels sum in other orders than the double-accumulating reference: a few ulps of
      // the largest value involved (1e-5 relative), never a structural difference
      const tol = 1e-5;
      expectCloseScaled(nat.model.forward(x, { training: false }), ref.model.forward(x, { training: false }), tol, 'inference output');
      const g1 = gradientsOf(ref.model, x, r, true, saveStreams(ref.model));
      const g2 = gradientsOf(nat.model, x, r, true, saveStreams(nat.model));
      expectCloseScaled(g2.output, g1.output, tol, 'training output');
      for (const [name, g] of g1.weights) expectCloseScaled(g2.weights.get(name) as Float32Array, g, tol, `gradient of ${name}`);
      refSpy.last.forEach((g, k) => {
        if (g) expectCloseScaled(natSpy.last[k] as Float32Array, g, tol, `input gradient ${k}`);
        else expect(natSpy.last[k]).toBeNull();
      });
    });
  });
}
