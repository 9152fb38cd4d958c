/**
 * The dataset-tool flags of `fitlab train` (--subset, --imbalance, --label-noise,
 * --random-labels, --corrupt-test) on real MNIST: what reaches training is recorded in
 * config.json (counts per class), validation and test stay whole, and bad values get a clear
 * one-line error. Skipped, with the reason in its name, when MNIST is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf, testDataRoot } from './cli-helpers.js';

const data = testDataRoot();
const mnist = data.root ? join(data.root, 'mnist') : null;
const missing = !mnist ? data.reason : existsSync(mnist) ? '' : `${mnist} does not exist`;

interface Config {
  dataset: { train: number; val: number; test: number; trainClassCounts: number[]; tools: Record<string, unknown> | null };
}

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-tools-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function train(extra: string[]): { config: Config; out: { test: { accuracy: number } } } {
  const r = fitlab(['train', '--model', 'paper-mlp', '--dataset', mnist!, '--epochs', '1', '--out', tmp, '--quiet', '--json', ...extra], { timeoutMs: 120_000 });
  const out = jsonOf<{ runDir: string; test: { accuracy: number } }>(r);
  const config = JSON.parse(readFileSync(join(out.runDir, 'config.json'), 'utf8')) as Config;
  return { config, out };
}

describe.skipIf(Boolean(missing))(`dataset tools on MNIST${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('--subset keeps N per class of the training part; validation and test stay whole', () => {
    const { config } = train(['--subset', '30']);
    expect(config.dataset.trainClassCounts).toEqual(new Array(10).fill(30));
    expect(config.dataset.train).toBe(300);
    expect(config.dataset.val).toBe(6000);
    expect(config.dataset.test).toBe(10000);
    expect(config.dataset.tools).toEqual({ subset: 30 });
  });

  it('--imbalance keeps the given fraction of each class (after --subset)', () => {
    const ratios = [1, 1, 1, 1, 1, 0.5, 0.5, 0.1, 0.1, 0];
    const { config } = train(['--subset', '40', '--imbalance', ratios.join(',')]);
    expect(config.dataset.trainClassCounts).toEqual(ratios.map((r) => Math.round(40 * r)));
  });

  it('--label-noise and --random-labels keep the example count and hurt a small model', () => {
    const clean = train(['--subset', '50']);
    const noisy = train(['--subset', '50', '--random-labels', '1']);
    expect(noisy.config.dataset.train).toBe(500);
    expect(noisy.config.dataset.tools).toEqual({ subset: 50, randomLabels: 1 });
    // labels drawn at random carry no information: test accuracy near chance, far below clean
    expect(clean.out.test.accuracy).toBeGreaterThan(0.6);
    expect(noisy.out.test.accuracy).toBeLessThan(0.3);
    const some = train(['--subset', '50', '--label-noise', '0.3']);
    expect(some.config.dataset.train).toBe(500);
    expect(some.config.dataset.tools).toEqual({ subset: 50, labelNoise: 0.3 });
  });

  it('--corrupt-test appends copies of the test set with wrong labels', () => {
    const { config } = train(['--subset', '20', '--corrupt-test', '2']);
    expect(config.dataset.train).toBe(200 + 2 * 10000);
    expect(config.dataset.test).toBe(10000);
    expect(config.dataset.tools).toEqual({ subset: 20, corruptTest: 2 });
  });

  it.each([
    [['--imbalance', '1,2'], /--imbalance takes comma-separated fractions in \[0, 1\]/],
    [['--imbalance', '1,1'], /--imbalance needs one ratio per class \(10\); received 2/],
    [['--label-noise', '1.5'], /--label-noise/],
    [['--corrupt-test', 'many'], /--corrupt-test takes a whole number of copies >= 1 or 'auto'; received "many"/],
    [['--subset', '0'], /--subset/],
  ])('%j is refused with a clear error', (args, message) => {
    const r = fitlab(['train', '--model', 'paper-mlp', '--dataset', mnist!, '--epochs', '1', '--out', tmp, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
