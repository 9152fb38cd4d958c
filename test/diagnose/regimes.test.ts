/**
 * The diagnosis on crafted histories of every regime fitlab knows — healthy, overfitting (true
 * and partial), underfitting, not converged, diverged — each clean and with seeded noise, plus
 * the dropout case where validation beats training (which is not a problem). Checks the regime,
 * the onset of overfitting within ±1 epoch of where the curve was built to turn, the best epoch
 * exactly, the gaps, the validation-loss rise and the early-stopping counterfactuals against
 * hand arithmetic, and that the summary and advice quote those same numbers.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type Diagnosis, diagnose, earlyStoppingCounterfactual } from '../../src/diagnose/diagnose.js';
import { findMildRise } from '../../src/diagnose/evidence.js';
import { loadHistory } from '../../src/diagnose/read.js';
import { diagnosisText } from '../../src/diagnose/text.js';
import type { EpochLog } from '../../src/train/history.js';
import {
  OVERFIT_MIN, PARTIAL_MIN, col, dropoutHealthy, healthy, history, indexOfMin, mean, noisy, notConverged, overfitting,
  partialOverfitting, underfitting,
} from './synth.js';

const TEN = { classes: 10 };
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** Keras' EarlyStopping(monitor='val_loss', patience, restore_best_weights=True), written out again. */
function kerasEarlyStopping(val: number[], patience: number): { stop: number | null; restore: number } {
  let best = Infinity;
  let restore = 0;
  let wait = 0;
  for (let epoch = 0; epoch < val.length; epoch++) {
    wait += 1;
    if (val[epoch] < best) {
      best = val[epoch];
      restore = epoch;
      wait = 0;
    } else if (wait >= patience && epoch > 0) {
      return { stop: epoch, restore };
    }
  }
  return { stop: null, restore };
}

