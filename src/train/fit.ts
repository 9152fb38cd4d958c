/**
 * fit / evaluate / predict with Keras semantics:
 * - validationSplit takes the LAST fraction of the data, before any shuffling;
 * - each epoch visits the training examples in a fresh seeded permutation (shuffle), in
 *   batches of batchSize (the last one may be smaller);
 * - the reported loss is the batch-size-weighted mean of (data loss + regularization penalty);
 *   val_loss includes the penalty too, as Keras' test step does;
 * - classWeight multiplies each example's loss by the weight of its class;
 * - callbacks see epoch logs; stop_training set during a batch stops after that batch.
 *
 * Everything random comes from the model's seed: the permutation stream here, dropout and
 * augmentation streams in the layers. captureState() snapshots all of it (weights, optimizer,
 * streams, callback state, position inside the epoch), and a fit given that state continues
 * bit-identically to an uninterrupted run at the same thread count.
 */
import type { F32 } from '../backend/backend.js';
import { ArgumentError, ShapeError, describe } from '../errors.js';
import { type AugmentSpec, isIdentity } from '../data/augment.js';
import { type Split, exampleSize, fillBatch } from '../data/dataset.js';
import { AugmentPipeline } from '../data/pipeline.js';
import { type LossHead } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import { checkMemory } from '../nn/memory.js';
import type { Optimizer, OptimizerState } from '../optim/optimizers.js';
import { RandomStream, type StreamState } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import { yieldToHost } from '../util/yield.js';
import { type BatchLog, type Callback, type CallbackState, type StopCause, type TrainingContext } from './callbacks.js';
import { type EpochLog, History } from './history.js';
import { type BatchResult, evaluateBatch, trainBatch } from './step.js';

export interface FitOptions {
  epochs: number;
  /** Keras default 32 */
  batchSize?: number;
  /** the last fraction of the training data, taken before shuffling */
  validationSplit?: number;
  validationData?: Split | null;
  shuffle?: boolean;
  callbacks?: Callback[];
  /** class index → weight of that class's examples in the loss */
  classWeight?: Record<number, number> | null;
  initialEpoch?: number;
  /** stored value × inputScale = model input (1/255 for uint8 pixels) */
  inputScale?: number;
  /**
   * Augment training images (ImageDataGenerator semantics, src/data/augment.ts). Batches are
   * assembled and augmented by a worker thread while the previous batch trains.
   */
  augment?: AugmentSpec | null;
  /** run augmentation on the main thread instead of a worker (tests, debugging) */
  augmentInline?: boolean;
  /** continue from captureState() of an earlier fit */
  resume?: TrainingState | null;
  /** checked after every batch; true stops at once (Ctrl-C): the result says interrupted */
  shouldInterrupt?: () => boolean;
  /** progress after every batch (for progress bars) */
  onBatch?: (info: { epoch: number; batch: number; batches: number; logs: BatchLog }) => void;
  /**
   * After every epoch, once all callbacks have run: `state()` snapshots the run positioned at
   * the start of the next epoch (run directories write it as the checkpoint).
   */
  /** After each epoch's log; `complete` is false for an epoch cut short by a stop inside it
   *  (non-finite loss or rate, a callback), whose state is not a clean end of epoch. */
  afterEpoch?: (epoch: number, log: EpochLog, state: () => TrainingState, complete: boolean) => void;
  /**
   * Awaited after every batch (after onBatch, before shouldInterrupt): the dashboard pauses
   * here and applies its knobs, so a change takes effect at the next batch.
   */
  afterBatch?: (info: { epoch: number; batch: number; batches: number }) => void | Promise<void>;
}

