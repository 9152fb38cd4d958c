/** Learning curves as a small text chart for the terminal (train vs validation). */

export interface AsciiSeries {
  label: string;
  values: number[];
  mark: string;
}

/** Plot series over epochs in a width×height character grid, with optional epoch markers. */
export function asciiChart(series: AsciiSeries[], opts: { width?: number; height?: number; markers?: { epoch: number; mark: string; label: string }[]; title?: string } = {}): string {
  const width = opts.width ?? 60;
  const height = opts.height ?? 10;
  // loops, not Math.min(...all): spreading a 200,000-epoch history overflows the stack. Every
  // epoch lands in one of `width` columns, so a long history needs no other thinning here.
  let lo = Infinity;
  let hi = -Infinity;
  let n = 0;
  for (const s of series) {
    n = Math.max(n, s.values.length);
    for (const v of s.values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return '(no finite values to plot)';
  if (hi - lo < 1e-12) {
    hi += 0.5;
    lo -= 0.5;
  }
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  const col = (e: number): number => (n <= 1 ? 0 : Math.round((e / (n - 1)) * (width - 1)));
  const row = (v: number): number => height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
  for (const m of opts.markers ?? []) {
    const c = col(m.epoch);
    for (let r = 0; r < height; r++) if (grid[r][c] === ' ') grid[r][c] = m.mark;
  }
  for (const s of series) {
    s.values.forEach((v, e) => {
      if (Number.isFinite(v)) grid[row(v)][col(e)] = s.mark;
    });
  }
  const fmtV = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)).padStart(7);
  const lines: string[] = [];
  if (opts.title) lines.push(opts.title);
  grid.forEach((cells, r) => {
    const axis = r === 0 ? fmtV(hi) : r === height - 1 ? fmtV(lo) : ' '.repeat(7);
    lines.push(`${axis} │${cells.join('')}`);
  });
  lines.push(`${' '.repeat(7)} └${'─'.repeat(width)}`);
  lines.push(`${' '.repeat(9)}epoch 1${' '.repeat(Math.max(1, width - 14 - String(n).length))}epoch ${n}`);
  const legend = series.map((s) => `${s.mark} ${s.label}`).concat((opts.markers ?? []).map((m) => `${m.mark} ${m.label}`));
  lines.push(`${' '.repeat(9)}${legend.join('   ')}`);
  return lines.join('\n');
}
