/**
 * Training versus inference behaviour, checked against hand-computed numbers:
 * Dropout (inverted dropout, identity at inference), BatchNormalization (batch statistics and
 * Keras' moving-average update in training, moving statistics at inference, a frozen layer in
 * inference mode even while training), the BN + ReLU fusion, residual graphs (gradients reaching
 * both branches), and the augmentation layers (identity at inference; exact flips, rotations by
 * 180° and 90°, one- and two-pixel translations under every fill mode, zooms).
 */
import { describe, expect, it } from 'vitest';
import type { Backend, F32 } from '../../src/backend/backend.js';
import type { Layer } from '../../src/nn/layer.js';
import { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from '../../src/nn/layers/augment.js';
import { Activation, Add, Dropout, Flatten, Rescaling } from '../../src/nn/layers/basic.js';
import { BatchNormalization } from '../../src/nn/layers/batch-norm.js';
import { Conv2D } from '../../src/nn/layers/conv2d.js';
import { Dense } from '../../src/nn/layers/dense.js';
import { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D } from '../../src/nn/layers/pooling.js';
import { LossHead } from '../../src/nn/losses.js';
import { Model, type ModelLayer, sequential } from '../../src/nn/model.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { trainBatch } from '../../src/train/step.js';
import { expectCloseScaled, expectFdReports, labels, native, reference, uniform } from './check.js';
import {
  buildTapped, checkModelGradients, gradientsOf, randomizeWeights, saveStreams, spyInputGradients, tappedModel,
} from './layer-harness.js';

const BACKENDS: Backend[] = native ? [reference, native] : [reference];

describe.each(BACKENDS.map((b) => [b.name, b] as const))('Dropout on %s', (_name, backend) => {
  const rate = 0.3;
  const n = 4;
  const per = 5000;
  const build = (seed: number): Model => sequential([per], [new Dropout({ rate })]).build({ batchSize: n, backend, seed });

  it('is the identity at inference', () => {
    const x = uniform(1, n * per);
    expect(build(1).forward(x, { training: false })).toEqual(x);
  });

  it('in training zeroes units or scales them by 1/(1 − rate); keeps ≈ 1 − rate of them and the mean', () => {
    const x = uniform(2, n * per, 0.5, 1.5);
    const y = build(2).forward(x, { training: true });
    let kept = 0;
    let sumX = 0;
    let sumY = 0;
    for (let i = 0; i < y.length; i++) {
      sumX += x[i];
      sumY += y[i];
      if (y[i] === 0) continue;
      kept++;
      // x·fround(1/0.7) in float32: within one rounding of the exact x/0.7
      expect(Math.abs(y[i] - x[i] / (1 - rate))).toBeLessThanOrEqual(2e-7 * y[i]);
    }
    // kept ~ Binomial(20000, 0.7): σ = √(20000·0.21)/20000 ≈ 0.0032; 5σ ≈ 0.016
    expect(Math.abs(kept / y.length - (1 - rate))).toBeLessThan(0.016);
    // E[y] = E[x]: the sample mean of y/x-scaled units stays within ≈ 5σ (σ ≈ 0.004 here)
    expect(Math.abs(sumY / sumX - 1)).toBeLessThan(0.02);
  });

  it('backward lets the gradient through the kept units only, scaled by 1/(1 − rate)', () => {
    // the tap is a per×per Dense: keep it small
    const small = 200;
    const t = buildTapped(tappedModel(new Dropout({ rate }), [[small]]), backend, n, 3);
    const spy = spyInputGradients(t.layer);
    const x = uniform(4, n * small, 0.5, 1.5);
    const r = uniform(5, n * small);
    const y = Float32Array.from(t.model.forward(x, { training: true }));
    t.model.backward(r);
    const dx = spy.last[0] as Float32Array;
    expect(y.filter((v) => v === 0).length).toBeGreaterThan(0);
    for (let i = 0; i < y.length; i++) {
      const expected = y[i] === 0 ? 0 : r[i] / (1 - rate);
      expect(Math.abs(dx[i] - expected)).toBeLessThanOrEqual(2e-7 * Math.abs(expected));
    }
  });

  it('draws a fresh mask every step, reproducibly from the seed', () => {
    const x = new Float32Array(n * per).fill(1);
    const a = build(7);
    const b = build(7);
    const a1 = Float32Array.from(a.forward(x, { training: true }));
    const a2 = Float32Array.from(a.forward(x, { training: true }));
    expect(b.forward(x, { training: true })).toEqual(a1);
    expect(b.forward(x, { training: true })).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(build(8).forward(x, { training: true })).not.toEqual(a1);
  });

  it('rate 0 is the identity in training too', () => {
    const x = uniform(9, 2 * 10);
    const m = sequential([10], [new Dropout({ rate: 0 })]).build({ batchSize: 2, backend, seed: 1 });
    expect(m.forward(x, { training: true })).toEqual(x);
  });

  it.skipIf(backend === reference)(`draws the same mask as the reference backend${backend === reference ? ' (skipped: the reference backend is its own oracle)' : ''}`, () => {
    const x = uniform(10, n * per, 0.5, 1.5);
    const ours = Float32Array.from(build(11).forward(x, { training: true }));
    const ref = sequential([per], [new Dropout({ rate })]).build({ batchSize: n, backend: reference, seed: 11 });
    expect(ours).toEqual(ref.forward(x, { training: true }));
  });
});

// ---- known numbers of the window layers (TensorFlow's padding convention) --------------------------

describe.each(BACKENDS.map((b) => [b.name, b] as const))('window layers: hand-computed outputs on %s', (_name, backend) => {
  const run = (layer: Layer, shape: number[], x: number[]): number[] =>
    Array.from(sequential(shape, [layer]).build({ batchSize: 1, backend, seed: 1 }).forward(Float32Array.from(x), { training: false }));
  const nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];

  it('MaxPooling2D 2×2 / 2: the lecture example of STYLE.md', () => {
    const x = [1, 3, 0, 1, 2, 6, 4, 2, 0, 1, 4, 0, 7, 0, 0, 3, 4, 4, 5, 5, 3, 5, 4, 4, 8, 2, 4, 3, 2, 0, 3, 3, 6, 0, 3, 0];
    expect(run(new MaxPooling2D({ poolSize: 2 }), [6, 6, 1], x)).toEqual([4, 1, 6, 7, 5, 4, 8, 6, 3]);
  });

  it("Conv2D 2×2 'same' pads the bottom and right only, as TensorFlow does", () => {
    const conv = new Conv2D({ filters: 1, kernelSize: 2, padding: 'same', kernelInitializer: 'ones' });
    // out[y][x] = Σ of the 2×2 window starting at (y, x), cut at the bottom/right edge
    expect(run(conv, [3, 3, 1], nine)).toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9]);
  });

  it("AveragePooling2D 2×2 / 2 'same' averages only the cells inside the image", () => {
    expect(run(new AveragePooling2D({ poolSize: 2, padding: 'same' }), [3, 3, 1], nine)).toEqual([3, 4.5, 7.5, 9]);
  });

  it("MaxPooling2D 3×3 / 2 'same' on 4×4: windows start at 0 and 2, the second cut at the edge", () => {
    const x = Array.from({ length: 16 }, (_, i) => (i * 7) % 16); // 0 7 14 5 / 12 3 10 1 / 8 15 6 13 / 4 11 2 9
    expect(run(new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }), [4, 4, 1], x)).toEqual([15, 14, 15, 13]);
  });
});