/** Everything needed to continue a fit exactly. */
export interface TrainingState {
  /** epoch in progress (or the next to start when batchInEpoch is 0) */
  epoch: number;
  /** next batch of that epoch */
  batchInEpoch: number;
  epochs: number;
  /** permutation stream at the start of `epoch` (regenerates its order) */
  epochShuffle: StreamState;
  /** running sums of the epoch in progress */
  partial: EpochSums;
  epochSeconds: number;
  /** learning rate at the start of `epoch` (what its log reports) */
  epochLr: number;
  weights: Float32Array[];
  optimizer: OptimizerState;
  layerStreams: Record<string, StreamState>;
  callbacks: Record<string, CallbackState>;
  history: EpochLog[];
}

interface EpochSums {
  seen: number;
  lossSum: number;
  penaltySum: number;
  correct: number;
  scored: number;
}

const zeroSums = (): EpochSums => ({ seen: 0, lossSum: 0, penaltySum: 0, correct: 0, scored: 0 });

export interface FitResult {
  history: History;
  /** stopped by shouldInterrupt (Ctrl-C); state() resumes */
  interrupted: boolean;
  /** why training ended before `epochs` (early stopping, NaN), or null */
  stopReason: string | null;
  /** the kind of that stop, for callers to branch on (never the message) */
  stopCause: StopCause | null;
  /** state at the end (or at the interruption) */
  state: TrainingState;
}

function checkSplit(split: Split, per: number, classes: number, what: string): void {
  if (!(split.x instanceof Uint8Array || split.x instanceof Float32Array) || !(split.y instanceof Int32Array)) {
    throw new ArgumentError(`${what} must have x (Uint8Array or Float32Array) and y (Int32Array); received ${describe(split)}`);
  }
  if (split.x.length !== split.y.length * per) {
    throw new ShapeError(`${what}: ${split.y.length} labels but ${split.x.length} values; the model takes ${per} values per example`);
  }
  for (let i = 0; i < split.y.length; i++) {
    if (!(split.y[i] >= 0 && split.y[i] < classes)) {
      throw new ArgumentError(`${what}: label ${split.y[i]} at index ${i} is not a class of this model (0..${classes - 1})`);
    }
  }
}

/** Keras' validation_split: the last `fraction` of the examples, before shuffling. */
export function splitLast(split: Split, fraction: number, per: number): { train: Split; val: Split } {
  if (!(fraction > 0 && fraction < 1)) throw new ArgumentError(`validationSplit must be in (0, 1); received ${describe(fraction)}`);
  const n = split.y.length;
  const at = Math.floor(n * (1 - fraction));
  if (at < 1 || at >= n) throw new ArgumentError(`validationSplit ${fraction} leaves no training or no validation examples out of ${n}`);
  return {
    train: { x: split.x.subarray(0, at * per), y: split.y.subarray(0, at) },
    val: { x: split.x.subarray(at * per), y: split.y.subarray(at) },
  };
}

/** Trains a model: holds the batch buffers, streams and the training context. */
export class Trainer {
  readonly model: Model;
  readonly loss: LossHead;
  readonly optimizer: Optimizer;
  /** examples per batch; setBatchSize() changes it from the next epoch */
  batchSize: number;
  private readonly per: number;
  private xBatch: F32;
  private yBatch: Int32Array;
  private wBatch: F32;
  private pendingBatchSize: number | null = null;
  private augmenting = false;
  private shuffleStream: RandomStream;
  private readonly ctx: TrainingContext;

