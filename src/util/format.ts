/** Formatting numbers for people: terminal text, reports and experiment tables. */

/**
 * A fraction as a percentage with `digits` decimals; '—' when there is no number (null,
 * undefined, NaN, ±∞), so a missing accuracy reads as missing instead of 'NaN%'.
 *
 * @example
 * pct(0.8412)     // '84.1%'
 * pct(0.8412, 2)  // '84.12%'
 * pct(null)       // '—'
 */
export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(digits)}%`;
}
