/**
 * Sweeps: a regularization hyperparameter over a grid with k-fold cross-validation (or a
 * hold-out), the validation curve with mean ± std, the best value; the learning curve over
 * training-set sizes; the capacity curve over model widths; the early-stopping study.
 */
import { ArgumentError } from '../errors.js';
import type { ModelSpec } from '../nn/spec.js';
import type { TrainRunConfig } from '../run/train-run.js';
import { type DataFacts, armCurves, dataFacts, fmtInt, perArmChart } from './common.js';
import { type Arm, Experiment, type ExperimentOptions, type Stat, lastGap, stat } from './experiment.js';
import { htmlTable } from './report.js';
import { ridgeStudy } from './ridge.js';
import { mlp, preset, regularized } from './specs.js';
import { type Series, lineChart } from '../diagnose/svg.js';

export const SWEEP_PARAMS = ['l2', 'l1', 'dropout', 'weight-decay', 'augment', 'lr'] as const;
export type SweepParam = (typeof SWEEP_PARAMS)[number];

const DEFAULT_VALUES: Record<SweepParam, number[]> = {
  l2: [0, 1e-5, 1e-4, 1e-3, 1e-2],
  l1: [0, 1e-6, 1e-5, 1e-4, 1e-3],
  dropout: [0, 0.2, 0.4, 0.6, 0.8],
  'weight-decay': [0, 1e-3, 1e-2, 0.1, 0.5],
  augment: [0, 0.5, 1, 2],
  lr: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
};

export interface SweepOptions {
  param: SweepParam;
  values?: number[];
  /** k for k-fold cross-validation; 0: a stratified 20% hold-out */
  folds: number;
}

/** The model for a sweep: the named preset, or an MLP (512 wide, dropout layer when sweeping dropout). */
function sweepModel(o: ExperimentOptions, facts: DataFacts, param: SweepParam): { label: string; spec: ModelSpec } {
  if (o.model) return { label: o.model, spec: preset(o.model, facts.shape, facts.classes) };
  return { label: 'mlp 512 (paper-mlp)', spec: mlp(facts.shape, facts.classes, 512, 1, param === 'dropout' ? 0.5 : 0) };
}

/** Augmentation of strength s: rotation 10·s degrees, shifts 0.1·s, zoom 0.1·s (flips for s > 0 on natural images). */
function augmentOf(s: number, dataset: string): Record<string, unknown> | null {
  if (s === 0) return null;
  return { rotationRange: 10 * s, widthShiftRange: 0.1 * s, heightShiftRange: 0.1 * s, zoomRange: 0.1 * s, horizontalFlip: /cifar/.test(dataset), fillMode: 'nearest' };
}

function configFor(param: SweepParam, v: number, spec: ModelSpec, dataset: string): Partial<TrainRunConfig> {
  switch (param) {
    case 'l2': return { modelSpec: regularized(spec, { l2: v }) };
    case 'l1': return { modelSpec: regularized(spec, { l1: v }) };
    case 'dropout': return { modelSpec: regularized(spec, { dropout: v }) };
    case 'weight-decay': return { modelSpec: spec, optimizer: { name: 'adamw', weightDecay: v } };
    case 'augment': return { modelSpec: spec, augment: augmentOf(v, dataset) ?? null };
    case 'lr': return { modelSpec: spec, lr: v };
  }
}

