/**
 * Callbacks driven by scripted logs, no training (STYLE.md §7): a fake TrainingContext records
 * what each callback does (weights read and restored, stop requests, learning-rate changes) and
 * every expectation is Keras 3's behaviour, traced by hand in the comments (keras/src/callbacks/
 * early_stopping.py, reduce_lr_on_plateau.py, model_checkpoint.py, terminate_on_nan.py,
 * learning_rate_scheduler.py, csv_logger.py).
 *
 * Weights are tagged by epoch: the fake model's only weight is the number of the epoch whose end
 * produced it (plus an offset per training), so a restore says exactly which epoch came back.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors.js';
import {
  type Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
  type StopCause,
  type TrainingContext,
} from '../../src/train/callbacks.js';
import type { EpochLog } from '../../src/train/history.js';

/** A TrainingContext that records what callbacks do to it. */
class FakeContext implements TrainingContext {
  stopTraining = false;
  stopReason: string | null = null;
  stopCause: StopCause | null = null;
  epochs = 0;
  lr: number;
  /** the single "weight": the tag of the epoch whose end produced it */
  tag = -1;
  epoch = -1;
  readonly restored: number[] = [];
  readonly lrChanges: { epoch: number; lr: number }[] = [];
  constructor(lr = 0.1) {
    this.lr = lr;
  }
  getWeights(): Float32Array[] {
    return [Float32Array.of(this.tag)];
  }
  setWeights(weights: Float32Array[]): void {
    this.tag = weights[0][0];
    this.restored.push(weights[0][0]);
  }
  getLearningRate(): number {
    return this.lr;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
    this.lrChanges.push({ epoch: this.epoch, lr });
  }
}

/** An epoch log where `monitor` has `value` (left out when undefined: a missing metric). */
function logOf(epoch: number, monitor: string, value: number | undefined, lr = 0.1): EpochLog {
  const log: EpochLog = { epoch, loss: 1, learning_rate: lr, penalty: 0, seconds: 0 };
  if (value === undefined) {
    if (monitor === 'loss') throw new Error('the loss is always present in fit logs');
    return log;
  }
  log[monitor] = value;
  return log;
}

interface Trained {
  /** epochs that ran (Keras: len(history.history['loss'])) */
  epochsRun: number;
}

/**
 * Keras' fit loop, reduced to the callback calls: on_train_begin; per epoch on_epoch_begin,
 * "training" (the weights become the epoch's tag), on_epoch_end, stop check; on_train_end.
 */
function train(cb: Callback, ctx: FakeContext, values: (number | undefined)[], monitor = 'val_loss', tagBase = 0): Trained {
  cb.setContext(ctx);
  ctx.stopTraining = false;
  ctx.stopReason = null;
  ctx.stopCause = null;
  ctx.epochs = values.length;
  cb.onTrainBegin();
  let epoch = 0;
  for (; epoch < values.length && !ctx.stopTraining; epoch++) {
    ctx.epoch = epoch;
    cb.onEpochBegin(epoch);
    ctx.tag = tagBase + epoch;
    cb.onEpochEnd(epoch, logOf(epoch, monitor, values[epoch], ctx.lr));
  }
  cb.onTrainEnd();
  return { epochsRun: epoch };
}

