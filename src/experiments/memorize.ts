/**
 * Experiments II: memorization. Random labels (Zhang et al.), extreme overfitting points (the
 * empirical study's protocol), per-example forgetting events with injected label noise, and
 * the bias–variance decomposition versus model complexity.
 */
import { PNG } from 'pngjs';
import { type Dataset, exampleSize } from '../data/dataset.js';
import { loadDataset } from '../data/locate.js';
import { applyVal, parseVal } from '../data/splits.js';
import { readWeightsLog } from '../diagnose/run-report.js';
import { PALETTE, type Series, esc, histogramChart, lineChart } from '../diagnose/svg.js';
import { svgToPng } from '../diagnose/png.js';
import { writeFileAtomic } from '../io/atomic.js';
import { applyTools } from '../run/train-run.js';
import { RandomStream } from '../tensor/prng.js';
import { join } from 'node:path';
import { armCurves, dataFacts, fmtInt, perArmChart } from './common.js';
import { type Arm, Experiment, type ExperimentOptions, stat } from './experiment.js';
import { htmlTable } from './report.js';
import { solveSpd } from './ridge.js';
import { preset } from './specs.js';

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

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
  for (const p of fractions) {
    await x.arm(`p = ${p}`, {
      model, modelSpec: preset(model, facts.shape, facts.classes), dataset, epochs, batchSize: 128, optimizer: 'adam', val: '0.1', checkpoint: 'none',
      tools: { ...(subset ? { subset } : {}), ...(p > 0 ? { randomLabels: p } : {}) },
    }, { extra: { p } });
  }
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

/**
 * Extreme overfitting points: train on the training set plus the test set with every label
 * wrong (duplicated to about the training size) until it is memorized; the clean training
 * accuracy stays ~100% while the true test accuracy collapses. Compared with normal training.
 */
