/**
 * Diagnosis of a training run from its history: regime, onset of overfitting, best epochs,
 * gaps, an early-stopping counterfactual and ranked advice, each line with its evidence.
 *
 * Regimes (SPEC §4):
 *  - diverged            the loss became NaN/Inf or exploded
 *  - overfitting         "true" overfitting: training accuracy near 100% (skill ≥ 0.9 above
 *                        chance) while validation falls behind or its loss rises
 *  - partial-overfitting validation lags or rises, but training accuracy itself is modest: the
 *                        model lacks the capacity to truly overfit, so simplifying will not help
 *  - not-converged       no overfitting yet, training loss still falling and accuracy modest
 *  - underfitting        both accuracies low and flat
 *  - healthy             validation follows training
 * Accuracy is judged as skill above chance: (acc − 1/classes) / (1 − 1/classes).
 * Human text numbers epochs from 1; JSON fields are 0-based indices into the history.
 */
import { AUGMENT_PRESETS, presetForDataset } from '../data/augment.js';
import { FitlabError } from '../errors.js';
import type { EpochLog } from '../train/history.js';
import { type Divergence, type Onset, type Trend, argmax, argmin, endTrend, findDivergence, findOnset, smooth } from './curves.js';

export type Regime = 'underfitting' | 'healthy' | 'overfitting' | 'partial-overfitting' | 'not-converged' | 'diverged';

/** What is known about the model and data, for advice. */
export interface DiagnoseContext {
  classes?: number;
  params?: number;
  trainExamples?: number;
  hasDropout?: boolean;
  hasWeightPenalty?: boolean;
  hasBatchNorm?: boolean;
  hasAugmentation?: boolean;
  convolutional?: boolean;
  imageData?: boolean;
  dataset?: string;
  earlyStoppingPatience?: number | null;
  learningRate?: number;
  optimizer?: string;
}

export interface Counterfactual {
  patience: number;
  /** 0-based epoch where EarlyStopping would stop, or null if it would never fire */
  stopEpoch: number | null;
  /** epoch whose weights restoreBestWeights would keep */
  restoreEpoch: number;
  valLoss: number;
  valAccuracy: number | null;
  /** epochs of the run that would not have been trained */
  epochsSaved: number;
  /** true for the run's own EarlyStopping setting */
  own?: boolean;
}

export interface Advice {
  action: string;
  evidence: string;
  priority: number;
}