describe('EarlyStopping', () => {
  it("patience: stops once `wait` reaches patience after the best epoch (min mode for 'val_loss')", () => {
    // e0: wait 1, improves on +inf → best 1.0, wait 0.  e1: 0.9 < 1.0 → best 0.9, wait 0.
    // e2: wait 1, no improvement, 1 < 2.  e3: wait 2 ≥ 2 and epoch > 0 → stop after epoch 3.
    const es = new EarlyStopping({ patience: 2 });
    const ctx = new FakeContext();
    expect(es.mode).toBe('min');
    expect(train(es, ctx, [1.0, 0.9, 0.95, 0.92, 0.5, 0.4]).epochsRun).toBe(4);
    expect(ctx.stopTraining).toBe(true);
    expect(es.stoppedEpoch).toBe(3);
    expect(es.best).toBe(0.9);
    expect(es.bestEpoch).toBe(1);
    expect(es.wait).toBe(2);
    expect(ctx.stopReason).toMatch(/early stopping/);
    expect(ctx.stopReason).toMatch(/val_loss/);
    expect(ctx.stopCause).toBe('early-stopping');
    expect(ctx.restored).toEqual([]); // restoreBestWeights defaults to false
  });

  it('patience 0 stops at the first epoch without improvement', () => {
    // e0 best 1.0; e1: 1.1 is worse, wait 1 ≥ 0 → stop after epoch 1
    const es = new EarlyStopping({ patience: 0 });
    expect(train(es, new FakeContext(), [1.0, 1.1, 0.5]).epochsRun).toBe(2);
    expect(es.stoppedEpoch).toBe(1);
  });

  it('never stops at epoch 0: a NaN first epoch does not count as an improvement but cannot stop training', () => {
    // e0: NaN − 0 < +inf is false → no improvement, wait 1 ≥ 0 but epoch 0 → go on.
    // e1: wait 2, 1.0 improves → best 1.0, wait 0.  e2: 1.1 worse, wait 1 ≥ 0 → stop.
    const es = new EarlyStopping({ patience: 0 });
    const ctx = new FakeContext();
    expect(train(es, ctx, [Number.NaN, 1.0, 1.1, 0.2]).epochsRun).toBe(3);
    expect(es.stoppedEpoch).toBe(2);
    expect(es.best).toBe(1.0);
  });

  it('minDelta: an improvement must beat the best by more than minDelta', () => {
    // min mode, minDelta 0.1, patience 2 (Keras: monitor_op(current − (−0.1), best)):
    // e0 best 1.0.  e1: 0.95 + 0.1 < 1.0? no → wait 1.  e2: 0.89 + 0.1 < 1.0 → best 0.89, wait 0.
    // e3: 0.85 + 0.1 < 0.89? no → wait 1.  e4: 0.80 + 0.1 < 0.89? no → wait 2 → stop after epoch 4.
    const es = new EarlyStopping({ patience: 2, minDelta: 0.1 });
    expect(train(es, new FakeContext(), [1.0, 0.95, 0.89, 0.85, 0.8, 0.1]).epochsRun).toBe(5);
    expect(es.best).toBe(0.89);
    expect(es.bestEpoch).toBe(2);
    expect(es.stoppedEpoch).toBe(4);
    // without minDelta the same losses improve every epoch until 0.1: no stop
    const plain = new EarlyStopping({ patience: 2 });
    expect(train(plain, new FakeContext(), [1.0, 0.95, 0.89, 0.85, 0.8, 0.1]).epochsRun).toBe(6);
    expect(plain.stoppedEpoch).toBe(0);
  });

  it("mode auto: accuracy is maximized, loss minimized; explicit modes override", () => {
    expect(new EarlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'accuracy' }).mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'loss' }).mode).toBe('min');
    expect(new EarlyStopping({ monitor: 'val_loss', mode: 'max' }).mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'val_accuracy', mode: 'min' }).mode).toBe('min');

    // max: e0 best 0.5; e1 0.6 > 0.5 → best; e2 0.6 is not > 0.6 → wait 1; e3 wait 2 → stop
    const acc = new EarlyStopping({ monitor: 'val_accuracy', patience: 2 });
    expect(train(acc, new FakeContext(), [0.5, 0.6, 0.6, 0.55, 0.9], 'val_accuracy').epochsRun).toBe(4);
    expect(acc.best).toBe(0.6);
    expect(acc.bestEpoch).toBe(1);

    // mode 'min' on a rising accuracy: e1 0.6 < 0.5? no → patience 0 → stop after epoch 1
    const min = new EarlyStopping({ monitor: 'val_accuracy', mode: 'min', patience: 0 });
    expect(train(min, new FakeContext(), [0.5, 0.6, 0.7], 'val_accuracy').epochsRun).toBe(2);

    // monitor 'loss' reads the training loss
    const loss = new EarlyStopping({ monitor: 'loss', patience: 1 });
    expect(train(loss, new FakeContext(), [0.7, 0.6, 0.65, 0.1], 'loss').epochsRun).toBe(3);
  });

  it('baseline: wait only resets when the value also beats the baseline', () => {
    // baseline 0.5, patience 2. Every epoch improves on the best but none beats 0.5, so wait is
    // never reset: e0..e3 wait 1..4 (improvements return before the stop check), e4 is no
    // improvement with wait 5 ≥ 2 → stop after epoch 4.
    const es = new EarlyStopping({ patience: 2, baseline: 0.5 });
    expect(train(es, new FakeContext(), [0.9, 0.8, 0.7, 0.6, 0.65, 0.66, 0.1]).epochsRun).toBe(5);
    expect(es.wait).toBe(5);
    expect(es.best).toBe(0.6);
    // without the baseline, e4 is wait 1 and e5 wait 2 → stop one epoch later
    const plain = new EarlyStopping({ patience: 2 });
    expect(train(plain, new FakeContext(), [0.9, 0.8, 0.7, 0.6, 0.65, 0.66, 0.1]).epochsRun).toBe(6);

    // a baseline never reached stops early: e0 improves (wait stays 1), e1 worse → wait 2 → stop
    const never = new EarlyStopping({ patience: 2, baseline: 0.5 });
    expect(train(never, new FakeContext(), [0.9, 0.95, 0.96, 0.1]).epochsRun).toBe(2);

    // once the baseline is beaten, patience counts from there: e1 0.4 < 0.5 → wait 0;
    // e2 wait 1; e3 wait 2 → stop after epoch 3
    const beaten = new EarlyStopping({ patience: 2, baseline: 0.5 });
    expect(train(beaten, new FakeContext(), [0.9, 0.4, 0.45, 0.46, 0.1]).epochsRun).toBe(4);
    expect(beaten.best).toBe(0.4);
  });

  it('startFromEpoch: epochs before it are ignored, also for the best weights', () => {
    // e0, e1 skipped (even 0.5 is never the best). e2: first seen → best 0.7 (and, with
    // restoreBestWeights, the first-epoch rule takes e2's weights). e3: 0.8 worse, wait 1 ≥ 0 → stop.
    const es = new EarlyStopping({ patience: 0, startFromEpoch: 2, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [0.5, 0.6, 0.7, 0.8, 0.1]).epochsRun).toBe(4);
    expect(es.best).toBe(0.7);
    expect(es.bestEpoch).toBe(2);
    expect(ctx.restored).toEqual([2]);
    expect(ctx.tag).toBe(2);
    // the same values without startFromEpoch stop after epoch 1
    expect(train(new EarlyStopping({ patience: 0 }), new FakeContext(), [0.5, 0.6, 0.7, 0.8, 0.1]).epochsRun).toBe(2);
  });

  it('restoreBestWeights restores the best epoch when it stops training', () => {
    // best 0.5 at e1; e2 wait 1; e3 wait 2 → stop, then on_train_end sets e1's weights
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [1.0, 0.5, 0.7, 0.8, 0.1]).epochsRun).toBe(4);
    expect(ctx.restored).toEqual([1]);
    expect(ctx.tag).toBe(1);
  });

  it('restoreBestWeights restores the best epoch also when training ran out of epochs (Keras 3)', () => {
    // patience 10 never triggers; Keras 3's on_train_end restores whenever best_weights is set
    // (Keras 2 only restored after stopping)
    const es = new EarlyStopping({ patience: 10, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [1.0, 0.5, 0.7, 0.8]).epochsRun).toBe(4);
    expect(ctx.stopTraining).toBe(false);
    expect(es.stoppedEpoch).toBe(0);
    expect(ctx.restored).toEqual([1]);
    expect(ctx.tag).toBe(1);
  });

  it('first-epoch rule: with no improvement at all, the first monitored epoch\'s weights are the best', () => {
    // "If best weights were never set, then the current weights are the best": NaN never
    // improves, but e0's weights are taken and restored at the end
    const es = new EarlyStopping({ patience: 5, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [Number.NaN, Number.NaN, Number.NaN]).epochsRun).toBe(3);
    expect(es.bestEpoch).toBe(0);
    expect(ctx.restored).toEqual([0]);
  });

  it('a missing monitor changes nothing (no wait, no stop, no weights)', () => {
    const es = new EarlyStopping({ patience: 0, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [undefined, undefined, undefined]).epochsRun).toBe(3);
    expect(es.wait).toBe(0);
    expect(es.bestWeights).toBeNull();
    expect(ctx.restored).toEqual([]);
  });

  it('resets in onTrainBegin: a second training starts from scratch', () => {
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const ctx = new FakeContext();
    expect(train(es, ctx, [1.0, 0.5, 0.7, 0.8, 0.1]).epochsRun).toBe(4);
    expect(ctx.restored).toEqual([1]);
    // Second fit, worse losses throughout. With `best` kept at 0.5 it would stop after epoch 1
    // (e0 no improvement, e1 wait 2). Reset, it improves until e2 and stops after e4.
    // (Keras 3 itself resets wait, stopped_epoch, best_weights and best_epoch here but sets
    // `best` only once, in _set_monitor_op: fitlab resets all of it, STYLE.md §7.)
    expect(train(es, ctx, [2.0, 1.9, 1.8, 1.85, 1.86, 0.1], 'val_loss', 100).epochsRun).toBe(5);
    expect(es.best).toBe(1.8);
    expect(es.bestEpoch).toBe(2);
    expect(es.stoppedEpoch).toBe(4);
    expect(ctx.restored).toEqual([1, 102]);

    es.onTrainBegin();
    expect([es.wait, es.stoppedEpoch, es.bestEpoch, es.best, es.bestWeights]).toEqual([0, 0, 0, Infinity, null]);
  });

  it('getState/setState (through JSON, as checkpoints store it) continues exactly', () => {
    const values = [1.0, 0.5, 0.7, 0.8, 0.9, 0.95];
    const straight = new EarlyStopping({ patience: 3, restoreBestWeights: true });
    const ctxA = new FakeContext();
    expect(train(straight, ctxA, values).epochsRun).toBe(5);

    // the same, split after epoch 2: e0 best, e1 best (wait 0), e2 wait 1
    const first = new EarlyStopping({ patience: 3, restoreBestWeights: true });
    const ctxB = new FakeContext();
    train(first, ctxB, values.slice(0, 3));
    const { weights, ...rest } = first.getState();
    expect(rest).toEqual({ wait: 1, stoppedEpoch: 0, best: 0.5, bestEpoch: 1 });
    expect(weights).toEqual([Float32Array.of(1)]);

    const second = new EarlyStopping({ patience: 3, restoreBestWeights: true });
    const ctxC = new FakeContext();
    second.setContext(ctxC);
    second.onTrainBegin(); // fit restores callback state after onTrainBegin
    second.setState({ ...JSON.parse(JSON.stringify(rest)) as object, weights });
    for (let epoch = 3; epoch < values.length && !ctxC.stopTraining; epoch++) {
      ctxC.tag = epoch;
      second.onEpochEnd(epoch, logOf(epoch, 'val_loss', values[epoch]));
    }
    second.onTrainEnd();
    // e3 wait 2, e4 wait 3 → stop after epoch 4 and restore e1, as the uninterrupted run did
    expect(second.stoppedEpoch).toBe(straight.stoppedEpoch);
    expect(second.stoppedEpoch).toBe(4);
    expect(ctxC.restored).toEqual(ctxA.restored);
    expect(ctxC.restored).toEqual([1]);
  });

  it('a state with no best yet round-trips through JSON (null → ±Infinity)', () => {
    for (const [monitor, expected] of [['val_loss', Infinity], ['val_accuracy', -Infinity]] as const) {
      const a = new EarlyStopping({ monitor });
      a.onTrainBegin();
      const json = JSON.parse(JSON.stringify(a.getState())) as Record<string, unknown>;
      expect(json.best).toBeNull();
      const b = new EarlyStopping({ monitor });
      b.setState(json);
      expect(b.best).toBe(expected);
    }
  });

  it('rejects bad arguments, naming them', () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(ArgumentError);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience.*-1/);
    expect(() => new EarlyStopping({ mode: 'bogus' as 'min' })).toThrow(/mode.*"bogus"/);
    expect(() => new EarlyStopping({ startFromEpoch: Number.NaN })).toThrow(/startFromEpoch/);
  });
});

