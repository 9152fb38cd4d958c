/**
 * The words of a diagnosis: its one-paragraph summary and its ranked advice, each with evidence.
 *
 * Two rules keep the advice from doing harm:
 *  - a fact about the model the history does not hold (dropout, weight penalty, augmentation,
 *    data size) is unknown, not absent: the advice is then conditional ("if the model has no
 *    dropout yet, …");
 *  - no advice points to a checkpoint worse than the run's best epoch, and every early-stopping
 *    counterfactual states what it costs or gains against that best.
 * Epochs in a Diagnosis count from 1 already.
 */
import { AUGMENT_PRESETS, presetForDataset } from '../data/augment.js';
import type { Advice, Counterfactual, DiagnoseContext, Diagnosis, DiagnosisNumbers } from './types.js';
import { pct } from '../util/format.js';

const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toPrecision(3));
const ep = (e: number): string => `epoch ${e}`;
const points = (v: number): string => `${(100 * Math.abs(v)).toFixed(1)} points`;

export function summarize(d: Diagnosis, x: DiagnosisNumbers): string {
  const text = summaryText(d, x);
  const late = d.lateBest && d.regime !== 'diverged' && d.regime !== 'not-converged' ? ` The best epoch is late (${d.bestEpoch} of ${d.epochs}): validation was still improving near the end.` : '';
  const low = d.confidence.level === 'low' ? ` Low confidence: ${d.confidence.reasons.join('; ')}.` : '';
  return `${text}${late}${low}`;
}

function summaryText(d: Diagnosis, x: DiagnosisNumbers): string {
  const { trainAcc, valAcc } = x;
  const accs = trainAcc !== null ? `training accuracy ${pct(trainAcc)}${valAcc !== null ? ` vs validation ${pct(valAcc)}` : ''}` : '';
  // averaged accuracies say so: beside them the text prints the last epoch's ("final gap …")
  const averaged = x.accTail > 1 ? `; means of the last ${x.accTail} epochs` : '';
  const gapTxt = trainAcc !== null && valAcc !== null ? ` (gap ${(100 * (trainAcc - valAcc)).toFixed(1)} points${averaged})` : '';
  const base = d.baseline ? ` (baseline: ${d.baseline.text})` : '';
  switch (d.regime) {
    case 'diverged':
      return `Diverged: ${d.divergence?.reason ?? 'the loss is not finite'}.`;
    case 'no-validation': {
      const trend = d.converged ? 'training loss has levelled off' : `training loss is still falling ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch`;
      const acc = trainAcc !== null ? `; training accuracy ${pct(trainAcc)}${base}` : '';
      return `No validation data: generalization cannot be judged from this history. What can be said: ${trend}${acc}.`;
    }
    case 'overfitting':
    case 'partial-overfitting':
      return overfitSummary(d, accs, gapTxt);
    case 'noisy':
      return `Too noisy to read: validation loss jumps by about ${(100 * x.valNoise).toFixed(0)}% of its level from one epoch to the next, so no trend, onset or best epoch can be trusted${accs ? `; ${accs}` : ''}.`;
    case 'not-converged':
      if (!d.trainTrend.improving) return `Not converged: validation loss is still reaching new bests (the best is at ${ep(d.bestEpoch)} of ${d.epochs}) and no overfitting shows yet${accs ? `; ${accs}` : ''}.`;
      return `Not converged: ${x.trendOf} loss is still falling ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch over the last ${d.trainTrend.window} epochs and no overfitting shows yet${accs ? `; ${accs}` : ''}.`;
    case 'underfitting':
      if (x.stuckAccuracy) return `Underfitting: the accuracy does not move at all (${accs}): the model predicts the same class whatever the input, so the accuracy is that class's share, not skill.`;
      return `Underfitting: ${accs || 'the losses'} are both low${base} and flat — the model does not fit even the training data.`;
    case 'healthy': {
      const still = d.converged ? '' : ' Training loss is still falling: more epochs may help.';
      const modest = d.baseline && trainAcc !== null && trainAcc - d.baseline.accuracy < 0.6 * (1 - d.baseline.accuracy)
        ? ` Accuracy is only ${(100 * (trainAcc - d.baseline.accuracy)).toFixed(1)} points above the baseline (${d.baseline.text}): the data may allow no more, or the model needs more capacity or better features.`
        : '';
      return `Healthy: validation follows training${gapTxt ? `, ${accs}${gapTxt}` : ''}; the best validation loss is at ${ep(d.bestEpoch)} of ${d.epochs}.${still}${modest}`;
    }
  }
}

