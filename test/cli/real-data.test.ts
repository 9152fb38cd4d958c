/**
 * The issue's acceptance runs on real data, through the command line exactly as written there:
 *   fitlab train --model paper-mlp --dataset fashion-mnist --epochs 3      → test accuracy ≥ 0.85
 *   fitlab train --model paper-mlp --dataset <test data>/mnist --epochs 3 → test accuracy ≥ 0.97
 * (784-512-10 MLP, Adam 1e-3, batch 32, 10% validation, seed 42: fitlab reaches 0.869 and 0.978,
 * so the issue's bounds leave about one point of margin). Each is skipped, with the reason in
 * its name, when its data is absent: Fashion-MNIST from Debian's dataset-fashion-mnist
 * (/usr/share/datasets/fashion-mnist, or $FITLAB_TEST_DATA/fashion-mnist), MNIST from
 * $FITLAB_TEST_DATA/mnist or <project root>/../shared/datasets/mnist. About ten seconds each
 * on two cores.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANG_GUARD, ensureBuilt, fitlab, jsonOf, testDataRoot } from './cli-helpers.js';

interface TrainJson {
  epochsRun: number;
  epochSeconds: number;
  test: { loss: number; accuracy: number };
  final: { accuracy: number; val_accuracy: number };
}

const data = testDataRoot();
const mnist = data.root ? join(data.root, 'mnist') : null;
const mnistMissing = !mnist ? data.reason : existsSync(mnist) ? '' : `${mnist} does not exist`;

// `--dataset fashion-mnist` finds Debian's folder by itself; a copy under FITLAB_TEST_DATA is
// passed with --data-dir
const fashionDirs = [...(data.root ? [join(data.root, 'fashion-mnist')] : []), '/usr/share/datasets/fashion-mnist'];
const fashion = fashionDirs.find((d) => existsSync(d)) ?? null;
const fashionMissing = fashion ? '' : `none of ${fashionDirs.join(', ')} exists (apt-get install dataset-fashion-mnist)`;

let tmp = '';
beforeAll(() => {
  if (fashion || mnist) ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-real-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function acceptance(dataset: string, extra: string[] = []): TrainJson {
  const r = fitlab(['train', '--model', 'paper-mlp', '--dataset', dataset, ...extra, '--epochs', '3', '--out', tmp, '--json'], { timeoutMs: 170_000 });
  return jsonOf<TrainJson>(r);
}

describe('acceptance runs on real data', () => {
  it.skipIf(!fashion)(`paper-mlp on Fashion-MNIST, 3 epochs: test accuracy ≥ 0.85, epoch time reported${fashion ? '' : ` — skipped: ${fashionMissing}`}`, () => {
    const extra = fashion && fashion !== '/usr/share/datasets/fashion-mnist' ? ['--data-dir', join(fashion, '..')] : [];
    const r = acceptance('fashion-mnist', extra);
    expect(r.epochsRun).toBe(3);
    expect(r.test.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(r.epochSeconds).toBeGreaterThan(0);
  }, 180_000 * HANG_GUARD);

  it.skipIf(Boolean(mnistMissing))(`paper-mlp on MNIST (a dataset folder), 3 epochs: test accuracy ≥ 0.97${mnistMissing ? ` — skipped: ${mnistMissing}` : ''}`, () => {
    const r = acceptance(mnist as string);
    expect(r.epochsRun).toBe(3);
    expect(r.test.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(r.epochSeconds).toBeGreaterThan(0);
  }, 180_000 * HANG_GUARD);
});
