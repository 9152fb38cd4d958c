/**
 * Keras callbacks, same arguments and semantics (Keras 3): EarlyStopping, ModelCheckpoint,
 * ReduceLROnPlateau, TerminateOnNaN, CSVLogger (via a sink), LearningRateScheduler. Stateful
 * callbacks reset in onTrainBegin (STYLE.md §7) and expose getState()/setState() so a resumed
 * run continues exactly. They are tested with scripted losses.
 */
import { ArgumentError, describe } from '../errors.js';
import type { EpochLog } from './history.js';

/**
 * Why training ended before its epochs, as a kind callers can branch on (exit codes, whether the
 * final model is saved) — the words for people are in stopReason.
 *  - early-stopping: EarlyStopping saw no improvement (a normal end)
 *  - goal-reached: a callback's goal was met (an experiment's fit target; a normal end)
 *  - non-finite-loss: TerminateOnNaN (the run failed; the last good checkpoint stays)
 *  - non-finite-learning-rate: a schedule or knob gave a learning rate that is not finite (failed)
 *  - interrupted: shouldInterrupt (Ctrl-C, the dashboard's stop); resumable
 */
export type StopCause = 'early-stopping' | 'goal-reached' | 'non-finite-loss' | 'non-finite-learning-rate' | 'interrupted';

/** True for the stops that mean the run failed (its model is not saved as final, exit code 3). */
export function stopFailed(cause: StopCause | null): boolean {
  return cause === 'non-finite-loss' || cause === 'non-finite-learning-rate';
}

/** What fit shares with callbacks. */
export interface TrainingContext {
  /** Set to true to stop after the current epoch (Keras' model.stop_training). */
  stopTraining: boolean;
  /** Why training stopped early, for the report ("early stopping at epoch 12"). */
  stopReason: string | null;
  /** The kind of stop stopReason describes (set together with it). */
  stopCause: StopCause | null;
  getWeights(): Float32Array[];
  setWeights(weights: Float32Array[]): void;
  getLearningRate(): number;
  setLearningRate(lr: number): void;
  /** Total epochs asked for. */
  epochs: number;
}

export interface BatchLog {
  batch: number;
  size: number;
  /** running means over the epoch so far */
  loss: number;
  accuracy?: number;
}

export abstract class Callback {
  protected ctx!: TrainingContext;
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  onTrainBegin(): void {}
  onTrainEnd(): void {}
  onEpochBegin(_epoch: number): void {}
  /** logs may be extended (ReduceLROnPlateau records the learning rate as Keras does) */
  onEpochEnd(_epoch: number, _logs: EpochLog): void {}
  onBatchBegin(_batch: number): void {}
  onBatchEnd(_batch: number, _logs: BatchLog): void {}
  /** Name under which the state is saved in checkpoints. */
  abstract get name(): string;
  getState(): unknown {
    return null;
  }
  setState(_state: unknown): void {}
  /**
   * Why training is over, when a restored state says this callback already ended it: a
   * checkpoint taken at the end of the epoch in which early stopping fired. Null otherwise.
   */
  endedTraining(): { cause: StopCause; reason: string } | null {
    return null;
  }
}

/** A callback's saved state; `weights`, when present, is stored as binary by checkpoints. */
export interface CallbackState {
  weights?: Float32Array[] | null;
  [key: string]: unknown;
}

export type Mode = 'auto' | 'min' | 'max';

function checkMode(mode: unknown, who: string): Mode {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') {
    throw new ArgumentError(`${who}: mode must be 'auto', 'min' or 'max'; received ${describe(mode)}`);
  }
  return mode;
}

/** 'auto' resolves to max for accuracy-like metrics, min for losses (Keras). */
export function resolveMode(mode: Mode, monitor: string): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const metric = monitor.replace(/^val_/, '');
  return /acc|auc|precision|recall|f1/.test(metric) ? 'max' : 'min';
}

function nonNegative(v: unknown, name: string, who: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ArgumentError(`${who}: ${name} must be a number ≥ 0; received ${describe(v)}`);
  return v;
}

function monitorValue(logs: EpochLog, monitor: string): number | undefined {
  const v = (logs as unknown as Record<string, unknown>)[monitor];
  return typeof v === 'number' ? v : undefined;
}

export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  baseline?: number | null;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
}

