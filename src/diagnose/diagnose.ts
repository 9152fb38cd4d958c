/**
 * Diagnosis of a training run from its history: regime, onset of overfitting, best epochs,
 * gaps, an early-stopping counterfactual and ranked advice, each line with its evidence.
 *
 * Regimes (SPEC §4):
 *  - diverged            the loss became NaN/Inf or exploded
 *  - no-validation       the history has no validation numbers: generalization cannot be judged
 *                        (the summary says what can: converged, still improving)
 *  - noisy               validation loss jumps by 30%+ of its level from epoch to epoch (a tiny
 *                        validation set, a broken loss): no trend, onset or best epoch can be read
 *  - overfitting         "true" overfitting: training accuracy near 100% (skill ≥ 0.9 above
 *                        the baseline) while validation loss rises after an onset, or an accuracy
 *                        gap opened at an onset and validation has stopped improving
 *  - partial-overfitting the same signs with a modest training accuracy (the model lacks the
 *                        capacity to truly overfit, so simplifying will not help), or a mild late
 *                        rise of validation loss (e.g. cut short by EarlyStopping)
 *  - not-converged       no overfitting yet, training (or validation) loss still falling, or
 *                        validation still reaching new bests at the end of the run
 *  - underfitting        accuracy low against its baseline and flat, or stuck at one value
 *  - healthy             validation follows training
 * Accuracy is judged as skill above the baseline: (acc − b) / (1 − b), b from --baseline, the
 * run's class counts, or 1/classes ("if the classes are balanced": then it alone never makes a
 * converged run "underfitting").
 *
 * Epochs: every epoch a user reads, in the text and in these objects (hence in --json and
 * diagnosis.json), counts from 1 as Keras prints them; `epochBase: 1` says so in the JSON.
 * The curve functions (curves.ts, evidence.ts) work on 0-based indices internally.
 */
import { FitlabError } from '../errors.js';
import type { EpochLog } from '../train/history.js';
import { advise, summarize } from './advice.js';
import { argmax, argmin, endTrend, findDivergence, findOnset, smooth } from './curves.js';
import { GAP_THRESHOLD, SMALL_VALIDATION, type ValidationSize, baselineOf, findMildRise, gapOnset, inferValidationSize, relativeNoise, stillImproving, stillRising } from './evidence.js';
import type { Counterfactual, DiagnoseContext, Diagnosis, DiagnosisNumbers, MetricSet, Regime } from './types.js';

export type { Baseline, ValidationSize } from './evidence.js';
export type { Advice, Counterfactual, DiagnoseContext, Diagnosis, DiagnosisNumbers, MetricSet, Regime } from './types.js';

/** Per-epoch curves from a history. */
export interface Curves {
  loss: number[];
  accuracy: number[] | null;
  valLoss: number[] | null;
  valAccuracy: number[] | null;
}

export function curvesOf(history: EpochLog[]): Curves {
  const col = (k: string): number[] | null => {
    if (!history.some((e) => e[k] !== undefined)) return null;
    return history.map((e) => (typeof e[k] === 'number' ? (e[k]) : Number.NaN));
  };
  return { loss: col('loss') ?? history.map(() => Number.NaN), accuracy: col('accuracy'), valLoss: col('val_loss'), valAccuracy: col('val_accuracy') };
}

/**
 * Keras EarlyStopping(monitor='val_loss', patience, restore_best_weights=True) replayed on a
 * curve. Epochs in the result count from 1.
 */
export function earlyStoppingCounterfactual(valLoss: number[], valAcc: number[] | null, patience: number): Counterfactual {
  let best = Infinity;
  let bestIndex = 0;
  let wait = 0;
  let stop: number | null = null;
  for (let e = 0; e < valLoss.length; e++) {
    wait += 1;
    if (valLoss[e] < best) {
      best = valLoss[e];
      bestIndex = e;
      wait = 0;
      continue;
    }
    if (wait >= patience && e > 0) {
      stop = e;
      break;
    }
  }
  const last = valLoss.length - 1;
  return {
    patience,
    stopEpoch: stop === null ? null : stop + 1,
    restoreEpoch: bestIndex + 1,
    valLoss: valLoss[bestIndex],
    valAccuracy: valAcc ? valAcc[bestIndex] : null,
    epochsSaved: stop === null ? 0 : last - stop,
  };
}

/**
 * The smallest patience whose EarlyStopping would keep the run's best epoch (bestIndex, 0-based):
 * one more than the longest stretch without improvement before it.
 */
