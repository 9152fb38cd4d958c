/** Helpers the experiments share: the dataset's facts, per-arm charts, scale defaults. */
import { compareChart } from '../diagnose/plots.js';
import { PALETTE, type Series, lineChart } from '../diagnose/svg.js';
import { loadDataset } from '../data/locate.js';
import type { EpochLog } from '../train/history.js';
import type { Arm, Experiment, ExperimentOptions, Stat } from './experiment.js';

export interface DataFacts {
  name: string;
  shape: number[];
  classes: number;
  train: number;
  test: number;
}

/** The dataset's shape, classes and sizes (loads it once; the runs load it again from the cache). */
export async function dataFacts(spec: string, o: ExperimentOptions): Promise<DataFacts> {
  const d = await loadDataset(spec, { dataDir: o.dataDir });
  return { name: d.name, shape: d.shape, classes: d.classes, train: d.train.y.length, test: d.test?.y.length ?? 0 };
}

export const fmtInt = (n: number): string => n.toLocaleString('en-US');

const col = (h: EpochLog[], k: string): number[] => h.map((e) => (typeof e[k] === 'number' ? e[k] : Number.NaN));

/** Validation accuracy and loss of every arm (its first repeat), and the gap over epochs. */
export function armCurves(x: Experiment, arms: Arm[] = x.arms): void {
  const runs = arms.map((a) => ({ label: a.label, history: a.runs[0].history }));
  x.chart('val-accuracy', 'Validation accuracy', compareChart(runs, 'val_accuracy', 'Validation accuracy of each arm (dashed: training)'));
  x.chart('val-loss', 'Validation loss', compareChart(runs, 'val_loss', 'Validation loss of each arm (dashed: training)'));
  const series: Series[] = arms.map((a, k) => {
    const h = a.runs[0].history;
    const tr = col(h, 'accuracy');
    const va = col(h, 'val_accuracy');
    return { label: a.label, values: tr.map((t, i) => t - va[i]), color: PALETTE[k % PALETTE.length] };
  });
  x.chart('gap', 'Generalization gap', lineChart(series, { title: 'Generalization gap over epochs (training − validation accuracy)', xLabel: 'epoch', yLabel: 'gap', percent: true }));
}

/** A metric per arm as a line over the arms (x: labels), with a ±std band when there are repeats. */
export function perArmChart(arms: Arm[], lines: { label: string; stat: (a: Arm) => Stat; color: string }[], o: { title: string; yLabel: string; percent?: boolean; xLabel?: string; xOf?: (a: Arm, i: number) => number; xTick?: (a: Arm) => string }): string {
  const xOf = o.xOf ?? ((_a: Arm, i: number) => i + 1);
  const series: Series[] = lines.map((l) => {
    const s = arms.map(l.stat);
    const withBand = s.some((v) => v.n > 1);
    return {
      label: l.label, values: s.map((v) => v.mean), color: l.color, dots: true,
      ...(withBand ? { band: { lo: s.map((v) => v.mean - v.std), hi: s.map((v) => v.mean + v.std) } } : {}),
    };
  });
  return lineChart(series, {
    title: o.title, xLabel: o.xLabel ?? '', yLabel: o.yLabel, percent: o.percent,
    xOf: (i) => xOf(arms[i], i),
    xTicks: arms.map((a, i) => ({ value: xOf(a, i), label: o.xTick ? o.xTick(a) : a.label })),
    width: Math.max(720, 130 * arms.length),
  });
}

/** "84.1% → 62.0%" style change of a stat's mean, in points. */
export function points(a: number, b: number): string {
  return `${(100 * (b - a)).toFixed(1)} points`;
}