export async function sweep(o: ExperimentOptions, s: SweepOptions): Promise<Record<string, unknown>> {
  if (!SWEEP_PARAMS.includes(s.param)) throw new ArgumentError(`--param must be one of ${SWEEP_PARAMS.join(', ')}; received ${JSON.stringify(s.param)}`);
  if (!(Number.isInteger(s.folds) && (s.folds === 0 || s.folds >= 2))) throw new ArgumentError(`--folds must be 0 (hold-out) or an integer ≥ 2; received ${s.folds}`);
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'fashion-mnist';
  const facts = await dataFacts(dataset, o);
  const values = s.values ?? DEFAULT_VALUES[s.param];
  const pool = o.subset ?? (small ? 100 : 1000);
  const epochs = o.epochs ?? (small ? 20 : 40);
  const model = sweepModel(o, facts, s.param);
  const folds = s.folds;
  const x = new Experiment('sweep', `Sweep of ${s.param}`, `${facts.name}, a pool of ${fmtInt(pool * facts.classes)} training examples (${pool} per class), ${folds ? `${folds}-fold cross-validation` : '20% stratified hold-out'}, ${model.label}, Adam, ${epochs} epochs; ${s.param} ∈ {${values.join(', ')}}`, o, values.length * (folds || 1) * o.repeats);
  // every value × fold is independent: through a queue they all train side by side
  const runs = folds || 1;
  const cells = values.flatMap((v) => Array.from({ length: runs }, (_, k) => ({ v, f: k + 1 })));
  const cellArms = await x.armsTogether(cells.map(({ v, f }) => ({
    label: `${s.param}=${v}${folds ? ` fold ${f}/${folds}` : ''}`,
    config: {
      model: model.label, dataset, epochs, batchSize: 32, optimizer: 'adam', poolPerClass: pool, val: folds ? `fold:${f}/${folds}` : '0.2', checkpoint: 'none',
      ...configFor(s.param, v, model.spec, dataset),
    },
    opts: { extra: { value: v, fold: f } },
  })));
  // one arm per value, its runs = folds × repeats
  x.arms.splice(0, x.arms.length, ...values.map((v, i) => mergeArms(`${s.param}=${v}`, cellArms.slice(i * runs, (i + 1) * runs).flatMap((a) => a.runs), { value: v })));
  const by = (f: (a: Arm) => Stat) => (a: Arm) => f(a);
  x.chart('validation-curve', 'Validation curve', perArmChart(x.arms, [
    { label: 'training accuracy (final)', stat: by((a) => a.finalTrain), color: '#1f77b4' },
    { label: 'validation accuracy (best epoch)', stat: by((a) => a.bestVal), color: '#d62728' },
    { label: 'validation accuracy (final)', stat: by((a) => a.finalVal), color: '#ff7f0e' },
  ], { title: `Validation curve: accuracy vs ${s.param}${folds ? ` (mean ± std over ${folds} folds)` : ''}`, yLabel: 'accuracy', percent: true, xLabel: s.param, xTick: (a) => String(a.extra.value) }));
  armCurves(x, x.arms.map((a) => ({ ...a, label: a.label })));
  const best = x.arms.reduce((b, a) => (a.finalVal.mean > b.finalVal.mean ? a : b));
  x.conclusions.push(`best ${s.param}: ${String(best.extra.value)} (final validation accuracy ${(100 * best.finalVal.mean).toFixed(1)}%${best.finalVal.n > 1 ? ` ± ${(100 * best.finalVal.std).toFixed(1)}` : ''})`);
  const worst = x.arms.reduce((b, a) => (a.finalVal.mean < b.finalVal.mean ? a : b));
  x.conclusions.push(`worst ${s.param}: ${String(worst.extra.value)} (${(100 * worst.finalVal.mean).toFixed(1)}%)`);
  const header = [s.param, 'runs', 'final train acc', 'final val acc', 'best val acc', 'gap', 'regimes', 'test acc'];
  const p = (st: Stat): string => (Number.isFinite(st.mean) ? `${(100 * st.mean).toFixed(1)}${st.n > 1 ? ` ± ${(100 * st.std).toFixed(1)}` : ''}%` : '—');
  x.table = { header, rows: x.arms.map((a) => [String(a.extra.value), String(a.runs.length), p(a.finalTrain), p(a.finalVal), p(a.bestVal), p(a.gap), [...new Set(a.regimes)].join(', '), p(a.test)]) };
  const ridge = ridgeSection(x, o.seed);
  return x.finish({ param: s.param, values, folds, best: best.extra.value, ridge });
}

