/**
 * The real run, through the command line: on a 1,000-image Fashion-MNIST subset
 * (`--subset 100` per class; validation and test stay whole), a big MLP (784-512-512-10, no
 * regularization) trained 40 epochs is diagnosed as overfitting with an onset epoch, and the
 * same MLP with dropout 0.5, L2 1e-3 on both hidden layers and early stopping (patience 3) comes
 * out healthier: not "overfitting", a much smaller final accuracy gap, a smaller validation-loss
 * rise. `fitlab compare` then draws both (compare.html and its PNGs). Both runs pin the seed
 * and 2 threads, so their numbers repeat. About 20 s on two cores. Skipped, with the reason in
 * its name, when Fashion-MNIST is absent (Debian's dataset-fashion-mnist, or
 * $FITLAB_TEST_DATA/fashion-mnist).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../src/diagnose/diagnose.js';
import type { WeightEpoch } from '../../src/diagnose/weights.js';
import { HANG_GUARD, ensureBuilt, fitlab, jsonOf, testDataRoot } from '../cli/cli-helpers.js';

const data = testDataRoot();
const fashionDirs = [...(data.root ? [join(data.root, 'fashion-mnist')] : []), '/usr/share/datasets/fashion-mnist'];
const fashion = fashionDirs.find((d) => existsSync(d)) ?? null;
const missing = fashion ? '' : ` — skipped: none of ${fashionDirs.join(', ')} exists (apt-get install dataset-fashion-mnist)`;
const dataArgs = fashion && fashion !== '/usr/share/datasets/fashion-mnist' ? ['--data-dir', join(fashion, '..')] : [];

const dense = (units: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'dense', units, activation: 'relu', ...extra });
const PLAIN = { input: [28, 28, 1], layers: [{ type: 'flatten' }, dense(512), dense(512), { type: 'dense', units: 10, activation: 'softmax' }] };
const L2 = { kernelRegularizer: { l2: 1e-3 } };
const REGULARIZED = {
  input: [28, 28, 1],
  layers: [{ type: 'flatten' }, dense(512, L2), { type: 'dropout', rate: 0.5 }, dense(512, L2), { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 10, activation: 'softmax' }],
};
/** kernel weights of either model: 784·512 + 512·512 + 512·10 */
const KERNELS = 784 * 512 + 512 * 512 + 512 * 10;

interface TrainJson {
  runDir: string;
  epochsRun: number;
  diagnosis: { regime: string; onsetEpoch: number | null; bestEpoch: number };
}

let tmp = '';
beforeAll(() => {
  if (!fashion) return;
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-real-diagnose-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function train(name: string, spec: object, extra: string[]): { json: TrainJson; d: Diagnosis } {
  const specFile = join(tmp, `${name}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const r = fitlab([
    'train', '--model', specFile, '--dataset', 'fashion-mnist', ...dataArgs, '--subset', '100', '--epochs', '40', '--batch-size', '64',
    '--seed', '42', '--threads', '2', '--out', tmp, '--name', name, '--quiet', '--json', ...extra,
  ], { timeoutMs: 120_000 });
  const json = jsonOf<TrainJson>(r);
  const d = JSON.parse(readFileSync(join(json.runDir, 'diagnosis.json'), 'utf8')) as Diagnosis;
  return { json, d };
}

describe('a big MLP on 1,000 Fashion-MNIST images, plain vs regularized', () => {
  it.skipIf(!fashion)(`plain: overfitting with an onset; dropout + L2 + early stopping: healthier; compare draws both${missing}`, () => {
    const plain = train('mlp-plain', PLAIN, []);
    const reg = train('mlp-regularized', REGULARIZED, ['--early-stopping', '3']);

    // the plain MLP memorizes its 1,000 images and its validation loss turns up
    expect(plain.d.regime).toBe('overfitting');
    expect(plain.json.diagnosis.regime).toBe('overfitting');
    expect(plain.d.onsetEpoch).not.toBeNull();
    expect(plain.d.onsetEpoch as number).toBeLessThan(plain.d.epochs - 2);
    expect(plain.d.final.accuracy as number).toBeGreaterThan(0.97);
    expect(plain.d.gaps.final.accuracy as number).toBeGreaterThan(0.1);
    expect(plain.d.valLossRise?.relative as number).toBeGreaterThan(0.2);
    expect(plain.d.advice[0].action).toMatch(/^early stopping with patience \d+/);
    expect(plain.d.advice.map((a) => a.action)).toContain('augment the training images: --augment fashion (Fashion-MNIST: horizontal flips, shifts ±10%, rotation ±8°)');
    expect(plain.d.advice.find((a) => a.action.startsWith('use a smaller model'))?.evidence).toBe('669,706 parameters for 1,000 training examples (670 per example)');

    // the regularized one: a different regime, a much smaller gap, a smaller rise of val loss
    expect(reg.d.regime).not.toBe('overfitting');
    expect(reg.d.regime).not.toBe('diverged');
    expect(reg.d.gaps.final.accuracy as number).toBeLessThan((plain.d.gaps.final.accuracy as number) - 0.05);
    expect(reg.d.valLossRise?.relative as number).toBeLessThan(plain.d.valLossRise?.relative as number);
    expect(reg.d.counterfactuals.find((c) => c.own)?.patience).toBe(3);
    // 670 parameters per example, with dropout and L2: never "add capacity"
    expect(reg.d.advice.some((a) => a.action.startsWith('add capacity'))).toBe(false);
    if (reg.d.regime === 'partial-overfitting') expect(reg.d.advice[0].action).toMatch(/^reduce regularization/);

    // diagnose reads the run back to the same verdict
    for (const run of [plain, reg]) {
      const again = jsonOf<Diagnosis>(fitlab(['diagnose', run.json.runDir, '--json']));
      expect([again.regime, again.onsetEpoch, again.bestEpoch]).toEqual([run.d.regime, run.d.onsetEpoch, run.d.bestEpoch]);
      expect(again.classes).toBe(10);
      for (const f of ['report.html', 'loss.png', 'accuracy.png', 'gap.png', 'weights.png', 'histograms.png']) expect(existsSync(join(run.json.runDir, f)), f).toBe(true);
      // weight analytics: every epoch recorded, histograms over all kernel weights, moving away from the start
      const w = readFileSync(join(run.json.runDir, 'weights.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WeightEpoch);
      expect(w).toHaveLength(run.json.epochsRun);
      expect(w[0].histogram?.counts.reduce((a, b) => a + b, 0)).toBe(KERNELS);
      expect(w[w.length - 1].distance).toBeGreaterThan(w[0].distance);
      expect(w[0].layers.map((l) => l.name)).toHaveLength(3);
    }

    // the report showing both
    const out = join(tmp, 'compare');
    const c = fitlab(['compare', plain.json.runDir, reg.json.runDir, '--labels', 'plain,dropout+L2+early stopping', '--out', out, '--title', 'Regularization']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/plain\s+overfitting/);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('<td>plain</td><td>overfitting</td>');
    expect(html).toContain(`<td>dropout+L2+early stopping</td><td>${reg.d.regime}</td>`);
    for (const f of ['compare-val-loss.png', 'compare-val-accuracy.png']) {
      const png = PNG.sync.read(readFileSync(join(out, f)));
      expect([png.width, png.height]).toEqual([1080, 570]);
    }
  }, 150_000 * HANG_GUARD);
});