describe('ModelCheckpoint', () => {
  function checkpoints(options: { monitor?: string; saveBestOnly?: boolean; mode?: 'auto' | 'min' | 'max' }, values: (number | undefined)[], monitor = options.monitor ?? 'val_loss'): { saved: number[]; cb: ModelCheckpoint; logs: EpochLog[] } {
    const saved: number[] = [];
    const logs: EpochLog[] = [];
    const cb = new ModelCheckpoint({
      ...options,
      save: (epoch, log) => {
        saved.push(epoch);
        logs.push(log);
      },
    });
    train(cb, new FakeContext(), values, monitor);
    return { saved, cb, logs };
  }

  it('saveBestOnly, min mode (val_loss): saves only strict improvements', () => {
    // 1.0 (best) 0.8 (best) 0.9 0.7 (best) 0.7 (equal: not better)
    const { saved, cb, logs } = checkpoints({ saveBestOnly: true }, [1.0, 0.8, 0.9, 0.7, 0.7]);
    expect(saved).toEqual([0, 1, 3]);
    expect(cb.best).toBe(0.7);
    expect(logs.map((l) => l.val_loss)).toEqual([1.0, 0.8, 0.7]);
  });

  it('saveBestOnly, max mode (auto for val_accuracy, or explicit)', () => {
    expect(checkpoints({ monitor: 'val_accuracy', saveBestOnly: true }, [0.5, 0.5, 0.6, 0.55, 0.7]).saved).toEqual([0, 2, 4]);
    // explicit max on a loss: the largest losses are "best"
    expect(checkpoints({ monitor: 'val_loss', saveBestOnly: true, mode: 'max' }, [1.0, 0.8, 1.2, 1.1]).saved).toEqual([0, 2]);
  });

  it('saves every epoch without saveBestOnly, whatever the monitor says (or whether it is there)', () => {
    expect(checkpoints({}, [1.0, 2.0, 3.0, 0.5]).saved).toEqual([0, 1, 2, 3]);
    expect(checkpoints({}, [undefined, undefined]).saved).toEqual([0, 1]);
  });

  it('saveBestOnly with the monitor missing saves nothing', () => {
    // Keras 3 up to 3.5 warns "Can save best model only with val_loss available, skipping."
    // (later releases save anyway); fitlab skips, so model-best/ is never an arbitrary epoch
    expect(checkpoints({ saveBestOnly: true }, [undefined, undefined, undefined]).saved).toEqual([]);
  });

  it('resets its best in onTrainBegin and round-trips its state', () => {
    const saved: number[] = [];
    const cb = new ModelCheckpoint({ saveBestOnly: true, save: (e) => saved.push(e) });
    train(cb, new FakeContext(), [0.5, 0.4]);
    train(cb, new FakeContext(), [2.0, 1.0]); // 2.0 is "best" again in a new training
    expect(saved).toEqual([0, 1, 0, 1]);

    const state = JSON.parse(JSON.stringify(cb.getState())) as unknown;
    expect(state).toEqual({ best: 1.0 });
    const restored = new ModelCheckpoint({ saveBestOnly: true, save: (e) => saved.push(100 + e) });
    restored.setContext(new FakeContext());
    restored.onTrainBegin();
    restored.setState(state);
    restored.onEpochEnd(2, logOf(2, 'val_loss', 1.5)); // worse than the restored best: no save
    restored.onEpochEnd(3, logOf(3, 'val_loss', 0.9));
    expect(saved.slice(4)).toEqual([103]);
  });
});

