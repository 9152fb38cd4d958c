/**
 * trainRun / resumeRun end to end in a temporary folder: what a run directory holds (checked
 * against references: the resolved config against the dataset and Keras' optimizer defaults,
 * model-initial against a freshly seeded model, model-best and model-final against the history
 * by evaluating them), resume bit-identical to an uninterrupted run, and failed runs that keep
 * their last good checkpoint.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classCounts } from '../../src/data/dataset.js';
import { applyVal, parseVal } from '../../src/data/splits.js';
import { synthetic2d } from '../../src/data/synthetic.js';
import { ArgumentError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/io/run-dir.js';
import { modelFromTfjs, readTfjs, saveTfjs } from '../../src/io/tfjs.js';
import { LossHead } from '../../src/nn/losses.js';
import { type ModelSpec, modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { type TrainRunConfig, resumeRun, trainRun } from '../../src/run/train-run.js';
import { Trainer } from '../../src/train/fit.js';
import type { EpochLog } from '../../src/train/history.js';

const SPEC: ModelSpec = { name: 'tiny-dropout', input: [2], layers: [
  { type: 'dense', units: 16, activation: 'relu' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 2, activation: 'softmax' },
] };
// Dense 2·16 + 16 = 48, Dense 16·2 + 2 = 34
const PARAMS = 82;

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-train-run-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function config(o: Partial<TrainRunConfig> = {}): TrainRunConfig {
  return { model: 'tiny-dropout', modelSpec: SPEC, dataset: 'moons', epochs: 2, batchSize: 16, seed: 3, out: tmp, ...o };
}

/**
 * A learning rate that overflows: exponential decay, staircase, `decaySteps` steps per stair:
 * 1e-302 (no learning), then 1e-302·1e300 = 0.01, then 1e-302·(1e300)² = Infinity.
 */
function overflowing(decaySteps: number): Record<string, unknown> {
  return { name: 'sgd', learningRate: { kind: 'exponential', initial: 1e-302, decaySteps, decayRate: 1e300, staircase: true } };
}

/** The weight shards of a TF.js model directory, concatenated in order. */
function shards(dir: string): Buffer {
  const manifest = (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest;
  return Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
}

function weightBytes(weights: Float32Array[]): Buffer {
  return Buffer.concat(weights.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength)));
}

function historyFile(runDir: string): EpochLog[] {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as EpochLog);
}

const timeless = (h: EpochLog[]): EpochLog[] => h.map((e) => ({ ...e, seconds: 0 }));

/** Loss and accuracy of a saved TF.js model on the run's validation split (recomputed here). */
function evaluateOnVal(modelDir: string, seed: number): { loss: number; accuracy: number } {
  const data = synthetic2d('moons');
  const { val } = applyVal(data.train, parseVal('0.1'), 2, 2, seed);
  const model = modelFromTfjs(readTfjs(modelDir), { batchSize: 16 });
  const trainer = new Trainer(model, new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false }), createOptimizer('sgd'), 16);
  return trainer.evaluate(val as NonNullable<typeof val>, data.scale);
}

