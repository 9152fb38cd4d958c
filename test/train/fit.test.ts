/**
 * Trainer.fit with Keras semantics, on tiny models and small synthetic data:
 * - which examples validationSplit takes, and the epoch-loss arithmetic (batch-size-weighted,
 *   class weights, regularization), checked against hand-computed numbers: a one-layer model
 *   whose weights are set by hand and stay fixed (SGD with learning rate 0), so every example's
 *   loss is a closed form — logits (a, −a) give −log softmax = log(1 + e^{∓2a});
 * - seeded reproducibility, and resume: one uninterrupted fit versus the same fit stopped (after
 *   an epoch, or inside one) and continued from captureState(), on a model with Dropout and
 *   shuffling on, so every random stream must be carried; compared bit for bit;
 * - a learning rate that becomes non-finite stops training before it touches the weights.
 */
import { describe, expect, it } from 'vitest';
import type { Split } from '../../src/data/dataset.js';
import { synthetic2d } from '../../src/data/synthetic.js';
import { LossHead } from '../../src/nn/losses.js';
import type { Model } from '../../src/nn/model.js';
import { type ModelSpec, modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN } from '../../src/train/callbacks.js';
import { type FitOptions, type FitResult, Trainer, type TrainingState, splitLast } from '../../src/train/fit.js';
import type { EpochLog } from '../../src/train/history.js';
import { backendUnderTest } from '../nn/check.js';

const backend = backendUnderTest();
const SCE = { name: 'sparse_categorical_crossentropy', fromLogits: false } as const;

function trainerFor(spec: ModelSpec, options: { seed?: number; batchSize?: number; optimizer?: unknown } = {}): { model: Model; trainer: Trainer } {
  const batchSize = options.batchSize ?? 32;
  const model = modelFromSpec(spec).build({ batchSize, seed: options.seed ?? 1, backend });
  const trainer = new Trainer(model, new LossHead(model, SCE), createOptimizer(options.optimizer ?? 'adam'), batchSize);
  return { model, trainer };
}

/** log(1 + e^z) in double precision. */
const softplus = (z: number): number => Math.log1p(Math.exp(z));

/**
 * Dense(2 → 2, softmax) with kernel [[1, −1], [0, 0]] (Keras layout: in × out) and zero bias:
 * the logits of (a, b) are (a, −a). SGD with learning rate 0 keeps the weights fixed.
 */
function fixedLinear(batchSize: number): { model: Model; trainer: Trainer } {
  const t = trainerFor({ input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] }, { batchSize, optimizer: { name: 'sgd', learningRate: 0 } });
  const [kernel, bias] = t.model.params();
  expect([kernel.weightName, kernel.shape, bias.weightName]).toEqual(['kernel', [2, 2], 'bias']);
  t.model.setWeights([Float32Array.of(1, -1, 0, 0), Float32Array.of(0, 0)]);
  return t;
}

/** Examples (a, 0) with labels. */
function points(a: number[], y: number[]): Split {
  return { x: Float32Array.from(a.flatMap((v) => [v, 0])), y: Int32Array.from(y) };
}

const repeat = <T>(v: T, n: number): T[] => Array.from({ length: n }, () => v);

function weightsOf(model: Model): Float32Array[] {
  return model.params().map((p) => Float32Array.from(p.value));
}

/** Bit-for-bit equality of float arrays (−0 ≠ 0, NaN payloads count). */
function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

function allFinite(ws: Float32Array[]): boolean {
  return ws.every((w) => w.every((v) => Number.isFinite(v)));
}

/** History without wall-clock seconds, for exact comparisons. */
const timeless = (h: EpochLog[]): EpochLog[] => h.map((e) => ({ ...e, seconds: 0 }));