describe('true overfitting (validation loss turns up at epoch 15 of 40)', () => {
  const h = overfitting();
  const v = col(h, 'val_loss');
  const va = col(h, 'val_accuracy');
  const tl = col(h, 'loss');
  const ta = col(h, 'accuracy');
  const d = diagnose(h, TEN);

  it('regime, onset (±1, high confidence on a clean curve), best epochs exact', () => {
    expect(d.regime).toBe('overfitting');
    expect(d.onsetEpoch).not.toBeNull();
    // epochs in a Diagnosis count from 1; OVERFIT_MIN is a 0-based index into the history, so the
    // best epoch is OVERFIT_MIN + 1 and the onset, the first epoch after it, OVERFIT_MIN + 2
    expect(Math.abs((d.onsetEpoch as number) - (OVERFIT_MIN + 2))).toBeLessThanOrEqual(1);
    expect(d.onsetBy).toBe('validation-loss');
    expect(d.onset?.confidence).toBe('high');
    expect(d.bestEpoch).toBe(OVERFIT_MIN + 1);
    expect(d.epochBase).toBe(1);
    // validation accuracy: 0.86 − 0.4·e^(−i/4) − 0.002·(i − 15)⁺ peaks one epoch later, at 16:
    // 0.86 − 0.4·e^−4 − 0.002 = 0.85067 > 0.86 − 0.4·e^−3.75 = 0.85059 (index 16: epoch 17)
    expect(d.bestEpochByAccuracy).toBe(17);
    expect(d.epochs).toBe(40);
    expect(d.chance).toBeCloseTo(0.1, 12);
  });

  it('gaps and the validation-loss rise match hand arithmetic', () => {
    const last = 39;
    expect(d.final.loss).toBe(tl[last]);
    expect(d.gaps.final.accuracy).toBeCloseTo(ta[last] - va[last], 12);
    expect(d.gaps.final.loss).toBeCloseTo(v[last] - tl[last], 12);
    expect(d.gaps.best.accuracy).toBeCloseTo(ta[15] - va[15], 12);
    expect(d.gaps.best.loss).toBeCloseTo(v[15] - tl[15], 12);
    // val loss: 0.5 + 0.8·e^−7.5 at its minimum, 0.5 + 0.03·24 + 0.8·e^−19.5 at the end
    const vmin = 0.5 + 0.8 * Math.exp(-7.5);
    const vend = 0.5 + 0.03 * 24 + 0.8 * Math.exp(-19.5);
    expect(d.valLossRise?.absolute).toBeCloseTo(vend - vmin, 12);
    expect(d.valLossRise?.relative).toBeCloseTo((vend - vmin) / vmin, 12);
    expect(d.valLossRise?.epochsAfterBest).toBe(24);
    expect(d.valLossRise?.epochsAfterOnset).toBe(40 - (d.onsetEpoch as number));
  });

  it('early-stopping counterfactuals: stop = best + patience, restore the best epoch, epochs saved = 40 − stop (1-based)', () => {
    expect(d.counterfactuals.map((c) => [c.patience, c.stopEpoch, c.restoreEpoch, c.epochsSaved])).toEqual([
      [3, 19, 16, 21], [5, 21, 16, 19], [10, 26, 16, 14],
    ]);
    for (const c of d.counterfactuals) {
      expect(c.valLoss).toBe(v[15]);
      expect(c.valAccuracy).toBe(va[15]);
      expect(c.own).toBeUndefined();
    }
    // the run's own patience joins the list, in order, marked as its own
    const own = diagnose(h, { ...TEN, earlyStoppingPatience: 4 });
    expect(own.counterfactuals.map((c) => c.patience)).toEqual([3, 4, 5, 10]);
    expect(own.counterfactuals[1]).toMatchObject({ patience: 4, stopEpoch: 20, restoreEpoch: 16, epochsSaved: 20, own: true });
  });

  it('the summary, the text and the advice quote those numbers', () => {
    const rise = (100 * ((0.5 + 0.72 + 0.8 * Math.exp(-19.5)) / (0.5 + 0.8 * Math.exp(-7.5)) - 1)).toFixed(0); // "144"
    expect(rise).toBe('144');
    const trainAcc = mean(ta.slice(-3));
    const valAcc = mean(va.slice(-3));
    expect(d.summary).toBe(
      `Overfitting since epoch ${d.onsetEpoch as number} (high confidence): validation loss rose ${rise}% from its minimum 0.500 while training loss kept falling; ` +
      `training accuracy ${(100 * trainAcc).toFixed(1)}% vs validation ${(100 * valAcc).toFixed(1)}% (gap ${(100 * (trainAcc - valAcc)).toFixed(1)} points; means of the last 3 epochs).`,
    );
    const text = diagnosisText(d);
    expect(text).toMatch(/^Diagnosis: OVERFITTING\n/);
    expect(text).toContain('best epoch 16 of 40: val_loss 0.500, val_accuracy 85.1%');
    expect(text).toContain('patience 3: stop at 19, keep 16 (val_acc 85.1%, the best epoch), 21 epochs saved; patience 5: stop at 21, keep 16 (val_acc 85.1%, the best epoch), 19 epochs saved; patience 10: stop at 26, keep 16 (val_acc 85.1%, the best epoch), 14 epochs saved');
    expect(text).toContain(`onset of overfitting: epoch ${d.onsetEpoch as number} (high confidence`);

    expect(d.advice[0].action).toBe('early stopping with patience 3 and restoreBestWeights');
    // the counterfactual keeps the run's best epoch and states its cost against the best validation
    // accuracy (epoch 17 is 0.008 points better: the same to 0.1 point)
    expect(d.advice[0].evidence).toBe("it would stop at epoch 19 and keep epoch 16, the run's best (val_loss 0.500, val_accuracy 85.1%: also the best validation accuracy of the run, to 0.1 point), saving 21 epochs");
    const actions = d.advice.map((a) => a.action).join('\n');
    expect(actions).toMatch(/Dropout 0\.2–0\.5/);
    expect(actions).toMatch(/L2 kernel regularizer/);
    for (const a of d.advice) expect(a.evidence.length).toBeGreaterThan(10);
    expect(d.advice.map((a) => a.priority)).toEqual([...d.advice.map((a) => a.priority)].sort((x, y) => x - y));
  });

  it('advice follows the model: no dropout/L2 advice when they are there; a smaller model when parameters per example are many', () => {
    const reg = diagnose(h, { ...TEN, hasDropout: true, hasWeightPenalty: true });
    expect(reg.advice.map((a) => a.action).join('\n')).not.toMatch(/Dropout 0\.2|L2 kernel/);
    const big = diagnose(h, { ...TEN, params: 400_000, trainExamples: 1000, imageData: true, dataset: 'fashion-mnist', hasAugmentation: false });
    const smaller = big.advice.find((a) => a.action.startsWith('use a smaller model'));
    expect(smaller?.evidence).toBe('400,000 parameters for 1,000 training examples (400 per example)');
    // the augmentation preset of the dataset: Fashion-MNIST flips (clothes are symmetric), digits never do
    const augment = (dataset: string): string | undefined => diagnose(h, { ...TEN, imageData: true, dataset, hasAugmentation: false }).advice.find((a) => a.action.startsWith('augment'))?.action;
    expect(big.advice.find((a) => a.action.startsWith('augment'))?.action).toBe('augment the training images: --augment fashion (Fashion-MNIST: horizontal flips, shifts ±10%, rotation ±8°)');
    expect(augment('mnist')).toMatch(/^augment the training images: --augment digits \(.*no flips\)$/);
    expect(augment('cifar10')).toMatch(/^augment the training images: --augment cifar10 /);
    expect(diagnose(h, { ...TEN, imageData: true, hasAugmentation: true }).advice.some((a) => a.action.startsWith('augment'))).toBe(false);
  });

  it('without a class count (accuracy judged as is) it is still overfitting', () => {
    expect(diagnose(h).regime).toBe('overfitting');
  });

  it.each(SEEDS)('with noise (seed %i, σ = 0.02 on the losses): still overfitting, onset ±1, best epoch and counterfactuals exact', (seed) => {
    const hn = noisy(h, seed, 0.02);
    const vn = col(hn, 'val_loss');
    const dn = diagnose(hn, TEN);
    expect(dn.regime).toBe('overfitting');
    expect(dn.onsetEpoch).not.toBeNull();
    expect(Math.abs((dn.onsetEpoch as number) - (OVERFIT_MIN + 2))).toBeLessThanOrEqual(1);
    expect(dn.bestEpoch).toBe(indexOfMin(vn) + 1);
    for (const c of dn.counterfactuals) {
      const k = kerasEarlyStopping(vn, c.patience);
      expect([c.stopEpoch, c.restoreEpoch]).toEqual([k.stop === null ? null : k.stop + 1, k.restore + 1]);
      expect(c.epochsSaved).toBe(k.stop === null ? 0 : 39 - k.stop);
      expect(c.valLoss).toBe(vn[k.restore]);
    }
  });
});

describe('overfitting shown by the accuracy gap alone (validation loss flat, no loss onset)', () => {
  const h = history(30, {
    loss: (i) => 0.01 + 2 * Math.exp(-i / 4),
    accuracy: (i) => 1 - 0.6 * Math.exp(-i / 4),
    val_loss: (i) => 0.7 + 1.5 * Math.exp(-i / 4),
    val_accuracy: (i) => 0.8 - 0.5 * Math.exp(-i / 4),
  });
  it('is overfitting with the onset where the gap opened for good (here from epoch 1: 0.2 − 0.1·e^(−i/4) ≥ 0.1), and says so', () => {
    const d = diagnose(h, TEN);
    expect(d.regime).toBe('overfitting');
    expect(d.onset).toBeNull();
    expect([d.onsetEpoch, d.onsetBy]).toEqual([1, 'accuracy-gap']);
    expect(d.bestEpoch).toBe(30);
    // the last three epochs averaged: 1 − 0.6·mean(e^−27/4, e^−28/4, e^−29/4) = 99.93%, 80.0% → 19.9 points
    const ta = mean([27, 28, 29].map((i) => 1 - 0.6 * Math.exp(-i / 4)));
    const va = mean([27, 28, 29].map((i) => 0.8 - 0.5 * Math.exp(-i / 4)));
    expect((100 * ta).toFixed(1)).toBe('99.9');
    expect(d.summary).toBe(`Overfitting since epoch 1: the accuracy gap opened then and validation has stopped improving; training accuracy 99.9% vs validation ${(100 * va).toFixed(1)}% (gap ${(100 * (ta - va)).toFixed(1)} points; means of the last 3 epochs).`);
  });
});