describe('a run directory', () => {
  it('holds the resolved config, the history, a checkpoint, three TF.js models, summary and diagnosis', async () => {
    const r = await trainRun(config({ name: 'layout' }));
    const dir = r.runDir;
    expect(dir.startsWith(tmp)).toBe(true);
    // (other files — plots, reports — may sit beside these; no temporary is left behind)
    const entries = readdirSync(dir);
    expect(entries).toEqual(expect.arrayContaining(['checkpoint', 'config.json', 'diagnosis.json', 'history.jsonl', 'model-best', 'model-final', 'model-initial', 'summary.json']));
    expect(entries.filter((e) => e.startsWith('.fitlab-tmp-'))).toEqual([]);
    expect(readdirSync(join(dir, 'checkpoint')).sort()).toEqual(['.fitlab-owned', 'arrays.bin', 'state.json']);
    for (const m of ['model-initial', 'model-best', 'model-final']) {
      const json = JSON.parse(readFileSync(join(dir, m, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
      expect(json.format).toBe('layers-model');
      expect(shards(join(dir, m)).length).toBe(PARAMS * 4);
    }

    // config.json: fully resolved
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      fitlab: string; node: string; backend: { name: string; threads: number };
      model: { spec: ModelSpec; params: unknown };
      dataset: { spec: string; name: string; shape: number[]; classes: number; train: number; val: number; test: number; valSplit: string; trainClassCounts: number[] };
      training: Record<string, unknown>;
    };
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(cfg.fitlab).toBe(pkg.version);
    expect(cfg.node).toBe(process.version);
    expect(['native', 'reference']).toContain(cfg.backend.name);
    expect(Number.isInteger(cfg.backend.threads) && cfg.backend.threads >= 1).toBe(true);
    expect(cfg.model.spec).toEqual(SPEC);
    expect(cfg.model.params).toEqual({ total: PARAMS, trainable: PARAMS, nonTrainable: 0 });
    // the stratified 10%: round(0.1·count) of each class of the 200 training examples
    const moons = synthetic2d('moons');
    const counts = classCounts(moons.train.y, 2);
    const val = counts.reduce((n, c) => n + Math.round(0.1 * c), 0);
    expect(cfg.dataset).toMatchObject({ spec: 'moons', name: 'moons', shape: [2], classes: 2, train: 200 - val, val, test: 200, valSplit: '0.1' });
    expect(cfg.dataset.trainClassCounts).toEqual(counts.map((c) => c - Math.round(0.1 * c)));
    expect(cfg.training).toMatchObject({
      epochs: 2, batchSize: 16, seed: 3, shuffle: true, loss: 'sparse_categorical_crossentropy', monitor: 'val_loss', checkpoint: 'best', earlyStopping: null,
      // Keras' Adam defaults
      optimizer: { name: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false },
    });

    // history.jsonl: one line per epoch, the same numbers as the result
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(3);
    expect(historyFile(dir)).toEqual(r.history);
    expect(r.history.map((e) => e.epoch)).toEqual([0, 1]);

    // the checkpoint is the end of epoch 2, the same weights as model-final
    const ck = loadCheckpoint(dir);
    expect([ck.epoch, ck.batchInEpoch]).toEqual([2, 0]);
    expect(weightBytes(ck.weights).equals(shards(join(dir, 'model-final')))).toBe(true);

    // model-initial is the seeded initialization: a fresh model with seed 3, saved here
    const fresh = modelFromSpec(SPEC).build({ batchSize: 1, seed: 3 });
    saveTfjs(fresh, join(tmp, 'fresh'));
    expect(shards(join(dir, 'model-initial')).equals(shards(join(tmp, 'fresh')))).toBe(true);
    expect(shards(join(dir, 'model-initial')).equals(shards(join(dir, 'model-final')))).toBe(false);

    // model-best and model-final are the models whose validation numbers the history reports
    const best = r.history.reduce((a, b) => ((b.val_loss as number) < (a.val_loss as number) ? b : a));
    expect(r.bestEpoch).toBe(best.epoch + 1); // 1-based, the history's epoch field 0-based
    const evBest = evaluateOnVal(join(dir, 'model-best'), 3);
    expect(evBest.loss).toBeCloseTo(best.val_loss as number, 6);
    expect(evBest.accuracy).toBe(best.val_accuracy);
    const evFinal = evaluateOnVal(join(dir, 'model-final'), 3);
    expect(evFinal.loss).toBeCloseTo(r.history[1].val_loss as number, 6);

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ runDir: dir, epochsRun: 2, bestEpoch: best.epoch + 1, interrupted: false, stopReason: null, dataset: 'moons', model: 'tiny-dropout' });
    expect(summary.test).toEqual(r.test);
    expect(summary).not.toHaveProperty('history');
    const diagnosis = JSON.parse(readFileSync(join(dir, 'diagnosis.json'), 'utf8')) as { regime: string; bestEpoch: number };
    expect(typeof diagnosis.regime).toBe('string');
    expect(diagnosis.bestEpoch).toBe(best.epoch + 1);
  });
});

