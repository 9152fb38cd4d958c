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
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldSplit } from '../../src/data/splits.js';
import { biasVariance } from '../../src/experiments/memorize.js';
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
  it('bias² falls and variance rises with the degree; the expected error is U-shaped', async () => {
    const out = await biasVariance({ out: tmp, scale: 'small', seed: 1, repeats: 1, log: () => undefined }) as { rows: { degree: number; bias2: number; variance: number; total: number }[]; uShape: boolean; bestDegree: number };
    const r = out.rows;
    expect(out.uShape).toBe(true);
    expect(r[0].bias2).toBeGreaterThan(10 * r[4].bias2);
    expect(r[r.length - 1].variance).toBeGreaterThan(5 * r[2].variance);
    expect(out.bestDegree).toBeGreaterThan(1);
    expect(out.bestDegree).toBeLessThan(r[r.length - 1].degree);
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

  it('bad options are refused clearly', () => {
    const r = fitlab(['experiment', 'sweep', '--param', 'momentum', '--dataset', mnist!, '--out', tmp]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--param must be one of l2, l1, dropout, weight-decay, augment, lr; received "momentum"/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