function overfitSummary(d: Diagnosis, accs: string, gapTxt: string): string {
  const kind = d.regime === 'overfitting' ? 'Overfitting' : 'Partial overfitting';
  const conf = d.onset ? ` (${d.onset.confidence} confidence)` : d.onsetBy === 'mild-rise' ? ' (mild)' : '';
  const since = d.onsetEpoch !== null ? ` since ${ep(d.onsetEpoch)}${conf}` : '';
  let why = ': validation stopped following training';
  if (d.onsetBy === 'validation-loss' && d.valLossRise) why = `: validation loss rose ${(100 * d.valLossRise.relative).toFixed(0)}% from its minimum ${num(d.best.valLoss)} while training loss kept falling`;
  else if (d.onsetBy === 'mild-rise') why = `: validation loss has not improved on its minimum ${num(d.best.valLoss)} (${ep(d.bestEpoch)}) since, while training loss kept falling`;
  else if (d.onsetBy === 'accuracy-gap') why = ': the accuracy gap opened then and validation has stopped improving';
  const tail = d.regime === 'partial-overfitting' && d.onsetBy !== 'mild-rise'
    ? '. Training accuracy itself is modest: the model lacks the capacity to truly overfit, so simplifying it will not help'
    : '';
  return `${kind}${since}${why}${accs ? `; ${accs}${gapTxt}` : ''}${tail}.`;
}

/** What restoring a counterfactual's epoch costs or gains against the best validation accuracy. */
function costAgainstBest(cf: Counterfactual, x: DiagnosisNumbers): string {
  if (cf.valAccuracy === null || !x.bestValAcc) return 'the lowest validation loss of the run';
  const diff = cf.valAccuracy - x.bestValAcc.value;
  if (Math.abs(diff) < 0.0005) return 'also the best validation accuracy of the run, to 0.1 point';
  return `${points(diff)} below the best validation accuracy, ${pct(x.bestValAcc.value)} at ${ep(x.bestValAcc.epoch)}`;
}

/**
 * Early stopping that keeps the run's best epoch, never an earlier, worse one: the smallest of the
 * usual patiences that reaches it, else the smallest patience that does; none when stopping
 * there would save no epochs.
 */
function earlyStoppingAdvice(d: Diagnosis, x: DiagnosisNumbers): Advice | null {
  const reaching = d.counterfactuals.filter((cf) => cf.restoreEpoch === d.bestEpoch && cf.stopEpoch !== null && cf.epochsSaved > 0);
  const pick = reaching[0];
  if (!pick) return null;
  const others = d.counterfactuals.filter((cf) => cf.stopEpoch !== null && cf.restoreEpoch < d.bestEpoch).map((cf) => cf.patience);
  const warn = others.length ? `; a patience of ${others.join(' or ')} would stop too early and keep a worse epoch` : '';
  return {
    priority: 1,
    action: `early stopping with patience ${pick.patience} and restoreBestWeights`,
    evidence: `it would stop at ${ep(pick.stopEpoch as number)} and keep ${ep(pick.restoreEpoch)}, the run's best (val_loss ${num(pick.valLoss)}` +
      `${pick.valAccuracy !== null ? `, val_accuracy ${pct(pick.valAccuracy)}: ${costAgainstBest(pick, x)}` : ''}), saving ${pick.epochsSaved} epochs${warn}`,
  };
}

/** A known fact stated; an unknown one turned into a condition. */
function ifNot(known: boolean | undefined, fact: string, what: string, aWhat = what): { when: string; because: string } | null {
  if (known === true) return null;
  return known === false ? { when: '', because: `; ${fact}` } : { when: `if the model has no ${what} yet, `, because: `; the history does not say whether the model uses ${aWhat}` };
}

