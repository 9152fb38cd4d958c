/**
 * A small SVG chart kit: line charts with axes, nice ticks, a legend, vertical markers and a
 * shaded span, and bar histograms. Plain strings, no DOM; the same SVG goes inline into
 * report.html and through resvg into PNG.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface Series {
  label: string;
  /** y per x index (NaN: gap) */
  values: number[];
  color: string;
  dash?: string;
  width?: number;
  /** draw dots at each point */
  dots?: boolean;
  /** list in the legend (default true) */
  legend?: boolean;
  /** a shaded band around the line (e.g. mean ± std): lower and upper y per x index */
  band?: { lo: number[]; hi: number[] };
}

export interface Marker {
  x: number;
  label: string;
  color: string;
  dash?: string;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  markers?: Marker[];
  /** shade x ≥ shadeFrom (e.g. epochs after the onset of overfitting) */
  shade?: { from: number; label: string; color: string };
  /** x values for index i (default: i + 1, epochs counted from 1) */
  xOf?: (i: number) => number;
  yMin?: number;
  yMax?: number;
  /** format y tick labels as percentages */
  percent?: boolean;
  logY?: boolean;
  /** x tick positions and labels instead of round numbers (e.g. a log-spaced size axis) */
  xTicks?: { value: number; label: string }[];
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const span = hi - lo;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count + 1) ?? 10 * mag;
  const ticks: number[] = [];
  // k·step from the first multiple (no accumulated rounding), and a tick that should be 0 is 0
  // (summing steps such as 0.05 leaves −1.4e-17 behind, which would print as a label)
  const first = Math.ceil(lo / step);
  for (let k = first; k * step <= hi + step * 1e-9; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

function fmtTick(v: number, percent: boolean): string {
  if (percent) return `${(100 * v).toFixed(Math.abs(v * 100) < 10 && v !== 0 ? 1 : 0)}%`;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 1) return String(Number(v.toPrecision(3)));
  if (a < 1e-3) return v.toExponential(Math.abs(v / Number(v.toExponential(0)) - 1) < 1e-9 ? 0 : 1); // 1e-6, not 0.000001
  return String(Number(v.toPrecision(2)));
}

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

/** Smallest and largest of many numbers, in a loop: Math.min(...xs) overflows the stack near 10⁵ values. */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Charts with more points than this per series are drawn from a min/max envelope (see downsample). */
export const MAX_DRAWN_POINTS = 2400;

/**
 * Thin a long chart (a 200,000-epoch history) to about MAX_DRAWN_POINTS x positions before drawing:
 * the x range is cut into buckets of consecutive indices, and each bucket keeps, for every series,
 * its first and last index, its lowest and highest value and its first gap (NaN). A plot ~640 px
 * wide cannot show more, and keeping the extremes keeps every spike and every gap visible. The
 * kept indices are shared by all series (one x axis); the chart then maps them back to their x.
 */
function downsample(series: Series[], n: number, xOf: (i: number) => number): { series: Series[]; xOf: (i: number) => number; n: number } {
  const buckets = Math.floor(MAX_DRAWN_POINTS / 4);
  if (n <= MAX_DRAWN_POINTS) return { series, xOf, n };
  const keep = new Set<number>();
  const size = Math.ceil(n / buckets);
  for (let from = 0; from < n; from += size) {
    const to = Math.min(n, from + size);
    keep.add(from);
    keep.add(to - 1);
    for (const s of series) {
      for (const values of s.band ? [s.values, s.band.lo, s.band.hi] : [s.values]) {
        let lo = -1;
        let hi = -1;
        let gap = -1;
        for (let i = from; i < to; i++) {
          const v = values[i];
          if (!Number.isFinite(v)) {
            if (gap < 0) gap = i;
            continue;
          }
          if (lo < 0 || v < values[lo]) lo = i;
          if (hi < 0 || v > values[hi]) hi = i;
        }
        for (const i of [lo, hi, gap]) if (i >= 0) keep.add(i);
      }
    }
  }
  const kept = [...keep].sort((a, b) => a - b);
  const pick = (values: number[]): number[] => kept.map((i) => values[i] ?? Number.NaN);
  return {
    series: series.map((s) => ({ ...s, values: pick(s.values), band: s.band ? { lo: pick(s.band.lo), hi: pick(s.band.hi) } : undefined, dots: false })),
    xOf: (j) => xOf(kept[j]),
    n: kept.length,
  };
}