// ---- BatchNormalization --------------------------------------------------------------------------

/** Per-channel mean and biased variance of x viewed as rows × c, in float64. */
function moments(x: ArrayLike<number>, c: number): { mean: number[]; variance: number[] } {
  const rows = x.length / c;
  const mean = Array<number>(c).fill(0);
  const variance = Array<number>(c).fill(0);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2 / rows;
  return { mean, variance };
}

function bnLayer(model: Model, i = 0): BatchNormalization {
  return model.layers[i] as BatchNormalization;
}

describe.each(BACKENDS.map((b) => [b.name, b] as const))('BatchNormalization on %s', (_name, backend) => {
  const gamma = [1.5, 0.5, 2];
  const beta = [0.1, -0.2, 0.3];
  const movingMean = [0.2, -0.1, 0.05];
  const movingVar = [1.2, 0.8, 1.0];
  // 4 examples of 3 channels
  const x = Float32Array.from([0.5, -1, 2, 1.5, 0, -2, -0.5, 3, 0.25, 2.5, 1, 1]);

  function setUp(): { model: Model; bn: BatchNormalization } {
    const model = sequential([3], [new BatchNormalization()]).build({ batchSize: 4, backend, seed: 1 });
    const bn = bnLayer(model);
    bn.gamma?.value.set(gamma);
    bn.beta?.value.set(beta);
    bn.movingMean.value.set(movingMean);
    bn.movingVariance.value.set(movingVar);
    return { model, bn };
  }

  it('training mode normalizes with the batch statistics (biased variance)', () => {
    const { model } = setUp();
    const y = model.forward(x, { training: true });
    const { mean, variance } = moments(x, 3);
    const expected = Array.from(x, (v, i) => gamma[i % 3] * (v - mean[i % 3]) / Math.sqrt(variance[i % 3] + 1e-3) + beta[i % 3]);
    expectCloseScaled(y, expected, 1e-6, 'y');
  });

  it('training mode updates the moving statistics the Keras way: moving·0.99 + batch·0.01', () => {
    const { model, bn } = setUp();
    const { mean, variance } = moments(x, 3);
    model.forward(x, { training: true });
    const m1 = movingMean.map((m, c) => m * 0.99 + mean[c] * 0.01);
    const v1 = movingVar.map((v, c) => v * 0.99 + variance[c] * 0.01);
    expectCloseScaled(bn.movingMean.value, m1, 1e-6, 'moving mean after one step');
    expectCloseScaled(bn.movingVariance.value, v1, 1e-6, 'moving variance after one step');
    model.forward(x, { training: true });
    expectCloseScaled(bn.movingMean.value, m1.map((m, c) => m * 0.99 + mean[c] * 0.01), 1e-6, 'moving mean after two steps');
    expectCloseScaled(bn.movingVariance.value, v1.map((v, c) => v * 0.99 + variance[c] * 0.01), 1e-6, 'moving variance after two steps');
  });

  it('inference mode uses the moving statistics and updates nothing', () => {
    const { model, bn } = setUp();
    const y = model.forward(x, { training: false });
    const expected = Array.from(x, (v, i) => gamma[i % 3] * (v - movingMean[i % 3]) / Math.sqrt(movingVar[i % 3] + 1e-3) + beta[i % 3]);
    expectCloseScaled(y, expected, 1e-6, 'y');
    expect(Array.from(bn.movingMean.value)).toEqual(movingMean.map(Math.fround));
    expect(Array.from(bn.movingVariance.value)).toEqual(movingVar.map(Math.fround));
  });

  it('on images, statistics run over batch, height and width per channel', () => {
    const model = sequential([3, 3, 2], [new BatchNormalization({ momentum: 0.9 })]).build({ batchSize: 2, backend, seed: 1 });
    const xi = uniform(20, 2 * 3 * 3 * 2, -2, 2);
    const y = model.forward(xi, { training: true });
    const { mean, variance } = moments(xi, 2);
    expectCloseScaled(y, Array.from(xi, (v, i) => (v - mean[i % 2]) / Math.sqrt(variance[i % 2] + 1e-3)), 1e-6, 'y');
    expectCloseScaled(bnLayer(model).movingMean.value, mean.map((m) => 0.1 * m), 1e-6, 'moving mean (momentum 0.9)');
    expectCloseScaled(bnLayer(model).movingVariance.value, variance.map((v) => 0.9 + 0.1 * v), 1e-6, 'moving variance (momentum 0.9)');
  });

  it('frozen (trainable=false): inference mode even while training, and trainBatch changes none of its weights', () => {
    const layers = [new BatchNormalization({ trainable: false }), new Flatten(), new Dense({ units: 3, activation: 'softmax' })];
    const model = sequential([2, 2, 3], layers).build({ batchSize: 4, backend, seed: 2 });
    randomizeWeights(model, 3);
    // BN on 3 channels: all 4·3 weights non-trainable when frozen (Keras); Dense 12·3 + 3 = 39
    expect(model.countParams()).toEqual({ total: 51, trainable: 39, nonTrainable: 12 });
    const xi = uniform(21, 4 * 12);
    model.forward(xi, { training: false });
    const inference = Float32Array.from(model.layerOutput(0) as F32);
    const bnBefore = layers[0].params.map((p) => Float32Array.from(p.value));
    const denseBefore = Float32Array.from((layers[2] as Dense).kernel.value);
    const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
    const opt = createOptimizer({ name: 'adam', learningRate: 0.01 });
    for (let i = 0; i < 3; i++) trainBatch(model, loss, opt, xi, labels(22, 4, 3), null);
    expect(model.layerOutput(0)).toEqual(inference);
    layers[0].params.forEach((p, i) => expect(p.value, p.name).toEqual(bnBefore[i]));
    expect((layers[2] as Dense).kernel.value).not.toEqual(denseBefore);
  });

  it('trainable: trainBatch changes gamma, beta and the moving statistics', () => {
    const layers = [new BatchNormalization(), new Flatten(), new Dense({ units: 3, activation: 'softmax' })];
    const model = sequential([2, 2, 3], layers).build({ batchSize: 4, backend, seed: 2 });
    const before = layers[0].params.map((p) => Float32Array.from(p.value));
    const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
    const opt = createOptimizer({ name: 'adam', learningRate: 0.01 });
    trainBatch(model, loss, opt, uniform(23, 4 * 12, -1, 3), labels(24, 4, 3), null);
    layers[0].params.forEach((p, i) => expect(p.value, p.name).not.toEqual(before[i]));
  });
});