describe('validationSplit and the epoch loss (hand-computed)', () => {
  it('validationSplit takes the LAST fraction of the examples, before shuffling', async () => {
    // 20 identical inputs (1, 0): the first 16 labelled 0, the last 4 labelled 1. Logits (1, −1):
    // a label-0 example costs log(1 + e^−2), a label-1 example log(1 + e^2). The validation part
    // of a 0.2 split is the last 4 examples iff val_loss is exactly the label-1 loss and
    // val_accuracy 0; any other 4 examples (the first ones, a shuffled pick) would mix in 0s.
    const { trainer } = fixedLinear(4);
    const data = points(repeat(1, 20), [...repeat(0, 16), ...repeat(1, 4)]);
    const { history } = await trainer.fit(data, { epochs: 2, validationSplit: 0.2, shuffle: true });
    for (const log of history.epochs) {
      expect(log.val_loss).toBeCloseTo(softplus(2), 6);
      expect(log.val_accuracy).toBe(0);
      expect(log.loss).toBeCloseTo(softplus(-2), 6);
      expect(log.accuracy).toBe(1);
    }
    expect(history.epochs.map((e) => e.examples)).toEqual([16, 32]);
  });

  it('splitLast: floor(n·(1 − fraction)) training examples, the rest for validation, as views', () => {
    const data = points([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    const { train, val } = splitLast(data, 0.25, 2); // floor(10 · 0.75) = 7
    expect(Array.from(train.y)).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from(val.x)).toEqual([7, 0, 8, 0, 9, 0]);
    expect(val.x.buffer).toBe(data.x.buffer);
    expect(() => splitLast(data, 1, 2)).toThrow(/validationSplit must be in \(0, 1\); received 1/);
    // floor(10 · 0.05) = 0 training examples (Keras raises the same way)
    expect(() => splitLast(data, 0.95, 2)).toThrow(/leaves no training or no validation examples out of 10/);
  });

  it('history: one log per epoch with Keras keys, examples counted, learning rate recorded', async () => {
    const moons = synthetic2d('moons', { n: 200, seed: 2 }).train; // 100 examples
    const { trainer } = trainerFor({ input: [2], layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] }, { batchSize: 16 });
    const { history, stopReason, interrupted } = await trainer.fit(moons, { epochs: 3, validationSplit: 0.2 });
    expect([stopReason, interrupted, history.length]).toEqual([null, false, 3]);
    expect(history.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(Object.keys(history.epochs[0]).sort()).toEqual(['accuracy', 'epoch', 'examples', 'learning_rate', 'loss', 'penalty', 'seconds', 'val_accuracy', 'val_loss']);
    const keras = history.toKeras();
    expect(Object.keys(keras).sort()).toEqual(['accuracy', 'examples', 'learning_rate', 'loss', 'penalty', 'seconds', 'val_accuracy', 'val_loss']);
    for (const values of Object.values(keras)) expect(values).toHaveLength(3);
    expect(keras.examples).toEqual([80, 160, 240]);
    expect(keras.learning_rate).toEqual([0.001, 0.001, 0.001]);
    expect(keras.penalty).toEqual([0, 0, 0]);
  });

  it('the epoch loss is the batch-size-weighted mean, the partial last batch included', async () => {
    // 10 examples, label 0, batches of 4, 4 and 2 (no shuffling): eight at a = 2 cost
    // log(1 + e^−4) each, the last two at a = −2 cost log(1 + e^4).
    const { trainer } = fixedLinear(4);
    const data = points([...repeat(2, 8), -2, -2], repeat(0, 10));
    const { history } = await trainer.fit(data, { epochs: 1, shuffle: false });
    const weighted = (8 * softplus(-4) + 2 * softplus(4)) / 10; // 0.8181…
    const meanOfBatchMeans = (softplus(-4) + softplus(-4) + softplus(4)) / 3; // 1.3515…: not what Keras reports
    expect(history.epochs[0].loss).toBeCloseTo(weighted, 6);
    expect(Math.abs(history.epochs[0].loss - meanOfBatchMeans)).toBeGreaterThan(0.5);
    expect(history.epochs[0].accuracy).toBe(0.8);
    expect(history.epochs[0].examples).toBe(10);
  });

  it('classWeight weights each example\'s loss and keeps the batch-size divisor; validation is unweighted', async () => {
    // Eight label-0 examples at a = 2 (loss log(1 + e^−4)), two label-1 examples at a = 2 (loss
    // log(1 + e^4)); class 1 weighs 3. Keras: Σ w·loss / n (sum_over_batch_size), not / Σ w.
    const { trainer } = fixedLinear(4);
    const data = points(repeat(2, 10), [...repeat(0, 8), 1, 1]);
    const { history } = await trainer.fit(data, { epochs: 1, classWeight: { 0: 1, 1: 3 }, validationData: data });
    const sum = 8 * softplus(-4) + 3 * 2 * softplus(4);
    expect(history.epochs[0].loss).toBeCloseTo(sum / 10, 6); // 2.4254…
    expect(Math.abs(history.epochs[0].loss - sum / 14)).toBeGreaterThan(0.5);
    // class_weight is a training-time weighting: val_loss is the plain mean
    expect(history.epochs[0].val_loss).toBeCloseTo((8 * softplus(-4) + 2 * softplus(4)) / 10, 6);
    // `metrics=['accuracy']` is not weighted in Keras either (only weighted_metrics are)
    expect(history.epochs[0].accuracy).toBe(0.8);
  });

  it('val_loss includes the L2 penalty: val_loss − data loss on the val set = λ·Σw² of the kernels', async () => {
    const l2 = { l2: 0.01 };
    const spec: ModelSpec = { input: [2], layers: [
      { type: 'dense', units: 8, activation: 'relu', kernelRegularizer: l2 },
      { type: 'dense', units: 2, activation: 'softmax', kernelRegularizer: l2 },
    ] };
    const moons = synthetic2d('moons', { n: 200, seed: 4 });
    const { model, trainer } = trainerFor(spec, { batchSize: 16, optimizer: { name: 'adam', learningRate: 0.01 } });
    const { history } = await trainer.fit(moons.train, { epochs: 2, validationData: moons.test });
    const log = history.epochs[1];

    // reference: the penalty from the final weights by hand, the data loss from the probabilities
    let penalty = 0;
    for (const p of model.params()) if (p.weightName === 'kernel') for (const w of p.value) penalty += 0.01 * w * w;
    const val = moons.test as Split;
    const probs = trainer.predict(val.x);
    let dataLoss = 0;
    for (let i = 0; i < val.y.length; i++) dataLoss -= Math.log(probs[2 * i + val.y[i]]);
    dataLoss /= val.y.length;

    expect(penalty).toBeGreaterThan(0.01);
    expect((log.val_loss as number) - dataLoss).toBeCloseTo(penalty, 5);
    expect(trainer.evaluate(val).penalty).toBeCloseTo(penalty, 6);
    // the training loss reports its penalty too (the mean over the epoch's steps)
    expect(log.penalty).toBeGreaterThan(0.5 * penalty);
  });
});

// ---- reproducibility and resume -------------------------------------------------------------

const DROPOUT_MLP: ModelSpec = { input: [2], layers: [
  { type: 'dense', units: 16, activation: 'relu' },
  { type: 'dropout', rate: 0.3 },
  { type: 'dense', units: 16, activation: 'relu' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 2, activation: 'softmax' },
] };
// 200 examples; validationSplit 0.25 leaves 150: batches of 32 → 4 full + one of 22
const MOONS = synthetic2d('moons', { n: 400, noise: 0.2, seed: 3 }).train;
const BATCHES = 5;

/** A fresh trainer (same seed unless asked), with stateful callbacks whose state matters. */
function resumable(seed = 7): { model: Model; trainer: Trainer; options: (o: Partial<FitOptions>) => FitOptions } {
  const t = trainerFor(DROPOUT_MLP, { seed, batchSize: 32, optimizer: { name: 'adam', learningRate: 0.01 } });
  const options = (o: Partial<FitOptions>): FitOptions => ({
    epochs: 3, validationSplit: 0.25, shuffle: true,
    callbacks: [
      new EarlyStopping({ patience: 10, restoreBestWeights: true }),
      // minDelta 10: nothing after epoch 0 counts as an improvement, so the rate halves at the
      // end of every later epoch: the optimizer's rate and the callback's counters must resume
      new ReduceLROnPlateau({ factor: 0.5, patience: 1, minDelta: 10 }),
    ],
    ...o,
  });
  return { ...t, options };
}

describe('seeded reproducibility', () => {
  it('the same seed gives bit-identical weights and history; another seed does not', async () => {
    const runs: { weights: Float32Array[]; history: EpochLog[] }[] = [];
    for (const seed of [7, 7, 8]) {
      const t = resumable(seed);
      const r = await t.trainer.fit(MOONS, t.options({ epochs: 2 }));
      runs.push({ weights: weightsOf(t.model), history: timeless(r.history.epochs) });
    }
    expect(sameBits(runs[0].weights, runs[1].weights)).toBe(true);
    expect(runs[1].history).toEqual(runs[0].history);
    expect(sameBits(runs[0].weights, runs[2].weights)).toBe(false);
    expect(runs[2].history[0].loss).not.toBe(runs[0].history[0].loss);
  });
});

describe('resume (captureState) is bit-identical to an uninterrupted fit', () => {
  let reference: { weights: Float32Array[]; history: EpochLog[] } | null = null;
  async function uninterrupted(): Promise<{ weights: Float32Array[]; history: EpochLog[] }> {
    if (!reference) {
      const t = resumable();
      const r = await t.trainer.fit(MOONS, t.options({}));
      expect([r.stopReason, r.history.length]).toEqual([null, 3]);
      // the plateau callback did act: epoch 2 ran at half the rate
      expect(r.history.epochs.map((e) => e.learning_rate)).toEqual([0.01, 0.01, 0.005]);
      reference = { weights: weightsOf(t.model), history: timeless(r.history.epochs) };
    }
    return reference;
  }

  async function resumeFrom(state: TrainingState): Promise<{ weights: Float32Array[]; history: EpochLog[]; result: FitResult }> {
    // a new model, trainer and callbacks: nothing but the state carries over
    const t = resumable();
    const result = await t.trainer.fit(MOONS, t.options({ resume: structuredClone(state) }));
    return { weights: weightsOf(t.model), history: timeless(result.history.epochs), result };
  }

  it('fit 1 epoch, then resume to 3 from the returned state', async () => {
    const ref = await uninterrupted();
    const first = resumable();
    const part = await first.trainer.fit(MOONS, first.options({ epochs: 1 }));
    expect([part.state.epoch, part.state.batchInEpoch]).toEqual([1, 0]);
    expect(sameBits(weightsOf(first.model), ref.weights)).toBe(false);
    const rest = await resumeFrom(part.state);
    expect(rest.history).toEqual(ref.history);
    expect(sameBits(rest.weights, ref.weights)).toBe(true);
  });

  it('the state afterEpoch hands out (what checkpoints store) resumes exactly too', async () => {
    const ref = await uninterrupted();
    const t = resumable();
    let saved: TrainingState | null = null;
    await t.trainer.fit(MOONS, t.options({ afterEpoch: (epoch, _log, state) => {
      if (epoch === 1) saved = state();
    } }));
    const rest = await resumeFrom(saved as unknown as TrainingState);
    expect(rest.history).toEqual(ref.history);
    expect(sameBits(rest.weights, ref.weights)).toBe(true);
  });

  it('a run resumed inside an epoch stops for the same reason, in the same words (TerminateOnNaN)', async () => {
    // the rate jumps from 1e-3 to 1e27 at step 7 (epoch 2, batch 3): the weights blow up and the
    // next batch's loss is NaN. Interrupted after 6 batches (inside epoch 2), then resumed.
    const diverging = { name: 'adam', learningRate: { kind: 'exponential', initial: 1e-3, decaySteps: 7, decayRate: 1e30, staircase: true } };
    const fitWith = async (o: Partial<FitOptions>): Promise<FitResult> => {
      const t = trainerFor(DROPOUT_MLP, { seed: 7, optimizer: diverging });
      return t.trainer.fit(MOONS, { epochs: 3, validationSplit: 0.25, callbacks: [new TerminateOnNaN()], ...o });
    };
    const whole = await fitWith({});
    expect(whole.stopReason).toBe('the loss became NaN at epoch 2, batch 4 (TerminateOnNaN)');
    let calls = 0;
    const stopped = await fitWith({ shouldInterrupt: () => ++calls === BATCHES + 1 });
    expect([stopped.state.epoch, stopped.state.batchInEpoch]).toEqual([1, 1]);
    const resumed = await fitWith({ resume: stopped.state });
    expect(resumed.stopReason).toBe(whole.stopReason);
    expect(timeless(resumed.history.epochs)).toEqual(timeless(whole.history.epochs));
  });

  // interrupt after k batches: inside epoch 0, right after its last batch (before its epoch
  // end), and inside epoch 1
  for (const k of [3, BATCHES, BATCHES + 2]) {
    it(`shouldInterrupt after ${k} batches, then resume`, async () => {
      const ref = await uninterrupted();
      const t = resumable();
      let calls = 0;
      const stopped = await t.trainer.fit(MOONS, t.options({ shouldInterrupt: () => ++calls === k }));
      expect(stopped.interrupted).toBe(true);
      expect(stopped.stopReason).toBe('interrupted');
      expect([stopped.state.epoch, stopped.state.batchInEpoch]).toEqual([Math.floor((k - 1) / BATCHES), ((k - 1) % BATCHES) + 1]);
      expect(stopped.history.length).toBe(Math.floor((k - 1) / BATCHES));
      const rest = await resumeFrom(stopped.state);
      expect(rest.result.interrupted).toBe(false);
      expect(rest.history).toEqual(ref.history);
      expect(sameBits(rest.weights, ref.weights)).toBe(true);
    });
  }
});

// ---- a learning rate that stops being finite ------------------------------------------------

describe('a non-finite learning rate stops training before any update', () => {
  it('a LearningRateScheduler returning NaN: stopReason names the learning rate; the weights stay those of the last good epoch', async () => {
    const t = resumable();
    const afterEpoch: Float32Array[][] = [];
    const r = await t.trainer.fit(MOONS, {
      epochs: 3, validationSplit: 0.25,
      callbacks: [new LearningRateScheduler((epoch, lr) => (epoch === 1 ? Number.NaN : lr))],
      afterEpoch: (_e, _l, state) => afterEpoch.push(state().weights),
    });
    expect(r.stopReason).toMatch(/learning rate/);
    expect(r.stopReason).toMatch(/NaN/);
    expect(allFinite(weightsOf(t.model))).toBe(true);
    expect(sameBits(weightsOf(t.model), afterEpoch[0])).toBe(true);
  });

  it('a schedule that overflows to Infinity at the start of epoch 3: no update in epoch 3', async () => {
    // exponential, staircase, decaySteps = one epoch: 1e-302 (epoch 1), 1e-302·1e300 = 0.01
    // (epoch 2), 1e-302·(1e300)² = 1e-302·Infinity = Infinity (epoch 3)
    const t = trainerFor(DROPOUT_MLP, { seed: 7, optimizer: { name: 'sgd', learningRate: { kind: 'exponential', initial: 1e-302, decaySteps: BATCHES, decayRate: 1e300, staircase: true } } });
    const afterEpoch: Float32Array[][] = [];
    const r = await t.trainer.fit(MOONS, { epochs: 4, validationSplit: 0.25, afterEpoch: (_e, _l, state) => afterEpoch.push(state().weights) });
    expect(r.stopReason).toMatch(/learning rate is Infinity at epoch 3, batch 1/);
    expect(r.history.epochs.slice(0, 2).map((e) => e.learning_rate)).toEqual([1e-302, 1e-302 * 1e300]);
    const final = weightsOf(t.model);
    expect(allFinite(final)).toBe(true);
    expect(sameBits(final, afterEpoch[1])).toBe(true);
    expect(sameBits(final, afterEpoch[0])).toBe(false); // epoch 2 (rate 0.01) did train
  });

  it('…and inside an epoch: the batch that meets Infinity is not applied', async () => {
    // decaySteps 3: steps 0–2 at 1e-302, 3–5 at 0.01, step 6 (epoch 2, batch 2) at Infinity
    const t = trainerFor(DROPOUT_MLP, { seed: 7, optimizer: { name: 'sgd', learningRate: { kind: 'exponential', initial: 1e-302, decaySteps: 3, decayRate: 1e300, staircase: true } } });
    const afterBatch: Float32Array[][] = [];
    const r = await t.trainer.fit(MOONS, { epochs: 3, validationSplit: 0.25, onBatch: () => afterBatch.push(weightsOf(t.model)) });
    expect(r.stopReason).toMatch(/learning rate is Infinity at epoch 2, batch 2/);
    expect(afterBatch).toHaveLength(6);
    expect(allFinite(weightsOf(t.model))).toBe(true);
    expect(sameBits(weightsOf(t.model), afterBatch[5])).toBe(true);
    expect(sameBits(afterBatch[5], afterBatch[2])).toBe(false); // steps 3–5 (rate 0.01) did train
  });
});