describe('ReduceLROnPlateau', () => {
  function plateau(options: ConstructorParameters<typeof ReduceLROnPlateau>[0], values: (number | undefined)[], lr = 1.0, monitor = options?.monitor ?? 'val_loss'): { changes: { epoch: number; lr: number }[]; cb: ReduceLROnPlateau; ctx: FakeContext } {
    const cb = new ReduceLROnPlateau(options);
    const ctx = new FakeContext(lr);
    train(cb, ctx, values, monitor);
    return { changes: ctx.lrChanges, cb, ctx };
  }
  const flat = (n: number): number[] => Array.from({ length: n }, () => 1.0);

  it('multiplies the rate by factor after patience epochs without improvement', () => {
    // e0 best; e1 wait 1; e2 wait 2 ≥ 2 → 1.0·0.5, wait 0; e3 wait 1; e4 wait 2 → 0.25; e5 wait 1
    const { changes } = plateau({ factor: 0.5, patience: 2, minDelta: 0 }, flat(6));
    expect(changes).toEqual([{ epoch: 2, lr: 0.5 }, { epoch: 4, lr: 0.25 }]);
  });

  it('minDelta (default 1e-4): a smaller decrease is a plateau', () => {
    // 0.99995 < 1.0 − 1e-4? no → wait 1 ≥ 1 → reduce; 0.9998 < 0.9999 → improvement
    expect(plateau({ factor: 0.5, patience: 1 }, [1.0, 0.99995]).changes).toEqual([{ epoch: 1, lr: 0.5 }]);
    expect(plateau({ factor: 0.5, patience: 1 }, [1.0, 0.9998]).changes).toEqual([]);
    expect(new ReduceLROnPlateau().minDelta).toBe(1e-4);
  });

  it('cooldown: no counting for `cooldown` epochs after a reduction', () => {
    // patience 1, cooldown 2, flat values:
    // e1 wait 1 → 0.1 (cooldown 2).  e2: counter → 1, still cooling → skip.
    // e3: counter → 0, wait 0 → not cooling → wait 1 → 0.01 (cooldown 2).  e4 skip.  e5 → 0.001.  e6 skip.
    const { changes } = plateau({ factor: 0.1, patience: 1, cooldown: 2, minDelta: 0 }, flat(7));
    expect(changes.map((c) => c.epoch)).toEqual([1, 3, 5]);
    expect(changes.map((c) => c.lr)).toEqual([0.1, 1.0 * 0.1 * 0.1, 1.0 * 0.1 * 0.1 * 0.1]);
    // without cooldown every epoch from 1 on reduces
    expect(plateau({ factor: 0.1, patience: 1, minDelta: 0 }, flat(7)).changes.map((c) => c.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('minLr: the rate never drops below it, and stops changing once there', () => {
    // 1.0 → 0.1 → max(0.01, 0.05) = 0.05; then old_lr 0.05 > float32(0.05)? no → unchanged
    const { changes, ctx } = plateau({ factor: 0.1, patience: 1, minLr: 0.05, minDelta: 0 }, flat(6));
    expect(changes).toEqual([{ epoch: 1, lr: 0.1 }, { epoch: 2, lr: 0.05 }]);
    expect(ctx.lr).toBe(0.05);
  });

  it('mode: auto maximizes accuracy; explicit min/max override', () => {
    // max: e0 best 0.5, e1 best 0.6, e2 wait 1, e3 wait 2 → reduce
    expect(plateau({ monitor: 'val_accuracy', factor: 0.5, patience: 2, minDelta: 0 }, [0.5, 0.6, 0.6, 0.6]).changes).toEqual([{ epoch: 3, lr: 0.5 }]);
    // min on a rising accuracy: 0.6 < 0.5? no → patience 1 → reduce at e1
    expect(plateau({ monitor: 'val_accuracy', mode: 'min', factor: 0.5, patience: 1, minDelta: 0 }, [0.5, 0.6]).changes).toEqual([{ epoch: 1, lr: 0.5 }]);
    // max on a falling loss: a plateau at once
    expect(plateau({ mode: 'max', factor: 0.5, patience: 1, minDelta: 0 }, [1.0, 0.5]).changes).toEqual([{ epoch: 1, lr: 0.5 }]);
  });

  it('a missing monitor changes nothing', () => {
    const { changes, cb } = plateau({ factor: 0.5, patience: 0 }, [undefined, undefined, undefined]);
    expect(changes).toEqual([]);
    expect(cb.wait).toBe(0);
  });

  it('resets in onTrainBegin and round-trips its state', () => {
    const cb = new ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 3, minDelta: 0 });
    const ctx = new FakeContext(1.0);
    train(cb, ctx, [1.0, 1.0, 1.0, 1.0]); // reduce at e2, then cooling down at e3
    expect([cb.best, cb.wait, cb.cooldownCounter]).toEqual([1.0, 0, 2]);
    const state = JSON.parse(JSON.stringify(cb.getState())) as unknown;
    const copy = new ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 3, minDelta: 0 });
    copy.setState(state);
    expect([copy.best, copy.wait, copy.cooldownCounter]).toEqual([1.0, 0, 2]);
    cb.onTrainBegin();
    expect([cb.best, cb.wait, cb.cooldownCounter]).toEqual([Infinity, 0, 0]);
  });

  it('rejects a factor ≥ 1 (Keras) or < 0, naming it', () => {
    expect(() => new ReduceLROnPlateau({ factor: 1 })).toThrow(/factor.*\[0, 1\).*1/);
    expect(() => new ReduceLROnPlateau({ factor: 1.5 })).toThrow(ArgumentError);
    expect(() => new ReduceLROnPlateau({ factor: -0.1 })).toThrow(ArgumentError);
  });
});

