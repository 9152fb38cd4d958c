/** The y range of the charts, as a pure function (tested without a browser). */

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * The y range to show: Tukey's far-out fences (quartiles ± 3 interquartile ranges, in log10 on
 * a log axis) clipped to the data. A loss falling from 2.3 to a plateau near 0.1 keeps the
 * plateau readable; a validation loss that rises steadily (overfitting) lies inside the fences
 * and stays whole. Null when there is nothing to show.
 */
export function robustRange(values: (number | null | undefined)[], log = false): [number, number] | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x) && (!log || x > 0)).map((x) => (log ? Math.log10(x) : x));
  if (!v.length) return null;
  v.sort((a, b) => a - b);
  const min = v[0];
  const max = v[v.length - 1];
  let lo = min;
  let hi = max;
  if (v.length >= 8) {
    const q1 = quantile(v, 0.25);
    const q3 = quantile(v, 0.75);
    const iqr = q3 - q1;
    lo = Math.max(min, q1 - 3 * iqr);
    hi = Math.min(max, q3 + 3 * iqr);
  }
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 1;
  lo -= pad;
  hi += pad;
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}