export interface MetricSet {
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface Diagnosis {
  regime: Regime;
  summary: string;
  epochs: number;
  classes: number | null;
  chance: number | null;
  hasValidation: boolean;
  /** 0-based epoch of the lowest validation loss (training loss when there is no validation) */
  bestEpoch: number;
  bestEpochByAccuracy: number | null;
  final: MetricSet;
  best: MetricSet;
  gaps: { final: { accuracy: number | null; loss: number | null }; best: { accuracy: number | null; loss: number | null } };
  onsetEpoch: number | null;
  onset: Onset | null;
  /** validation loss at the end vs its minimum */
  valLossRise: { absolute: number; relative: number; epochsAfterBest: number; epochsAfterOnset: number | null } | null;
  converged: boolean;
  trainTrend: Trend;
  valTrend: Trend | null;
  divergence: Divergence | null;
  counterfactuals: Counterfactual[];
  advice: Advice[];
}

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

/** Keras EarlyStopping(monitor='val_loss', patience, restore_best_weights=True) replayed on a curve. */
export function earlyStoppingCounterfactual(valLoss: number[], valAcc: number[] | null, patience: number): Counterfactual {
  let best = Infinity;
  let bestEpoch = 0;
  let wait = 0;
  let stop: number | null = null;
  for (let e = 0; e < valLoss.length; e++) {
    wait += 1;
    if (valLoss[e] < best) {
      best = valLoss[e];
      bestEpoch = e;
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
    stopEpoch: stop,
    restoreEpoch: bestEpoch,
    valLoss: valLoss[bestEpoch],
    valAccuracy: valAcc ? valAcc[bestEpoch] : null,
    epochsSaved: stop === null ? 0 : last - stop,
  };
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toPrecision(3));
const ep = (i: number): string => `epoch ${i + 1}`;

/** Mean of the last k finite values (a less noisy "final" number). */
function tailMean(c: number[] | null, k = 3): number | null {
  if (!c) return null;
  const xs = c.slice(-k).filter(Number.isFinite);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export function diagnose(history: EpochLog[], context: DiagnoseContext = {}): Diagnosis {
  if (!history.length) throw new FitlabError('diagnose: the history holds no epochs', 'a diagnosis needs at least one epoch of numbers');
  const c = curvesOf(history);
  const n = history.length;
  const classes = context.classes ?? null;
  const chance = classes ? 1 / classes : null;
  const skill = (acc: number | null): number | null => (acc === null ? null : chance === null ? acc : (acc - chance) / (1 - chance));
  const hasVal = c.valLoss !== null && c.valLoss.some(Number.isFinite);
  const monitor = hasVal ? (c.valLoss as number[]) : c.loss;

  const bestEpoch = Math.max(0, argmin(monitor));
  const bestEpochByAccuracy = c.valAccuracy ? argmax(c.valAccuracy) : c.accuracy ? argmax(c.accuracy) : null;
  const at = (i: number): MetricSet => ({
    loss: c.loss[i],
    accuracy: c.accuracy ? c.accuracy[i] : null,
    valLoss: c.valLoss ? c.valLoss[i] : null,
    valAccuracy: c.valAccuracy ? c.valAccuracy[i] : null,
  });
  const final = at(n - 1);
  const best = at(bestEpoch);
  const gap = (m: MetricSet) => ({
    accuracy: m.accuracy !== null && m.valAccuracy !== null ? m.accuracy - m.valAccuracy : null,
    loss: m.valLoss !== null ? m.valLoss - m.loss : null,
  });
  // a history with neither a class count nor accuracies may be a regression: no ln(classes) scale
  const divergence = findDivergence(c.loss, c.valLoss, classes, classes !== null || c.accuracy !== null || c.valAccuracy !== null);
  const onset = hasVal && !divergence ? findOnset(c.loss, c.valLoss as number[]) : null;
  const trainTrend = endTrend(smooth(c.loss));
  const valTrend = hasVal ? endTrend(smooth(c.valLoss as number[])) : null;

  let valLossRise: Diagnosis['valLossRise'] = null;
  if (hasVal) {
    const v = c.valLoss as number[];
    const m = argmin(v);
    const end = tailMean(v, 1) as number;
    valLossRise = {
      absolute: end - v[m], relative: v[m] ? (end - v[m]) / Math.abs(v[m]) : 0,
      epochsAfterBest: n - 1 - m, epochsAfterOnset: onset ? n - 1 - onset.epoch : null,
    };
  }

  // end-of-run accuracies, averaged over the last 3 epochs when the run is long enough for that
  // to mean "the end" (short runs: the last epoch)
  const tail = n >= 15 ? 3 : 1;
  const trainAcc = tailMean(c.accuracy, tail);
  const valAcc = tailMean(c.valAccuracy, tail);
  const trainSkill = skill(trainAcc);
  const accGap = trainAcc !== null && valAcc !== null ? trainAcc - valAcc : null;
  const lossGapRel = hasVal && final.valLoss !== null && final.loss > 0 ? (final.valLoss - final.loss) / final.loss : null;
  const significantGap = accGap !== null ? accGap >= 0.08 : lossGapRel !== null && lossGapRel >= 0.3 && onset !== null;
  const converged = !trainTrend.improving;

  let regime: Regime;
  if (divergence) regime = 'diverged';
  else if (onset || significantGap) regime = trainSkill === null || trainSkill >= 0.9 ? 'overfitting' : 'partial-overfitting';
  else if (trainTrend.improving && (trainSkill === null || trainSkill < 0.9)) regime = 'not-converged';
  else if (trainSkill !== null && trainSkill < 0.6) regime = 'underfitting';
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
      counterfactuals.push(cf);
    }
  }

  const diagnosis: Diagnosis = {
    regime, summary: '', epochs: n, classes, chance, hasValidation: hasVal, bestEpoch, bestEpochByAccuracy,
    final, best, gaps: { final: gap(final), best: gap(best) }, onsetEpoch: onset ? onset.epoch : null, onset,
    valLossRise, converged, trainTrend, valTrend, divergence, counterfactuals, advice: [],
  };
  diagnosis.summary = summarize(diagnosis, trainAcc, valAcc);
  diagnosis.advice = advise(diagnosis, context, trainAcc, valAcc);
  return diagnosis;
}

function summarize(d: Diagnosis, trainAcc: number | null, valAcc: number | null): string {
  const accs = trainAcc !== null ? `training accuracy ${pct(trainAcc)}${valAcc !== null ? ` vs validation ${pct(valAcc)}` : ''}` : '';
  const gapTxt = trainAcc !== null && valAcc !== null ? ` (gap ${(100 * (trainAcc - valAcc)).toFixed(1)} points)` : '';
  switch (d.regime) {
    case 'diverged':
      return `Diverged: ${d.divergence?.reason ?? 'the loss is not finite'}.`;
    case 'overfitting':
    case 'partial-overfitting': {
      const kind = d.regime === 'overfitting' ? 'Overfitting' : 'Partial overfitting';
      const since = d.onset ? ` since ${ep(d.onset.epoch)} (${d.onset.confidence} confidence)` : '';
      const rise = d.onset && d.valLossRise ? `: validation loss rose ${(100 * d.valLossRise.relative).toFixed(0)}% from its minimum ${num(d.best.valLoss)} while training loss kept falling` : ': validation stopped following training';
      const tail = d.regime === 'partial-overfitting'
        ? '. Training accuracy itself is modest: the model lacks the capacity to truly overfit, so simplifying it will not help'
        : '';
      return `${kind}${since}${rise}; ${accs}${gapTxt}${tail}.`;
    }
    case 'not-converged':
      return `Not converged: training loss is still falling ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch over the last ${d.trainTrend.window} epochs and no overfitting shows yet${accs ? `; ${accs}` : ''}.`;
    case 'underfitting':
      return `Underfitting: ${accs || 'the losses'} are both low${d.chance !== null ? ` (chance is ${pct(d.chance)})` : ''} and flat — the model does not fit even the training data.`;
    case 'healthy': {
      const still = d.converged ? '' : ' Training loss is still falling: more epochs may help.';
      return `Healthy: validation follows training${gapTxt ? `, ${accs}${gapTxt}` : ''}; the best validation loss is at ${ep(d.bestEpoch)} of ${d.epochs}.${still}`;
    }
  }
}

function advise(d: Diagnosis, ctx: DiagnoseContext, trainAcc: number | null, valAcc: number | null): Advice[] {
  const out: Advice[] = [];
  const add = (priority: number, action: string, evidence: string): void => void out.push({ priority, action, evidence });
  const gapEvidence = trainAcc !== null && valAcc !== null ? `training accuracy ${pct(trainAcc)} vs validation ${pct(valAcc)}` : `validation loss ${num(d.final.valLoss)} vs training loss ${num(d.final.loss)}`;
  const perExample = ctx.params && ctx.trainExamples ? ctx.params / ctx.trainExamples : null;

  if (d.regime === 'diverged') {
    add(1, `lower the learning rate (try ${ctx.learningRate ? (ctx.learningRate / 10).toPrecision(2) : 'a tenth of it'})`, d.divergence?.reason ?? 'non-finite loss');
    add(2, 'clip gradients (clipnorm 1.0 or globalClipnorm)', 'an exploding loss usually comes from a few huge gradient steps');
    add(3, 'check the input scaling (pixels should be in [0, 1])', 'unscaled inputs make the first steps enormous');
    return out;
  }
  if (d.regime === 'overfitting' || d.regime === 'partial-overfitting') {
    const useful = d.counterfactuals.filter((cf) => cf.stopEpoch !== null && cf.epochsSaved > 0);
    if (useful.length && d.regime === 'overfitting') {
      const pick = useful.find((cf) => cf.restoreEpoch === d.bestEpoch) ?? useful[0];
      add(1, `early stopping with patience ${pick.patience} and restoreBestWeights`, `it would stop at ${ep(pick.stopEpoch as number)}, keep ${ep(pick.restoreEpoch)} (val_loss ${num(pick.valLoss)}${pick.valAccuracy !== null ? `, val_accuracy ${pct(pick.valAccuracy)}` : ''}) and save ${pick.epochsSaved} epochs`);
    }
  }
  if (d.regime === 'overfitting') {
    if (!ctx.hasDropout) add(2, 'add Dropout 0.2–0.5 before the dense layers', `${gapEvidence}; the model has no dropout`);
    if (!ctx.hasWeightPenalty) add(3, 'add an L2 kernel regularizer, λ between 1e-4 and 1e-2 (or weight decay with AdamW)', `${gapEvidence}; no weight penalty is used`);
    if (ctx.imageData && !ctx.hasAugmentation) {
      const preset = presetForDataset(ctx.dataset ?? '');
      add(4, `augment the training images: --augment ${preset} (${AUGMENT_PRESETS[preset].description})`, 'new variants every epoch stop the model from memorizing exact pixels');
    }
    if (perExample !== null && perExample > 5) {
      add(5, 'use a smaller model (fewer filters or units)', `${ctx.params?.toLocaleString('en-US')} parameters for ${ctx.trainExamples?.toLocaleString('en-US')} training examples (${perExample.toFixed(0)} per example)`);
    }
    add(6, 'train on more data if you have it', 'the gap shrinks as the training set grows (see `fitlab experiment data-size`)');
  }
  if (d.regime === 'partial-overfitting') {
    // a regularized model's modest training accuracy is the regularization's doing first (dropout
    // is even on while training accuracy is measured); a model already large for its data does
    // not need more capacity
    const regularizers = [ctx.hasDropout && 'dropout', ctx.hasWeightPenalty && 'a weight penalty', ctx.hasAugmentation && 'augmentation'].filter(Boolean);
    const large = perExample !== null && perExample > 5;
    if (regularizers.length) add(1, 'reduce regularization (lower dropout rates, a smaller L2 λ, milder augmentation)', `training accuracy is only ${pct(trainAcc)} with ${regularizers.join(' and ')} on: regularization lowers the training accuracy the model could reach`);
    if (!large) add(2, 'add capacity rather than regularization: more filters/units or a deeper model', `training accuracy is only ${pct(trainAcc)}: the model cannot fit the training set, so simplifying it will not close the gap`);
    if (ctx.imageData && !ctx.convolutional) add(3, 'use a convolutional model (e.g. lecture-cnn)', 'a dense network on images cannot use spatial structure');
    add(4, 'train longer or with a learning-rate schedule', 'training accuracy has room to grow');
  }
  if (d.regime === 'underfitting') {
    add(1, 'add capacity: more units/filters or layers', `training accuracy ${pct(trainAcc)} is low${d.chance !== null ? ` (chance ${pct(d.chance)})` : ''} and flat`);
    if (ctx.imageData && !ctx.convolutional) add(2, 'use a convolutional model (e.g. lecture-cnn or small-cnn)', 'the model is a dense network on images');
    if (ctx.hasDropout || ctx.hasWeightPenalty) add(3, 'reduce regularization (dropout, L2)', 'regularization is holding back a model that does not fit the training data');
    add(4, 'try a larger learning rate or train longer', `the training loss changes by ${(100 * d.trainTrend.slope).toFixed(2)}% per epoch at the end`);
  }
  if (d.regime === 'not-converged') {
    const epochsMore = Math.max(5, Math.round(d.epochs * 0.5));
    add(1, `train longer (≈${epochsMore} more epochs: \`fitlab train --resume <run> --epochs ${d.epochs + epochsMore}\`)`, `training loss still falls ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch`);
    add(2, 'or raise the learning rate a little', 'slow steady progress often means small steps');
  }
  if (d.regime === 'healthy') {
    if (!d.converged) add(1, 'train a few more epochs', `training loss still falls ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch`);
    else add(1, 'nothing urgent: the run generalizes; compare with a larger model to see if accuracy can rise', `${gapEvidence}`);
  }
  return out.sort((a, b) => a.priority - b.priority);
}