describe('TerminateOnNaN', () => {
  function batches(losses: number[]): { cb: TerminateOnNaN; ctx: FakeContext; stoppedAfter: number | null } {
    const cb = new TerminateOnNaN();
    const ctx = new FakeContext();
    cb.setContext(ctx);
    cb.onTrainBegin();
    cb.onEpochBegin(2);
    let stoppedAfter: number | null = null;
    for (let b = 0; b < losses.length; b++) {
      cb.onBatchBegin(b);
      cb.onBatchEnd(b, { batch: b, size: 32, loss: losses[b] });
      if (ctx.stopTraining) {
        stoppedAfter = b;
        break;
      }
    }
    return { cb, ctx, stoppedAfter };
  }

  it('stops at the first NaN batch loss and says where', () => {
    const { cb, ctx, stoppedAfter } = batches([0.7, 0.6, Number.NaN, 0.5]);
    expect(stoppedAfter).toBe(2);
    expect(cb.triggeredAt).toEqual({ epoch: 2, batch: 2 });
    expect(ctx.stopReason).toMatch(/NaN.*epoch 3, batch 3/);
    expect(ctx.stopCause).toBe('non-finite-loss');
  });

  it('stops on +Infinity and −Infinity', () => {
    expect(batches([0.7, Infinity]).stoppedAfter).toBe(1);
    expect(batches([-Infinity]).stoppedAfter).toBe(0);
    expect(batches([0.7, Infinity]).ctx.stopReason).toMatch(/Infinity/);
  });

  it('lets finite losses through, however large', () => {
    const { ctx, cb, stoppedAfter } = batches([0.7, 1e30, -5, 0, Number.MAX_VALUE]);
    expect(stoppedAfter).toBeNull();
    expect(ctx.stopTraining).toBe(false);
    expect(cb.triggeredAt).toBeNull();
  });

  it('resets in onTrainBegin', () => {
    const { cb } = batches([Number.NaN]);
    cb.onTrainBegin();
    expect(cb.triggeredAt).toBeNull();
  });
});