/** Ridge regression: closed form vs gradient descent with l2 on fitlab's Dense layer vs Lasso. */
function ridgeSection(x: Experiment, seed: number): { lambda: number; maxDifference: number; lassoZeros: number; l1SgdNearZero: number; ridgeZeros: number }[] {
  const { task, results } = ridgeStudy(seed);
  const rows = results.map((r) => [String(r.lambda), r.maxDifference.toExponential(1), `${r.ridgeZeros} of ${task.d}`, `${r.lassoZeros} of ${task.d}`, `${r.l1SgdNearZero} of ${task.d}`]);
  const mid = results.find((r) => r.lambda === 0.1) ?? results[0];
  const series: Series[] = [
    { label: 'true weights', values: [...task.truth], color: '#222', dots: true, width: 1 },
    { label: `ridge closed form (λ=${mid.lambda})`, values: mid.closedForm, color: '#1f77b4', dots: true },
    { label: 'gradient descent with l2 (fitlab Dense)', values: mid.gradientDescent, color: '#ff7f0e', dash: '4 3' },
    { label: `Lasso (λ=${mid.lambda})`, values: mid.lasso, color: '#d62728', dots: true },
  ];
  x.chart('ridge', 'Ridge vs Lasso', lineChart(series, { title: `Regression weights: ridge (closed form and gradient descent) vs Lasso, λ=${mid.lambda}`, xLabel: 'weight index', yLabel: 'weight' }));
  x.section('Ridge regression: closed form, gradient descent, Lasso',
    `<p>A synthetic regression task: ${task.n} examples, ${task.d} standard-normal features, ${results[0].truthNonZero} non-zero true weights, noise σ=${task.noise}. ` +
    `Loss (1/n)‖y − Xw‖² + λ‖w‖² (Keras' MSE plus l2(λ)), so the closed form is w = (XᵀX + nλI)⁻¹Xᵀy. Gradient descent trains fitlab's Dense(1) layer with kernelRegularizer l2(λ), MSE and plain SGD (full batch, 600 steps, learning rate 0.2). ` +
    `The Lasso (L1) is solved by proximal gradient descent; SGD with fitlab's l1 regularizer only hovers near zero (counted |w| < 0.01).</p>` +
    htmlTable(['λ', 'max |closed form − gradient descent|', 'ridge weights exactly 0', 'Lasso weights exactly 0', 'SGD + l1: |w| < 0.01'], rows));
  const worst = Math.max(...results.map((r) => r.maxDifference));
  x.conclusions.push(`ridge: the closed form and gradient descent with l2 agree to ${worst.toExponential(1)} (largest weight difference over λ ∈ {${results.map((r) => r.lambda).join(', ')}}); Lasso zeroes ${mid.lassoZeros} of the ${task.d - mid.truthNonZero} irrelevant weights at λ=${mid.lambda}, ridge none`);
  return results.map((r) => ({ lambda: r.lambda, maxDifference: r.maxDifference, lassoZeros: r.lassoZeros, l1SgdNearZero: r.l1SgdNearZero, ridgeZeros: r.ridgeZeros }));
}

function mergeArms(label: string, runs: Arm['runs'], extra: Record<string, unknown>): Arm {
  const fin = (f: (r: Arm['runs'][number]) => number | null | undefined): Stat => stat(runs.map((r) => f(r) ?? Number.NaN));
  const regimes = runs.map((r) => r.diagnosis.regime);
  return {
    label, runs, extra,
    finalTrain: fin((r) => r.diagnosis.final.accuracy), finalVal: fin((r) => r.diagnosis.final.valAccuracy), bestVal: fin((r) => r.diagnosis.best.valAccuracy),
    gap: fin((r) => lastGap(r.history)), test: fin((r) => r.test?.accuracy), epochs: fin((r) => r.epochsRun),
    onsets: runs.map((r) => r.diagnosis.onsetEpoch), regimes, regime: regimes[0] ?? '—', params: runs[0].params, trainExamples: runs[0].trainExamples,
  };
}

/** Learning curve: the same model trained on growing subsets (per class, log-spaced). */
export async function dataSize(o: ExperimentOptions, sizes?: number[]): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'fashion-mnist';
  const facts = await dataFacts(dataset, o);
  const perClassAll = Math.floor((facts.train * 0.9) / facts.classes);
  const list = (sizes ?? (small ? [50, 100, 200, 500, 1000, 2000] : [50, 100, 200, 500, 1000, 2000, 5000, perClassAll])).filter((n) => n <= perClassAll);
  if (!list.length) throw new ArgumentError(`--sizes: every size exceeds the ${perClassAll} examples per class there are`);
  const epochs = o.epochs ?? (small ? 15 : 30);
  const model = o.model ? { label: o.model, spec: preset(o.model, facts.shape, facts.classes) } : { label: 'paper-mlp', spec: preset('paper-mlp', facts.shape, facts.classes) };
  const x = new Experiment('data-size', 'Learning curve: accuracy vs training-set size', `${facts.name}, ${model.label}, Adam, ${epochs} epochs with early stopping (patience 5), 10% validation; ${list.map((n) => fmtInt(n * facts.classes)).join(' → ')} training examples`, o, list.length * o.repeats);
  await x.armsTogether(list.map((n) => ({
    label: `${fmtInt(n * facts.classes)} examples`,
    config: { model: model.label, modelSpec: model.spec, dataset, epochs, batchSize: 32, optimizer: 'adam', val: '0.1', earlyStopping: 5, tools: { subset: n }, checkpoint: 'none' },
    opts: { extra: { perClass: n, examples: n * facts.classes } },
  })));
  const xOf = (a: Arm): number => Math.log10(a.extra.examples as number);
  x.chart('learning-curve', 'Learning curve', perArmChart(x.arms, [
    { label: 'training accuracy (final)', stat: (a) => a.finalTrain, color: '#1f77b4' },
    { label: 'test accuracy', stat: (a) => a.test, color: '#d62728' },
    { label: 'gap (train − validation)', stat: (a) => a.gap, color: '#9467bd' },
  ], { title: 'Learning curve (log-spaced sizes)', yLabel: 'accuracy', percent: true, xLabel: 'training examples', xOf, xTick: (a) => fmtInt(a.extra.examples as number) }));
  const arms = x.arms;
  for (let i = 1; i < arms.length; i++) {
    const gain = 100 * (arms[i].test.mean - arms[i - 1].test.mean);
    x.conclusions.push(`${arms[i - 1].label} → ${arms[i].label}: test accuracy ${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points, gap ${(100 * arms[i].gap.mean).toFixed(1)} points`);
  }
  const gains = arms.slice(1).map((a, i) => a.test.mean - arms[i].test.mean);
  const flat = gains.findIndex((g, i) => g < 0.005 && i > 0);
  x.conclusions.push(flat >= 0 ? `more data stops paying (< 0.5 points per doubling step) after ${arms[flat].label}` : 'every step up in data still helps: the model is data-limited at these sizes (the "insufficient data" cause)');
  return x.finish({ sizes: list.map((n) => n * facts.classes) });
}