describe('resumeRun', () => {
  it('2 epochs in one go and 1 epoch + resumeRun to 2 give bit-identical models and history', async () => {
    const whole = await trainRun(config({ name: 'whole' }));
    const half = await trainRun(config({ name: 'half', epochs: 1 }));
    expect(half.epochsRun).toBe(1);
    const resumed = await resumeRun(half.runDir, {}, { epochs: 2 });
    expect(resumed.runDir).toBe(half.runDir);
    expect(resumed.epochsRun).toBe(2);
    expect(shards(join(half.runDir, 'model-final')).equals(shards(join(whole.runDir, 'model-final')))).toBe(true);
    // the best-model callback's state resumed too
    expect(shards(join(half.runDir, 'model-best')).equals(shards(join(whole.runDir, 'model-best')))).toBe(true);
    expect(timeless(historyFile(half.runDir))).toEqual(timeless(historyFile(whole.runDir)));
    expect(resumed.test).toEqual(whole.test);
    const cfg = JSON.parse(readFileSync(join(half.runDir, 'config.json'), 'utf8')) as { training: { epochs: number }; resumed?: string };
    expect(cfg.training.epochs).toBe(2);
    expect(typeof cfg.resumed).toBe('string');
  });

  it('callback state survives the checkpoint: early stopping (best weights) and the plateau schedule', async () => {
    // Noisy labels and a high rate make val_loss zigzag: patience 10 never stops 6 epochs but
    // restores the best weights at the end (Keras 3); the plateau callback (patience 0) halves
    // the rate after every epoch without a new best. Resuming after epoch 2 needs both states.
    const noisy = { synthetic: { labelNoise: 0.2 }, lr: 0.1, earlyStopping: 10, reduceLrOnPlateau: { factor: 0.5, patience: 0 } };
    const whole = await trainRun(config({ name: 'es-whole', epochs: 6, ...noisy }));
    // the scenario does what it is for: the best epoch is not the last, the rate did change
    expect(whole.bestEpoch).toBeLessThan(5);
    expect(new Set(whole.history.map((e) => e.learning_rate)).size).toBeGreaterThan(1);
    const half = await trainRun(config({ name: 'es-half', epochs: 2, ...noisy }));
    await resumeRun(half.runDir, {}, { epochs: 6 });
    const final = shards(join(whole.runDir, 'model-final'));
    expect(shards(join(half.runDir, 'model-final')).equals(final)).toBe(true);
    expect(timeless(historyFile(half.runDir))).toEqual(timeless(historyFile(whole.runDir)));
    // restoring the best weights makes model-final the best epoch's model, i.e. model-best
    expect(final.equals(shards(join(whole.runDir, 'model-best')))).toBe(true);
  });

  it('resuming a finished run with the same epoch count is a clear error', async () => {
    const done = await trainRun(config({ name: 'done' }));
    const attempt = resumeRun(done.runDir, {}, { epochs: 2 });
    await expect(attempt).rejects.toThrow(ArgumentError);
    await expect(resumeRun(done.runDir)).rejects.toThrow(/already finished 2 of 2 epochs/);
  });
});

describe('a run whose learning rate becomes non-finite keeps its last good checkpoint', () => {
  // val last:0.2 leaves 160 training examples: 10 batches of 16 per epoch

  it('failing in epoch 1 keeps the initial checkpoint and writes no model-final', async () => {
    // decaySteps 1: step 2 (epoch 1, batch 3) meets Infinity
    const r = await trainRun(config({ name: 'fail-epoch1', epochs: 3, val: 'last:0.2', optimizer: overflowing(1) }));
    expect(r.stopReason).toMatch(/learning rate is Infinity at epoch 1, batch 3/);
    expect(existsSync(join(r.runDir, 'model-final'))).toBe(false);
    const ck = loadCheckpoint(r.runDir);
    expect([ck.epoch, ck.batchInEpoch]).toEqual([0, 0]);
    expect(weightBytes(ck.weights).equals(shards(join(r.runDir, 'model-initial')))).toBe(true);
    expect(r.lastGoodEpoch).toBeNull();
  });

  it('failing in epoch 3 keeps the end-of-epoch-2 checkpoint, finite, and writes no model-final', async () => {
    // decaySteps 10 = one epoch: epoch 1 at 1e-302, epoch 2 at 0.01, epoch 3 at Infinity
    const failed = await trainRun(config({ name: 'fail-epoch3', epochs: 4, val: 'last:0.2', optimizer: overflowing(10) }));
    expect(failed.stopReason).toMatch(/learning rate is Infinity at epoch 3, batch 1/);
    expect(existsSync(join(failed.runDir, 'model-final'))).toBe(false);
    const ck = loadCheckpoint(failed.runDir);
    expect([ck.epoch, ck.batchInEpoch]).toEqual([2, 0]);
    expect(ck.weights.every((w) => w.every((v) => Number.isFinite(v)))).toBe(true);
    expect(failed.lastGoodEpoch).toBe(1);
    // the same run asked for 2 epochs ends with exactly that checkpoint
    const good = await trainRun(config({ name: 'two-good-epochs', epochs: 2, val: 'last:0.2', optimizer: overflowing(10) }));
    expect(good.stopReason).toBeNull();
    expect(weightBytes(ck.weights).equals(weightBytes(loadCheckpoint(good.runDir).weights))).toBe(true);
  });
});