describe('LearningRateScheduler', () => {
  it('sets the rate at each epoch begin from schedule(epoch, current rate)', () => {
    // the Keras docs' schedule shape: keep the rate for 2 epochs, then halve it every epoch
    const calls: [number, number][] = [];
    const cb = new LearningRateScheduler((epoch, lr) => {
      calls.push([epoch, lr]);
      return epoch < 2 ? lr : lr * 0.5;
    });
    const ctx = new FakeContext(0.1);
    const rates: number[] = [];
    cb.setContext(ctx);
    cb.onTrainBegin();
    for (let epoch = 0; epoch < 5; epoch++) {
      ctx.epoch = epoch;
      cb.onEpochBegin(epoch);
      rates.push(ctx.lr);
    }
    expect(rates).toEqual([0.1, 0.1, 0.05, 0.025, 0.0125]);
    expect(calls).toEqual([[0, 0.1], [1, 0.1], [2, 0.1], [3, 0.05], [4, 0.025]]);
  });
});

describe('CSVLogger', () => {
  const row = (epoch: number, loss: number): EpochLog => ({
    epoch, loss, accuracy: 0.75, val_loss: loss + 0.125, val_accuracy: 0.5, learning_rate: 0.001, penalty: 0, seconds: 1.5, examples: 100 * (epoch + 1),
  });

  function log(logger: CSVLogger, losses: number[]): void {
    logger.setContext(new FakeContext());
    logger.onTrainBegin();
    losses.forEach((loss, epoch) => logger.onEpochEnd(epoch, row(epoch, loss)));
    logger.onTrainEnd();
  }

  it('writes the header once (epoch, then the sorted keys, as Keras) and one row per epoch', () => {
    const writes: { text: string; reset: boolean }[] = [];
    log(new CSVLogger((text, reset) => writes.push({ text, reset })), [0.5, 0.25]);
    expect(writes.map((w) => w.reset)).toEqual([true, false]);
    expect(writes.map((w) => w.text).join('')).toBe(
      'epoch,accuracy,examples,learning_rate,loss,penalty,seconds,val_accuracy,val_loss\n' +
      '0,0.75,100,0.001,0.5,0,1.5,0.5,0.625\n' +
      '1,0.75,200,0.001,0.25,0,1.5,0.5,0.375\n',
    );
  });

  it('uses the separator', () => {
    let text = '';
    log(new CSVLogger((t) => (text += t), { separator: ';' }), [0.5]);
    expect(text).toBe('epoch;accuracy;examples;learning_rate;loss;penalty;seconds;val_accuracy;val_loss\n0;0.75;100;0.001;0.5;0;1.5;0.5;0.625\n');
  });

  it('a second training starts a new file with its header; append adds rows only', () => {
    const writes: { text: string; reset: boolean }[] = [];
    const logger = new CSVLogger((text, reset) => writes.push({ text, reset }));
    log(logger, [0.5]);
    log(logger, [0.25]);
    expect(writes.map((w) => w.reset)).toEqual([true, true]);
    expect(writes[1].text.split('\n')[0]).toMatch(/^epoch,accuracy/);

    // appending to an existing log (Keras writes no header when the file already has one)
    const appended: { text: string; reset: boolean }[] = [];
    log(new CSVLogger((text, reset) => appended.push({ text, reset }), { append: true }), [0.5, 0.25]);
    expect(appended).toEqual([{ text: '0,0.75,100,0.001,0.5,0,1.5,0.5,0.625\n', reset: false }, { text: '1,0.75,200,0.001,0.25,0,1.5,0.5,0.375\n', reset: false }]);
  });

  it('appending to an empty sink writes the header first (Keras checks the file)', () => {
    const writes: { text: string; reset: boolean }[] = [];
    log(new CSVLogger((text, reset) => writes.push({ text, reset }), { append: true, isEmpty: () => writes.length === 0 }), [0.5, 0.25]);
    expect(writes.map((w) => w.reset)).toEqual([false, false]);
    expect(writes.map((w) => w.text).join('').split('\n')).toEqual([
      'epoch,accuracy,examples,learning_rate,loss,penalty,seconds,val_accuracy,val_loss',
      '0,0.75,100,0.001,0.5,0,1.5,0.5,0.625',
      '1,0.75,200,0.001,0.25,0,1.5,0.5,0.375',
      '',
    ]);
  });

  it('writes NA for a key missing from a later epoch, as Keras does', () => {
    let text = '';
    const logger = new CSVLogger((t) => (text += t));
    logger.setContext(new FakeContext());
    logger.onTrainBegin();
    logger.onEpochEnd(0, row(0, 0.5));
    const partial: Partial<EpochLog> = { ...row(1, 0.25) };
    delete partial.val_loss;
    delete partial.val_accuracy;
    logger.onEpochEnd(1, partial as EpochLog);
    expect(text.split('\n')[2]).toBe('1,0.75,200,0.001,0.25,0,1.5,NA,NA');
  });
});