function overfitAdvice(d: Diagnosis, ctx: DiagnoseContext, x: DiagnosisNumbers, add: (p: number, a: string, e: string) => void): void {
  const gapEvidence = x.trainAcc !== null && x.valAcc !== null ? `training accuracy ${pct(x.trainAcc)} vs validation ${pct(x.valAcc)}` : `validation loss ${num(d.final.valLoss)} vs training loss ${num(d.final.loss)}`;
  const dropout = ifNot(ctx.hasDropout, 'the model has no dropout', 'dropout');
  if (dropout) add(2, `${dropout.when}add Dropout 0.2–0.5 before the dense layers`, `${gapEvidence}${dropout.because}`);
  const l2 = ifNot(ctx.hasWeightPenalty, 'no weight penalty is used', 'weight penalty', 'a weight penalty');
  if (l2) add(3, `${l2.when}add an L2 kernel regularizer, λ between 1e-4 and 1e-2 (or weight decay with AdamW)`, `${gapEvidence}${l2.because}`);
  if (ctx.imageData && ctx.hasAugmentation === false) {
    const preset = presetForDataset(ctx.dataset ?? '');
    add(4, `augment the training images: --augment ${preset} (${AUGMENT_PRESETS[preset].description})`, 'new variants every epoch stop the model from memorizing exact pixels');
  } else if (ctx.imageData !== false && ctx.hasAugmentation === undefined) {
    add(4, 'if the inputs are images and not yet augmented, augment them (flips, shifts, small rotations)', 'new variants every epoch stop the model from memorizing exact pixels; the history does not say what the inputs are');
  }
  const perExample = ctx.params && ctx.trainExamples ? ctx.params / ctx.trainExamples : null;
  if (perExample !== null && perExample > 5) {
    add(5, 'use a smaller model (fewer filters or units)', `${ctx.params?.toLocaleString('en-US')} parameters for ${ctx.trainExamples?.toLocaleString('en-US')} training examples (${perExample.toFixed(0)} per example)`);
  }
  add(6, 'train on more data if you have it', 'the gap shrinks as the training set grows (see `fitlab experiment data-size`)');
}

function partialAdvice(d: Diagnosis, ctx: DiagnoseContext, x: DiagnosisNumbers, add: (p: number, a: string, e: string) => void): void {
  // a regularized model's modest training accuracy is the regularization's doing first (dropout
  // is even on while training accuracy is measured); a model already large for its data does
  // not need more capacity
  const regularizers = [ctx.hasDropout && 'dropout', ctx.hasWeightPenalty && 'a weight penalty', ctx.hasAugmentation && 'augmentation'].filter(Boolean);
  const unknown = ctx.hasDropout === undefined && ctx.hasWeightPenalty === undefined && ctx.hasAugmentation === undefined;
  const perExample = ctx.params && ctx.trainExamples ? ctx.params / ctx.trainExamples : null;
  const large = perExample !== null && perExample > 5;
  if (regularizers.length) add(1, 'reduce regularization (lower dropout rates, a smaller L2 λ, milder augmentation)', `training accuracy is only ${pct(x.trainAcc)} with ${regularizers.join(' and ')} on: regularization lowers the training accuracy the model could reach`);
  else if (unknown) add(3.5, 'if the model uses dropout, a weight penalty or augmentation, reduce them first', `training accuracy is only ${pct(x.trainAcc)}: regularization lowers the training accuracy a model can reach; the history does not say which the model uses`);
  if (!large) add(2, 'add capacity rather than regularization: more filters/units or a deeper model', `training accuracy is only ${pct(x.trainAcc)}: the model cannot fit the training set, so simplifying it will not close the gap`);
  if (ctx.imageData && ctx.convolutional === false) add(3, 'use a convolutional model (e.g. lecture-cnn)', 'a dense network on images cannot use spatial structure');
  add(4, 'train longer or with a learning-rate schedule', 'training accuracy has room to grow');
}

/** Keeping the epoch with the best validation accuracy, when the loss-best epoch costs accuracy. */
function accuracyCheckpointAdvice(d: Diagnosis, x: DiagnosisNumbers, add: (p: number, a: string, e: string) => void): void {
  const b = x.bestValAcc;
  // only a later epoch: the model kept classifying better while its loss grew over-confident. An
  // earlier one with a worse loss is more often an artifact (a majority-class predictor on
  // imbalanced data scores its best accuracy at epoch 1) than a better model
  if (!b || d.best.valAccuracy === null || b.epoch <= d.bestEpoch) return;
  const cost = b.value - d.best.valAccuracy;
  if (cost < 0.01) return;
  add(1.5, `keep the checkpoint with the best validation accuracy (${ep(b.epoch)}, ${pct(b.value)}): monitor val_accuracy for checkpoints and early stopping`,
    `the lowest validation loss is at ${ep(d.bestEpoch)} (val_accuracy ${pct(d.best.valAccuracy)}): restoring it would cost ${points(cost)} of validation accuracy`);
}