describe('partial overfitting (60% train / 40% validation, validation loss turns up at epoch 12)', () => {
  const h = partialOverfitting();
  it('regime, onset ±1, best epoch; capacity advice, never "simplify"', () => {
    const d = diagnose(h, TEN);
    expect(d.regime).toBe('partial-overfitting');
    expect(Math.abs((d.onsetEpoch as number) - (PARTIAL_MIN + 2))).toBeLessThanOrEqual(1);
    expect(d.bestEpoch).toBe(PARTIAL_MIN + 1);
    expect(d.summary).toMatch(/^Partial overfitting since epoch \d+ .*simplifying it will not help\.$/);
    expect(d.advice[0].action).toMatch(/^add capacity rather than regularization/);
    expect(d.advice.some((a) => /smaller model|Dropout 0\.2|L2 kernel|early stopping/.test(a.action))).toBe(false);
  });
  it('advice for the model: a dense net already large for its data gets "convolutional", not "more capacity"', () => {
    const d = diagnose(h, { ...TEN, params: 400_000, trainExamples: 1000, imageData: true, convolutional: false });
    // regularization unknown (not in this context): a conditional line, after the convolutional advice
    expect(d.advice.map((a) => a.action)).toEqual([
      'use a convolutional model (e.g. lecture-cnn)', 'if the model uses dropout, a weight penalty or augmentation, reduce them first', 'train longer or with a learning-rate schedule',
    ]);
    const known = diagnose(h, { ...TEN, params: 400_000, trainExamples: 1000, imageData: true, convolutional: false, hasDropout: false, hasWeightPenalty: false, hasAugmentation: false });
    expect(known.advice.map((a) => a.action)).toEqual(['use a convolutional model (e.g. lecture-cnn)', 'train longer or with a learning-rate schedule']);
  });
  it('advice for the model: a regularized one is told to reduce regularization first, naming what it uses', () => {
    const d = diagnose(h, { ...TEN, hasDropout: true, hasWeightPenalty: true, params: 400_000, trainExamples: 1000 });
    expect(d.advice[0].action).toMatch(/^reduce regularization/);
    expect(d.advice[0].evidence).toMatch(/^training accuracy is only 5\d\.\d% with dropout and a weight penalty on/);
    expect(d.advice.some((a) => a.action.startsWith('add capacity'))).toBe(false);
    // a small regularized model: reduce regularization, then capacity
    const small = diagnose(h, { ...TEN, hasDropout: true, params: 2000, trainExamples: 1000 });
    expect(small.advice.map((a) => a.action.split(' ')[0])).toEqual(['reduce', 'add', 'train']);
  });
  it.each(SEEDS)('with noise (seed %i): still partial overfitting, onset ±1', (seed) => {
    const d = diagnose(noisy(h, seed, 0.02), TEN);
    expect(d.regime).toBe('partial-overfitting');
    expect(Math.abs((d.onsetEpoch as number) - (PARTIAL_MIN + 2))).toBeLessThanOrEqual(1);
  });
});

describe('healthy', () => {
  const h = healthy();
  it('no onset, best epoch the last, converged, early stopping never fires', () => {
    const d = diagnose(h, TEN);
    expect(d.regime).toBe('healthy');
    expect(d.onsetEpoch).toBeNull();
    expect(d.onset).toBeNull();
    expect(d.bestEpoch).toBe(30);
    expect(d.converged).toBe(true);
    expect(d.counterfactuals.map((c) => [c.stopEpoch, c.restoreEpoch, c.epochsSaved])).toEqual([[null, 30, 0], [null, 30, 0], [null, 30, 0]]);
    expect(d.summary).toMatch(/^Healthy: validation follows training, training accuracy 93\.0% vs validation 91\.0% \(gap 2\.0 points; means of the last 3 epochs\); the best validation loss is at epoch 30 of 30\.$/);
    expect(d.advice[0].action).toMatch(/^nothing urgent/);
  });
  it.each(SEEDS)('with noise (seed %i, σ = 0.01): still healthy, no onset, best epoch exact', (seed) => {
    const hn = noisy(h, seed, 0.01);
    const d = diagnose(hn, TEN);
    expect(d.regime).toBe('healthy');
    expect(d.onsetEpoch).toBeNull();
    expect(d.bestEpoch).toBe(indexOfMin(col(hn, 'val_loss')) + 1);
  });
  it('a one-epoch spike in validation loss (mid-run or at the last epoch, in runs of 15 to 30 epochs) is not an onset', () => {
    for (const n of [15, 20, 25, 30]) {
      for (const at of [Math.floor(n / 2), n - 1]) {
        const spiked = h.slice(0, n).map((e, i) => (i === at ? { ...e, val_loss: (e.val_loss as number) + 0.3 } : e));
        const d = diagnose(spiked, TEN);
        expect(d.regime, `${n} epochs, spike at ${at}`).toBe('healthy');
        expect(d.onsetEpoch, `${n} epochs, spike at ${at}`).toBeNull();
      }
    }
  });
});