// ---- the BN + ReLU fusion --------------------------------------------------------------------------

describe.each(BACKENDS.map((b) => [b.name, b] as const))('BatchNormalization → Activation(relu) fusion on %s', (_name, backend) => {
  /** tap → BN → [Rescaling(1)] → relu: the identity Rescaling keeps the two apart, so no fusion. */
  function pair(trainable: boolean): { fused: ReturnType<typeof tappedModel>; plain: ReturnType<typeof tappedModel> } {
    const make = (between: Layer[]): ReturnType<typeof tappedModel> =>
      buildTapped(tappedModel(new BatchNormalization({ trainable }), [[3, 3, 2]], [...between, new Activation({ activation: 'relu' })]), backend, 3, 30);
    return { fused: make([]), plain: make([new Rescaling({ scale: 1 })]) };
  }

  for (const trainable of [true, false]) {
    it(`fused and unfused give the same outputs and gradients (trainable=${trainable})`, () => {
      const { fused, plain } = pair(trainable);
      const fusedBn = fused.layer as BatchNormalization;
      const plainBn = plain.layer as BatchNormalization;
      expect(fusedBn.fusedRelu).toBe(true);
      expect((fused.model.layers[2] as Activation).passthrough).toBe(true);
      expect(plainBn.fusedRelu).toBe(false);
      expect((plain.model.layers[3] as Activation).passthrough).toBe(false);
      const x = uniform(31, 3 * 18);
      const r = uniform(32, 3 * 18);
      // the fused kernel applies the same float32 operations, then max(·, 0): identical up to a
      // rounding of the normalization (1e-6 of the largest value)
      expectCloseScaled(fused.model.forward(x, { training: false }), plain.model.forward(x, { training: false }), 1e-6, 'inference output');
      const a = gradientsOf(fused.model, x, r, true, saveStreams(fused.model));
      const b = gradientsOf(plain.model, x, r, true, saveStreams(plain.model));
      expectCloseScaled(a.output, b.output, 1e-6, 'training output');
      for (const [name, g] of a.weights) expectCloseScaled(g, b.weights.get(name) as Float32Array, 1e-5, `gradient of ${name}`);
      expect([...a.weights.keys()]).toEqual([...b.weights.keys()]);
    });

    it.skipIf(backend !== reference)(`the fused model passes the finite-difference check (trainable=${trainable})${backend !== reference ? ' (skipped: the finite-difference check runs once, on the reference backend)' : ''}`, () => {
      const { fused } = pair(trainable);
      const x = uniform(33, 3 * 18);
      const r = uniform(34, 3 * 18);
      const streams = saveStreams(fused.model);
      const g = gradientsOf(fused.model, x, r, true, streams);
      expectFdReports(checkModelGradients(fused.model, x, r, true, g, {}, streams));
    });
  }
});