export function advise(d: Diagnosis, ctx: DiagnoseContext, x: DiagnosisNumbers): Advice[] {
  const out: Advice[] = [];
  const add = (priority: number, action: string, evidence: string): void => void out.push({ priority, action, evidence });
  const gapEvidence = x.trainAcc !== null && x.valAcc !== null ? `training accuracy ${pct(x.trainAcc)} vs validation ${pct(x.valAcc)}` : `validation loss ${num(d.final.valLoss)} vs training loss ${num(d.final.loss)}`;

  if (d.regime === 'diverged') {
    add(1, `lower the learning rate (try ${ctx.learningRate ? (ctx.learningRate / 10).toPrecision(2) : 'a tenth of it'})`, d.divergence?.reason ?? 'non-finite loss');
    add(2, 'clip gradients (clipnorm 1.0 or globalClipnorm)', 'an exploding loss usually comes from a few huge gradient steps');
    add(3, 'check the input scaling (pixels should be in [0, 1])', 'unscaled inputs make the first steps enormous');
    return out;
  }
  if (d.regime === 'no-validation') {
    add(1, 'hold out validation data (fitlab: --val 0.1; Keras: validation_split=0.1) and train again', 'without validation numbers nothing in this history can tell generalization from memorization');
    if (!d.converged) add(2, 'train longer', `training loss still falls ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch`);
    return out.sort((a, b) => a.priority - b.priority);
  }
  if (d.regime === 'overfitting' || d.regime === 'partial-overfitting') {
    const es = earlyStoppingAdvice(d, x);
    if (es && (d.regime === 'overfitting' || d.onsetBy === 'mild-rise')) out.push(es);
    accuracyCheckpointAdvice(d, x, add);
  }
  if (d.regime === 'overfitting') overfitAdvice(d, ctx, x, add);
  if (d.regime === 'partial-overfitting') partialAdvice(d, ctx, x, add);
  if (d.regime === 'underfitting') {
    if (x.stuckAccuracy) add(0, 'check the labels and the class balance; weight the classes (--class-weight balanced) or resample', 'the accuracy is identical at every epoch: the model answers one class whatever the input');
    add(1, 'add capacity: more units/filters or layers', `training accuracy ${pct(x.trainAcc)} is low${d.baseline ? ` (baseline: ${d.baseline.text})` : ''} and flat`);
    if (ctx.imageData && ctx.convolutional === false) add(2, 'use a convolutional model (e.g. lecture-cnn or small-cnn)', 'the model is a dense network on images');
    if (ctx.hasDropout || ctx.hasWeightPenalty) add(3, 'reduce regularization (dropout, L2)', 'regularization is holding back a model that does not fit the training data');
    add(4, 'try a larger learning rate or train longer', `the training loss changes by ${(100 * d.trainTrend.slope).toFixed(2)}% per epoch at the end`);
  }
  if (d.regime === 'noisy') {
    add(1, 'use a larger validation set (at least a few hundred examples, or carve one from the training data)', `validation loss jumps by about ${(100 * x.valNoise).toFixed(0)}% of its level between epochs`);
    add(2, 'lower the learning rate or add a schedule that decays it', 'large steps make every epoch\'s weights land somewhere else');
    add(3, 'check the loss and the input scaling if the numbers are implausible for the task', 'a broken loss or unscaled inputs swing the same way');
    return out;
  }
  if (d.regime === 'not-converged') {
    const epochsMore = Math.max(5, Math.round(d.epochs * 0.5));
    const why = d.trainTrend.improving ? `${x.trendOf} loss still falls ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch` : `validation loss reached its best at ${ep(d.bestEpoch)} of ${d.epochs}`;
    add(1, `train longer (≈${epochsMore} more epochs: \`fitlab train --resume <run> --epochs ${d.epochs + epochsMore}\`)`, why);
    add(2, 'or raise the learning rate a little', 'slow steady progress often means small steps');
  }
  if (d.regime === 'healthy') {
    if (d.lateBest || !d.converged) add(1, 'train a few more epochs', d.lateBest ? `the best validation loss is at ${ep(d.bestEpoch)} of ${d.epochs}: validation was still improving` : `training loss still falls ${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch`);
    else add(1, 'nothing urgent: the run generalizes; compare with a larger model to see if accuracy can rise', `${gapEvidence}`);
  }
  if (d.validationSize && d.validationSize.examples <= 50) {
    add(7, 'use a larger validation set before trusting this verdict', `${d.validationSize.examples} validation examples: one example moves the accuracy ${(100 / d.validationSize.examples).toFixed(1)} points`);
  }
  return out.sort((a, b) => a.priority - b.priority);
}
