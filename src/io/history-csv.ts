/**
 * A run's history as CSV, the way Keras' CSVLogger writes it: a header row, then one row per
 * epoch with `epoch` first (0-based, as history.jsonl and CSVLogger count) and the other
 * metrics in the order they first appear. A missing or non-finite value is an empty cell, so
 * spreadsheets and pandas.read_csv read it as missing. Used by `fitlab export --format csv`
 * and the dashboard's download, so both give the same bytes.
 */

/** A cell: numbers as JavaScript prints them (shortest exact round trip), names quoted when needed. */
function cell(v: string | number | null | undefined): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v === null || v === undefined) return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV text of `logs` (one object per epoch); an empty history gives the header `epoch` alone. */
export function historyCsv(logs: readonly Record<string, number | null | undefined>[]): string {
  const columns = ['epoch'];
  for (const log of logs) for (const k of Object.keys(log)) if (!columns.includes(k)) columns.push(k);
  const lines = [columns.map(cell).join(',')];
  for (const log of logs) lines.push(columns.map((c) => cell(log[c])).join(','));
  return lines.join('\n') + '\n';
}