export async function extreme(o: ExperimentOptions): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'mnist';
  const facts = await dataFacts(dataset, o);
  const model = o.model ?? 'paper-mlp';
  const subset = o.subset ?? (small ? 1000 : undefined);
  const epochs = o.epochs ?? (small ? 150 : 300);
  const repeats = o.repeats;
  const spec = preset(model, facts.shape, facts.classes);
  const n = subset ? subset * facts.classes : Math.round(facts.train * 0.9);
  const copies = Math.max(1, Math.round(n / facts.test));
  const x = new Experiment('extreme', 'Extreme overfitting points', `${facts.name}, ${fmtInt(n)} clean training examples + the ${fmtInt(facts.test)} test images with wrong labels ×${copies}; ${model} (glorot-uniform), Adam 1e-3 batch 128, ${epochs} epochs; ${repeats} repeat${repeats > 1 ? 's' : ''}`, o, (4 + 0) * repeats);
  const base = { model, dataset, epochs, batchSize: 128, optimizer: 'adam', val: '0.05', checkpoint: 'none' as const };
  const clean = (ctx: Parameters<NonNullable<Parameters<Experiment['arm']>[2]>['measure'] & object>[0], cleanN: number): Record<string, unknown> => {
    const part = { x: ctx.train.x.subarray(0, cleanN * exampleSize(ctx.dataset.shape)), y: ctx.train.y.subarray(0, cleanN) };
    return { cleanTrain: ctx.trainer.evaluate(part, ctx.dataset.scale).accuracy };
  };
  const normal = await x.arm('normal training', { ...base, modelSpec: spec, tools: subset ? { subset } : undefined }, { measure: (ctx) => clean(ctx, ctx.train.y.length) });
  const ext = await x.arm('extreme point', { ...base, modelSpec: spec, tools: { ...(subset ? { subset } : {}), corruptTest: copies } }, { measure: (ctx) => clean(ctx, ctx.train.y.length - copies * facts.test) });
  const l2Spec = { ...spec, layers: spec.layers.map((l) => (l.type === 'dense' ? { ...l, kernelRegularizer: { l2: 1e-4 } } : l)) };
  const extL2 = await x.arm('extreme point with L2 1e-4', { ...base, modelSpec: l2Spec, tools: { ...(subset ? { subset } : {}), corruptTest: copies } }, { measure: (ctx) => clean(ctx, ctx.train.y.length - copies * facts.test) });
  // plain SGD restarted from each extreme point on the clean training data
  const restarts: Arm[] = [];
  for (const r of ext.runs) {
    const restart = await x.arm(`SGD restart from extreme point (seed ${r.seed})`, {
      ...base, model: join(r.runDir, 'model-final', 'model.json'), optimizer: { name: 'sgd', learningRate: 0.05 }, epochs: small ? 40 : 100,
      tools: subset ? { subset } : undefined,
    }, { repeats: 1, measure: (ctx) => clean(ctx, ctx.train.y.length) });
    restarts.push(restart);
  }
  const dist = (a: Arm): number[] => a.runs.map((r) => finalDistance(r.runDir));
  const dn = dist(normal);
  const de = dist(ext);
  const dl = dist(extL2);
  const cleanOf = (a: Arm): number[] => a.runs.map((r) => r.measured.cleanTrain as number);
  const row = (a: Arm, d: number[]): string[] => {
    const c = stat(cleanOf(a));
    const dd = stat(d);
    return [a.label, `${pct(c.mean)}${c.n > 1 ? ` ± ${(100 * c.std).toFixed(1)}` : ''}`, `${pct(a.test.mean)}${a.test.n > 1 ? ` ± ${(100 * a.test.std).toFixed(1)}` : ''}`, `${dd.mean.toFixed(1)}${dd.n > 1 ? ` ± ${dd.std.toFixed(1)}` : ''}`];
  };
  x.table = {
    header: ['run', 'clean training accuracy', 'true test accuracy', '‖w − w₀‖ (from its own start)'],
    rows: [row(normal, dn), row(ext, de), row(extL2, dl), ...restarts.map((a) => row(a, dist(a)))],
  };
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
  x.chart('distance-histogram', '‖w − w₀‖', histogramChart([
    { label: 'normal training', edges, counts: hist(dn), color: '#1f77b4' },
    { label: 'extreme points', edges, counts: hist(de), color: '#d62728' },
    { label: 'extreme points with L2', edges, counts: hist(dl), color: '#ff7f0e' },
  ], { title: `Distance from initialization over ${repeats} repeat${repeats > 1 ? 's' : ''}`, xLabel: '‖w − w₀‖' }));
  x.chart('restart', 'SGD restart', lineChart(restarts.map((a, k) => ({ label: a.label, values: a.runs[0].history.map((e) => e.val_accuracy ?? Number.NaN), color: PALETTE[k % PALETTE.length], dots: true })), { title: 'Plain SGD from the extreme point on clean data: held-out accuracy over epochs', xLabel: 'epoch', yLabel: 'validation accuracy', percent: true, yMin: 0 }));
  armCurves(x, [normal, ext]);
  const everyRepeat = de.every((d, i) => d > dn[i]);
  x.conclusions.push(`extreme points: clean training accuracy ${pct(stat(cleanOf(ext)).mean)}, true test accuracy ${pct(ext.test.mean)} (normal training: ${pct(normal.test.mean)})`);
  x.conclusions.push(`‖w − w₀‖: extreme ${stat(de).mean.toFixed(1)} vs normal ${stat(dn).mean.toFixed(1)}; larger in ${de.filter((d, i) => d > dn[i]).length} of ${de.length} repeats`);
  x.conclusions.push(`with L2 1e-4 the extreme point is still reached: clean training ${pct(stat(cleanOf(extL2)).mean)}, test ${pct(extL2.test.mean)}`);
  x.conclusions.push(`SGD restarts on clean data: test accuracy back to ${restarts.map((a) => pct(a.test.mean)).join(', ')}`);
  x.notes.push('not yet measured here: the loss along the straight line between a normal and an extreme solution, and sharpness under random weight perturbations');
  return x.finish({ distances: { normal: dn, extreme: de, extremeL2: dl }, everyRepeatFarther: everyRepeat, restartTest: restarts.map((a) => a.test.mean) });
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
    onEpoch: (ctx) => {
      const probs = ctx.trainer.predict(ctx.train.x, ctx.dataset.scale);
      const k = ctx.dataset.classes;
      const n = ctx.train.y.length;
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
        b[i] = best === ctx.train.y[i] ? 1 : 0;
      }
      bits.push(b);
      lossAt = Float32Array.from({ length: n }, (_, i) => -Math.log(Math.max(1e-12, probs[i * k + ctx.train.y[i]])));
      trainY = ctx.train.y;
      trainX = ctx.train.x;
    },
  });
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

/** Chebyshev features of x ∈ [-1, 1] up to `degree` (well conditioned for least squares). */
function cheb(x: number, degree: number): number[] {
  const t = [1, x];
  for (let k = 2; k <= degree; k++) t.push(2 * x * t[k - 1] - t[k - 2]);
  return t.slice(0, degree + 1);
}

function fitPoly(xs: number[], ys: number[], degree: number): number[] {
  const d = degree + 1;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  xs.forEach((x, i) => {
    const f = cheb(x, degree);
    for (let j = 0; j < d; j++) {
      b[j] += f[j] * ys[i];
      for (let k = 0; k < d; k++) a[j * d + k] += f[j] * f[k];
    }
  });
  for (let j = 0; j < d; j++) a[j * d + j] += 1e-9;
  return [...solveSpd(a, b, d)];
}

