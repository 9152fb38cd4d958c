/**
 * Experiments II: memorization. Random labels (Zhang et al.), extreme overfitting points (the
 * empirical study's protocol) and per-example forgetting events with injected label noise. The
 * bias–variance decomposition lives in bias-variance.ts.
 */
import { PNG } from 'pngjs';
import { type Dataset, type Split, exampleSize, take } from '../data/dataset.js';
import { loadDataset } from '../data/locate.js';
import { applyVal, parseVal } from '../data/splits.js';
import { readWeightsLog } from '../diagnose/run-report.js';
import { PALETTE, type Series, esc, histogramChart, lineChart } from '../diagnose/svg.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type LiveRun, applyTools } from '../run/train-run.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import { join } from 'node:path';
import { armCurves, dataFacts, fmtInt } from './common.js';
import { type Arm, type ArmRun, Experiment, type ExperimentOptions, type Stat, type TrainedContext, stat } from './experiment.js';
import { type LineScan, type Probe, type Sharpness, WeightProbe, distance, scanLine, sharpness } from './landscape.js';
import { htmlTable } from './report.js';
import { preset, regularized } from './specs.js';
import { pct } from '../util/format.js';

/** Zhang et al.: a fraction p of training labels replaced by random ones; the net still fits them. */
export async function randomLabelsExperiment(o: ExperimentOptions, fractions = [0, 0.2, 0.5, 1]): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'mnist';
  const facts = await dataFacts(dataset, o);
  const model = o.model ?? 'paper-mlp';
  const subset = o.subset ?? (small ? 100 : undefined);
  const epochs = o.epochs ?? (small ? 150 : 300);
  const n = subset ? subset * facts.classes : Math.round(facts.train * 0.9);
  const x = new Experiment('random-labels', 'Random labels: memorizing noise', `${facts.name}, ${fmtInt(n)} training examples, ${model}, Adam 1e-3 batch 128, ${epochs} epochs, no regularization; p ∈ {${fractions.join(', ')}} of labels random`, o, fractions.length * o.repeats);
  await x.armsTogether(fractions.map((p) => ({
    label: `p = ${p}`,
    config: {
      model, modelSpec: preset(model, facts.shape, facts.classes), dataset, epochs, batchSize: 128, optimizer: 'adam', val: '0.1', checkpoint: 'none',
      tools: { ...(subset ? { subset } : {}), ...(p > 0 ? { randomLabels: p } : {}) },
    },
    opts: { extra: { p } },
  })));
  const fitAt = (a: Arm, level: number): (number | null)[] => a.runs.map((r) => {
    const i = r.history.findIndex((e) => typeof e.accuracy === 'number' && e.accuracy >= level);
    return i < 0 ? null : i + 1;
  });
  armCurves(x);
  x.chart('train-accuracy', 'Training accuracy', lineChart(x.arms.map((a, k) => ({ label: a.label, values: a.runs[0].history.map((e) => e.accuracy ?? Number.NaN), color: PALETTE[k] })), { title: 'Training accuracy over epochs: every labelling is memorized, random ones later', xLabel: 'epoch', yLabel: 'training accuracy', percent: true }));
  const chance = 1 / facts.classes;
  x.table = {
    header: ['random fraction p', 'final train acc', 'epochs to 95% train', 'test acc', 'test − chance'],
    rows: x.arms.map((a) => [String(a.extra.p as number), pct(a.finalTrain.mean), fitAt(a, 0.95).map((e) => (e === null ? 'not reached' : String(e))).join(', '), pct(a.test.mean), `${(100 * (a.test.mean - chance)).toFixed(1)} points`]),
  };
  const last = x.arms[x.arms.length - 1];
  x.conclusions.push(`p = 1: training accuracy ${pct(last.finalTrain.mean)}, test ${pct(last.test.mean)} (chance ${pct(chance)}): the network memorized labels that carry no information`);
  x.conclusions.push(`epochs to 95% training accuracy: ${x.arms.map((a) => `p=${String(a.extra.p as number)}: ${fitAt(a, 0.95)[0] ?? '—'}`).join(', ')}`);
  return x.finish({ chance, epochsToFit: x.arms.map((a) => fitAt(a, 0.95)) });
}

/** ‖w − w₀‖ at the end of a run (from its weights log). */
function finalDistance(runDir: string): number {
  const w = readWeightsLog(runDir);
  return w.length ? w[w.length - 1].distance : Number.NaN;
}