  constructor(model: Model, loss: LossHead, optimizer: Optimizer, batchSize = 32) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be a positive integer; received ${describe(batchSize)}`);
    if (!model.isBuilt || model.batchSize !== batchSize) model.build({ batchSize });
    this.model = model;
    this.loss = loss;
    this.optimizer = optimizer;
    this.batchSize = batchSize;
    this.per = exampleSize(model.inputShape);
    this.xBatch = model.backend.alloc(batchSize * this.per);
    this.yBatch = new Int32Array(batchSize);
    this.wBatch = model.backend.alloc(batchSize);
    this.shuffleStream = new RandomStream(model.seed, STREAMS.shuffle);
    this.ctx = {
      stopTraining: false,
      stopReason: null,
      stopCause: null,
      epochs: 0,
      getWeights: () => model.params().map((p) => Float32Array.from(p.value)),
      setWeights: (w) => model.setWeights(w),
      getLearningRate: () => optimizer.currentLearningRate(),
      setLearningRate: (lr) => {
        if (optimizer.schedule) {
          throw new ArgumentError('the learning rate follows a schedule; it cannot also be set by a callback (as in Keras)');
        }
        optimizer.learningRate = lr;
      },
    };
  }

  get context(): TrainingContext {
    return this.ctx;
  }

  /**
   * Train with another batch size from the next epoch on (an epoch's batches are laid out when
   * it starts). Model and batch buffers are re-allocated then; the weights stay.
   */
  setBatchSize(batchSize: number): void {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batch size must be a positive integer; received ${describe(batchSize)}`);
    if (this.augmenting) throw new ArgumentError('the batch size cannot change while augmentation workers are running', 'start a new run with the batch size you want');
    // refuse now (a dashboard knob) what the rebuild at the next epoch could not allocate
    if (batchSize > this.model.batchSize) checkMemory(this.model, batchSize);
    this.pendingBatchSize = batchSize === this.batchSize ? null : batchSize;
  }

  private applyBatchSize(): void {
    const batchSize = this.pendingBatchSize;
    this.pendingBatchSize = null;
    if (batchSize === null || batchSize === this.batchSize) return;
    // the model keeps its larger buffers when shrinking (the weight tracker's probe batch still fits)
    if (batchSize > this.model.batchSize) this.model.build({ batchSize });
    this.batchSize = batchSize;
    this.xBatch = this.model.backend.alloc(batchSize * this.per);
    this.yBatch = new Int32Array(batchSize);
    this.wBatch = this.model.backend.alloc(batchSize);
    this.views.clear();
  }

  private views = new Map<number, { x: F32; y: Int32Array; w: F32 }>();
  private batchViews(n: number): { x: F32; y: Int32Array; w: F32 } {
    let v = this.views.get(n);
    if (!v) {
      v = n === this.batchSize
        ? { x: this.xBatch, y: this.yBatch, w: this.wBatch }
        : { x: this.xBatch.subarray(0, n * this.per), y: this.yBatch.subarray(0, n), w: this.wBatch.subarray(0, n) };
      this.views.set(n, v);
    }
    return v;
  }

  private loadBatch(split: Split, order: ArrayLike<number>, from: number, to: number, scale: number, classWeight: Record<number, number> | null): { x: F32; y: Int32Array; w: F32 | null } {
    const v = this.batchViews(to - from);
    fillBatch(v.x, split, order, from, to, this.per, scale);
    for (let i = from; i < to; i++) v.y[i - from] = split.y[order[i]];
    if (!classWeight) return { x: v.x, y: v.y, w: null };
    for (let i = 0; i < to - from; i++) v.w[i] = classWeight[v.y[i]] ?? 1;
    return v;
  }

  /** Mean loss (penalty included) and accuracy of a split, in inference mode. */
  evaluate(split: Split, scale = 1): { loss: number; accuracy: number; penalty: number } {
    checkSplit(split, this.per, this.model.outputSize, 'evaluation data');
    const n = split.y.length;
    const order = identity(n);
    let lossSum = 0;
    let penaltySum = 0;
    let correct = 0;
    for (let from = 0; from < n; from += this.batchSize) {
      const to = Math.min(n, from + this.batchSize);
      const b = this.loadBatch(split, order, from, to, scale, null);
      const r = evaluateBatch(this.model, this.loss, b.x, b.y, null);
      lossSum += r.lossSum;
      penaltySum += r.penalty * r.size;
      correct += r.correct;
    }
    return { loss: (lossSum + penaltySum) / n, accuracy: correct / n, penalty: penaltySum / n };
  }

  /** Class probabilities for every example (n × classes). */
  predict(x: Uint8Array | Float32Array, scale = 1): Float32Array {
    if (x.length % this.per !== 0) throw new ShapeError(`predict: ${x.length} values is not a whole number of examples of ${this.per}`);
    const n = x.length / this.per;
    const k = this.model.outputSize;
    const out = new Float32Array(n * k);
    const split: Split = { x, y: new Int32Array(n) };
    const order = identity(n);
    for (let from = 0; from < n; from += this.batchSize) {
      const to = Math.min(n, from + this.batchSize);
      const b = this.loadBatch(split, order, from, to, scale, null);
      out.set(this.model.forward(b.x, { training: false }), from * k);
    }
    return out;
  }

  /** The state before any training: resuming from it starts the run over. */
  initialState(epochs: number, callbacks: Callback[]): TrainingState {
    return this.captureState(
      { epoch: 0, batchInEpoch: 0, epochs, epochShuffle: this.shuffleStream.getState(), partial: zeroSums(), epochSeconds: 0, epochLr: this.optimizer.currentLearningRate() },
      new History(), callbacks,
    );
  }

  /** Snapshot of everything needed to continue exactly from (epoch, batchInEpoch). */
  captureState(pos: { epoch: number; batchInEpoch: number; epochs: number; epochShuffle: StreamState; partial: EpochSums; epochSeconds: number; epochLr: number }, history: History, callbacks: Callback[]): TrainingState {
    const layerStreams: Record<string, StreamState> = {};
    for (const layer of this.model.layers) if (layer.rng) layerStreams[layer.name] = layer.rng.getState();
    const cbs: Record<string, CallbackState> = {};
    for (const cb of callbacks) {
      const s = cb.getState();
      if (s !== null && s !== undefined) cbs[cb.name] = s as CallbackState;
    }
    return {
      ...pos,
      partial: { ...pos.partial },
      weights: this.ctx.getWeights(),
      optimizer: this.optimizer.getState(),
      layerStreams,
      callbacks: cbs,
      history: history.epochs.map((e) => ({ ...e })),
    };
  }

  private restore(state: TrainingState, callbacks: Callback[], history: History): void {
    this.model.setWeights(state.weights);
    this.optimizer.setState(state.optimizer, this.model.backend);
    for (const layer of this.model.layers) {
      const s = state.layerStreams[layer.name];
      if (s && layer.rng) layer.rng = RandomStream.fromState(s);
    }
    for (const cb of callbacks) {
      const s = state.callbacks[cb.name];
      if (s !== undefined) cb.setState(s);
    }
    for (const e of state.history) history.push({ ...e });
  }

  async fit(data: Split, options: FitOptions): Promise<FitResult> {
    const { epochs } = options;
    if (!Number.isInteger(epochs) || epochs < 1) throw new ArgumentError(`epochs must be a positive integer; received ${describe(epochs)}`);
    const scale = options.inputScale ?? 1;
    const { train, val } = fitSplits(data, options, this.per, this.model.outputSize);
    const classWeight = options.classWeight ?? null;
    const shuffle = options.shuffle ?? true;
    const callbacks = options.callbacks ?? [];
    const history = new History();
    const ctx = this.ctx;
    ctx.stopTraining = false;
    ctx.stopReason = null;
    ctx.stopCause = null;
    ctx.epochs = epochs;
    for (const cb of callbacks) cb.setContext(ctx);
    for (const cb of callbacks) cb.onTrainBegin();

    const n = train.y.length;
    let batches = Math.ceil(n / this.batchSize);
    let startEpoch = options.initialEpoch ?? 0;
    let startBatch = 0;
    let sums = zeroSums();
    let epochSeconds = 0;
    const resume = options.resume ?? null;
    if (resume) {
      this.restore(resume, callbacks, history);
      startEpoch = resume.epoch;
      startBatch = resume.batchInEpoch;
      sums = { ...resume.partial };
      epochSeconds = resume.epochSeconds;
      this.shuffleStream = RandomStream.fromState(resume.epochShuffle);
      // a checkpoint taken after early stopping fired is of a run that is over: no more epochs
      // (the loop is skipped; onTrainEnd still restores the best weights, as the run did)
      const ended = startBatch === 0 ? callbacks.map((cb) => cb.endedTraining()).find((r) => r !== null) : undefined;
      if (ended) {
        ctx.stopTraining = true;
        ctx.stopReason = ended.reason;
        ctx.stopCause = ended.cause;
      }
    }

    const augment = options.augment && !isIdentity(options.augment) ? options.augment : null;
    let pipeline: AugmentPipeline | null = null;
    if (augment) {
      if (this.model.inputShape.length !== 3) throw new ArgumentError('augmentation needs image inputs (height, width, channels)');
      const [h, w, c] = this.model.inputShape;
      pipeline = new AugmentPipeline(this.model.backend, train, [h, w, c], scale, augment, this.model.seed, this.batchSize, !options.augmentInline);
      this.augmenting = true;
    }
    const request = (slot: number, epoch: number, order: Int32Array, b: number): void => {
      const from = b * this.batchSize;
      const to = Math.min(n, from + this.batchSize);
      const positions = new Int32Array(to - from);
      for (let i = 0; i < positions.length; i++) positions[i] = from + i;
      (pipeline as AugmentPipeline).request(slot, { epoch, indices: order.slice(from, to), positions });
    };
    const batchAt = async (epoch: number, order: Int32Array, b: number): Promise<{ x: F32; y: Int32Array; w: F32 | null }> => {
      const from = b * this.batchSize;
      const to = Math.min(n, from + this.batchSize);
      if (!pipeline) return this.loadBatch(train, order, from, to, scale, classWeight);
      const got = await pipeline.take(b % 2, to - from);
      if (b + 1 < batches) request((b + 1) % 2, epoch, order, b + 1);
      if (!classWeight) return { x: got.x, y: got.y, w: null };
      const wv = this.batchViews(to - from).w;
      for (let i = 0; i < to - from; i++) wv[i] = classWeight[got.y[i]] ?? 1;
      return { x: got.x, y: got.y, w: wv };
    };

    let epoch = startEpoch;
    try {
      let lastYield = performance.now();
      for (; epoch < epochs && !ctx.stopTraining; epoch++) {
        const resuming = resume !== null && epoch === startEpoch && startBatch > 0;
        if (!resuming) {
          sums = zeroSums();
          epochSeconds = 0;
          if (this.pendingBatchSize !== null) {
            this.applyBatchSize();
            batches = Math.ceil(n / this.batchSize);
          }
        }
        const epochShuffle = this.shuffleStream.getState();
        const order = identity(n);
        if (shuffle) this.shuffleStream.shuffle(order);
        if (!resuming) for (const cb of callbacks) cb.onEpochBegin(epoch);
        const lr = resuming ? (resume).epochLr : this.optimizer.currentLearningRate();
        const t0 = performance.now();
        const firstBatch = resuming ? startBatch : 0;
        if (pipeline && firstBatch < batches) request(firstBatch % 2, epoch, order, firstBatch);
        let b = firstBatch;
        for (; b < batches; b++) {
          for (const cb of callbacks) cb.onBatchBegin(b);
          const batch = await batchAt(epoch, order, b);
          const stepLr = this.optimizer.currentLearningRate();
          if (!Number.isFinite(stepLr)) {
            ctx.stopTraining = true;
            ctx.stopReason = `the learning rate is ${stepLr} at epoch ${epoch + 1}, batch ${b + 1}; no update was applied`;
            ctx.stopCause = 'non-finite-learning-rate';
            break;
          }
          const logs = addBatch(sums, trainBatch(this.model, this.loss, this.optimizer, batch.x, batch.y, batch.w), b);
          for (const cb of callbacks) cb.onBatchEnd(b, logs);
          options.onBatch?.({ epoch, batch: b, batches, logs });
          if (options.afterBatch) await options.afterBatch({ epoch, batch: b, batches });
          if (ctx.stopTraining) {
            b++;
            break;
          }
          if (options.shouldInterrupt?.()) {
            epochSeconds += (performance.now() - t0) / 1000;
            const state = this.captureState({ epoch, batchInEpoch: b + 1, epochs, epochShuffle, partial: sums, epochSeconds, epochLr: lr }, history, callbacks);
            return { history, interrupted: true, stopReason: 'interrupted', stopCause: 'interrupted', state };
          }
          // let signal handlers and timers run (Ctrl-C, progress output) without slowing small steps
          if (performance.now() - lastYield > 100) {
            await yieldToHost();
            lastYield = performance.now();
          }
        }
        const complete = b >= batches;
        // stopped before this epoch's first update: there is no epoch to log
        if (!complete && sums.seen === 0) break;
        const log = epochLogOf(epoch, sums, lr, history.last()?.examples ?? 0);
        if (val && val.y.length > 0) {
          const v = this.evaluate(val, scale);
          log.val_loss = v.loss;
          log.val_accuracy = v.accuracy;
        }
        log.seconds = epochSeconds + (performance.now() - t0) / 1000;
        history.push(log);
        for (const cb of callbacks) cb.onEpochEnd(epoch, log);
        const next = epoch + 1;
        options.afterEpoch?.(epoch, log, () => this.captureState(
          { epoch: next, batchInEpoch: 0, epochs, epochShuffle: this.shuffleStream.getState(), partial: zeroSums(), epochSeconds: 0, epochLr: this.optimizer.currentLearningRate() },
          history, callbacks,
        ), complete);
      }
    } finally {
      this.augmenting = false;
      await pipeline?.close();
    }
    for (const cb of callbacks) cb.onTrainEnd();
    const state = this.captureState(
      { epoch, batchInEpoch: 0, epochs, epochShuffle: this.shuffleStream.getState(), partial: zeroSums(), epochSeconds: 0, epochLr: this.optimizer.currentLearningRate() },
      history, callbacks,
    );
    return { history, interrupted: false, stopReason: ctx.stopReason, stopCause: ctx.stopCause, state };
  }
}

