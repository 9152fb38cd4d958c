/**
 * The shapes a diagnosis is made of: what it knows about the run (DiagnoseContext), what it
 * concludes (Diagnosis, with its Counterfactual and Advice) and the numbers advice quotes.
 * On their own so that diagnose.ts and advice.ts both use them without importing each other.
 * Epochs in these objects count from 1 (see diagnose.ts).
 */
import type { Divergence, Onset, Trend } from './curves.js';
import type { Baseline, ValidationSize } from './evidence.js';

export type Regime = 'underfitting' | 'healthy' | 'overfitting' | 'partial-overfitting' | 'not-converged' | 'diverged' | 'no-validation' | 'noisy';

/**
 * What is known about the model and data, for advice. Every fact is tri-state: true, false, or
 * absent = unknown. A bare history file says nothing about the model, so its advice is
 * conditional ("if the model has no dropout yet, …"); a run directory's config.json fills the
 * facts in (context.ts), and only then does the advice state them.
 */
export interface DiagnoseContext {
  classes?: number;
  /** the accuracy of a model that learned nothing (--baseline ACC): overrides any other baseline */
  baseline?: number;
  /** examples per class in the training set (a run's config): the majority-class baseline */
  classCounts?: number[];
  params?: number;
  trainExamples?: number;
  validationExamples?: number;
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
  /** epoch (1-based) where EarlyStopping would stop, or null if it would never fire */
  stopEpoch: number | null;
  /** epoch (1-based) whose weights restoreBestWeights would keep */
  restoreEpoch: number;
  valLoss: number;
  valAccuracy: number | null;
  /** epochs of the run that would not have been trained */
  epochsSaved: number;
  /** true for the run's own EarlyStopping setting */
  own?: boolean;
  /**
   * what the kept epoch costs (negative) or gains against the run's best epoch (lowest validation
   * loss): differences in validation loss and accuracy; set by diagnose()
   */
  vsBest?: { epoch: number; valLoss: number; valAccuracy: number | null };
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
  /** every epoch number in this object counts from 1 (Keras' "Epoch 1/…") */
  epochBase: 1;
  epochs: number;
  classes: number | null;
  /** the baseline accuracy (see `baseline`), or null when unknown */
  chance: number | null;
  baseline: Baseline | null;
  hasValidation: boolean;
  /** validation set size, from the run's config or inferred from the accuracy's steps */
  validationSize: ValidationSize | null;
  /** how far the verdict can be trusted, and why not more */
  confidence: { level: 'high' | 'medium' | 'low'; reasons: string[] };
  /** epoch (1-based) of the lowest validation loss (training loss when there is no validation) */
  bestEpoch: number;
  /** the best epoch falls in the last 10% of a run of 10+ epochs while validation still improves */
  lateBest: boolean;
  /** epoch (1-based) of the highest validation accuracy (training accuracy without validation) */
  bestEpochByAccuracy: number | null;
  final: MetricSet;
  best: MetricSet;
  gaps: { final: { accuracy: number | null; loss: number | null }; best: { accuracy: number | null; loss: number | null } };
  /** epoch (1-based) where overfitting began, or null; onsetBy says which sign gave it */
  onsetEpoch: number | null;
  onsetBy: 'validation-loss' | 'accuracy-gap' | 'mild-rise' | null;
  /** the strict validation-loss onset (curves.ts), its epoch 1-based */
  onset: Onset | null;
  /** validation loss at the end vs its minimum */
  valLossRise: { absolute: number; relative: number; epochsAfterBest: number; epochsAfterOnset: number | null } | null;
  converged: boolean;
  trainTrend: Trend;
  valTrend: Trend | null;
  /** where the loss became non-finite or exploded (epoch 1-based) */
  divergence: Divergence | null;
  counterfactuals: Counterfactual[];
  advice: Advice[];
}

/** Numbers the summary and advice quote beside the Diagnosis itself. */
export interface DiagnosisNumbers {
  /** end-of-run accuracies: the mean of the last `accTail` epochs (1: the last epoch itself) */
  trainAcc: number | null;
  valAcc: number | null;
  accTail: number;
  /** best validation accuracy and its 1-based epoch */
  bestValAcc: { value: number; epoch: number } | null;
  stuckAccuracy: boolean;
  /** smallest patience that would keep the best epoch */
  patienceForBest: number | null;
  /** which loss trainTrend was measured on: validation when the log has no training loss */
  trendOf: 'training' | 'validation';
  /** epoch-to-epoch noise of validation loss relative to its level (0 when not measurable) */
  valNoise: number;
}