/**
 * Stop when the monitored value has not improved for `patience` epochs. With
 * restoreBestWeights the best epoch's weights are restored at the end of training — also when
 * training simply ran out of epochs (Keras 3).
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  best = Infinity;
  bestEpoch = 0;
  bestWeights: Float32Array[] | null = null;

  constructor(o: EarlyStoppingOptions = {}) {
    super();
    const who = 'EarlyStopping';
    this.monitor = o.monitor ?? 'val_loss';
    this.minDelta = Math.abs(nonNegative(o.minDelta ?? 0, 'minDelta', who));
    this.patience = nonNegative(o.patience ?? 0, 'patience', who);
    this.mode = resolveMode(checkMode(o.mode ?? 'auto', who), this.monitor);
    this.baseline = o.baseline ?? null;
    this.restoreBestWeights = o.restoreBestWeights ?? false;
    this.startFromEpoch = nonNegative(o.startFromEpoch ?? 0, 'startFromEpoch', who);
  }

  get name(): string {
    return 'EarlyStopping';
  }

  private improves(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestWeights = null;
    this.bestEpoch = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  override onEpochEnd(epoch: number, logs: EpochLog): void {
    const current = monitorValue(logs, this.monitor);
    if (current === undefined || epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = this.ctx.getWeights();
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.ctx.getWeights();
      if (this.baseline === null || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.ctx.stopTraining = true;
      this.ctx.stopReason = this.reason();
      this.ctx.stopCause = 'early-stopping';
    }
  }

  private reason(): string {
    return `early stopping: ${this.monitor} did not improve for ${this.patience} epochs (best ${this.best.toPrecision(4)} at epoch ${this.bestEpoch + 1})`;
  }

  override endedTraining(): { cause: StopCause; reason: string } | null {
    return this.stoppedEpoch > 0 ? { cause: 'early-stopping', reason: this.reason() } : null;
  }

  override onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights) this.ctx.setWeights(this.bestWeights);
  }

  /** bestWeights travel as binary in checkpoints (see CallbackState.weights). */
  override getState(): CallbackState {
    return {
      wait: this.wait, stoppedEpoch: this.stoppedEpoch, best: Number.isFinite(this.best) ? this.best : null,
      bestEpoch: this.bestEpoch, weights: this.bestWeights,
    };
  }

  override setState(state: unknown): void {
    const s = state as CallbackState & { wait: number; stoppedEpoch: number; best: number | null; bestEpoch: number };
    this.wait = s.wait;
    this.stoppedEpoch = s.stoppedEpoch;
    // JSON has no Infinity: null means "no best yet"
    this.best = s.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.bestEpoch = s.bestEpoch;
    this.bestWeights = s.weights ?? null;
  }
}

export interface ModelCheckpointOptions {
  monitor?: string;
  saveBestOnly?: boolean;
  mode?: Mode;
  /** called with the epoch when the model should be saved */
  save: (epoch: number, logs: EpochLog) => void;
}