/** How the extreme experiment restarts plain SGD from the extreme points. */
export interface RestartOptions {
  /** learning rate of the restarts (default 0.5) */
  lr?: number;
  /** batch size of the restarts (default 32) */
  batch?: number;
  /** epochs of each restart (default: 15 at small scale, 40 at full) */
  epochs?: number;
}

const ALPHAS = Array.from({ length: 29 }, (_, i) => Number((-0.2 + 0.05 * i).toFixed(2)));
const EPSILONS = [0.01, 0.02, 0.05, 0.1, 0.2];
/** the extreme point's training stops once it fits the clean training set (and the whole set) this well */
const FIT_TARGET = 0.995;

/**
 * Extreme overfitting points: train on the training set plus the test set with every label
 * wrong (duplicated to about the training size) until it is memorized; the clean training
 * accuracy stays ~100% while the true test accuracy collapses. Compared with normal training:
 * the distance from initialization over the repeats, plain SGD restarted from the extreme
 * points on the clean training set (at several noise scales lr/batch), L2, and the loss surface
 * between a normal and an extreme solution (line scan, sharpness).
 */
export async function extreme(o: ExperimentOptions, restartOptions: RestartOptions = {}): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'mnist';
  const facts = await dataFacts(dataset, o);
  const model = o.model ?? 'paper-mlp';
  // the whole training set, as in the study: the restart needs the clean data to cover the test images' neighbourhoods
  const subset = o.subset;
  const epochs = o.epochs ?? (small ? 40 : 100);
  const restartEpochs = restartOptions.epochs ?? (small ? 15 : 40);
  const repeats = o.repeats;
  const lr = restartOptions.lr ?? 0.5;
  const batch = restartOptions.batch ?? 32;
  const gentle = [{ lr: 0.01, batch: 128 }, { lr: 0.1, batch: 128 }].filter((g) => g.lr / g.batch < lr / batch);
  const spec = preset(model, facts.shape, facts.classes);
  const valFraction = 0.05;
  const n = subset ? subset * facts.classes : Math.round(facts.train * (1 - valFraction));
  const copies = Math.max(1, Math.round(n / facts.test));
  const x = new Experiment('extreme', 'Extreme overfitting points',
    `${facts.name}, ${fmtInt(n)} clean training examples + the ${fmtInt(facts.test)} test images with wrong labels ×${copies}; ${model} (glorot-uniform), Adam 1e-3 batch 128; normal training ${epochs} epochs, extreme points until they fit the clean training set to ${pct(FIT_TARGET)} (at most ${2 * epochs} epochs), with L2 ${epochs} epochs; ` +
    `plain SGD restarts on the clean data, lr ${lr} batch ${batch}, ${restartEpochs} epochs; ${repeats} repeat${repeats > 1 ? 's' : ''}`,
    o, 4 * repeats + gentle.length);
  const base = { model, dataset, epochs, batchSize: 128, optimizer: 'adam', val: String(valFraction), checkpoint: 'none' as const };
  const withSubset = subset ? { subset } : {};
  const cleanAccuracy = (ctx: TrainedContext | LiveRun, cleanN: number): number => {
    const part = { x: ctx.train.x.subarray(0, cleanN * exampleSize(ctx.dataset.shape)), y: ctx.train.y.subarray(0, cleanN) };
    return ctx.trainer.evaluate(part, ctx.dataset.scale).accuracy;
  };
  const corruptN = copies * facts.test;
  let normalWeights: Float32Array[] | null = null;
  const normal = await x.arm('normal training', { ...base, modelSpec: spec, tools: subset ? { subset } : undefined }, {
    measure: (ctx) => {
      normalWeights ??= ctx.model.params().map((p) => Float32Array.from(p.value));
      return { cleanTrain: cleanAccuracy(ctx, ctx.train.y.length) };
    },
  });
  let surface: Surface | null = null;
  // trained "to ~100%": stop once the clean training set is fitted to the target (Adam at 1e-3 oscillates around 98–99.7%)
  const ext = await x.arm('extreme point', { ...base, epochs: 2 * epochs, modelSpec: spec, tools: { ...withSubset, corruptTest: copies } }, {
    onEpoch: (ctx, log) => {
      if (typeof log.accuracy !== 'number' || log.accuracy < FIT_TARGET) return;
      if (cleanAccuracy(ctx, ctx.train.y.length - corruptN) >= FIT_TARGET) {
        ctx.trainer.context.stopTraining = true;
        ctx.trainer.context.stopReason = `the clean training set is fitted to ${pct(FIT_TARGET)}`;
        ctx.trainer.context.stopCause = 'goal-reached';
      }
    },
    measure: (ctx) => {
      const cleanN = ctx.train.y.length - corruptN;
      if (!surface && normalWeights) surface = lossSurface(ctx, normalWeights, cleanN, facts.test, o.seed);
      return { cleanTrain: cleanAccuracy(ctx, cleanN) };
    },
  });
  const extL2 = await x.arm('extreme point with L2 1e-4', { ...base, modelSpec: regularized(spec, { l2: 1e-4 }), tools: { ...withSubset, corruptTest: copies } }, {
    measure: (ctx) => ({ cleanTrain: cleanAccuracy(ctx, ctx.train.y.length - corruptN) }),
  });

  // plain SGD (no momentum) from each extreme point on its own clean training set (same seed: same split)
  const restart = async (from: ArmRun, s: { lr: number; batch: number }, label: string): Promise<{ arm: Arm; testCurve: number[] }> => {
    const testCurve = [from.test?.accuracy ?? Number.NaN];
    const arm = await x.arm(label, {
      ...base, model: join(from.runDir, 'model-final', 'model.json'), optimizer: { name: 'sgd', learningRate: s.lr }, batchSize: s.batch, epochs: restartEpochs,
      tools: subset ? { subset } : undefined,
    }, {
      repeats: 1, seed: from.seed,
      measure: (ctx) => ({ cleanTrain: cleanAccuracy(ctx, ctx.train.y.length) }),
      // recorded per epoch (kept across a resume), not collected in a variable here
      onEpoch: (ctx) => (ctx.dataset.test ? ctx.trainer.evaluate(ctx.dataset.test, ctx.dataset.scale).accuracy : null),
    });
    for (const v of arm.runs[0].epochRecords) if (typeof v === 'number') testCurve.push(v);
    return { arm, testCurve };
  };
  const restarts: { arm: Arm; testCurve: number[] }[] = [];
  for (const r of ext.runs) restarts.push(await restart(r, { lr, batch }, `SGD restart lr ${lr} batch ${batch} (seed ${r.seed})`));
  const gentleRestarts: { arm: Arm; testCurve: number[]; lr: number; batch: number }[] = [];
  for (const g of gentle) gentleRestarts.push({ ...(await restart(ext.runs[0], g, `SGD restart lr ${g.lr} batch ${g.batch} (seed ${ext.runs[0].seed})`)), ...g });

  const dist = (a: Arm): number[] => a.runs.map((r) => finalDistance(r.runDir));
  const dn = dist(normal);
  const de = dist(ext);
  const dl = dist(extL2);
  const cleanOf = (arms: Arm[]): Stat => stat(arms.flatMap((a) => a.runs.map((r) => r.measured.cleanTrain as number)));
  const testOf = (arms: Arm[]): Stat => stat(arms.flatMap((a) => a.runs.map((r) => r.test?.accuracy ?? Number.NaN)));
  const pm = (s: Stat, f: (v: number) => string, g: (v: number) => string = f): string => (s.n > 1 ? `${f(s.mean)} ± ${g(s.std)}` : f(s.mean));
  const pctS = (s: Stat): string => pm(s, pct, (v) => (100 * v).toFixed(1));
  const row = (label: string, arms: Arm[], d: number[] | null): string[] => [label, arms.flatMap((a) => a.runs.map((r) => r.epochsRun)).join(', '), pctS(cleanOf(arms)), pctS(testOf(arms)), d ? pm(stat(d), (v) => v.toFixed(1)) : '—'];
  const restartArms = restarts.map((r) => r.arm);
  x.table = {
    header: ['run', 'epochs', 'clean training accuracy', 'true test accuracy', '‖w − w₀‖'],
    rows: [
      row('normal training', [normal], dn),
      row('extreme point', [ext], de),
      row('extreme point with L2 1e-4', [extL2], dl),
      row(`plain SGD restart from the extreme point, lr ${lr} batch ${batch}`, restartArms, null),
      ...gentleRestarts.map((g) => row(`plain SGD restart from the extreme point, lr ${g.lr} batch ${g.batch}`, [g.arm], null)),
    ],
  };

  // ‖w − w₀‖ per repeat, and as a histogram over the repeats
  const repeatSeeds = normal.runs.map((r) => r.seed);
  x.chart('distance', '‖w − w₀‖ per repeat', lineChart([
    { label: 'normal training', values: dn, color: '#1f77b4', dots: true },
    { label: 'extreme point', values: de, color: '#d62728', dots: true },
    { label: 'extreme point with L2 1e-4', values: dl, color: '#ff7f0e', dots: true },
  ], { title: 'Distance from initialization, every repeat', xLabel: 'seed', yLabel: '‖w − w₀‖', yMin: 0, xOf: (i) => repeatSeeds[i], xTicks: repeatSeeds.map((s) => ({ value: s, label: String(s) })) }));
  const all = [...dn, ...de, ...dl].filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const bins = 12;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo || 1) * i) / bins);
  const hist = (v: number[]): number[] => {
    const c = new Array<number>(bins).fill(0);
    for (const d of v) c[Math.min(bins - 1, Math.floor(((d - lo) / (hi - lo || 1)) * bins))]++;
    return c;
  };
  // a histogram says something from about 5 runs on; below that the per-repeat chart above shows every value
  if (repeats < 5) x.notes.push(`the ‖w − w₀‖ histogram is drawn from --repeats 5 on (the study used 200); with ${repeats} the per-repeat chart shows every value`);
  if (repeats >= 5) x.chart('distance-histogram', '‖w − w₀‖ histogram', histogramChart([
    { label: 'normal training', edges, counts: hist(dn), color: '#1f77b4' },
    { label: 'extreme points', edges, counts: hist(de), color: '#d62728' },
    { label: 'extreme points with L2', edges, counts: hist(dl), color: '#ff7f0e' },
  ], { title: `Distance from initialization over ${repeats} repeat${repeats > 1 ? 's' : ''}`, xLabel: '‖w − w₀‖', yLabel: 'fraction of runs' }));

  const restartSeries: Series[] = [
    ...restarts.map((r, k) => ({ label: `lr ${lr}, batch ${batch} (seed ${r.arm.runs[0].seed})`, values: r.testCurve, color: ['#2ca02c', '#17becf', '#98df8a', '#1f77b4', '#9edae5'][k % 5], dots: true })),
    ...gentleRestarts.map((g, k) => ({ label: `lr ${g.lr}, batch ${g.batch} (seed ${g.arm.runs[0].seed})`, values: g.testCurve, color: ['#d62728', '#ff7f0e'][k % 2], dots: true, dash: '5 3' })),
  ];
  x.chart('restart', 'SGD restart', lineChart(restartSeries, {
    title: 'Plain SGD from the extreme point on the clean training set: true test accuracy', xLabel: 'epoch of the restart (0: the extreme point)', yLabel: 'true test accuracy',
    percent: true, yMin: 0, yMax: 1, xOf: (i) => i,
  }));

  const s = surface as Surface | null;
  if (s) surfaceCharts(x, s);
  armCurves(x, [normal, ext]);

  const everyRepeat = de.every((d, i) => d > dn[i]);
  const restartTest = testOf(restartArms);
  // what counts as an extreme point, and as a recovered test accuracy (the verdicts follow the numbers)
  const normalTest = testOf([normal]).mean;
  const isExtreme = (a: Arm): boolean => cleanOf([a]).mean >= 0.95 && testOf([a]).mean <= 0.1;
  const recovered = (test: number): string => (test >= normalTest - 0.05 ? 'recovered' : test >= 0.5 ? 'partly recovered' : 'not recovered');
  const ratio = stat(de).mean / stat(dn).mean;
  x.conclusions.push(`${isExtreme(ext) ? 'extreme points reached' : 'NOT an extreme point (needs ≥ 95% clean training and ≤ 10% test accuracy; train longer)'}: clean training accuracy ${pctS(cleanOf([ext]))}, true test accuracy ${pctS(testOf([ext]))} (normal training: ${pctS(testOf([normal]))})`);
  x.conclusions.push(`‖w − w₀‖: extreme ${stat(de).mean.toFixed(1)} vs normal ${stat(dn).mean.toFixed(1)} (${ratio.toFixed(1)}×); larger in ${de.filter((d, i) => d > dn[i]).length} of ${de.length} repeats`);
  x.conclusions.push(`with L2 1e-4 the extreme point is ${isExtreme(extL2) ? 'still reached' : 'not reached'}: clean training ${pctS(cleanOf([extL2]))}, test ${pctS(testOf([extL2]))}`);
  x.conclusions.push(`plain SGD restarted on the clean training set (lr ${lr}, batch ${batch}, noise scale lr/batch ${(lr / batch).toPrecision(2)}): true test accuracy ${recovered(restartTest.mean)}, ${pctS(restartTest)} after ${restartEpochs} epochs (normal training ${pct(normalTest)})`);
  for (const g of gentleRestarts) x.conclusions.push(`with less gradient noise (lr ${g.lr}, batch ${g.batch}, lr/batch ${(g.lr / g.batch).toPrecision(2)}): ${recovered(g.arm.test.mean)}, test ${pct(g.arm.test.mean)} after ${restartEpochs} epochs`);
  if (s) x.conclusions.push(...surfaceConclusions(s));
  return x.finish({
    distances: { normal: dn, extreme: de, extremeL2: dl }, everyRepeatFarther: everyRepeat,
    cleanTrain: { normal: cleanOf([normal]).values, extreme: cleanOf([ext]).values, extremeL2: cleanOf([extL2]).values },
    testAccuracy: { normal: testOf([normal]).values, extreme: testOf([ext]).values, extremeL2: testOf([extL2]).values },
    restart: { lr, batch, epochs: restartEpochs, test: restartTest.values, curves: restarts.map((r) => r.testCurve) },
    gentleRestarts: gentleRestarts.map((g) => ({ lr: g.lr, batch: g.batch, test: g.arm.test.mean, curve: g.testCurve })),
    surface: s,
  });
}