describe('validation better than training because of dropout', () => {
  const h = dropoutHealthy();
  it('val loss below train loss and val accuracy above train accuracy is healthy, not a problem', () => {
    const d = diagnose(h, { ...TEN, hasDropout: true });
    expect(d.regime).toBe('healthy');
    expect(d.onsetEpoch).toBeNull();
    // negative gaps, exactly: 0.85 − 0.89 and 0.40 − 0.55 (the exponentials cancel)
    expect(d.gaps.final.accuracy).toBeCloseTo(-0.04, 12);
    expect(d.gaps.final.loss).toBeCloseTo(-0.15, 12);
    expect(d.advice.map((a) => `${a.action} ${a.evidence}`).join('\n')).not.toMatch(/dropout|regulariz|L2|smaller model|overfit/i);
  });
  it.each(SEEDS)('with noise (seed %i): still healthy', (seed) => {
    const d = diagnose(noisy(h, seed, 0.01), { ...TEN, hasDropout: true });
    expect(d.regime).toBe('healthy');
    expect(d.onsetEpoch).toBeNull();
  });
});

describe('underfitting', () => {
  const h = underfitting();
  it('low flat accuracy (28% against 10% chance) is underfitting, with capacity advice', () => {
    const d = diagnose(h, { ...TEN, hasDropout: true });
    expect(d.regime).toBe('underfitting');
    expect(d.summary).toContain('(baseline: chance 10.0% if the 10 classes are balanced)');
    expect(d.advice[0].action).toBe('add capacity: more units/filters or layers');
    expect(d.advice.map((a) => a.action)).toContain('reduce regularization (dropout, L2)');
  });
  it.each(SEEDS)('with noise (seed %i): still underfitting', (seed) => {
    expect(diagnose(noisy(h, seed, 0.01), TEN).regime).toBe('underfitting');
  });
  it('accuracy is judged as skill above chance: 28% is below chance for 2 classes, and still low (skill 0.27) for 100', () => {
    expect(diagnose(h, { classes: 2 }).regime).toBe('underfitting');
    expect(diagnose(h, { classes: 100 }).regime).toBe('underfitting');
    // the same flat curves at 97% accuracy are no underfitting
    const high = h.map((e) => ({ ...e, accuracy: 0.97, val_accuracy: 0.96 }));
    expect(diagnose(high, TEN).regime).toBe('healthy');
  });
});

describe('not converged', () => {
  const h = notConverged();
  it('training loss still falling 1/14 per epoch: not converged; trend and advice by hand', () => {
    const d = diagnose(h, TEN);
    expect(d.regime).toBe('not-converged');
    expect(d.converged).toBe(false);
    // last 3 epochs of a straight line: slope −1/14 over the level (2.2 − 13/14)
    const slope = -1 / 14 / (2.2 - 13 / 14);
    expect(d.trainTrend.window).toBe(3);
    expect(d.trainTrend.slope).toBeCloseTo(slope, 10);
    expect(d.summary).toBe(`Not converged: training loss is still falling ${(100 * -slope).toFixed(1)}% per epoch over the last 3 epochs and no overfitting shows yet; training accuracy 52.5% vs validation 50.6%.`);
    // (the accuracies are the last three epochs' mean: (0.55 + 0.525 + 0.5) / 3 and (0.53 + 0.5057 + 0.4814) / 3)
    // 15 epochs → max(5, round(7.5)) = 8 more → --epochs 23
    expect(d.advice[0].action).toBe('train longer (≈8 more epochs: `fitlab train --resume <run> --epochs 23`)');
  });
  it.each(SEEDS)('with noise (seed %i): still not converged', (seed) => {
    expect(diagnose(noisy(h, seed, 0.01), TEN).regime).toBe('not-converged');
  });
});

describe('diverged', () => {
  const base = (loss: number[], val?: number[]): EpochLog[] => history(loss.length, {
    loss: (i) => loss[i], val_loss: val ? (i) => val[i] : undefined, accuracy: () => 0.5, val_accuracy: val ? () => 0.5 : undefined,
  });
  it('NaN training loss: diverged at the first NaN epoch', () => {
    const d = diagnose(base([2, 1.5, 1.2, Number.NaN, Number.NaN], [2, 1.6, 1.3, Number.NaN, Number.NaN]), TEN);
    expect(d.regime).toBe('diverged');
    expect(d.divergence?.epoch).toBe(4);
    expect(d.summary).toBe('Diverged: the training loss is NaN at epoch 4.');
    expect(d.onsetEpoch).toBeNull();
    expect(d.advice[0].action).toMatch(/^lower the learning rate/);
  });
  it('infinite validation loss alone is divergence too', () => {
    const d = diagnose(base([2, 1.5, 1.2, 1.1], [2, 1.6, Infinity, 1.4]), TEN);
    expect(d.regime).toBe('diverged');
    expect(d.divergence).toEqual({ epoch: 3, reason: 'the validation loss is Infinity at epoch 3' });
  });
  it('an exploding (finite) loss: diverged from the epoch after its minimum; a learning rate in the advice', () => {
    const d = diagnose(base([2, 1, 0.8, 0.9, 3, 40], [2, 1.1, 0.9, 1, 3.5, 45]), { ...TEN, learningRate: 0.1 });
    expect(d.regime).toBe('diverged');
    expect(d.divergence).toEqual({ epoch: 4, reason: 'the training loss exploded from 0.800 (epoch 3) to 40.0' });
    expect(d.advice[0].action).toBe('lower the learning rate (try 0.010)');
  });
  it('a loss huge from the first epoch and still falling (--lr 1e10: 7e20) is diverged, not "not converged"', () => {
    // the shape of a not-converged run (falling 5% per epoch, accuracy at chance), at the scale of an explosion
    const loss = Array.from({ length: 10 }, (_, i) => 7e20 * 0.95 ** i);
    const d = diagnose(base(loss, loss.map((v) => 1.1 * v)), { ...TEN, learningRate: 1e10 });
    expect(d.regime).toBe('diverged');
    expect(d.divergence).toEqual({ epoch: 1, reason: 'the training loss exploded to 7.00e+20 at epoch 1, far above ln(10) = 2.30, the loss of a chance guess' });
    expect(d.summary).toBe('Diverged: the training loss exploded to 7.00e+20 at epoch 1, far above ln(10) = 2.30, the loss of a chance guess.');
    expect(d.advice[0].action).toBe('lower the learning rate (try 1.0e+9)');
    expect(diagnosisText(d)).not.toMatch(/raise the learning rate/);
    // without a class count the scale still gives it away
    expect(diagnose(base(loss)).divergence?.reason).toBe('the training loss exploded to 7.00e+20 at epoch 1, far above any cross-entropy of a working classifier');
  });
  it('a large but steady loss with no class count and no accuracies (a regression MSE) is not called exploded', () => {
    const mse = history(10, { loss: (i) => 5000 * 0.9 ** i, val_loss: (i) => 5200 * 0.9 ** i });
    const d = diagnose(mse);
    expect(d.divergence).toBeNull();
    expect(d.regime).toBe('not-converged');
    // …while the same numbers beside an accuracy column are a classifier's, and exploded
    expect(diagnose(mse.map((e) => ({ ...e, accuracy: 0.1 }))).regime).toBe('diverged');
  });
  it('a loss that jumps 100× above its first epoch and slowly comes down is diverged at the jump', () => {
    const loss = [2.3, 2.1, 250, 240, 230, 220, 210, 200];
    const d = diagnose(base(loss), { ...TEN, learningRate: 0.5 });
    expect(d.regime).toBe('diverged');
    expect(d.divergence).toEqual({ epoch: 3, reason: 'the training loss exploded to 250 at epoch 3, far above ln(10) = 2.30, the loss of a chance guess' });
    // with 1000 classes the ceiling is 100·ln(1000) ≈ 691: the 100× rise over epoch 1 is what fires
    const wide = diagnose(base(loss), { classes: 1000 });
    expect(wide.divergence).toEqual({ epoch: 3, reason: 'the training loss exploded from 2.30 (epoch 1) to 250 at epoch 3' });
    expect(wide.advice[0].action).toMatch(/^lower the learning rate/);
  });
  it.each(SEEDS)('noise on a run that turns NaN does not change the epoch (seed %i)', (seed) => {
    const h = noisy(overfitting(), seed, 0.02).map((e, i) => (i >= 22 ? { ...e, loss: Number.NaN, val_loss: Number.NaN } : e));
    const d = diagnose(h, TEN);
    expect(d.regime).toBe('diverged');
    expect(d.divergence?.epoch).toBe(23);
  });
});

