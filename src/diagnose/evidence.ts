/**
 * The facts a diagnosis rests on besides the curves' shape: which accuracy baseline applies,
 * how many validation examples there are (a 13-example validation set moves in steps of 7.7
 * points), where an accuracy gap opened for good, and a mild late rise of validation loss that
 * the strict onset test (curves.ts findOnset) rejects because EarlyStopping cut the run short.
 * Pure functions of numbers; epochs here are 0-based indices into the curves.
 */
import { argmin, finiteCount, noiseLevel, smooth } from './curves.js';
import { pct } from '../util/format.js';

/** The accuracy a model reaches without learning anything from the inputs. */
export interface Baseline {
  accuracy: number;
  /**
   * given: --baseline ACC; majority: the training set's largest class (a run's config);
   * balanced: 1/classes where the run's config shows balanced classes; assumed: 1/classes from a
   * class count alone, right only if the classes are balanced
   */
  source: 'given' | 'majority' | 'balanced' | 'assumed';
  /** how the text names it: "chance 10.0% for 10 balanced classes" */
  text: string;
}

/** Classes whose largest count is within 5% of the smallest count read as balanced. */
const BALANCE_TOLERANCE = 1.05;

export function baselineOf(opts: { given?: number; classes?: number | null; classCounts?: number[] }): Baseline | null {
  if (opts.given !== undefined && Number.isFinite(opts.given)) {
    return { accuracy: opts.given, source: 'given', text: `the baseline you gave, ${pct(opts.given)}` };
  }
  const counts = (opts.classCounts ?? []).filter((c) => Number.isFinite(c) && c >= 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.length >= 2 && total > 0) {
    const most = Math.max(...counts);
    const least = Math.min(...counts);
    if (least > 0 && most <= BALANCE_TOLERANCE * least) {
      return { accuracy: 1 / counts.length, source: 'balanced', text: `chance ${pct(1 / counts.length)} for ${counts.length} balanced classes` };
    }
    return { accuracy: most / total, source: 'majority', text: `the majority class, ${pct(most / total)} of the training set` };
  }
  const k = opts.classes ?? null;
  if (k && k >= 2) return { accuracy: 1 / k, source: 'assumed', text: `chance ${pct(1 / k)} if the ${k} classes are balanced` };
  return null;
}

/** How many examples the validation set has, from the run's config or the accuracy's steps. */
export interface ValidationSize {
  examples: number;
  source: 'config' | 'inferred';
}

/** Validation sets at or below this size get a low-confidence verdict. */
export const SMALL_VALIDATION = 50;

/**
 * The smallest N ≤ SMALL_VALIDATION for which every validation accuracy is a multiple of 1/N:
 * an accuracy on N examples can only be k/N. Needs at least 3 distinct values (0.5 and 0.75
 * alone fit N = 4 by coincidence). Larger sets are not guessed at: their steps are too fine to
 * tell from rounding.
 */
export function inferValidationSize(valAcc: number[] | null): number | null {
  if (!valAcc) return null;
  const xs = valAcc.filter(Number.isFinite);
  if (new Set(xs.map((v) => v.toFixed(4))).size < 3) return null;
  for (let n = 2; n <= SMALL_VALIDATION; n++) {
    if (xs.every((v) => Math.abs(v * n - Math.round(v * n)) <= 6e-5 * n)) return n;
  }
  return null;
}

/** Accuracy gaps from this size on are a generalization gap worth a verdict (SPEC §4). */
export const GAP_THRESHOLD = 0.08;

/**
 * The first epoch from which the smoothed accuracy gap (training − validation) stays at or above
 * half the threshold through the end, having reached the threshold: where the gap "opened".
 */
export function gapOnset(acc: number[], valAcc: number[]): number | null {
  const gap = smooth(acc.map((a, i) => a - valAcc[i]));
  const n = gap.length;
  let start = n;
  while (start > 0 && gap[start - 1] >= GAP_THRESHOLD / 2) start--;
  if (start >= n) return null;
  for (let i = start; i < n; i++) if (gap[i] >= GAP_THRESHOLD) return start;
  return null;
}

/** A mild late rise of validation loss (issue 15 §7): what the strict onset test misses. */
export interface MildRise {
  /** 0-based index of the validation-loss minimum; the rise starts after it */
  best: number;
  /** mean validation loss after the minimum, relative to the minimum */
  riseRelative: number;
  /** how far training loss fell over the same epochs (relative) */
  trainDrop: number;
}

/**
 * Validation loss reached its minimum and never came back over the last ≥ max(3, 10%) epochs,
 * sitting on average clearly above it (≥ 3% and ≥ 1.5σ of its noise), while training loss kept
 * falling (≥ 10%): the model is fitting the training set in a way that no longer helps
 * validation, even if EarlyStopping stopped it before the rise grew. A converged plateau (both
 * curves flat) or a single spike does not qualify.
 */
export function findMildRise(train: number[], val: number[]): MildRise | null {
  const n = val.length;
  const best = argmin(val);
  if (best < 0) return null;
  const after = val.slice(best + 1).filter(Number.isFinite);
  if (after.length < Math.max(3, Math.round(0.1 * n))) return null;
  const minimum = val[best];
  const meanAfter = after.reduce((a, b) => a + b, 0) / after.length;
  const rise = meanAfter - minimum;
  if (!(rise >= 0.03 * Math.abs(minimum) && rise >= 1.5 * noiseLevel(val))) return null;
  const st = smooth(train);
  const from = st[best];
  const to = st[n - 1];
  const trainDrop = Number.isFinite(from) && from > 0 ? (from - to) / from : 0;
  if (!(trainDrop >= 0.1)) return null;
  return { best, riseRelative: rise / Math.abs(minimum || 1), trainDrop };
}

/**
 * Epoch-to-epoch noise of a validation loss relative to its median level (0 for fewer than 8
 * epochs, where the noise cannot be told from the trend).
 */
export function relativeNoise(val: number[]): number {
  if (finiteCount(val) < 8) return 0;
  const s = val.filter(Number.isFinite).sort((a, b) => a - b);
  const median = s[s.length >> 1];
  return median ? noiseLevel(val) / Math.abs(median) : 0;
}

/**
 * Validation loss still improving at the end, even slowly: the mean of the last quarter of the
 * run is below the mean of the quarter before by more than 2% and more than 3 noise units of a
 * k-epoch mean (a level that has flattened out moves less). False under 8 epochs.
 */
export function stillImproving(val: number[]): boolean {
  const xs = val.filter(Number.isFinite);
  const n = xs.length;
  if (n < 8) return false;
  const k = Math.max(3, Math.floor(n / 4));
  const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;
  const last = mean(xs.slice(n - k));
  const before = mean(xs.slice(n - 2 * k, n - k));
  return before - last >= Math.max(0.02 * Math.abs(before), (3 * noiseLevel(xs)) / Math.sqrt(k));
}

/** The same for a validation accuracy: the last quarter's mean ≥ 1 point above the quarter before. */
export function stillRising(valAcc: number[]): boolean {
  const xs = valAcc.filter(Number.isFinite);
  const n = xs.length;
  if (n < 8) return false;
  const k = Math.max(3, Math.floor(n / 4));
  const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;
  return mean(xs.slice(n - k)) - mean(xs.slice(n - 2 * k, n - k)) >= Math.max(0.01, (3 * noiseLevel(xs)) / Math.sqrt(k));
}