/** Capacity curve: MLP width (or the given widths) vs training and test error. */
export async function capacity(o: ExperimentOptions, widths?: number[]): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'fashion-mnist';
  const facts = await dataFacts(dataset, o);
  const list = widths ?? (small ? [2, 4, 8, 16, 64, 256, 1024] : [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
  const subset = o.subset ?? (small ? 100 : 400);
  const epochs = o.epochs ?? (small ? 60 : 200);
  const x = new Experiment('capacity', 'Capacity: error vs model size', `${facts.name}, ${fmtInt(subset * facts.classes)} training examples (${subset} per class) with 10% label noise, one-hidden-layer MLPs of width ${list.join(', ')}, Adam, ${epochs} epochs, no regularization`, o, list.length * o.repeats);
  await x.armsTogether(list.map((w) => ({
    label: `width ${w}`,
    config: { model: `mlp width ${w}`, modelSpec: mlp(facts.shape, facts.classes, w, 1), dataset, epochs, batchSize: 32, optimizer: 'adam', val: '0.1', tools: { subset, labelNoise: 0.1 }, checkpoint: 'none' },
    opts: { extra: { width: w } },
  })));
  const xOf = (a: Arm): number => Math.log10(a.params);
  const err = (f: (a: Arm) => Stat) => (a: Arm): Stat => { const s = f(a); return { ...s, mean: 1 - s.mean, values: s.values.map((v) => 1 - v) }; };
  x.chart('capacity-curve', 'Capacity curve', perArmChart(x.arms, [
    { label: 'training error (final)', stat: err((a) => a.finalTrain), color: '#1f77b4' },
    { label: 'test error', stat: err((a) => a.test), color: '#d62728' },
  ], { title: 'Training and test error vs parameters', yLabel: 'error', percent: true, xLabel: 'parameters (log scale)', xOf, xTick: (a) => fmtInt(a.params) }));
  const tests = x.arms.map((a) => 1 - a.test.mean);
  const bestI = tests.indexOf(Math.min(...tests));
  x.conclusions.push(`lowest test error ${(100 * tests[bestI]).toFixed(1)}% at ${x.arms[bestI].label} (${fmtInt(x.arms[bestI].params)} parameters)`);
  const after = tests.slice(bestI + 1);
  if (after.length && Math.max(...after) > tests[bestI] + 0.01) x.conclusions.push(`test error rises again after it (up to ${(100 * Math.max(...after)).toFixed(1)}%): the variance side of the U`);
  const peak = tests.findIndex((t, i) => i > 0 && i < tests.length - 1 && t > tests[i - 1] + 0.01 && t > tests[i + 1] + 0.01);
  if (peak >= 0) x.conclusions.push(`a bump at ${x.arms[peak].label} then a second descent: double descent`);
  x.conclusions.push(`training error falls from ${(100 * (1 - x.arms[0].finalTrain.mean)).toFixed(1)}% to ${(100 * (1 - x.arms[x.arms.length - 1].finalTrain.mean)).toFixed(1)}% as the width grows`);
  return x.finish({ widths: list });
}

/** The same run with EarlyStopping patience 0/3/10/∞ and restoreBestWeights on and off. */
export async function earlyStoppingStudy(o: ExperimentOptions): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'fashion-mnist';
  const facts = await dataFacts(dataset, o);
  const subset = o.subset ?? (small ? 100 : 1000);
  const epochs = o.epochs ?? (small ? 40 : 100);
  const model = o.model ?? 'paper-mlp';
  const spec = o.model ? preset(o.model, facts.shape, facts.classes) : mlp(facts.shape, facts.classes, 512, 2);
  const patiences: (number | null)[] = [0, 3, 10, null];
  const x = new Experiment('early-stopping', 'Early stopping: patience and restoring the best weights', `${facts.name}, ${fmtInt(subset * facts.classes)} training examples, ${o.model ?? 'MLP 512-512'}, Adam, up to ${epochs} epochs, monitor val_loss; patience 0/3/10/∞ × restoreBestWeights on/off`, o, 7 * o.repeats);
  const settings = patiences.flatMap((p) => (p === null ? [false] : [true, false]).map((restore) => ({ p, restore })));
  await x.armsTogether(settings.map(({ p, restore }) => ({
    label: `patience ${p ?? '∞'}${p === null ? '' : restore ? ', restore best' : ', keep last'}`,
    config: {
      model, modelSpec: spec, dataset, epochs, batchSize: 32, optimizer: 'adam', val: '0.1', tools: { subset }, checkpoint: 'none',
      earlyStopping: p, restoreBestWeights: restore,
    },
    opts: { extra: { patience: p, restore } },
  })));
  armCurves(x, x.arms.filter((a) => a.extra.restore !== false || a.extra.patience === null));
  const header = ['patience', 'restore best weights', 'epochs used', 'test accuracy', 'test loss', 'best val acc', 'regime'];
  x.table = {
    header,
    rows: x.arms.map((a) => [
      a.extra.patience === null ? '∞ (no early stopping)' : String(a.extra.patience as number), a.extra.restore ? 'yes' : 'no',
      a.epochs.n > 1 ? `${a.epochs.mean.toFixed(1)} ± ${a.epochs.std.toFixed(1)}` : String(a.epochs.mean),
      `${(100 * a.test.mean).toFixed(2)}%${a.test.n > 1 ? ` ± ${(100 * a.test.std).toFixed(2)}` : ''}`,
      (a.runs.reduce((s, r) => s + (r.test?.loss ?? Number.NaN), 0) / a.runs.length).toFixed(4),
      `${(100 * a.bestVal.mean).toFixed(1)}%`, a.regime,
    ]),
  };
  const full = x.arms[x.arms.length - 1];
  const bestEs = x.arms.filter((a) => a.extra.patience !== null).reduce((b, a) => (a.test.mean > b.test.mean ? a : b));
  x.conclusions.push(`no early stopping: ${full.epochs.mean} epochs, test ${(100 * full.test.mean).toFixed(2)}%; best with early stopping: ${bestEs.label}, ${bestEs.epochs.mean.toFixed(0)} epochs, test ${(100 * bestEs.test.mean).toFixed(2)}%`);
  // consistency with the diagnosis' counterfactual (the same seed makes the runs prefixes of the full one)
  const cf = full.runs[0].diagnosis.counterfactuals;
  const rows = cf.map((c) => [String(c.patience), c.stopEpoch === null ? 'never' : String(c.stopEpoch), String(c.restoreEpoch), `${(100 * (c.valAccuracy ?? Number.NaN)).toFixed(1)}%`]);
  x.section('What the diagnosis predicted from the full run', `<p>The diagnosis of the run without early stopping computes where each patience would have stopped; the runs above test it.</p>${htmlTable(['patience', 'stops at epoch', 'restores epoch', 'val accuracy there'], rows)}`);
  const check = x.arms.filter((a) => a.extra.patience !== null && a.extra.restore).map((a) => {
    const c = cf.find((q) => q.patience === a.extra.patience);
    return c ? { patience: a.extra.patience as number, predicted: c.stopEpoch === null ? full.epochs.mean : c.stopEpoch, actual: a.runs[0].epochsRun } : null;
  }).filter((c) => c !== null);
  for (const c of check) x.notes.push(`patience ${c.patience}: the diagnosis predicted ${c.predicted} epochs, the run used ${c.actual}`);
  return x.finish({ counterfactualCheck: check });
}