export function lineChart(allSeries: Series[], o: LineChartOptions = {}): string {
  const W = o.width ?? 720;
  const H = o.height ?? 380;
  const m = { left: 66, right: 18, top: o.title ? 40 : 16, bottom: 52 };
  const thin = downsample(allSeries, allSeries.reduce((k, s) => Math.max(k, s.values.length), 1), o.xOf ?? ((i: number) => i + 1));
  const { series, n, xOf } = thin;
  const xs = Array.from({ length: n }, (_, i) => xOf(i));
  // a single x (one epoch, one repeat's seed) sits in the middle of a unit span, not on the left
  // edge; otherwise the data's own span (histogram bins may span less than 1)
  const [xMin, xMax] = extent(xs);
  const [xLo, xHi] = xMax > xMin ? [xMin, xMax] : [xMin - 0.5, xMin + 0.5];
  const tr = (v: number): number => (o.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const [yLo, yHi] = yDomain(series, o, tr);
  const geometry = (top: number): { pw: number; ph: number; px: (x: number) => number; py: (y: number) => number } => {
    const pw = W - m.left - m.right;
    const ph = H - top - m.bottom;
    return {
      pw, ph,
      px: (x) => m.left + ((x - xLo) / (xHi - xLo)) * pw,
      py: (y) => top + ph - ((tr(y) - yLo) / (yHi - yLo)) * ph,
    };
  };
  // the legend goes in the plot corner the data leaves emptiest, or in a band above the plot
  const listed = series.filter((q) => q.legend !== false);
  const legend = placeLegend(series, listed, o, m, xs, geometry(m.top));
  const bandRows = legend.band ? legendRows(listed, W - m.left - m.right) : [];
  if (legend.band) m.top += 6 + 18 * bandRows.length;
  const { pw, ph, px, py } = geometry(m.top);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  if (o.title) out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${esc(o.title)}</text>`);
  if (o.shade) {
    const x0 = px((o.xOf ?? ((i: number) => i + 1))(o.shade.from));
    out.push(`<rect x="${x0.toFixed(1)}" y="${m.top}" width="${(m.left + pw - x0).toFixed(1)}" height="${ph}" fill="${o.shade.color}" opacity="0.10"/>`);
    out.push(`<text x="${(x0 + 6).toFixed(1)}" y="${m.top + ph - 8}" fill="${o.shade.color}" font-size="11">${esc(o.shade.label)}</text>`);
  }
  // grid and y ticks
  const yTicks = o.logY
    ? niceTicks(yLo, yHi, 5).map((t) => 10 ** t)
    : niceTicks(yLo, yHi, 6);
  for (const t of yTicks) {
    const y = py(t);
    if (y < m.top - 0.5 || y > m.top + ph + 0.5) continue;
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#444">${fmtTick(t, Boolean(o.percent))}</text>`);
  }
  // whole-number x values (epochs, degrees) get whole-number ticks only: a 3-epoch run has no epoch 1.25
  const wholeX = xs.every(Number.isInteger);
  const xTicks = o.xTicks ?? niceTicks(xLo, xHi, 8).filter((t) => Number.isInteger(t) || !wholeX).map((t) => ({ value: t, label: fmtTick(t, false) }));
  for (const t of xTicks) {
    const x = px(t.value);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#888"/>`);
    // a long label at the right edge ends at its tick instead of running off the picture
    const anchor = x + t.label.length * 3.6 > W - 2 ? 'end' : 'middle';
    out.push(`<text x="${(anchor === 'end' ? Math.min(x, W - 2) : x).toFixed(1)}" y="${m.top + ph + 19}" text-anchor="${anchor}" fill="#444">${esc(t.label)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  if (o.xLabel) out.push(`<text x="${m.left + pw / 2}" y="${H - 10}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`);
  if (o.yLabel) out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`);
  // markers
  (o.markers ?? []).forEach((mk, k) => {
    const x = px(mk.x);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="${mk.color}" stroke-width="1.5" stroke-dasharray="${mk.dash ?? '5 4'}"/>`);
    const anchorRight = x > m.left + pw * 0.75;
    out.push(`<text x="${(x + (anchorRight ? -5 : 5)).toFixed(1)}" y="${m.top + 14 + 14 * k}" text-anchor="${anchorRight ? 'end' : 'start'}" fill="${mk.color}" font-size="11" font-weight="bold">${esc(mk.label)}</text>`);
  });
  out.push(...seriesMarks(series, xs, px, py, Boolean(o.logY)));
  if (listed.length && !legend.band) {
    const { x: lx, y: ly, w: lw, h: lh } = legend.box;
    out.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${lh}" fill="#ffffff" opacity="0.88" stroke="#ccc"/>`);
    listed.forEach((q, k) => out.push(...legendEntry(q, lx + 8, ly + 16 + k * 18)));
  } else {
    // rows right-aligned above the plot
    bandRows.forEach((row, r) => {
      const widths = row.map((q) => legendTextWidth(q.label) + 44);
      let x = m.left + pw - widths.reduce((a, b) => a + b, 0);
      const y = m.top - 10 - 18 * (bandRows.length - 1 - r);
      row.forEach((q, k) => {
        out.push(...legendEntry(q, x + 4, y));
        x += widths[k];
      });
    });
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The y range drawn (in `tr`'s units: log10 for a log axis): the data's, padded 6% where not fixed. */
function yDomain(series: Series[], o: LineChartOptions, tr: (v: number) => number): [number, number] {
  const finite = series.flatMap((s) => [...s.values, ...(s.band ? [...s.band.lo, ...s.band.hi] : [])].map(tr)).filter(Number.isFinite);
  const [fLo, fHi] = extent(finite);
  let yLo = o.yMin !== undefined ? tr(o.yMin) : finite.length ? fLo : 0;
  let yHi = o.yMax !== undefined ? tr(o.yMax) : finite.length ? fHi : 1;
  if (!(yHi > yLo)) {
    yHi = yLo + 1;
    yLo -= 0.5;
  }
  const pad = (yHi - yLo) * 0.06;
  if (o.yMin === undefined) yLo -= pad;
  if (o.yMax === undefined) yHi += pad;
  return [yLo, yHi];
}

/** A legend above the plot wraps into as many rows as `width` needs. */
function legendRows(listed: Series[], width: number): Series[][] {
  const rows: Series[][] = [];
  let row: Series[] = [];
  let used = 0;
  for (const q of listed) {
    const w = legendTextWidth(q.label) + 44;
    if (row.length && used + w > width) {
      rows.push(row);
      row = [];
      used = 0;
    }
    row.push(q);
    used += w;
  }
  if (row.length) rows.push(row);
  return rows;
}

/** The series' bands (first, under every line), lines (broken at gaps) and dots. */
function seriesMarks(series: Series[], xs: number[], px: (x: number) => number, py: (y: number) => number, logY: boolean): string[] {
  const out: string[] = [];
  for (const s of series) {
    if (!s.band) continue;
    const pts = s.values.map((_, i) => i).filter((i) => Number.isFinite(s.band!.lo[i]) && Number.isFinite(s.band!.hi[i]));
    if (pts.length < 2) continue;
    const up = pts.map((i) => `${px(xs[i]).toFixed(1)},${py(s.band!.hi[i]).toFixed(1)}`);
    const down = pts.reverse().map((i) => `${px(xs[i]).toFixed(1)},${py(s.band!.lo[i]).toFixed(1)}`);
    out.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${s.color}" opacity="0.15" stroke="none"/>`);
  }
  for (const s of series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (logY && v <= 0)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(xs[i]).toFixed(1)} ${py(v).toFixed(1)} `;
      pen = true;
    });
    if (d) out.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`);
    if (s.dots && s.values.length <= 60) {
      s.values.forEach((v, i) => {
        if (Number.isFinite(v)) out.push(`<circle cx="${px(xs[i]).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
      });
    }
  }
  return out;
}

function legendEntry(q: Series, x: number, y: number): string[] {
  return [
    `<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${q.color}" stroke-width="2.5"${q.dash ? ` stroke-dasharray="${q.dash}"` : ''}/>`,
    `<text x="${x + 28}" y="${y}" fill="#222">${esc(q.label)}</text>`,
  ];
}

/** Text width estimate for DejaVu Sans at 12 px (its average advance is about 0.6 em). */
function legendTextWidth(label: string): number {
  return label.length * 7;
}

interface Box { x: number; y: number; w: number; h: number }

/**
 * Pick the legend's place: each inside corner is scored by how much of the drawn data and labels
 * it would hide (lines sampled every few pixels); the first corner hiding nothing wins, in the order
 * top right, top left, bottom right, bottom left. If every corner hides something the legend moves
 * to a band above the plot.
 */
function placeLegend(
  series: Series[], listed: Series[], o: LineChartOptions, m: { left: number; right: number; top: number; bottom: number }, xs: number[],
  g: { pw: number; ph: number; px: (x: number) => number; py: (y: number) => number }
): { band: boolean; box: Box } {
  const w = listed.reduce((k, s) => Math.max(k, legendTextWidth(s.label)), 0) + 40;
  const h = listed.length * 18 + 8;
  const inset = 8;
  const corners: Box[] = [
    { x: m.left + g.pw - w - inset, y: m.top + inset, w, h },
    { x: m.left + inset, y: m.top + inset, w, h },
    { x: m.left + g.pw - w - inset, y: m.top + g.ph - h - inset, w, h },
    { x: m.left + inset, y: m.top + g.ph - h - inset, w, h },
  ];
  if (listed.length === 0 || w + 2 * inset > g.pw || h + 2 * inset > g.ph) return { band: listed.length > 0, box: corners[0] };
  const points: [number, number][] = [];
  for (const s of series) {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (o.logY && v <= 0)) {
        prev = null;
        return;
      }
      const p: [number, number] = [g.px(xs[i]), g.py(v)];
      if (prev) {
        const steps = Math.max(1, Math.ceil(Math.hypot(p[0] - prev[0], p[1] - prev[1]) / 3));
        for (let k = 1; k <= steps; k++) points.push([prev[0] + ((p[0] - prev[0]) * k) / steps, prev[1] + ((p[1] - prev[1]) * k) / steps]);
      } else {
        points.push(p);
      }
      prev = p;
    });
  }
  // marker labels (top of the plot, stacked) and the shaded span's label (bottom)
  const labels: Box[] = (o.markers ?? []).map((mk, k) => {
    const x = g.px(mk.x);
    const lw = mk.label.length * 6.5 + 6;
    const right = x > m.left + g.pw * 0.75;
    return { x: right ? x - lw : x, y: m.top + 3 + 14 * k, w: lw, h: 14 };
  });
  if (o.shade) labels.push({ x: g.px(o.xOf ? o.xOf(o.shade.from) : o.shade.from + 1), y: m.top + g.ph - 22, w: o.shade.label.length * 6.5 + 12, h: 18 });
  const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const hidden = (box: Box): number => {
    let n = 0;
    for (const [x, y] of points) if (x >= box.x - 3 && x <= box.x + box.w + 3 && y >= box.y - 3 && y <= box.y + box.h + 3) n++;
    for (const l of labels) if (overlaps(l, box)) n += 1000;
    return n;
  };
  const free = corners.find((c) => hidden(c) === 0);
  return free ? { band: false, box: free } : { band: true, box: corners[0] };
}

export interface Histogram {
  label: string;
  /** bin edges (length bins + 1) and counts */
  edges: number[];
  counts: number[];
  color: string;
}

/** Overlaid step histograms (e.g. weights at several epochs). */
export function histogramChart(hists: Histogram[], o: { title?: string; xLabel?: string; yLabel?: string; width?: number; height?: number } = {}): string {
  const series: Series[] = hists.map((h) => ({ label: h.label, values: h.counts.map((c) => c / Math.max(1, h.counts.reduce((a, b) => a + b, 0))), color: h.color }));
  const edges = hists[0]?.edges ?? [0, 1];
  const centers = edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2);
  return lineChart(series, { title: o.title, xLabel: o.xLabel, yLabel: o.yLabel ?? 'fraction of weights', width: o.width, height: o.height, xOf: (i) => centers[i] ?? i, yMin: 0 });
}