// ---- residual graphs --------------------------------------------------------------------------------

describe('residual graphs', () => {
  /** x → d0 → d1 → add(d1, d0) → out: d0 feeds both branches. */
  function denseResidual(backend: Backend): Model {
    const entries: ModelLayer[] = [
      { layer: new Dense({ name: 'd0', units: 4, activation: 'tanh' }) },
      { layer: new Dense({ name: 'd1', units: 4, activation: 'tanh' }) },
      { layer: new Add({ name: 'sum' }), inputs: ['d1', 'd0'] },
      { layer: new Dense({ name: 'out', units: 3 }) },
    ];
    const model = new Model([5], entries, 'residual').build({ batchSize: 3, backend, seed: 40 });
    randomizeWeights(model, 41);
    return model;
  }

  it('the gradient reaches both branches of an Add (finite differences)', () => {
    const model = denseResidual(reference);
    const x = uniform(42, 15);
    const r = uniform(43, 9);
    const streams = saveStreams(model);
    const g = gradientsOf(model, x, r, true, streams);
    expectFdReports(checkModelGradients(model, x, r, true, g, {}, streams));
    // and the skip path alone carries gradient to d0: with d1's kernel zeroed, d1's output is a
    // constant, so d0 learns only through the shortcut — its gradient must stay non-zero
    (model.layers[1] as Dense).kernel.value.fill(0);
    const skipOnly = gradientsOf(model, x, r, true, streams).weights.get('d0/kernel') as Float32Array;
    expect(Math.max(...Array.from(skipOnly, Math.abs))).toBeGreaterThan(1e-3);
    expect(skipOnly).not.toEqual(g.weights.get('d0/kernel'));
  });

  /** stem conv → [conv-BN-relu-conv-BN] + stem → relu → GAP → Dense softmax. */
  function resBlock(backend: Backend): Model {
    const entries: ModelLayer[] = [
      { layer: new Conv2D({ name: 'stem', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }) },
      { layer: new Conv2D({ name: 'c1', filters: 3, kernelSize: 3, padding: 'same', useBias: false }) },
      { layer: new BatchNormalization({ name: 'bn1' }) },
      { layer: new Activation({ name: 'relu1', activation: 'relu' }) },
      { layer: new Conv2D({ name: 'c2', filters: 3, kernelSize: 3, padding: 'same', useBias: false }) },
      { layer: new BatchNormalization({ name: 'bn2' }) },
      { layer: new Add({ name: 'add' }), inputs: ['bn2', 'stem'] },
      { layer: new Activation({ name: 'out_relu', activation: 'relu' }) },
      { layer: new GlobalAveragePooling2D({ name: 'gap' }) },
      { layer: new Dense({ name: 'fc', units: 3, activation: 'softmax' }) },
    ];
    const model = new Model([4, 4, 2], entries, 'resblock').build({ batchSize: 2, backend, seed: 44 });
    randomizeWeights(model, 45);
    return model;
  }

  it('a ResNet block (conv-BN-relu-conv-BN + shortcut) passes the finite-difference check', () => {
    const model = resBlock(reference);
    const x = uniform(46, 2 * 32);
    const r = uniform(47, 2 * 3);
    const streams = saveStreams(model);
    const g = gradientsOf(model, x, r, true, streams);
    expectFdReports(checkModelGradients(model, x, r, true, g, { maxCoords: 16 }, streams));
  });

  it.skipIf(!native)(`a ResNet block: native gradients match the reference${native ? '' : ' (skipped: the native addon is not built)'}`, () => {
    const a = resBlock(reference);
    const b = resBlock(native as Backend);
    const x = uniform(48, 2 * 32);
    const r = uniform(49, 2 * 3);
    const ga = gradientsOf(a, x, r, true, saveStreams(a));
    const gb = gradientsOf(b, x, r, true, saveStreams(b));
    // float32 sums in another order (see the harness): 1e-5 of the largest value
    expectCloseScaled(gb.output, ga.output, 1e-5, 'output');
    for (const [name, g] of ga.weights) expectCloseScaled(gb.weights.get(name) as Float32Array, g, 1e-5, `gradient of ${name}`);
  });
});