export function patienceToReach(valLoss: number[], bestIndex: number): number {
  let best = Infinity;
  let wait = 0;
  let longest = 0;
  for (let e = 0; e <= bestIndex; e++) {
    if (valLoss[e] < best) {
      best = valLoss[e];
      wait = 0;
    } else {
      wait += 1;
      longest = Math.max(longest, wait);
    }
  }
  return longest + 1;
}

/** Mean of the last k finite values (a less noisy "final" number). */
export function tailMean(c: number[] | null, k = 3): number | null {
  if (!c) return null;
  const xs = c.slice(-k).filter(Number.isFinite);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** An accuracy that did not move at all over 3+ epochs: the model predicts one class. */
function stuck(c: number[] | null): boolean {
  const xs = (c ?? []).filter(Number.isFinite);
  return xs.length >= 3 && Math.max(...xs) - Math.min(...xs) < 1e-4;
}


export function diagnose(history: EpochLog[], context: DiagnoseContext = {}): Diagnosis {
  if (!history.length) throw new FitlabError('diagnose: the history holds no epochs', 'a diagnosis needs at least one epoch of numbers');
  const c = curvesOf(history);
  const n = history.length;
  const classes = context.classes ?? null;
  const baseline = baselineOf({ given: context.baseline, classes, classCounts: context.classCounts });
  const chance = baseline ? baseline.accuracy : null;
  const skill = (acc: number | null): number | null => (acc === null ? null : chance === null || chance >= 1 ? acc : (acc - chance) / (1 - chance));
  const hasVal = c.valLoss !== null && c.valLoss.some(Number.isFinite);
  const hasTrain = c.loss.some(Number.isFinite);
  const monitor = hasVal ? (c.valLoss as number[]) : c.loss;

  const best0 = Math.max(0, argmin(monitor));
  const byAcc = c.valAccuracy ? argmax(c.valAccuracy) : c.accuracy ? argmax(c.accuracy) : -1;
  const at = (i: number): MetricSet => ({
    loss: c.loss[i],
    accuracy: c.accuracy ? c.accuracy[i] : null,
    valLoss: c.valLoss ? c.valLoss[i] : null,
    valAccuracy: c.valAccuracy ? c.valAccuracy[i] : null,
  });
  const final = at(n - 1);
  const best = at(best0);
  const gap = (m: MetricSet) => ({
    accuracy: m.accuracy !== null && m.valAccuracy !== null ? m.accuracy - m.valAccuracy : null,
    loss: m.valLoss !== null ? m.valLoss - m.loss : null,
  });
  // a history with neither a class count nor accuracies may be a regression: no ln(classes) scale
  const isClassifier = classes !== null || c.accuracy !== null || c.valAccuracy !== null;
  const divergence = findDivergence(hasTrain ? c.loss : (c.valLoss as number[]), hasTrain ? c.valLoss : null, classes, isClassifier);
  const onset = hasVal && hasTrain && !divergence ? findOnset(c.loss, c.valLoss as number[]) : null;
  // without a training loss (a validation-only log) the validation curve is all there is to trend
  const trainTrend = endTrend(smooth(hasTrain ? c.loss : (c.valLoss as number[])));
  const valTrend = hasVal ? endTrend(smooth(c.valLoss as number[])) : null;

  const valLossRise = hasVal ? riseOf(c.valLoss as number[], onset ? onset.epoch : null) : null;

  // end-of-run accuracies, averaged over the last 3 epochs when the run is long enough for that
  // to mean "the end" (short runs: the last epoch)
  const tail = n >= 15 ? 3 : 1;
  const trainAcc = tailMean(c.accuracy, tail);
  const valAcc = tailMean(c.valAccuracy, tail);
  const trainSkill = skill(trainAcc);
  const accGap = trainAcc !== null && valAcc !== null ? trainAcc - valAcc : null;
  const lossGapRel = hasVal && final.valLoss !== null && final.loss > 0 ? (final.valLoss - final.loss) / final.loss : null;
  // validation still reaching new bests at the end: the run is still buying generalization
  const bestAtEnd = best0 === n - 1 || (n >= 10 && best0 >= Math.floor(0.9 * n));
  const accBestAtEnd = c.valAccuracy !== null && argmax(c.valAccuracy) >= Math.floor(0.9 * n);
  // (loss: its end trend still falls ≥ 0.2% per epoch too, and the validation accuracy, when
  // logged, also peaks in the last 10%: one lucky last epoch on a flattened curve is not "improving")
  const lossStillFalls = bestAtEnd && (c.valAccuracy === null || accBestAtEnd) && valTrend !== null && valTrend.slope <= -0.002 && stillImproving(c.valLoss as number[]);
  const valStillImproving = hasVal && (lossStillFalls || (accBestAtEnd && stillRising(c.valAccuracy as number[])));
  // a gap is a verdict only once validation has stopped improving: while it still improves, the
  // run is still buying generalization (the dashboard's spirals run: best epoch 194 of 200)
  const gapOpen = !valStillImproving && !(valTrend?.improving ?? false) && (accGap !== null ? accGap >= GAP_THRESHOLD : lossGapRel !== null && lossGapRel >= 0.3 && onset !== null);
  const gapStart = gapOpen && c.accuracy && c.valAccuracy ? gapOnset(c.accuracy, c.valAccuracy) : null;
  // (not while the smoothed validation trend over the last fifth of the run, 10+ epochs, still
  // falls: then the minimum was a lucky dip on an improving curve; a trend over fewer noisy
  // epochs cannot overrule the level comparison findMildRise makes)
  const valFalling = valTrend !== null && valTrend.window >= 10 && valTrend.improving;
  const mild = hasVal && hasTrain && !divergence && !onset && !valFalling ? findMildRise(c.loss, c.valLoss as number[]) : null;
  // an accuracy frozen to the digit over every epoch, with no baseline to judge it by, is the
  // classic majority-class predictor (its accuracy is that class's share); with a known baseline
  // the accuracy is judged against it instead
  const stuckAccuracy = chance === null && stuck(c.accuracy) && (c.valAccuracy === null || stuck(c.valAccuracy));
  const trueFit = trainSkill === null || trainSkill >= 0.9;
  // a run of a few epochs whose validation loss is still at its best and falling is too short to
  // have converged, whatever its accuracy
  const shortAndImproving = n < 5 && hasVal && best0 === n - 1 && (valTrend?.slope ?? 0) < 0;

  let regime: Regime;
  let onsetIndex: number | null = null;
  let onsetBy: Diagnosis['onsetBy'] = null;
  if (divergence) regime = 'diverged';
  else if (!hasVal) regime = 'no-validation';
  else if (relativeNoise(c.valLoss as number[]) >= NOISY) regime = 'noisy';
  else if (stuckAccuracy) regime = 'underfitting';
  else if (onset) {
    regime = trueFit ? 'overfitting' : 'partial-overfitting';
    [onsetIndex, onsetBy] = [firstAfterMinimum(c.valLoss as number[], onset.epoch), 'validation-loss'];
  } else if (mild) {
    // validation's own best pins the onset better than the epoch a gap crossed a threshold; the
    // rise alone is mild (partial), with a wide gap on a fitted model it is overfitting
    regime = gapOpen && trueFit ? 'overfitting' : 'partial-overfitting';
    [onsetIndex, onsetBy] = [mild.best + 1 < n ? mild.best + 1 : mild.best, 'mild-rise'];
  } else if (gapOpen && (gapStart !== null || accGap === null)) {
    regime = trueFit ? 'overfitting' : 'partial-overfitting';
    if (gapStart !== null) [onsetIndex, onsetBy] = [gapStart, 'accuracy-gap'];
  } else if (((trainTrend.improving || valStillImproving) && (trainSkill === null || trainSkill < 0.9)) || shortAndImproving) regime = 'not-converged';
  else if (trainSkill !== null && trainSkill < 0.6 && (trainSkill < 0.3 || nearChanceLoss(c.loss, classes))) regime = 'underfitting';
  else regime = 'healthy';

  // early-stopping counterfactuals
  const counterfactuals: Counterfactual[] = [];
  if (hasVal) {
    const pats = new Set([3, 5, 10]);
    const own = context.earlyStoppingPatience ?? null;
    if (own !== null) pats.add(own);
    for (const p of [...pats].sort((a, b) => a - b)) {
      const cf = earlyStoppingCounterfactual(c.valLoss as number[], c.valAccuracy, p);
      if (p === own) cf.own = true;
      const bestAcc = c.valAccuracy ? c.valAccuracy[best0] : null;
      cf.vsBest = { epoch: best0 + 1, valLoss: cf.valLoss - (c.valLoss as number[])[best0], valAccuracy: cf.valAccuracy !== null && bestAcc !== null ? cf.valAccuracy - bestAcc : null };
      counterfactuals.push(cf);
    }
  }

  const validationSize: ValidationSize | null = context.validationExamples
    ? { examples: context.validationExamples, source: 'config' }
    : hasVal && inferValidationSize(c.valAccuracy) !== null ? { examples: inferValidationSize(c.valAccuracy) as number, source: 'inferred' } : null;

  const diagnosis: Diagnosis = {
    regime, summary: '', epochBase: 1, epochs: n, classes, chance, baseline, hasValidation: hasVal, validationSize,
    confidence: { level: 'high', reasons: [] },
    bestEpoch: best0 + 1, lateBest: n >= 10 && bestAtEnd && valStillImproving, bestEpochByAccuracy: byAcc >= 0 ? byAcc + 1 : null,
    final, best, gaps: { final: gap(final), best: gap(best) },
    onsetEpoch: onsetIndex === null ? null : onsetIndex + 1, onsetBy, onset: onset && onsetIndex !== null ? { ...onset, epoch: onsetIndex + 1 } : null,
    valLossRise, converged: !trainTrend.improving, trainTrend, valTrend,
    divergence: divergence ? { ...divergence, epoch: divergence.epoch + 1 } : null, counterfactuals, advice: [],
  };
  diagnosis.confidence = confidenceOf(diagnosis, mild !== null && onsetBy === 'mild-rise');
  const bestVal = c.valAccuracy && argmax(c.valAccuracy) >= 0 ? { value: c.valAccuracy[argmax(c.valAccuracy)], epoch: argmax(c.valAccuracy) + 1 } : null;
  const numbers: DiagnosisNumbers = {
    trainAcc, valAcc, accTail: tail, bestValAcc: bestVal, stuckAccuracy,
    patienceForBest: hasVal ? patienceToReach(c.valLoss as number[], best0) : null,
    trendOf: hasTrain ? 'training' : 'validation',
    valNoise: hasVal ? relativeNoise(c.valLoss as number[]) : 0,
  };
  diagnosis.summary = summarize(diagnosis, numbers);
  diagnosis.advice = advise(diagnosis, context, numbers);
  return diagnosis;
}

/** Relative epoch-to-epoch noise of validation loss at or above which the curve is unreadable. */
const NOISY = 0.3;

/**
 * The onset of overfitting as a user counts it: the first epoch after validation loss's minimum
 * (the first epoch that is worse). The smoothed minimum (curves.ts) can sit one epoch off the raw
 * one; the raw minimum within ±1 of it is the epoch whose weights are best.
 */
function firstAfterMinimum(val: number[], smoothedMin: number): number {
  const raw = argmin(val, Math.max(0, smoothedMin - 1), Math.min(val.length, smoothedMin + 2));
  return Math.min(val.length - 1, (raw < 0 ? smoothedMin : raw) + 1);
}

/** Validation loss at the end against its minimum (epochs after the onset when there is one). */
function riseOf(v: number[], onsetIndex: number | null): Diagnosis['valLossRise'] {
  const n = v.length;
  const m = argmin(v);
  const end = tailMean(v, 1) as number;
  return {
    absolute: end - v[m], relative: v[m] ? (end - v[m]) / Math.abs(v[m]) : 0,
    epochsAfterBest: n - 1 - m, epochsAfterOnset: onsetIndex !== null ? n - 1 - onsetIndex : null,
  };
}

/**
 * A middling accuracy (skill 0.3–0.6 above the baseline: 65–80% on 2 balanced classes, 86% over
 * an 80% majority) says "underfitting" only when the training loss agrees: still within 80% of
 * ln(classes), the cross-entropy of a chance guess. A converged loss well below that is a model
 * that learned what the data allows (a churn model may be at its noise ceiling): accuracy against
 * a baseline alone does not tell underfitting from noisy data.
 */
function nearChanceLoss(loss: number[], classes: number | null): boolean {
  const end = tailMean(loss, 3);
  return classes !== null && classes >= 2 && end !== null && end >= 0.8 * Math.log(classes);
}

function confidenceOf(d: Diagnosis, mildOnly: boolean): Diagnosis['confidence'] {
  const reasons: string[] = [];
  let level: 'high' | 'medium' | 'low' = d.onset ? d.onset.confidence : 'high';
  const lower = (to: 'medium' | 'low', why: string): void => {
    reasons.push(why);
    if (to === 'low' || level === 'high') level = to;
  };
  if (d.onset && d.onset.confidence !== 'high') {
    reasons.push(Number.isFinite(d.onset.riseSigmas) ? `the rise of validation loss is only ${d.onset.riseSigmas.toFixed(1)}× its epoch-to-epoch noise` : 'the run is too short to measure the noise');
  }
  const vs = d.validationSize;
  if (vs && vs.examples <= SMALL_VALIDATION) {
    const how = vs.source === 'config' ? '' : ` (inferred: its accuracy moves in steps of 1/${vs.examples} = ${(100 / vs.examples).toFixed(1)} points)`;
    lower('low', `the validation set has only ${vs.examples} examples${how}`);
  }
  if (d.epochs < 5) lower('low', `${d.epochs} epoch${d.epochs === 1 ? '' : 's'} are too few to read a trend`);
  if (mildOnly) lower('medium', 'the rise of validation loss is mild');
  return { level, reasons };
}