describe('a history without validation (issue 15 §3: not "healthy")', () => {
  const h = history(40, { loss: (i) => 0.1 + 2 * Math.exp(-i / 3), accuracy: (i) => 0.95 - 0.5 * Math.exp(-i / 3) });
  it('is no-validation: generalization cannot be judged; best epoch by loss, no counterfactuals', () => {
    const d = diagnose(h, TEN);
    expect(d.hasValidation).toBe(false);
    expect(d.regime).toBe('no-validation');
    expect(d.bestEpoch).toBe(40);
    expect(d.counterfactuals).toEqual([]);
    expect(d.valLossRise).toBeNull();
    // what can be said: converged (2·e^(−i/3) is ≈1e-5 in the last epochs), training accuracy against its baseline
    expect(d.summary).toMatch(/^No validation data: generalization cannot be judged from this history\. What can be said: training loss has levelled off; training accuracy 95\.0% \(baseline: chance 10\.0% if the 10 classes are balanced\)\.$/);
    expect(diagnosisText(d)).not.toMatch(/healthy|validation follows/i);
    expect(d.advice[0].action).toMatch(/^hold out validation data/);
  });
  it('a run still improving says so and advises training longer; no class count, no baseline named', () => {
    const d = diagnose(h.slice(0, 6));
    expect(d.regime).toBe('no-validation');
    expect(d.summary).toMatch(/training loss is still falling \d+\.\d% per epoch/);
    expect(d.summary).not.toMatch(/baseline/);
    expect(d.advice.map((a) => a.action)).toContain('train longer');
  });
  it('a diverged run without validation is still diverged', () => {
    expect(diagnose(h.map((e, i) => (i >= 10 ? { ...e, loss: Number.NaN } : e)), TEN).regime).toBe('diverged');
  });
});

describe('early-stopping counterfactual on hand-worked curves', () => {
  // epochs (1-based): 1    2    3    4     5     6     7     8     9     10    11    12
  const val = [1.0, 0.8, 0.7, 0.72, 0.71, 0.69, 0.75, 0.76, 0.77, 0.78, 0.79, 0.8];
  const acc = val.map((v) => 1 - v);
  it.each([
    // patience, stop, restore (1-based epochs), saved
    [2, 5, 3, 7],
    [3, 9, 6, 3],
    [5, 11, 6, 1],
    [6, 12, 6, 0],
    [10, null, 6, 0],
  ])('patience %i: stops at epoch %s, restores epoch %i, saves %i', (patience, stop, restore, saved) => {
    const cf = earlyStoppingCounterfactual(val, acc, patience);
    expect(cf).toEqual({ patience, stopEpoch: stop, restoreEpoch: restore, valLoss: val[restore - 1], valAccuracy: acc[restore - 1], epochsSaved: saved });
  });
  it('an equal value is no improvement (Keras: min_delta 0, strictly less); the first best is kept', () => {
    expect(earlyStoppingCounterfactual([1, 0.9, 0.9, 0.9], null, 2)).toEqual({ patience: 2, stopEpoch: 4, restoreEpoch: 2, valLoss: 0.9, valAccuracy: null, epochsSaved: 0 });
  });
});