/**
 * Bias–variance: fit polynomials of growing degree to bootstrap resamples of a noisy training
 * set drawn from a known function; at test points, bias² = (mean prediction − truth)², variance
 * = spread of the predictions, noise = σ². Their sum tracks the test error: the U.
 */
export function biasVariance(o: ExperimentOptions): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const n = 40;
  const sigma = 0.3;
  const boots = small ? 200 : 1000;
  const degrees = small ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 4, 5, 6, 8, 10, 12, 15];
  const f = (x: number): number => Math.sin(Math.PI * x) + 0.5 * x;
  const x = new Experiment('bias-variance', 'Bias–variance decomposition vs model complexity', `y = sin(πx) + x/2 + N(0, ${sigma}²) on [-1, 1], ${n} training points, ${boots} bootstrap resamples, polynomial degree ${degrees.join(', ')}`, o, 0);
  const rng = new RandomStream(o.seed, 91);
  const xs = Array.from({ length: n }, () => 2 * rng.uniform() - 1);
  const ys = xs.map((v) => f(v) + sigma * rng.normal());
  const testX = Array.from({ length: 101 }, (_, i) => -0.98 + (1.96 * i) / 100);
  const rows: { degree: number; bias2: number; variance: number; noise: number; total: number; testError: number; trainError: number }[] = [];
  for (const degree of degrees) {
    const preds = testX.map(() => [] as number[]);
    for (let b = 0; b < boots; b++) {
      const idx = Array.from({ length: n }, () => rng.uniformInt(n));
      const w = fitPoly(idx.map((i) => xs[i]), idx.map((i) => ys[i]), degree);
      testX.forEach((t, j) => preds[j].push(cheb(t, degree).reduce((s, c, k) => s + c * w[k], 0)));
    }
    let bias2 = 0;
    let variance = 0;
    let testError = 0;
    testX.forEach((t, j) => {
      const p = preds[j];
      const mean = p.reduce((a, v) => a + v, 0) / p.length;
      bias2 += (mean - f(t)) ** 2;
      variance += p.reduce((a, v) => a + (v - mean) ** 2, 0) / p.length;
      testError += p.reduce((a, v) => a + (v - f(t)) ** 2, 0) / p.length + sigma ** 2;
    });
    const m = testX.length;
    const w = fitPoly(xs, ys, degree);
    const trainError = xs.reduce((a, v, i) => a + (cheb(v, degree).reduce((s, c, k) => s + c * w[k], 0) - ys[i]) ** 2, 0) / n;
    rows.push({ degree, bias2: bias2 / m, variance: variance / m, noise: sigma ** 2, total: bias2 / m + variance / m + sigma ** 2, testError: testError / m, trainError });
  }
  const series: Series[] = [
    { label: 'bias²', values: rows.map((r) => r.bias2), color: '#1f77b4', dots: true },
    { label: 'variance', values: rows.map((r) => r.variance), color: '#ff7f0e', dots: true },
    { label: 'noise σ²', values: rows.map((r) => r.noise), color: '#7f7f7f', dash: '4 3' },
    { label: 'bias² + variance + noise (expected test error)', values: rows.map((r) => r.total), color: '#d62728', width: 3, dots: true },
    { label: 'training error (one fit)', values: rows.map((r) => r.trainError), color: '#2ca02c', dash: '2 3' },
  ];
  x.chart('bias-variance', 'Bias–variance', lineChart(series, { title: 'Bias², variance and expected test error vs polynomial degree', xLabel: 'polynomial degree', yLabel: 'squared error', logY: true, xOf: (i) => rows[i].degree }));
  x.table = { header: ['degree', 'bias²', 'variance', 'noise', 'expected test error', 'training error'], rows: rows.map((r) => [String(r.degree), r.bias2.toFixed(4), r.variance.toFixed(4), r.noise.toFixed(4), r.total.toFixed(4), r.trainError.toFixed(4)]) };
  const best = rows.reduce((b, r) => (r.total < b.total ? r : b));
  x.conclusions.push(`the expected test error is lowest at degree ${best.degree} (${best.total.toFixed(3)}); below it bias² dominates (degree 1: ${rows[0].bias2.toFixed(3)}), above it variance grows (degree ${rows[rows.length - 1].degree}: ${rows[rows.length - 1].variance.toFixed(3)}): the U`);
  const u = rows[0].total > best.total && rows[rows.length - 1].total > best.total;
  void perArmChart;
  void svgToPng;
  void htmlTable;
  return Promise.resolve(x.finish({ rows, uShape: u, bestDegree: best.degree }));
}
