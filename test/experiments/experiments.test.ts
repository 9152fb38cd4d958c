/**
 * Experiments (issues 7 and 8): the ridge closed form and gradient descent on fitlab's own Dense
 * layer agree to 1e-4 and the Lasso zeroes the irrelevant weights; k-fold splits partition the
 * data; the bias–variance decomposition is U-shaped; through the CLI on real MNIST, overfit-batch
 * passes for lecture-cnn and fails clearly (exit 4) for the tiny model, and a small sweep with
 * 2-fold cross-validation writes its experiment directory (experiment.json, report.html, charts,
 * runs). MNIST tests skip with the reason in their name when the data is absent.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldSplit } from '../../src/data/splits.js';
import { type ZeroOneRow, averageZeroOne, bayesLabel, biasVariance, featureCount, fitLogistic, polyFeatures2d, zeroOneDecomposition } from '../../src/experiments/bias-variance.js';
import { gradientDescent, lassoIsta, maxAbsDiff, ridgeClosedForm, ridgeTask } from '../../src/experiments/ridge.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf, testDataRoot } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-exp-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ridge regression', () => {
  const task = ridgeTask(7);
  it.each([0.001, 0.01, 0.1, 1])('λ=%s: closed form (XᵀX + nλI)⁻¹Xᵀy = gradient descent with l2 on a Dense layer, to 1e-4', (lambda) => {
    const cf = ridgeClosedForm(task, lambda);
    const gd = gradientDescent(task, { l2: lambda });
    expect(maxAbsDiff(cf, gd)).toBeLessThan(1e-4);
    // and it is a ridge solution, not least squares: the weights shrink as λ grows
    if (lambda === 1) expect(Math.hypot(...cf)).toBeLessThan(Math.hypot(...ridgeClosedForm(task, 0.001)));
  });

  it('the closed form satisfies the normal equations of (1/n)‖y − Xw‖² + λ‖w‖²', () => {
    const lambda = 0.1;
    const w = ridgeClosedForm(task, lambda);
    const { n, d, x, y } = task;
    for (let j = 0; j < d; j++) {
      let g = 2 * lambda * w[j];
      for (let i = 0; i < n; i++) {
        let p = 0;
        for (let k = 0; k < d; k++) p += x[i * d + k] * w[k];
        g += (2 / n) * (p - y[i]) * x[i * d + j];
      }
      expect(Math.abs(g)).toBeLessThan(1e-9);
    }
  });

  it('Lasso zeroes most irrelevant weights exactly and keeps the true ones; ridge zeroes none', () => {
    // (a noise feature that happens to correlate with the residual may keep a small weight, so
    // not all 15 are guaranteed; ridge never gives an exact zero)
    const lasso = lassoIsta(task, 0.1);
    const ridge = ridgeClosedForm(task, 0.1);
    const irrelevant = [...task.truth.keys()].filter((j) => task.truth[j] === 0);
    expect(irrelevant.filter((j) => lasso[j] === 0).length).toBeGreaterThanOrEqual(12);
    for (let j = 0; j < task.d; j++) {
      if (task.truth[j] !== 0) expect(Math.abs(lasso[j])).toBeGreaterThan(0.5);
      expect(ridge[j]).not.toBe(0);
    }
  });
});

describe('k-fold split', () => {
  it('the K validation folds partition the examples, stratified per class', () => {
    const n = 103;
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const seen = new Map<number, number>();
    for (let f = 1; f <= 4; f++) {
      const { train, val } = foldSplit({ x, y }, f, 4, 3, 1, 5);
      expect(train.y.length + val.y.length).toBe(n);
      for (const v of val.x) seen.set(v, (seen.get(v) ?? 0) + 1);
      for (const v of train.x) expect([...val.x]).not.toContain(v);
      const counts = [0, 1, 2].map((k) => val.y.filter((l) => l === k).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    expect(seen.size).toBe(n);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  });
});

describe('bias–variance', () => {
  type Output = { rows: { degree: number; bias2: number; variance: number; total: number }[]; uShape: boolean; bestDegree: number; classification: { rows: ZeroOneRow[]; uShape: boolean; bestDegree: number } };
  let out: Output;
  beforeAll(async () => {
    out = await biasVariance({ out: tmp, scale: 'small', seed: 1, repeats: 1, log: () => undefined }) as Output;
  });

  it('bias² falls and variance rises with the degree; the expected error is U-shaped', () => {
    const r = out.rows;
    expect(out.uShape).toBe(true);
    expect(r[0].bias2).toBeGreaterThan(10 * r[4].bias2);
    expect(r[r.length - 1].variance).toBeGreaterThan(5 * r[2].variance);
    expect(out.bestDegree).toBeGreaterThan(1);
    expect(out.bestDegree).toBeLessThan(r[r.length - 1].degree);
  });

  it('0-1 loss: bias + net variance + c₁-weighted noise equals the directly measured expected error at every degree', () => {
    const r = out.classification.rows;
    expect(r.map((row) => row.degree)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const row of r) {
      expect(Math.abs(row.total - row.expectedError)).toBeLessThan(1e-9);
      expect(Math.abs(row.bias + row.netVariance + row.noiseTerm - row.total)).toBeLessThan(1e-9);
      expect(row.noise).toBeCloseTo(0.1, 12);
    }
  });

  it('0-1 loss: the expected error is U-shaped in the degree and net variance grows with it', () => {
    const c = out.classification;
    const r = c.rows;
    const best = r.find((row) => row.degree === c.bestDegree)!;
    expect(c.uShape).toBe(true);
    expect(c.bestDegree).toBeGreaterThan(1);
    expect(c.bestDegree).toBeLessThan(10);
    expect(best.expectedError).toBeLessThan(r[0].expectedError - 0.02);
    expect(best.expectedError).toBeLessThan(r[r.length - 1].expectedError - 0.05);
    // the Bayes error is the floor, and no degree reaches it on 150 noisy points
    for (const row of r) expect(row.expectedError).toBeGreaterThan(0.1);
    // net variance: every high degree (6–10) above every low one (1–3), and 5× from degree 1 to 10
    expect(Math.max(...r.slice(0, 3).map((row) => row.netVariance))).toBeLessThan(Math.min(...r.slice(5).map((row) => row.netVariance)));
    expect(r[r.length - 1].netVariance).toBeGreaterThan(5 * r[0].netVariance);
    // the highest degree interpolates its training set while its expected error is the worst
    expect(r[r.length - 1].trainError).toBeLessThan(r[0].trainError / 4);
  });
});

describe('0-1 loss decomposition (Domingos 2000)', () => {
  it('one point, main prediction wrong: worked by hand', () => {
    // 5 models vote 1, 1, 0, 1, 0 where y* = 0: main 1 (wrong), V = P(vote ≠ 1) = 2/5,
    // c₁ = 2·P(vote = y*) − 1 = 2·0.4 − 1 = −0.2, c₂ = −1: loss = −0.2·0.1 + 1 − 0.4 = 0.58,
    // and directly: 2 votes right (err η = 0.1), 3 wrong (err 0.9): (2·0.1 + 3·0.9)/5 = 0.58
    const d = zeroOneDecomposition([1, 1, 0, 1, 0], 0, 0.1);
    expect(d.main).toBe(1);
    expect(d.bias).toBe(1);
    expect(d.variance).toBeCloseTo(0.4, 15);
    expect(d.c1).toBeCloseTo(-0.2, 15);
    expect(d.c2).toBe(-1);
    expect(d.noise).toBe(0.1);
    expect(d.loss).toBeCloseTo(0.58, 15);
  });

  it('one point, main prediction right; a tie goes to class 1', () => {
    // votes 0, 0, 0, 1 where y* = 0, η = 0.2: main 0, V = 1/4, c₁ = 2·0.75 − 1 = 0.5, c₂ = +1:
    // loss = 0.5·0.2 + 0 + 0.25 = 0.35 = 0.75·0.2 + 0.25·0.8
    const d = zeroOneDecomposition([0, 0, 0, 1], 0, 0.2);
    expect([d.main, d.bias, d.c2]).toEqual([0, 0, 1]);
    expect(d.variance).toBeCloseTo(0.25, 15);
    expect(d.c1).toBeCloseTo(0.5, 15);
    expect(d.loss).toBeCloseTo(0.35, 15);
    // votes 1, 0 where y* = 0: main 1 by the tie rule, bias 1, V = 1/2, c₁ = 0: loss 1 − 0.5 = 0.5
    const t = zeroOneDecomposition([1, 0], 0, 0.3);
    expect([t.main, t.bias, t.c2]).toEqual([1, 1, -1]);
    expect(t.variance).toBe(0.5);
    expect(t.c1).toBe(0);
    expect(t.loss).toBeCloseTo(0.5, 15);
    expect(() => zeroOneDecomposition([], 0, 0.1)).toThrow(/at least one prediction/);
  });

  it('averaged over points: unbiased and biased variance, the weighted noise, worked by hand', () => {
    // 3 points × 4 models, (points, models) row-major; η = 0.1
    // point 0, y* = 1, votes 1 1 1 0: B 0, V 1/4, c₁ 0.5   loss 0.05 + 0.25 = 0.30
    // point 1, y* = 0, votes 1 1 1 0: B 1, V 1/4, c₁ −0.5  loss −0.05 + 1 − 0.25 = 0.70
    // point 2, y* = 0, votes 0 0 0 0: B 0, V 0,   c₁ 1     loss 0.10
    const preds = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
    const t = averageZeroOne(preds, 4, Uint8Array.from([1, 0, 0]), 0.1);
    expect(t.bias).toBeCloseTo(1 / 3, 15);
    expect(t.unbiasedVariance).toBeCloseTo(0.25 / 3, 15);
    expect(t.biasedVariance).toBeCloseTo(0.25 / 3, 15);
    expect(t.netVariance).toBeCloseTo(0, 15);
    expect(t.noise).toBeCloseTo(0.1, 15);
    expect(t.noiseTerm).toBeCloseTo((0.05 - 0.05 + 0.1) / 3, 15);
    expect(t.total).toBeCloseTo((0.3 + 0.7 + 0.1) / 3, 15);
    expect(() => averageZeroOne(preds, 5, Uint8Array.from([1, 0, 0]), 0.1)).toThrow(/must be \(3, 5\)/);
  });

  it('logistic regression by Newton: the penalized gradient vanishes at the returned weights', () => {
    // separable data at degree 6 (28 features, 40 points): only the ridge keeps w finite
    const n = 40;
    const degree = 6;
    const p = featureCount(degree);
    const pts = new Float64Array(2 * n);
    const y = new Uint8Array(n);
    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      pts[2 * i] = Math.sin(1.7 * i + 0.3);
      pts[2 * i + 1] = Math.cos(2.9 * i);
      y[i] = bayesLabel(pts[2 * i], pts[2 * i + 1]);
      counts[i] = 1 + (i % 3);
    }
    const f = polyFeatures2d(pts, degree);
    expect(f.length).toBe(n * p);
    const lambda = 1e-3;
    const w = fitLogistic(f, p, y, counts, lambda);
    const g = Array.from(w, (v) => lambda * v);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let k = 0; k < p; k++) z += f[i * p + k] * w[k];
      const mu = 1 / (1 + Math.exp(-z));
      for (let k = 0; k < p; k++) g[k] += counts[i] * (mu - y[i]) * f[i * p + k];
      expect(z > 0 ? 1 : 0).toBe(y[i]);
    }
    expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-8);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(1);
  });
});

const data = testDataRoot();
const mnist = data.root ? join(data.root, 'mnist') : null;
const missing = !mnist ? data.reason : existsSync(mnist) ? '' : `${mnist} does not exist`;

describe.skipIf(Boolean(missing))(`experiments on MNIST through the CLI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => ensureBuilt());

  it('overfit-batch: lecture-cnn memorizes 40 examples (pass)', () => {
    const r = fitlab(['experiment', 'overfit-batch', '--model', 'lecture-cnn', '--dataset', mnist!, '--out', tmp, '--json', '--quiet'], { timeoutMs: 180_000 });
    const out = jsonOf<{ pass: boolean; trainingAccuracy: number[]; examples: number }>(r);
    expect(out.examples).toBe(40);
    expect(out.pass).toBe(true);
    expect(Math.min(...out.trainingAccuracy)).toBeGreaterThanOrEqual(0.99);
  });

  it('overfit-batch: the tiny model fails with a clear verdict and exit code 4', () => {
    const r = fitlab(['experiment', 'overfit-batch', '--model', 'tiny', '--dataset', mnist!, '--out', tmp], { timeoutMs: 120_000 });
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/FAIL: tiny reached only \d+\.\d% training accuracy on 40 examples/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    // the run's line says what overfit-batch measures, not a regime or a test accuracy (it has neither data)
    expect(r.stdout).toMatch(/\[1\/1\] tiny: \d+ epochs in \d+ s; training accuracy \d+\.\d% in inference mode, loss [\d.]+\n/);
    expect(r.stdout).not.toMatch(/healthy|; test /);
    // its report: the results table once, and a training-loss chart
    const report = /report: (\S+report\.html)/.exec(r.stdout)?.[1] ?? '';
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<th>training accuracy \(inference\)<\/th>/g)).toHaveLength(1);
    expect(html).toContain('Training loss on the 40 examples');
    expect(existsSync(join(dirname(report), 'loss.png'))).toBe(true);
  });

  it('sweep with 2-fold cross-validation writes experiment.json, report.html, charts and the runs', () => {
    const r = fitlab(['experiment', 'sweep', '--param', 'dropout', '--values', '0,0.5', '--folds', '2', '--subset', '20', '--epochs', '2', '--dataset', mnist!, '--out', tmp, '--json', '--quiet'], { timeoutMs: 120_000 });
    const out = jsonOf<{ dir: string; arms: { label: string; runs: unknown[] }[]; ridge: { maxDifference: number }[]; folds: number }>(r);
    expect(out.folds).toBe(2);
    expect(out.arms.map((a) => a.label)).toEqual(['dropout=0', 'dropout=0.5']);
    expect(out.arms.every((a) => a.runs.length === 2)).toBe(true);
    for (const f of ['experiment.json', 'report.html', 'validation-curve.png', 'validation-curve.svg', 'ridge.png']) expect(existsSync(join(out.dir, f))).toBe(true);
    expect(readdirSync(join(out.dir, 'runs'))).toHaveLength(4);
    const html = readFileSync(join(out.dir, 'report.html'), 'utf8');
    expect(html).toContain('Sweep of dropout');
    expect(html).toContain('Ridge regression');
    expect(out.ridge.every((x) => x.maxDifference < 1e-4)).toBe(true);
  });

  it('extreme at toy scale: repeats, restarts with their test curves, the line scan and sharpness, the report', () => {
    const r = fitlab(['experiment', 'extreme', '--subset', '20', '--epochs', '2', '--repeats', '2', '--restart-epochs', '2', '--dataset', mnist!, '--out', tmp, '--json', '--quiet'], { timeoutMs: 240_000 });
    const out = jsonOf<{
      dir: string; repeats: number; distances: Record<string, number[]>; everyRepeatFarther: boolean;
      testAccuracy: { extreme: number[] }; cleanTrain: { normal: number[] };
      restart: { lr: number; batch: number; epochs: number; test: number[]; curves: number[][] };
      gentleRestarts: { lr: number; batch: number; curve: number[] }[];
      surface: { line: { alphas: number[]; points: Record<string, { loss: number; accuracy: number }[]> }; sharpness: { normal: { increase: number[]; base: number }; extreme: { increase: number[] } }; distance: number };
    }>(r);
    expect(out.repeats).toBe(2);
    for (const k of ['normal', 'extreme', 'extremeL2']) {
      expect(out.distances[k]).toHaveLength(2);
      expect(out.distances[k].every((d) => d > 0)).toBe(true);
    }
    expect(out.everyRepeatFarther).toBe(out.distances.extreme.every((d, i) => d > out.distances.normal[i]));
    expect([out.restart.lr, out.restart.batch, out.restart.epochs]).toEqual([0.5, 32, 2]);
    expect(out.restart.test).toHaveLength(2);
    // a restart's curve starts at its extreme point's test accuracy, then one value per epoch, the last the final test
    out.restart.curves.forEach((c, i) => {
      expect(c).toHaveLength(3);
      expect(c[0]).toBe(out.testAccuracy.extreme[i]);
      expect(c[2]).toBeCloseTo(out.restart.test[i], 10);
    });
    expect(out.gentleRestarts.map((g) => [g.lr, g.batch, g.curve.length])).toEqual([[0.01, 128, 3], [0.1, 128, 3]]);
    const line = out.surface.line;
    expect(line.alphas).toHaveLength(29);
    expect(line.alphas[4]).toBe(0);
    expect(line.alphas[24]).toBe(1);
    expect(Object.keys(line.points).sort()).toEqual(['clean training', 'corrupted test copies (wrong labels)', 'true test']);
    // the same test images with their true and their wrong labels: a prediction matches at most one of them
    line.alphas.forEach((_, i) => {
      expect(line.points['true test'][i].accuracy + line.points['corrupted test copies (wrong labels)'][i].accuracy).toBeLessThanOrEqual(1 + 1e-12);
    });
    expect(out.surface.sharpness.normal.increase).toHaveLength(5);
    expect(out.surface.sharpness.extreme.increase.every(Number.isFinite)).toBe(true);
    expect(out.surface.distance).toBeGreaterThan(0);
    expect(existsSync(join(out.dir, 'distance-histogram.png'))).toBe(false); // drawn from 5 repeats on
    for (const f of ['distance.png', 'restart.png', 'line-accuracy.png', 'line-loss.png', 'sharpness.png', 'report.html']) expect(existsSync(join(out.dir, f))).toBe(true);
    expect(readFileSync(join(out.dir, 'report.html'), 'utf8')).toContain('Sharpness (first repeat)');
    expect(readdirSync(join(out.dir, 'runs'))).toHaveLength(3 * 2 + 2 + 2);
  });

  it('bad options are refused clearly', () => {
    const r = fitlab(['experiment', 'sweep', '--param', 'momentum', '--dataset', mnist!, '--out', tmp]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--param must be one of l2, l1, dropout, weight-decay, augment, lr; received "momentum"/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
