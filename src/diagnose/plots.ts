/**
 * The diagnosis' pictures: learning curves (loss and accuracy, training vs validation) with the
 * best epoch and the onset of overfitting marked and the epochs after it shaded; the gap over
 * epochs; distance of the weights from their initial values; weight histograms; several runs
 * on the same axes.
 */
import type { EpochLog } from '../train/history.js';
import type { Diagnosis } from './diagnose.js';
import { PALETTE, type Marker, type Series, histogramChart, lineChart } from './svg.js';
import type { WeightEpoch } from './weights.js';

const TRAIN = '#1f77b4';
const VAL = '#d62728';
const BEST = '#2ca02c';
const ONSET = '#ff7f0e';

/** TensorBoard-style exponential smoothing with bias correction (factor in [0, 1)). */
export function emaSmooth(values: number[], factor: number): number[] {
  if (!(factor > 0)) return values;
  let last = 0;
  let weight = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = factor * last + (1 - factor) * v;
    weight = factor * weight + (1 - factor);
    return last / weight;
  });
}

const col = (h: EpochLog[], k: string): number[] => h.map((e) => (typeof e[k] === 'number' ? (e[k]) : Number.NaN));

function markers(d: Diagnosis | null): Marker[] {
  if (!d) return [];
  const m: Marker[] = [{ x: d.bestEpoch, label: `best epoch ${d.bestEpoch}`, color: BEST }];
  if (d.onsetEpoch !== null && d.onsetEpoch !== d.bestEpoch) m.push({ x: d.onsetEpoch, label: `onset ${d.onsetEpoch}`, color: ONSET, dash: '2 3' });
  return m;
}

function shade(d: Diagnosis | null): { from: number; label: string; color: string } | undefined {
  // the shade starts at an x index (0-based); the diagnosis counts epochs from 1
  return d && d.onsetEpoch !== null ? { from: d.onsetEpoch - 1, label: 'overfitting', color: ONSET } : undefined;
}

function pair(h: EpochLog[], key: string, valKey: string, smoothing: number, what: string): Series[] {
  const out: Series[] = [];
  const tr = col(h, key);
  const va = col(h, valKey);
  const withRaw = (label: string, values: number[], color: string): void => {
    if (!values.some(Number.isFinite)) return;
    if (smoothing > 0) {
      out.push({ label: `${label} (raw)`, values, color, width: 1, dash: '1 3' });
      out.push({ label: `${label} (smoothed)`, values: emaSmooth(values, smoothing), color });
    } else out.push({ label, values, color, dots: h.length <= 40 });
  };
  withRaw(`training ${what}`, tr, TRAIN);
  withRaw(`validation ${what}`, va, VAL);
  return out;
}

/** Size of a chart in pixels (default 720 × 380; report.html draws them as wide as its page). */
export interface ChartSize {
  width?: number;
  height?: number;
}

export function lossChart(h: EpochLog[], d: Diagnosis | null, opts: { smoothing?: number; title?: string } & ChartSize = {}): string {
  return lineChart(pair(h, 'loss', 'val_loss', opts.smoothing ?? 0, 'loss'), {
    title: opts.title ?? 'Loss', xLabel: 'epoch', yLabel: 'loss', markers: markers(d), shade: shade(d), width: opts.width, height: opts.height,
  });
}

export function accuracyChart(h: EpochLog[], d: Diagnosis | null, opts: { smoothing?: number; title?: string } & ChartSize = {}): string {
  return lineChart(pair(h, 'accuracy', 'val_accuracy', opts.smoothing ?? 0, 'accuracy'), {
    title: opts.title ?? 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy', percent: true, markers: markers(d), shade: shade(d), width: opts.width, height: opts.height,
  });
}

/** Training − validation accuracy, and validation − training loss, over epochs. */
export function gapChart(h: EpochLog[], d: Diagnosis | null, size: ChartSize = {}): string {
  const acc = col(h, 'accuracy');
  const vacc = col(h, 'val_accuracy');
  const series: Series[] = [];
  if (acc.some(Number.isFinite) && vacc.some(Number.isFinite)) {
    series.push({ label: 'accuracy gap (train − val)', values: acc.map((a, i) => a - vacc[i]), color: '#9467bd' });
  }
  return lineChart(series, { title: 'Generalization gap', xLabel: 'epoch', yLabel: 'training − validation accuracy', percent: true, markers: markers(d), shade: shade(d), ...size });
}