/** Every epoch an advice line tells the user to keep ("keep epoch N"), 1-based. */
function keptEpochs(d: Diagnosis): number[] {
  return d.advice.flatMap((a) => [...`${a.action} ${a.evidence}`.matchAll(/keep (?:the checkpoint with the best validation accuracy \()?epoch (\d+)/g)].map((m) => Number(m[1])));
}

/** No advice keeps an epoch worse than the run's best, by validation loss or by validation accuracy. */
function expectNoWorseCheckpoint(d: Diagnosis, h: EpochLog[]): void {
  const va = col(h, 'val_accuracy');
  const bestAcc = Math.max(...va.filter(Number.isFinite));
  for (const e of keptEpochs(d)) {
    const atBestLoss = e === d.bestEpoch;
    const atBestAcc = Number.isFinite(va[e - 1]) && va[e - 1] >= bestAcc - 1e-12;
    expect(atBestLoss || atBestAcc, `advice keeps epoch ${e}: ${JSON.stringify(d.advice)}`).toBe(true);
  }
}

describe("issue 15 §6: the dashboard's default spirals run gets no harmful advice", () => {
  // trained for real: fitlab train --dataset spirals with the dashboard's defaults (its MLP spec
  // with Dropout 0.1, 200 epochs, batch 16, adam 0.003, --val 0.3, seed 42): 140 training
  // examples; validation loss rises early, then falls to its best at epoch 194 (88.3%)
  const loaded = loadHistory(join(import.meta.dirname, 'fixtures', 'spirals-dashboard'));
  const d = diagnose(loaded.history, loaded.context);
  it('is not "overfitting" without an onset; the late best epoch is reported as such', () => {
    expect(d.bestEpoch).toBe(194);
    expect(d.best.valAccuracy).toBeCloseTo(53 / 60, 12);
    expect(d.regime === 'overfitting' || d.regime === 'partial-overfitting').toBe(false);
    expect(d.onsetEpoch).toBeNull();
    expect(d.lateBest).toBe(true);
    expect(d.summary).toContain('The best epoch is late (194 of 200)');
    expect(diagnosisText(d)).toContain('best epoch 194 of 200 (late)');
  });
  it('no advice keeps an earlier epoch; every counterfactual states its cost against epoch 194', () => {
    expectNoWorseCheckpoint(d, loaded.history);
    expect(d.advice.map((a) => a.action).join('\n')).not.toMatch(/early stopping with patience 3\b/);
    for (const cf of d.counterfactuals) {
      expect(cf.restoreEpoch).toBe(3);
      // 61.7% (37/60) kept against 88.3% (53/60) at the best epoch: 16 of 60 examples, 26.7 points
      expect(cf.vsBest?.epoch).toBe(194);
      expect(cf.vsBest?.valAccuracy).toBeCloseTo(-16 / 60, 12);
    }
    expect(diagnosisText(d)).toContain('keep 3 (val_acc 61.7%, -26.7 points vs best epoch 194)');
  });
  it('the baseline comes from the run\'s class counts (68 and 72 of 140: the majority class, 51.4%)', () => {
    expect(d.baseline).toEqual({ accuracy: 72 / 140, source: 'majority', text: 'the majority class, 51.4% of the training set' });
  });
});

describe('issue 15 §6: curves of the same kind (an early dip, the best epoch late) get no harmful advice', () => {
  // validation loss dips at epoch 3, rises for a while, then falls to its best near the end;
  // training loss falls all along; training accuracy ends near 100%
  const kind = (n: number, late: number): EpochLog[] => history(n, {
    loss: (i) => 0.05 + 0.65 * Math.exp(-i / (n / 4)),
    accuracy: (i) => 0.99 - 0.45 * Math.exp(-i / (n / 4)),
    val_loss: (i) => (i < 3 ? 0.7 - 0.02 * i : i < late / 3 ? 0.66 + 0.004 * (i - 3) : 0.66 + 0.004 * (late / 3 - 3) - ((0.3 + 0.004 * (late / 3 - 3)) * (i - late / 3)) / (late - late / 3)) + (i > late ? 0.002 * (i - late) : 0),
    val_accuracy: (i) => (i < late ? 0.6 + (0.28 * i) / late : 0.88 - 0.001 * (i - late)),
  });
  it.each([[60, 55], [100, 94], [200, 194], [200, 170]])('%i epochs, best near epoch %i: no checkpoint worse than the best', (n, late) => {
    for (const seed of SEEDS) {
      const h = noisy(kind(n, late), seed, 0.01, 0.005);
      const d = diagnose(h, { classes: 2 });
      expectNoWorseCheckpoint(d, h);
      for (const a of d.advice) expect(a.action).not.toMatch(/early stopping/);
      if (d.regime === 'overfitting' || d.regime === 'partial-overfitting') expect(d.onsetEpoch).not.toBeNull();
    }
  });
});

describe('issue 15 §7: mild late overfitting cut short by EarlyStopping', () => {
  // 30 epochs (patience 10 stopped it): validation loss falls to 0.30 at epoch 20, then sits 5%
  // above it (0.315 ± noise) while validation accuracy slips 2.5 points and training loss halves
  const h = history(30, {
    loss: (i) => 0.05 + 0.9 * Math.exp(-i / 8),
    accuracy: (i) => 0.99 - 0.5 * Math.exp(-i / 8),
    val_loss: (i) => (i <= 19 ? 0.3 + 0.6 * (1 - i / 19) ** 2 : 0.315 + 0.004 * Math.sin(i)),
    val_accuracy: (i) => (i <= 19 ? 0.6 + 0.31 * (i / 19) : 0.885),
  });
  it('clean: overfitting from epoch 21 (the first epoch after the best), not healthy; early stopping keeps epoch 20', () => {
    // noiseless, a 5% rise is far above the noise: the strict onset test sees it
    const d = diagnose(h, { classes: 10, earlyStoppingPatience: 10 });
    expect(d.regime).toBe('overfitting');
    expect([d.onsetEpoch, d.onsetBy, d.bestEpoch]).toEqual([21, 'validation-loss', 20]);
    expect(d.advice[0].evidence).toMatch(/^it would stop at epoch 23 and keep epoch 20, the run's best/);
    expectNoWorseCheckpoint(d, h);
  });
  // the last epochs before the minimum lie within the noise of it (0.3066 at epoch 18, 0.3017 at
  // epoch 19), so the noisy minimum, and the onset after it, may come up to 3 epochs early
  it.each(SEEDS)('with noise (seed %i, σ = 0.01 on a 0.3 loss: the rise is under 3σ): (partial) overfitting, onset 18–22, never healthy', (seed) => {
    const hn = noisy(h, seed, 0.01, 0.005);
    const d = diagnose(hn, { classes: 10, earlyStoppingPatience: 10 });
    expect(['overfitting', 'partial-overfitting']).toContain(d.regime);
    expect(d.onsetEpoch).toBeGreaterThanOrEqual(18);
    expect(d.onsetEpoch).toBeLessThanOrEqual(22);
    expect(d.onsetEpoch).toBe(d.bestEpoch + 1);
    if (d.onsetBy === 'mild-rise') {
      expect(d.summary).toMatch(/^(Partial o|O)verfitting since epoch \d+ \(mild\): validation loss has not improved on its minimum/);
      expect(d.confidence.level).not.toBe('high');
    }
    expectNoWorseCheckpoint(d, hn);
  });
  it('a converged plateau (training flat too) is not', () => {
    const flat = h.map((e, i) => ({ ...e, loss: i >= 19 ? h[19].loss : e.loss }));
    expect(diagnose(flat, { classes: 10 }).onsetBy).not.toBe('mild-rise');
  });
});

describe('issue 15 §7: a tiny validation set lowers the confidence', () => {
  // 13 validation examples: accuracies are k/13 (0.846, 0.769, 0.923, 1.0 …)
  const steps = [9, 10, 11, 10, 12, 11, 13, 12, 13, 13];
  const h = history(10, {
    loss: (i) => 0.02 + 0.5 * Math.exp(-i / 2),
    accuracy: (i) => 1 - 0.3 * Math.exp(-i / 2),
    val_loss: (i) => 0.12 + 0.3 * Math.exp(-i / 3),
    val_accuracy: (i) => steps[i] / 13,
  });
  it('the size is inferred from the accuracy steps (1/13 = 7.7 points), said, and the confidence is low', () => {
    const d = diagnose(h);
    expect(d.validationSize).toEqual({ examples: 13, source: 'inferred' });
    expect(d.confidence.level).toBe('low');
    expect(d.summary).toContain('Low confidence: the validation set has only 13 examples (inferred: its accuracy moves in steps of 1/13 = 7.7 points)');
    expect(d.advice.some((a) => a.action.startsWith('use a larger validation set'))).toBe(true);
  });
  it('a run config gives the size; 5,000 validation examples keep the confidence', () => {
    expect(diagnose(h, { validationExamples: 13 }).validationSize).toEqual({ examples: 13, source: 'config' });
    const big = history(10, { loss: (i) => 1 / (i + 1), val_loss: (i) => 1.1 / (i + 1), accuracy: (i) => 0.5 + 0.04 * i, val_accuracy: (i) => 0.49 + 0.04 * i });
    expect(diagnose(big, { validationExamples: 5000 }).confidence.level).toBe('high');
  });
});

describe('issue 15 §5: the accuracy baseline', () => {
  // a churn-like binary model: converged at 80% training / 79.5% validation, losses well below ln 2
  const churn = history(25, {
    loss: (i) => 0.42 + 0.2 * Math.exp(-i / 3),
    accuracy: (i) => 0.8 - 0.1 * Math.exp(-i / 3),
    val_loss: (i) => 0.44 + 0.2 * Math.exp(-i / 3),
    val_accuracy: (i) => 0.795 - 0.1 * Math.exp(-i / 3),
  });
  it('--classes 2 alone: "chance 50.0% if the 2 classes are balanced", and no underfitting on that basis', () => {
    const d = diagnose(churn, { classes: 2 });
    expect(d.baseline).toEqual({ accuracy: 0.5, source: 'assumed', text: 'chance 50.0% if the 2 classes are balanced' });
    expect(d.regime).toBe('healthy');
    expect(diagnosisText(d)).toContain('accuracy baseline: chance 50.0% if the 2 classes are balanced');
  });
  it('--baseline overrides and is named; class counts give the majority rate or balanced chance', () => {
    const given = diagnose(churn, { classes: 2, baseline: 0.8 });
    expect(given.baseline?.text).toBe('the baseline you gave, 80.0%');
    expect(given.chance).toBe(0.8);
    // converged at the majority rate it gave: nothing learned beyond it, underfitting, said so
    expect(given.regime).toBe('underfitting');
    expect(given.summary).toContain('(baseline: the baseline you gave, 80.0%)');
    // 10 points above a 70% baseline (skill 0.33) with a loss well below 0.8·ln 2: not underfitting
    // on the accuracy alone; healthy, saying how little it gained
    const modest = diagnose(churn, { classes: 2, baseline: 0.7 });
    expect(modest.regime).toBe('healthy');
    expect(modest.summary).toContain('Accuracy is only 10.0 points above the baseline (the baseline you gave, 70.0%)');
    // the same 10 points with a loss still near ln 2: underfitting
    expect(diagnose(churn.map((e) => ({ ...e, loss: 0.66, val_loss: 0.67 })), { classes: 2, baseline: 0.7 }).regime).toBe('underfitting');
    expect(diagnose(churn, { classCounts: [800, 200] }).baseline).toEqual({ accuracy: 0.8, source: 'majority', text: 'the majority class, 80.0% of the training set' });
    expect(diagnose(churn, { classCounts: [100, 102, 99] }).baseline).toEqual({ accuracy: 1 / 3, source: 'balanced', text: 'chance 33.3% for 3 balanced classes' });
  });
  it('an assumed baseline still calls a clearly low accuracy underfitting (28% on 10 classes)', () => {
    expect(diagnose(underfitting(), TEN).regime).toBe('underfitting');
  });
  it('an accuracy frozen to the digit at every epoch (no baseline known) is a one-class predictor: underfitting', () => {
    const one = history(12, { loss: (i) => 0.14 - 0.002 * i, accuracy: () => 0.938347, val_loss: (i) => 0.14 - 0.001 * i, val_accuracy: () => 0.937463 });
    const d = diagnose(one);
    expect(d.regime).toBe('underfitting');
    expect(d.advice[0].action).toMatch(/^check the labels and the class balance/);
  });
});

describe('issue 15 §4: unknown model facts give conditional advice', () => {
  const h = overfitting();
  it('a bare history: "if the model has no dropout yet, …", saying the history does not tell', () => {
    const d = diagnose(h, TEN);
    const dropout = d.advice.find((a) => a.action.includes('Dropout'));
    expect(dropout?.action).toBe('if the model has no dropout yet, add Dropout 0.2–0.5 before the dense layers');
    expect(dropout?.evidence).toMatch(/the history does not say whether the model uses dropout$/);
    const l2 = d.advice.find((a) => a.action.includes('L2'));
    expect(l2?.action).toMatch(/^if the model has no weight penalty yet, add an L2 kernel regularizer/);
    expect(l2?.evidence).toMatch(/the history does not say whether the model uses a weight penalty$/);
    expect(d.advice.map((a) => a.evidence).join('\n')).not.toMatch(/the model has no dropout|no weight penalty is used/);
  });
  it('a run config that says there is none: stated plainly; one that says there is: no such advice', () => {
    const known = diagnose(h, { ...TEN, hasDropout: false, hasWeightPenalty: false });
    expect(known.advice.find((a) => a.action.includes('Dropout'))?.action).toBe('add Dropout 0.2–0.5 before the dense layers');
    expect(known.advice.find((a) => a.action.includes('Dropout'))?.evidence).toMatch(/; the model has no dropout$/);
    const has = diagnose(h, { ...TEN, hasDropout: true, hasWeightPenalty: true });
    expect(has.advice.some((a) => /Dropout|L2/.test(a.action))).toBe(false);
  });
});

describe('short and zig-zag curves', () => {
  it('4 epochs: validation loss flat, then +53% and +64% while training loss falls 10×: overfitting from epoch 3, low confidence', () => {
    // under 8 epochs σ cannot be estimated; a rise must clear 10% of the minimum instead
    const val = [0.1858, 0.1859, 0.2845, 0.3053];
    const loss = [0.2706, 0.1169, 0.052, 0.0282];
    const h = history(4, { loss: (i) => loss[i], accuracy: (i) => [0.885, 0.957, 0.982, 0.99][i], val_loss: (i) => val[i], val_accuracy: (i) => [0.923, 0.932, 0.92, 0.917][i] });
    const d = diagnose(h);
    expect(d.regime).toBe('overfitting');
    // the minimum is epoch 1 (0.1858; epoch 2 ties within 0.0001): the first epoch after it is 2
    expect([d.bestEpoch, d.onsetEpoch, d.onset?.confidence]).toEqual([1, 2, 'low']);
    // a 5% rise on so few epochs is no onset
    expect(diagnose(history(4, { loss: (i) => loss[i], val_loss: (i) => [0.186, 0.185, 0.19, 0.194][i] })).onsetEpoch).toBeNull();
  });
  it('a zig-zag validation curve still falling over its last 20 epochs, with one lucky dip, is not overfitting', () => {
    // two interleaved measurements (a 0.06 swing) on a curve falling 0.005 per epoch (≈0.8% at the
    // end); epoch 89 dips 0.15 low, so the level after it sits well above that minimum
    const h = history(100, {
      loss: (i) => 0.05 + 1.4 * Math.exp(-i / 25),
      accuracy: (i) => 0.93 - 0.5 * Math.exp(-i / 25),
      val_loss: (i) => 1.0 - 0.005 * i + (i % 2 ? 0.03 : -0.03) - (i === 88 ? 0.15 : 0),
      val_accuracy: (i) => 0.5 + 0.004 * i + (i % 2 ? -0.02 : 0.02),
    });
    // the level comparison alone would call it a mild rise; the 20-epoch falling trend overrules it
    expect(findMildRise(col(h, 'loss'), col(h, 'val_loss'))?.best).toBe(88);
    const d = diagnose(h);
    expect(d.valTrend?.improving).toBe(true);
    expect(d.regime === 'overfitting' || d.regime === 'partial-overfitting').toBe(false);
    expect(d.onsetEpoch).toBeNull();
  });
});

describe('issue 15 §6: the best-accuracy checkpoint', () => {
  // validation loss bottoms at epoch 16 and drifts up; validation accuracy keeps rising to epoch 23
  const later = history(30, {
    loss: (i) => 0.1 + 0.5 * Math.exp(-i / 8),
    accuracy: (i) => 0.96 - 0.4 * Math.exp(-i / 8),
    val_loss: (i) => 0.38 + (i < 15 ? 0.02 * (15 - i) : 0.008 * (i - 15)),
    val_accuracy: (i) => (i <= 22 ? 0.7 + 0.2 * (i / 22) : 0.9 - 0.002 * (i - 22)),
  });
  it('a later epoch with better accuracy is offered, with the cost of the loss-best one', () => {
    const d = diagnose(later);
    const a = d.advice.find((x) => x.action.startsWith('keep the checkpoint with the best validation accuracy'));
    expect(a?.action).toMatch(/^keep the checkpoint with the best validation accuracy \(epoch 23, 90\.0%\)/);
    expect(a?.evidence).toMatch(/restoring it would cost \d+\.\d points of validation accuracy$/);
  });
  it('an earlier epoch with better accuracy (a majority-class start on imbalanced data) is never offered', () => {
    const early = later.map((e, i) => (i === 0 ? { ...e, val_accuracy: 0.95 } : e));
    const d = diagnose(early);
    expect(d.advice.some((x) => /keep (the checkpoint with the best validation accuracy \()?epoch 1\b/.test(`${x.action} ${x.evidence}`))).toBe(false);
  });
});