/** fit's training and validation splits: validationData, or the last validationSplit of `data`. */
function fitSplits(data: Split, options: FitOptions, per: number, classes: number): { train: Split; val: Split | null } {
  checkSplit(data, per, classes, 'training data');
  let train = data;
  let val = options.validationData ?? null;
  if (options.validationSplit) {
    if (val) throw new ArgumentError('give validationData or validationSplit, not both');
    const s = splitLast(data, options.validationSplit, per);
    train = s.train;
    val = s.val;
  }
  if (val) checkSplit(val, per, classes, 'validation data');
  return { train, val };
}

/** Add batch `b`'s result to the epoch's sums; its log carries the epoch's running means. */
function addBatch(sums: EpochSums, r: BatchResult, b: number): BatchLog {
  sums.seen += r.size;
  sums.lossSum += r.lossSum;
  sums.penaltySum += r.penalty * r.size;
  if (r.correct >= 0) {
    sums.correct += r.correct;
    sums.scored += r.size;
  }
  const logs: BatchLog = { batch: b, size: r.size, loss: (sums.lossSum + sums.penaltySum) / sums.seen, ...(sums.scored ? { accuracy: sums.correct / sums.scored } : {}) };
  // a non-finite batch loss also shows in the running mean
  if (!Number.isFinite(r.lossSum / r.size + r.penalty)) logs.loss = r.lossSum / r.size + r.penalty;
  return logs;
}

/** An epoch's history line from its sums; the caller adds validation and the seconds. */
function epochLogOf(epoch: number, sums: EpochSums, lr: number, examplesBefore: number): EpochLog {
  return {
    epoch,
    loss: sums.seen ? (sums.lossSum + sums.penaltySum) / sums.seen : Number.NaN,
    ...(sums.scored ? { accuracy: sums.correct / sums.scored } : {}),
    learning_rate: lr,
    penalty: sums.seen ? sums.penaltySum / sums.seen : Number.NaN,
    seconds: 0,
    examples: examplesBefore + sums.seen,
  };
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