// ---- augmentation --------------------------------------------------------------------------------------

/** n images (h, w, c) whose values are all distinct: 1, 2, 3, … */
function ramp(n: number, h: number, w: number, c: number): Float32Array {
  return Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);
}

/** out[y][x] = in[my(y, x)][mx(y, x)] per image, or `fill` where the map returns null. */
function remap(
  x: Float32Array, n: number, h: number, w: number, c: number,
  map: (img: number, y: number, x: number) => [number, number] | null, fill = 0,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const src = map(i, yy, xx);
        for (let ch = 0; ch < c; ch++) {
          out[((i * h + yy) * w + xx) * c + ch] = src ? x[((i * h + src[0]) * w + src[1]) * c + ch] : fill;
        }
      }
    }
  }
  return out;
}

function augmentModel(layer: Layer, shape: number[], n: number, seed = 1): Model {
  return sequential(shape, [layer]).build({ batchSize: n, backend: reference, seed });
}

describe('augmentation layers', () => {
  const makers: [string, () => Layer][] = [
    ['randomFlip', () => new RandomFlip({ seed: 3 })],
    ['randomRotation', () => new RandomRotation({ factor: 0.2, seed: 3 })],
    ['randomZoom', () => new RandomZoom({ heightFactor: 0.3, seed: 3 })],
    ['randomTranslation', () => new RandomTranslation({ heightFactor: 0.2, widthFactor: 0.2, seed: 3 })],
  ];

  for (const [name, make] of makers) {
    it(`${name}: identity at inference; in training the same shape, reproducible from the seed`, () => {
      const x = uniform(50, 6 * 5 * 5 * 2);
      const model = augmentModel(make(), [5, 5, 2], 6);
      expect(model.outputShape).toEqual([5, 5, 2]);
      expect(model.forward(x, { training: false })).toEqual(x);
      const first = Float32Array.from(model.forward(x, { training: true }));
      expect(first).toHaveLength(x.length);
      expect(first).not.toEqual(x);
      expect(augmentModel(make(), [5, 5, 2], 6).forward(x, { training: true })).toEqual(first);
      // a fresh transform each step
      expect(model.forward(x, { training: true })).not.toEqual(first);
    });
  }

  /** The transforms a twin layer (same seed, same position) draws for n images. */
  function drawnFlips(make: () => RandomFlip, h: number, w: number, n: number): { hz: boolean; vt: boolean }[] {
    const twin = make();
    augmentModel(twin, [h, w, 1], n);
    return Array.from({ length: n }, () => {
      const m = twin.sample(h, w);
      return { hz: m[0] === -1, vt: m[4] === -1 };
    });
  }

  for (const mode of ['horizontal', 'vertical', 'horizontal_and_vertical'] as const) {
    it(`randomFlip(${mode}) mirrors exactly the images its draws say, and leaves the others`, () => {
      const [n, h, w, c] = [16, 3, 4, 2];
      const make = (): RandomFlip => new RandomFlip({ mode, seed: 9 });
      const x = ramp(n, h, w, c);
      const y = augmentModel(make(), [h, w, c], n).forward(x, { training: true });
      const flips = drawnFlips(make, h, w, n);
      const expected = remap(x, n, h, w, c, (i, yy, xx) => [flips[i].vt ? h - 1 - yy : yy, flips[i].hz ? w - 1 - xx : xx]);
      expect(y).toEqual(expected);
      // the draws are fair coins: both outcomes occur among 16 images (seeded, so this is fixed)
      if (mode !== 'vertical') expect(new Set(flips.map((f) => f.hz)).size).toBe(2);
      if (mode !== 'horizontal') expect(new Set(flips.map((f) => f.vt)).size).toBe(2);
      if (mode === 'horizontal') expect(flips.every((f) => !f.vt)).toBe(true);
      if (mode === 'vertical') expect(flips.every((f) => !f.hz)).toBe(true);
    });
  }

  it('randomRotation factor [0.5, 0.5] turns every image by exactly 180°', () => {
    const [n, h, w, c] = [3, 5, 4, 2];
    const x = ramp(n, h, w, c);
    const y = augmentModel(new RandomRotation({ factor: [0.5, 0.5], seed: 1 }), [h, w, c], n).forward(x, { training: true });
    // sin(π) ≈ 1.2e-16 in double: bilinear weights off by that much, values up to 120
    expectCloseScaled(y, remap(x, n, h, w, c, (_i, yy, xx) => [h - 1 - yy, w - 1 - xx]), 1e-6, '180° rotation');
  });

  it('randomRotation factor [0.25, 0.25] turns counter-clockwise by 90° (Keras: positive is counter-clockwise)', () => {
    const [n, s, c] = [2, 4, 1];
    const x = ramp(n, s, s, c);
    const y = augmentModel(new RandomRotation({ factor: [0.25, 0.25], seed: 1 }), [s, s, c], n).forward(x, { training: true });
    // numpy's rot90 (counter-clockwise): out[y][x] = in[x][s − 1 − y]; the top-right corner goes top-left
    expectCloseScaled(y, remap(x, n, s, s, c, (_i, yy, xx) => [xx, s - 1 - yy]), 1e-6, '90° rotation');
  });

  describe('randomTranslation by whole pixels under each fill mode', () => {
    const [n, h, w, c] = [2, 3, 5, 2];
    const x = ramp(n, h, w, c);
    const fillValue = -7;
    const clamp = (v: number, len: number): number => Math.min(Math.max(v, 0), len - 1);
    // TF's fill modes for a source coordinate v outside [0, len): reflect (d c b a | a b c d),
    // wrap (a b c d | a b c d), nearest (the edge pixel), constant (fillValue)
    const fold: Record<'reflect' | 'wrap' | 'nearest', (v: number, len: number) => number> = {
      reflect: (v, len) => (v < 0 ? -v - 1 : v >= len ? 2 * len - v - 1 : v),
      wrap: (v, len) => ((v % len) + len) % len,
      nearest: clamp,
    };
    const cases: { label: string; dy: number; dx: number }[] = [
      { label: 'one pixel right', dy: 0, dx: 1 },
      { label: 'one pixel left', dy: 0, dx: -1 },
      { label: 'two pixels right', dy: 0, dx: 2 },
      { label: 'one pixel down', dy: 1, dx: 0 },
      { label: 'one pixel up and one left', dy: -1, dx: -1 },
    ];
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      for (const fillMode of ['constant', 'nearest', 'reflect', 'wrap'] as const) {
        for (const { label, dy, dx } of cases) {
          it(`${label}, fillMode '${fillMode}', ${interpolation}`, () => {
            const layer = new RandomTranslation({
              heightFactor: [dy / h, dy / h], widthFactor: [dx / w, dx / w], fillMode, fillValue, interpolation, seed: 1,
            });
            const y = augmentModel(layer, [h, w, c], n).forward(x, { training: true });
            const expected = remap(x, n, h, w, c, (_i, yy, xx) => {
              const sy = yy - dy;
              const sx = xx - dx;
              const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
              if (fillMode === 'constant') return inside ? [sy, sx] : null;
              return [fold[fillMode](sy, h), fold[fillMode](sx, w)];
            }, fillValue);
            // the shift is factor·size = whole pixels up to one double rounding: exact to ~1e-14
            expectCloseScaled(y, expected, 1e-6, `${label} (${fillMode})`);
          });
        }
      }
    }
  });

  it('randomZoom factor −0.5 zooms in 2× about the centre (bilinear is exact on a linear ramp)', () => {
    const [h, w] = [5, 5];
    const x = Float32Array.from({ length: h * w }, (_, i) => 10 * Math.floor(i / w) + (i % w));
    const y = augmentModel(new RandomZoom({ heightFactor: [-0.5, -0.5], seed: 1 }), [h, w, 1], 1).forward(x, { training: true });
    // zoom factor 0.5 about the centre (2, 2): source = 0.5·out + 1 on both axes
    const expected = Array.from({ length: h * w }, (_, i) => 10 * (0.5 * Math.floor(i / w) + 1) + (0.5 * (i % w) + 1));
    expectCloseScaled(y, expected, 1e-6, 'zoom in');
  });

  it('randomZoom factor [1, 1] zooms out 2×, filling the border with the constant', () => {
    const [h, w] = [5, 5];
    const x = ramp(1, h, w, 1);
    const layer = new RandomZoom({ heightFactor: [1, 1], fillMode: 'constant', fillValue: -1, seed: 1 });
    const y = augmentModel(layer, [h, w, 1], 1).forward(x, { training: true });
    // zoom factor 2 about the centre: source = 2·out − 2, inside only for out ∈ {1, 2, 3}
    const expected = remap(x, 1, h, w, 1, (_i, yy, xx) => {
      const [sy, sx] = [2 * yy - 2, 2 * xx - 2];
      return sy >= 0 && sy < h && sx >= 0 && sx < w ? [sy, sx] : null;
    }, -1);
    expectCloseScaled(y, expected, 1e-6, 'zoom out');
  });
});