/** Save every epoch, or only when the monitored value improves (saveBestOnly). */
export class ModelCheckpoint extends Callback {
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: 'min' | 'max';
  best = Infinity;
  private readonly save: (epoch: number, logs: EpochLog) => void;
  constructor(o: ModelCheckpointOptions) {
    super();
    this.monitor = o.monitor ?? 'val_loss';
    this.saveBestOnly = o.saveBestOnly ?? false;
    this.mode = resolveMode(checkMode(o.mode ?? 'auto', 'ModelCheckpoint'), this.monitor);
    this.save = o.save;
  }
  get name(): string {
    return 'ModelCheckpoint';
  }
  override onTrainBegin(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
  override onEpochEnd(epoch: number, logs: EpochLog): void {
    if (!this.saveBestOnly) {
      this.save(epoch, logs);
      return;
    }
    const current = monitorValue(logs, this.monitor);
    if (current === undefined) return;
    if (this.mode === 'min' ? current < this.best : current > this.best) {
      this.best = current;
      this.save(epoch, logs);
    }
  }
  override getState(): unknown {
    return { best: Number.isFinite(this.best) ? this.best : null };
  }
  override setState(state: unknown): void {
    const s = state as { best: number | null };
    this.best = s.best ?? (this.mode === 'min' ? Infinity : -Infinity);
  }
}

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  factor?: number;
  patience?: number;
  mode?: Mode;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

/** Multiply the learning rate by `factor` after `patience` epochs without improvement. */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  best = Infinity;
  wait = 0;
  cooldownCounter = 0;
  constructor(o: ReduceLROnPlateauOptions = {}) {
    super();
    const who = 'ReduceLROnPlateau';
    this.monitor = o.monitor ?? 'val_loss';
    this.factor = o.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) throw new ArgumentError(`${who}: factor must be in [0, 1); received ${describe(o.factor)}`);
    this.patience = nonNegative(o.patience ?? 10, 'patience', who);
    this.mode = resolveMode(checkMode(o.mode ?? 'auto', who), this.monitor);
    this.minDelta = nonNegative(o.minDelta ?? 1e-4, 'minDelta', who);
    this.cooldown = nonNegative(o.cooldown ?? 0, 'cooldown', who);
    this.minLr = nonNegative(o.minLr ?? 0, 'minLr', who);
  }
  get name(): string {
    return 'ReduceLROnPlateau';
  }
  private improves(a: number, b: number): boolean {
    return this.mode === 'min' ? a < b - this.minDelta : a > b + this.minDelta;
  }
  override onTrainBegin(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }
  override onEpochEnd(_epoch: number, logs: EpochLog): void {
    const current = monitorValue(logs, this.monitor);
    if (current === undefined) return;
    const inCooldown = (): boolean => this.cooldownCounter > 0;
    if (inCooldown()) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.improves(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (!inCooldown()) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const old = this.ctx.getLearningRate();
        if (old > Math.fround(this.minLr)) {
          this.ctx.setLearningRate(Math.max(old * this.factor, this.minLr));
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
  override getState(): unknown {
    return { best: Number.isFinite(this.best) ? this.best : null, wait: this.wait, cooldownCounter: this.cooldownCounter };
  }
  override setState(state: unknown): void {
    const s = state as { best: number | null; wait: number; cooldownCounter: number };
    this.best = s.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.wait = s.wait;
    this.cooldownCounter = s.cooldownCounter;
  }
}

/** Stop as soon as a batch loss is NaN or infinite. */
export class TerminateOnNaN extends Callback {
  /** the batch (and epoch, set by fit) where it happened */
  triggeredAt: { epoch: number; batch: number } | null = null;
  epoch = 0;
  get name(): string {
    return 'TerminateOnNaN';
  }
  override onTrainBegin(): void {
    this.triggeredAt = null;
  }
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  // a run resumed inside an epoch gets no onEpochBegin for it; the epoch travels in the checkpoint
  override getState(): unknown {
    return { epoch: this.epoch };
  }
  override setState(state: unknown): void {
    this.epoch = (state as { epoch: number }).epoch;
  }
  override onBatchEnd(batch: number, logs: BatchLog): void {
    if (!Number.isFinite(logs.loss) && !this.triggeredAt) {
      this.triggeredAt = { epoch: this.epoch, batch };
      this.ctx.stopTraining = true;
      this.ctx.stopReason = `the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1} (TerminateOnNaN)`;
      this.ctx.stopCause = 'non-finite-loss';
    }
  }
}

/** Set the learning rate at the start of each epoch from schedule(epoch, lr). */
export class LearningRateScheduler extends Callback {
  private readonly schedule: (epoch: number, lr: number) => number;
  constructor(schedule: (epoch: number, lr: number) => number) {
    super();
    this.schedule = schedule;
  }
  get name(): string {
    return 'LearningRateScheduler';
  }
  override onEpochBegin(epoch: number): void {
    const lr = this.schedule(epoch, this.ctx.getLearningRate());
    // any number goes, as in Keras; fit stops before the first update at a non-finite rate
    if (typeof lr !== 'number') {
      throw new ArgumentError(`LearningRateScheduler: the schedule returned ${describe(lr)} for epoch ${epoch}; it must return a number`);
    }
    this.ctx.setLearningRate(lr);
  }
}

/** One CSV row per epoch (Keras CSVLogger); the sink does the writing (file, memory). */
export class CSVLogger extends Callback {
  private keys: string[] | null = null;
  private readonly separator: string;
  private readonly write: (text: string, reset: boolean) => void;
  private readonly append: boolean;
  private readonly sinkIsEmpty: () => boolean;
  /** `isEmpty` tells an appending logger whether the sink has no header yet (Keras writes one then). */
  constructor(write: (text: string, reset: boolean) => void, options: { separator?: string; append?: boolean; isEmpty?: () => boolean } = {}) {
    super();
    this.write = write;
    this.separator = options.separator ?? ',';
    this.append = options.append ?? false;
    this.sinkIsEmpty = options.isEmpty ?? (() => false);
  }
  get name(): string {
    return 'CSVLogger';
  }
  override onTrainBegin(): void {
    if (!this.append) this.keys = null;
  }
  override onEpochEnd(epoch: number, logs: EpochLog): void {
    const row = logs as unknown as Record<string, number>;
    const first = this.keys === null;
    if (!this.keys) this.keys = Object.keys(row).filter((k) => k !== 'epoch').sort();
    const keys = this.keys;
    // a key missing from this epoch's log is written as NA, as Keras does
    const values = [String(epoch), ...keys.map((k) => (row[k] === undefined ? 'NA' : String(row[k])))];
    const header = first && (!this.append || this.sinkIsEmpty());
    this.write(`${header ? ['epoch', ...keys].join(this.separator) + '\n' : ''}${values.join(this.separator)}\n`, first && !this.append);
  }
}