/** The loss surface between the first repeat's normal solution and its extreme point. */
interface Surface {
  /** examples per probe split */
  examples: number;
  line: LineScan;
  sharpness: { normal: Sharpness; extreme: Sharpness; extremeCorrupted: Sharpness; directions: number };
  /** the highest clean-training loss on the segment between the two points, above the larger endpoint */
  barrier: number;
  distance: number;
}

function lossSurface(ctx: TrainedContext, normalWeights: Float32Array[], cleanN: number, testN: number, seed: number): Surface {
  const m = 2000;
  const rng = new RandomStream(seed, STREAMS.memorizeSurface);
  const sample = (from: number, count: number): number[] => {
    const idx = Array.from({ length: count }, (_, i) => from + i);
    for (let i = count - 1; i > 0; i--) {
      const j = rng.uniformInt(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, Math.min(m, count));
  };
  const per = exampleSize(ctx.dataset.shape);
  // the same test images with their wrong (memorized) and their true labels
  const images = sample(0, testN);
  const splits: Record<string, Split> = {
    'clean training': take(ctx.train, sample(0, cleanN), per),
    'corrupted test copies (wrong labels)': take(ctx.train, images.map((i) => cleanN + i), per),
  };
  if (ctx.dataset.test) splits['true test'] = take(ctx.dataset.test, images, per);
  const probe = new WeightProbe(ctx.trainer, splits, ctx.dataset.scale);
  const extremeWeights = probe.weights;
  const line = scanLine(probe, normalWeights, extremeWeights, ALPHAS);
  const directions = 5;
  const sharp = {
    normal: sharpness(probe, normalWeights, 'clean training', EPSILONS, directions, seed),
    extreme: sharpness(probe, extremeWeights, 'clean training', EPSILONS, directions, seed),
    extremeCorrupted: sharpness(probe, extremeWeights, 'corrupted test copies (wrong labels)', EPSILONS, directions, seed),
    directions,
  };
  const clean = line.points['clean training'];
  const inside = line.alphas.map((a, i) => (a >= 0 && a <= 1 ? clean[i].loss : Number.NEGATIVE_INFINITY));
  const ends = Math.max(clean[line.alphas.indexOf(0)].loss, clean[line.alphas.indexOf(1)].loss);
  return { examples: m, line, sharpness: sharp, barrier: Math.max(...inside) - ends, distance: distance(normalWeights, extremeWeights) };
}

function surfaceCharts(x: Experiment, s: Surface): void {
  const names = Object.keys(s.line.points);
  const colors: Record<string, string> = { 'clean training': '#1f77b4', 'true test': '#2ca02c', 'corrupted test copies (wrong labels)': '#d62728' };
  const xOf = (i: number): number => s.line.alphas[i];
  const xTicks = [-0.2, 0, 0.2, 0.4, 0.6, 0.8, 1, 1.2].map((v) => ({ value: v, label: v === 0 ? '0 normal' : v === 1 ? '1 extreme' : String(v) }));
  x.chart('line-accuracy', 'Accuracy along the line', lineChart(names.map((k) => ({ label: k, values: s.line.points[k].map((p) => p.accuracy), color: colors[k] ?? '#7f7f7f', dots: true })), {
    title: 'Accuracy on the line from normal (α = 0) to extreme (α = 1)', xLabel: 'α: weights (1 − α)·normal + α·extreme', yLabel: 'accuracy', percent: true, yMin: 0, yMax: 1, xOf, xTicks,
  }));
  x.chart('line-loss', 'Loss along the line', lineChart(names.map((k) => ({ label: k, values: s.line.points[k].map((p) => p.loss), color: colors[k] ?? '#7f7f7f', dots: true })), {
    title: 'Cross-entropy on the line from normal (α = 0) to extreme (α = 1)', xLabel: 'α: weights (1 − α)·normal + α·extreme', yLabel: 'loss (log scale)', logY: true, xOf, xTicks,
  }));
  const sh = s.sharpness;
  x.chart('sharpness', 'Sharpness', lineChart([
    { label: 'normal solution, clean training loss', values: sh.normal.increase, color: '#1f77b4', dots: true },
    { label: 'extreme point, clean training loss', values: sh.extreme.increase, color: '#d62728', dots: true },
    { label: 'extreme point, loss on the memorized wrong labels', values: sh.extremeCorrupted.increase, color: '#ff7f0e', dots: true, dash: '5 3' },
  ], {
    title: `Sharpness: loss rise under random perturbations w ± δ (${sh.directions} directions)`, xLabel: 'perturbation size ε (relative to each tensor\'s norm)', yLabel: 'loss increase (log scale)', logY: true,
    xOf: (i) => Math.log10(EPSILONS[i]), xTicks: EPSILONS.map((e) => ({ value: Math.log10(e), label: String(e) })),
  }));
  const f = (v: number): string => (Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(1));
  x.section('Sharpness (first repeat)', htmlTable(
    ['point, loss on', 'loss at the point', ...EPSILONS.map((e) => `rise at ε = ${e}`), ...EPSILONS.map((e) => `accuracy at ε = ${e}`)],
    ([['normal solution, clean training', sh.normal], ['extreme point, clean training', sh.extreme], ['extreme point, memorized wrong labels', sh.extremeCorrupted]] as [string, Sharpness][])
      .map(([label, v]) => [label, f(v.base), ...v.increase.map((d, i) => `${f(d)} ± ${f(v.spread[i])}`), ...v.accuracy.map((a) => pct(a))]),
  ));
}

function surfaceConclusions(s: Surface): string[] {
  const at = (name: string, alpha: number): Probe => s.line.points[name][s.line.alphas.indexOf(alpha)];
  const clean = s.line.points['clean training'];
  const inside = s.line.alphas.map((a, i) => ({ a, v: clean[i] })).filter((p) => p.a >= 0 && p.a <= 1);
  const worst = inside.reduce((w, p) => (p.v.accuracy < w.v.accuracy ? p : w));
  const mid = EPSILONS.indexOf(0.05);
  const sh = s.sharpness;
  const out = [
    `on the straight line between the normal solution and the extreme point (${s.distance.toFixed(1)} apart) the clean training loss rises by ${s.barrier.toFixed(3)} above the endpoints (clean training accuracy at worst ${pct(worst.v.accuracy)} at α = ${worst.a})` +
    (s.line.points['true test'] ? `; true test accuracy goes from ${pct(at('true test', 0).accuracy)} to ${pct(at('true test', 1).accuracy)}` : ''),
  ];
  if (mid >= 0) {
    out.push(`sharpness at ε = 0.05: the clean training loss rises by ${sh.normal.increase[mid].toPrecision(2)} at the normal solution and ${sh.extreme.increase[mid].toPrecision(2)} at the extreme point (${(sh.extreme.increase[mid] / Math.max(1e-12, sh.normal.increase[mid])).toFixed(1)}×); the memorized wrong labels' loss rises by ${sh.extremeCorrupted.increase[mid].toPrecision(2)}`);
  }
  return out;
}

/** A grid of example images with captions, as SVG with embedded PNG tiles. */
function imageGrid(ds: Dataset, split: { x: Uint8Array | Float32Array }, items: { index: number; caption: string }[], title: string): string {
  const [h, w, c] = ds.shape;
  const per = exampleSize(ds.shape);
  const zoom = Math.max(1, Math.floor(64 / Math.max(h, w)));
  const tileW = w * zoom;
  const cols = 8;
  const cellW = Math.max(tileW + 10, 160);
  const cellH = h * zoom + 34;
  const rows = Math.ceil(items.length / cols);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${cols * cellW + 20}" height="${rows * cellH + 50}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="24" font-size="15">${esc(title)}</text>`];
  items.forEach((it, k) => {
    const png = new PNG({ width: tileW, height: h * zoom });
    for (let yy = 0; yy < h * zoom; yy++) {
      for (let xx = 0; xx < tileW; xx++) {
        const src = it.index * per + (Math.floor(yy / zoom) * w + Math.floor(xx / zoom)) * c;
        const px = (ch: number): number => { const v = split.x[src + Math.min(ch, c - 1)]; return split.x instanceof Uint8Array ? v : Math.round(255 * v); };
        const o = (yy * tileW + xx) * 4;
        png.data[o] = px(0);
        png.data[o + 1] = px(1);
        png.data[o + 2] = px(2);
        png.data[o + 3] = 255;
      }
    }
    const uri = `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
    const gx = 10 + (k % cols) * cellW;
    const gy = 40 + Math.floor(k / cols) * cellH;
    out.push(`<image x="${gx}" y="${gy}" width="${tileW}" height="${h * zoom}" href="${uri}"/>`);
    out.push(`<text x="${gx}" y="${gy + h * zoom + 14}">${esc(it.caption)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

/**
 * Per-example tracking: every training example's correctness after every epoch (a bitmap),
 * forgetting events (correct → wrong), never-learned and most-forgotten examples; with label
 * noise injected, how well "never learned or learned late" flags the noisy examples.
 */
export async function memorization(o: ExperimentOptions, noise = 0.2): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'mnist';
  const facts = await dataFacts(dataset, o);
  const model = o.model ?? 'paper-mlp';
  const subset = o.subset ?? (small ? 200 : 1000);
  const epochs = o.epochs ?? (small ? 30 : 60);
  const seed = o.seed;
  const x = new Experiment('memorization', 'Memorization: which examples are learned late, forgotten, never learned', `${facts.name}, ${fmtInt(subset * facts.classes)} training examples with ${pct(noise)} of labels flipped, ${model}, Adam 1e-3 batch 128, ${epochs} epochs; correctness of every example recorded after every epoch`, o, 1);
  // the clean labels of the same examples (the tools are deterministic: same split, same subset)
  const ds = await loadDataset(dataset, { dataDir: o.dataDir });
  const per = exampleSize(ds.shape);
  const cleanPart = applyTools(applyVal(ds.train, parseVal('0.1'), ds.classes, per, seed).train, { subset }, ds, per, seed);
  let bits: Uint8Array[] = [];
  let lossAt: Float32Array | null = null;
  let trainY: Int32Array | null = null;
  let trainX: Uint8Array | Float32Array | null = null;
  const arm = await x.arm(`${model}, ${pct(noise)} label noise`, {
    model, modelSpec: preset(model, facts.shape, facts.classes), dataset, epochs, batchSize: 128, optimizer: 'adam', val: '0.1', checkpoint: 'none',
    tools: { subset, labelNoise: noise },
  }, {
    repeats: 1,
    // every epoch's correctness bits are recorded with the run (kept across a resume), packed in base64
    onEpoch: (ctx) => {
      const probs = ctx.trainer.predict(ctx.train.x, ctx.dataset.scale);
      const k = ctx.dataset.classes;
      const b = new Uint8Array(ctx.train.y.length);
      for (let i = 0; i < b.length; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
        b[i] = best === ctx.train.y[i] ? 1 : 0;
      }
      return packBits(b).toString('base64');
    },
    // the final model (no early stopping: the last epoch's) gives each example's loss
    measure: (ctx) => {
      const probs = ctx.trainer.predict(ctx.train.x, ctx.dataset.scale);
      const k = ctx.dataset.classes;
      const n = ctx.train.y.length;
      lossAt = Float32Array.from({ length: n }, (_, i) => -Math.log(Math.max(1e-12, probs[i * k + ctx.train.y[i]])));
      trainY = ctx.train.y;
      trainX = ctx.train.x;
      return {};
    },
  });
  if (trainY) {
    const n = (trainY as Int32Array).length;
    bits = arm.runs[0].epochRecords.map((r) => {
      const packed = Buffer.from(String(r), 'base64');
      return Uint8Array.from({ length: n }, (_, i) => (packed[i >> 3] >> (i & 7)) & 1);
    });
  }
  const y = trainY as Int32Array | null;
  if (!y || !trainX) throw new Error('memorization: no epoch was recorded');
  const n = y.length;
  const noisy = Uint8Array.from({ length: n }, (_, i) => (cleanPart.y[i] !== y[i] ? 1 : 0));
  const forgetting = new Int32Array(n);
  const firstLearned = new Int32Array(n).fill(-1);
  for (let e = 0; e < bits.length; e++) {
    for (let i = 0; i < n; i++) {
      if (bits[e][i] && firstLearned[i] < 0) firstLearned[i] = e;
      if (e > 0 && bits[e - 1][i] && !bits[e][i]) forgetting[i]++;
    }
  }
  // flag: learned late (after the median clean example's first-learned epoch × 3, or never) — the noisy ones
  const cleanFirst = [...firstLearned].filter((_, i) => !noisy[i]).map((v) => (v < 0 ? bits.length : v)).sort((a, b) => a - b);
  const threshold = Math.max(1, cleanFirst[Math.floor(cleanFirst.length * 0.9)] ?? 1);
  const flagged = Uint8Array.from({ length: n }, (_, i) => (firstLearned[i] < 0 || firstLearned[i] > threshold ? 1 : 0));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    if (flagged[i] && noisy[i]) tp++;
    else if (flagged[i]) fp++;
    else if (noisy[i]) fn++;
  }
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  // loss ranking at the middle of training is another flag: top noise-rate fraction by loss at the end of epoch 1… use final loss
  const loss = lossAt as Float32Array | null;
  const never = [...firstLearned.keys()].filter((i) => firstLearned[i] < 0);
  const mostForgotten = [...forgetting.keys()].sort((a, b) => forgetting[b] - forgetting[a]).slice(0, 16);
  const total = forgetting.reduce((a, b) => a + b, 0);
  const bitmap = bits.reduce((s, b) => s + Math.ceil(b.length / 8), 0);
  writeFileAtomic(join(x.dir, 'correctness.bin'), Buffer.concat(bits.map((b) => packBits(b))));
  x.table = {
    header: ['examples', 'noisy (flipped)', 'forgetting events', 'never learned', 'flagged (late or never)', 'precision', 'recall', 'noise rate'],
    rows: [[fmtInt(n), fmtInt(noisy.reduce((a, b) => a + b, 0)), fmtInt(total), fmtInt(never.length), fmtInt(flagged.reduce((a, b) => a + b, 0)), pct(precision), pct(recall), pct(noise)]],
  };
  const learnedCurve = (sel: (i: number) => boolean): number[] => bits.map((b) => { let c = 0; let m = 0; for (let i = 0; i < n; i++) if (sel(i)) { m++; c += b[i]; } return c / Math.max(1, m); });
  x.chart('learned', 'Fraction correct over epochs', lineChart([
    { label: 'clean examples', values: learnedCurve((i) => !noisy[i]), color: '#1f77b4', dots: true },
    { label: 'examples with flipped labels (fit to the wrong label)', values: learnedCurve((i) => noisy[i] === 1), color: '#d62728', dots: true },
  ], { title: 'Clean examples are learned first; noisy labels are memorized late', xLabel: 'epoch', yLabel: 'fraction classified as labelled', percent: true }));
  const names = ds.classNames;
  const gridItems = [...never.slice(0, 8), ...mostForgotten.filter((i) => !never.includes(i)).slice(0, 8)].map((i) => ({ index: i, caption: `${names[y[i]] ?? y[i]}${noisy[i] ? ' (flipped)' : ''}; ${firstLearned[i] < 0 ? 'never' : `forgot ${forgetting[i]}×`}` }));
  if (gridItems.length) x.chart('hard-examples', 'Never-learned and most-forgotten examples', imageGrid(ds, { x: trainX }, gridItems, 'Never learned (first) and most forgotten training examples, with their training labels'));
  x.conclusions.push(`flagging examples learned late (after epoch ${threshold + 1}) or never finds the flipped labels with precision ${pct(precision)} (noise rate ${pct(noise)}) and recall ${pct(recall)}`);
  x.conclusions.push(`${fmtInt(total)} forgetting events; ${fmtInt(never.length)} examples never learned; correctness bitmap ${fmtInt(bitmap)} bytes (correctness.bin)`);
  if (loss) {
    const order = [...loss.keys()].sort((a, b) => loss[b] - loss[a]).slice(0, Math.round(noise * n));
    const hits = order.filter((i) => noisy[i]).length;
    x.conclusions.push(`at the end of training, the ${fmtInt(order.length)} highest-loss examples are ${pct(hits / Math.max(1, order.length))} flipped labels`);
  }
  void arm;
  bits = [];
  return x.finish({ precision, recall, noise, forgettingEvents: total, neverLearned: never.length });
}

function packBits(b: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(b.length / 8));
  for (let i = 0; i < b.length; i++) if (b[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}