/** ‖w − w₀‖ over epochs, total and per layer. */
export function distanceChart(w: WeightEpoch[], size: ChartSize = {}): string {
  const layers = w[0]?.layers.map((l) => l.name) ?? [];
  const series: Series[] = [{ label: 'all weights', values: w.map((e) => e.distance), color: '#222', width: 3 }];
  layers.slice(0, 8).forEach((name, k) => series.push({ label: name, values: w.map((e) => e.layers.find((l) => l.name === name)?.distance ?? Number.NaN), color: PALETTE[k % PALETTE.length], width: 1.5 }));
  return lineChart(series, { title: 'Distance of the weights from their initial values', xLabel: 'epoch', yLabel: '‖w − w₀‖', xOf: (i) => (w[i]?.epoch ?? i) + 1, ...size });
}

/** Snapshot colours in time order, orange (early) to dark blue (late): plasma without its pale end. */
export const TIME_RAMP = ['#f89540', '#e16462', '#b12a90', '#6a00a8', '#0d0887'];

/** At most this many snapshots overlaid: ten overlapping lines in ten colours could not be told apart. */
export const MAX_HISTOGRAMS = TIME_RAMP.length;

/**
 * `counts` over `edges`, spread onto the bins of `target` in proportion to the overlap (each
 * source bin's count taken as uniform within it). Totals are kept for every count inside target.
 */
export function rebin(edges: number[], counts: number[], target: number[]): number[] {
  const out = new Array<number>(target.length - 1).fill(0);
  counts.forEach((c, i) => {
    const a = edges[i];
    const b = edges[i + 1];
    if (!c) return;
    for (let j = 0; j < out.length; j++) {
      const overlap = Math.min(b, target[j + 1]) - Math.max(a, target[j]);
      if (overlap > 0) out[j] += (c * overlap) / (b - a);
    }
  });
  return out;
}

/**
 * Weight histograms of up to MAX_HISTOGRAMS snapshots (the first, the last and evenly spaced
 * ones between), coloured early to late. Snapshots recorded over different ranges (each epoch's
 * own ±max |w|) are put onto one grid spanning them all.
 */
export function histogramsChart(w: WeightEpoch[], size: ChartSize = {}): string {
  const all = w.filter((e) => e.histogram);
  const n = all.length;
  const snaps = n <= MAX_HISTOGRAMS ? all : [...new Set(Array.from({ length: MAX_HISTOGRAMS }, (_, k) => Math.round((k * (n - 1)) / (MAX_HISTOGRAMS - 1))))].map((i) => all[i]);
  const same = snaps.every((e) => {
    const a = e.histogram?.edges ?? [];
    const b = snaps[0].histogram?.edges ?? [];
    return a.length === b.length && a.every((x, i) => x === b[i]);
  });
  let grid = snaps[0]?.histogram?.edges ?? [];
  if (!same) {
    const lo = Math.min(...snaps.map((e) => e.histogram?.edges[0] ?? 0));
    const hi = Math.max(...snaps.map((e) => e.histogram?.edges.at(-1) ?? 0));
    const bins = Math.max(...snaps.map((e) => (e.histogram?.counts.length ?? 1)));
    grid = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  }
  return histogramChart(snaps.map((e, k) => ({
    label: `epoch ${e.epoch + 1}`,
    edges: grid,
    counts: same ? (e.histogram?.counts ?? []) : rebin(e.histogram?.edges ?? [], e.histogram?.counts ?? [], grid),
    color: TIME_RAMP[snaps.length === 1 ? TIME_RAMP.length - 1 : Math.round((k * (TIME_RAMP.length - 1)) / (snaps.length - 1))],
  })), { title: n > snaps.length ? `Weight histograms (${snaps.length} of ${n} snapshots)` : 'Weight histograms', xLabel: 'weight value', ...size });
}

export interface RunCurves {
  label: string;
  history: EpochLog[];
}

/** Several runs' validation (or training) curves on the same axes. */
export function compareChart(runs: RunCurves[], metric: 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy', title?: string, size: ChartSize = {}): string {
  const series = runs.map((r, k) => ({ label: r.label, values: col(r.history, metric), color: PALETTE[k % PALETTE.length] }));
  const train = metric.startsWith('val_') ? runs.map((r, k) => ({ label: `${r.label} (train)`, values: col(r.history, metric.slice(4)), color: PALETTE[k % PALETTE.length], dash: '4 4', width: 1.2, legend: false })) : [];
  return lineChart([...series, ...train], {
    title: title ?? metric.replace('_', ' '), xLabel: 'epoch', yLabel: metric.includes('acc') ? 'accuracy' : 'loss',
    percent: metric.includes('acc'), ...size,
  });
}
