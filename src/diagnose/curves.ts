/**
 * Reading learning curves: smoothing, noise level, the best epochs, the onset of overfitting,
 * convergence and divergence. Pure functions of the per-epoch numbers (no I/O).
 *
 * The onset of overfitting is where validation loss stops improving and then rises for good
 * while training loss keeps falling. Raw validation losses are noisy, so:
 *  - the curve is smoothed (median of 3, then a centred moving average);
 *  - the noise level σ is estimated from the raw curve's epoch-to-epoch residuals (MAD);
 *  - the onset is the smoothed curve's minimum, accepted only when the curve afterwards rises
 *    by a margin of max(3σ, 2% of the minimum) (10% of the minimum under 8 epochs, where σ
 *    cannot be told from the trend) and stays above it through the end, and at
 *    least two raw epochs after the minimum are above it too (one spike is not a rise);
 *  - confidence grows with the size of the rise in σ units and the number of epochs after it.
 */

/** Numbers of one curve (NaN where missing). */
export type Curve = number[];

export function finiteCount(c: Curve): number {
  return c.filter((v) => Number.isFinite(v)).length;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** median() of three values without an array per call (smooth() runs it once per epoch). */
function median3(a: number, b: number, c: number): number {
  const fa = Number.isFinite(a);
  const fb = Number.isFinite(b);
  const fc = Number.isFinite(c);
  if (fa && fb && fc) return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  if (fa && fb) return (a + b) / 2;
  if (fa && fc) return (a + c) / 2;
  if (fb && fc) return (b + c) / 2;
  return fa ? a : fb ? b : fc ? c : Number.NaN;
}

/** Median-of-3 then a centred moving average of width w (odd); edges use what exists. */
export function smooth(c: Curve, w?: number): Curve {
  const n = c.length;
  const width = w ?? Math.max(1, Math.min(5, 2 * Math.floor(n / 20) + 1));
  const med = c.map((_, i) => (i === 0 || i === n - 1 ? c[i] : median3(c[i - 1], c[i], c[i + 1])));
  const h = Math.floor(width / 2);
  return med.map((_, i) => {
    let s = 0;
    let k = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(n - 1, i + h); j++) {
      if (Number.isFinite(med[j])) {
        s += med[j];
        k++;
      }
    }
    return k ? s / k : Number.NaN;
  });
}

/** Noise level: 1.4826·MAD of the residual of the raw curve around its smoothed version. */
export function noiseLevel(c: Curve): number {
  const s = smooth(c, 5);
  const r = c.map((v, i) => v - s[i]).filter(Number.isFinite);
  if (r.length < 3) return 0;
  const m = median(r);
  return 1.4826 * median(r.map((v) => Math.abs(v - m)));
}

export function argmin(c: Curve, from = 0, to = c.length): number {
  let best = -1;
  for (let i = from; i < to; i++) if (Number.isFinite(c[i]) && (best < 0 || c[i] < c[best])) best = i;
  return best;
}

export function argmax(c: Curve, from = 0, to = c.length): number {
  let best = -1;
  for (let i = from; i < to; i++) if (Number.isFinite(c[i]) && (best < 0 || c[i] > c[best])) best = i;
  return best;
}

export interface Onset {
  /** 0-based epoch where validation loss stopped improving */
  epoch: number;
  /** how sure: 'high' | 'medium' | 'low', with the numbers behind it */
  confidence: 'high' | 'medium' | 'low';
  /** smoothed rise at the end above the minimum, absolute and relative */
  rise: number;
  riseRelative: number;
  /** rise measured in noise units (σ of the raw validation loss) */
  riseSigmas: number;
  noise: number;
  /** how far training loss fell from the onset to the end (relative) */
  trainDrop: number;
}

/**
 * Find the onset of overfitting in (train loss, val loss), or null. `minEpochsAfter` epochs
 * of sustained rise are required (default 2, or 10% of the run).
 */
export function findOnset(train: Curve, val: Curve, minEpochsAfter?: number): Onset | null {
  const n = val.length;
  if (finiteCount(val) < 4) return null;
  const sv = smooth(val);
  const st = smooth(train);
  const noise = noiseLevel(val);
  const m = argmin(sv);
  if (m < 0 || m >= n - 1) return null;
  const need = minEpochsAfter ?? Math.max(2, Math.round(0.1 * n));
  if (n - 1 - m < need) return null;
  const minimum = sv[m];
  // under 8 epochs the residuals around the smoothed curve are mostly trend, not noise: a rise
  // must then clear 10% of the minimum instead of 3σ
  const noiseKnown = finiteCount(val) >= 8;
  const margin = noiseKnown ? Math.max(3 * noise, 0.02 * Math.abs(minimum), 1e-6) : Math.max(0.1 * Math.abs(minimum), 1e-6);
  const end = sv[n - 1];
  const rise = end - minimum;
  if (!(rise > margin)) return null;
  // sustained: from the first epoch the smoothed curve clears the margin, it stays above min + margin/2
  let first = -1;
  for (let i = m + 1; i < n; i++) if (sv[i] > minimum + margin) { first = i; break; }
  if (first < 0) return null;
  for (let i = first; i < n; i++) if (!(sv[i] > minimum + margin / 2)) return null;
  // …and the raw curve agrees in at least two epochs: the median filter cannot see past the
  // last epoch, so a single high last value would otherwise pass for a sustained rise
  let rawAbove = 0;
  for (let i = m + 1; i < n; i++) if (val[i] > minimum + margin / 2) rawAbove++;
  if (rawAbove < 2) return null;
  // training keeps improving over the same span (or has plateaued near zero)
  const trainAt = st[m];
  const trainEnd = st[n - 1];
  const trainDrop = Number.isFinite(trainAt) && trainAt > 0 ? (trainAt - trainEnd) / trainAt : 0;
  const trainFlatLow = Number.isFinite(trainEnd) && trainEnd < 0.1 * minimum;
  if (!(trainDrop > 0.01 || trainFlatLow)) return null;
  const sigmas = noise > 0 ? rise / noise : Infinity;
  const after = n - 1 - m;
  const confidence: Onset['confidence'] = !noiseKnown ? 'low' : sigmas >= 8 && after >= 4 ? 'high' : sigmas >= 4 && after >= 2 ? 'medium' : 'low';
  return { epoch: m, confidence, rise, riseRelative: rise / Math.abs(minimum || 1), riseSigmas: sigmas, noise, trainDrop };
}

export interface Trend {
  /** relative change per epoch over the last `window` epochs (negative: falling) */
  slope: number;
  window: number;
  /** still improving by more than 0.5% per epoch */
  improving: boolean;
}

/** Least-squares slope of the last `window` epochs, relative to the curve's level there. */
export function endTrend(c: Curve, window?: number): Trend {
  const n = c.length;
  const w = Math.min(n, window ?? Math.max(3, Math.round(n / 5)));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = n - w; i < n; i++) {
    if (Number.isFinite(c[i])) {
      xs.push(i);
      ys.push(c[i]);
    }
  }
  if (xs.length < 2) return { slope: 0, window: w, improving: false };
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  const slope = den ? num / den / Math.max(Math.abs(my), 1e-12) : 0;
  return { slope, window: w, improving: slope < -0.005 };
}

export interface Divergence {
  /** 0-based epoch where the loss became non-finite or exploded */
  epoch: number;
  reason: string;
}

/** How far above the first epoch's loss a later training loss must climb to count as exploded. */
export const EXPLODE_FACTOR = 100;

/**
 * The training loss above which a classifier has surely exploded: 100× the cross-entropy of a
 * chance guess, ln(classes) (ln 1000 when the class count is unknown). A cross-entropy of a
 * working model stays near or below ln(classes); Keras even clips it at −ln(1e-7) ≈ 16.1.
 */
export function explodedLossCeiling(classes: number | null | undefined): number {
  return EXPLODE_FACTOR * Math.log(classes && classes >= 2 ? classes : 1000);
}

/**
 * NaN/Inf losses, or a loss that exploded: it climbed EXPLODE_FACTOR× above the first epoch's,
 * rose above explodedLossCeiling(classes) (a learning rate of 1e10 gives 7e20 from epoch 1 on, so
 * nothing but the scale gives it away), or ends far above where it started and its minimum.
 * `val` is null when the history has no validation column (then nothing about it is judged).
 * `classifier` false (no class count and no accuracy column: perhaps a regression, whose MSE has
 * no natural scale) leaves the ceiling out.
 */
export function findDivergence(train: Curve, val: Curve | null, classes?: number | null, classifier = true): Divergence | null {
  for (let i = 0; i < train.length; i++) {
    if (!Number.isFinite(train[i])) return { epoch: i, reason: `the training loss is ${train[i]} at epoch ${i + 1}` };
  }
  if (val) {
    for (let i = 0; i < val.length; i++) {
      if (!Number.isFinite(val[i])) return { epoch: i, reason: `the validation loss is ${val[i]} at epoch ${i + 1}` };
    }
  }
  const ceiling = classifier ? explodedLossCeiling(classes) : Infinity;
  for (let i = 0; i < train.length; i++) {
    if (train[i] > ceiling) {
      const chance = classes && classes >= 2 ? `ln(${classes}) = ${Math.log(classes).toPrecision(3)}, the loss of a chance guess` : 'any cross-entropy of a working classifier';
      return { epoch: i, reason: `the training loss exploded to ${train[i].toPrecision(3)} at epoch ${i + 1}, far above ${chance}` };
    }
    if (i > 0 && train[0] > 0 && train[i] > EXPLODE_FACTOR * train[0]) {
      return { epoch: i, reason: `the training loss exploded from ${train[0].toPrecision(3)} (epoch 1) to ${train[i].toPrecision(3)} at epoch ${i + 1}` };
    }
  }
  const n = train.length;
  if (n >= 3) {
    const m = argmin(train);
    if (m >= 0 && train[n - 1] > 3 * train[m] && train[n - 1] > train[0] * 1.5) {
      return { epoch: m + 1 < n ? m + 1 : m, reason: `the training loss exploded from ${train[m].toPrecision(3)} (epoch ${m + 1}) to ${train[n - 1].toPrecision(3)}` };
    }
  }
  return null;
}
