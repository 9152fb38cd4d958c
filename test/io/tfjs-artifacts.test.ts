/**
 * The browser's model download (src/io/tfjs-artifacts.ts, issue 21): `<name>.json` +
 * `<name>.weights.bin`, as TF.js' `model.save('downloads://<name>')` lays them out. It is the
 * model.json `saveTfjs` writes (same topology and weights; one shard named after the model),
 * it loads back through readTfjs — as a file, and as a folder holding it — with identical
 * predictions and a verified checksum, loads in @tensorflow/tfjs with the same predictions, and
 * `fitlab evaluate` on the downloaded folder reports the accuracy computed here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSavedModel } from '../../src/cli/models.js';
import { createBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/locate.js';
import { resolveModelSource } from '../../src/io/model-source.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { tfjsArtifacts } from '../../src/io/tfjs-artifacts.js';
import { modelFromTfjs, readTfjs, saveTfjs } from '../../src/io/tfjs.js';
import { LossHead } from '../../src/nn/losses.js';
import type { Model } from '../../src/nn/model.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { Trainer } from '../../src/train/fit.js';
import { HANG_GUARD, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';

tf.enableProdMode();
const backend = createBackend();
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fitlab-tfjs-download-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function randomInput(n: number, shape: readonly number[], seed: number): Float32Array {
  const x = new Float32Array(n * shape.reduce((a, b) => a * b, 1));
  new RandomStream(seed).fillUniform(x, 0, 1);
  return x;
}

/** A built lecture-cnn-bn with non-trivial batch-norm statistics and biases. */
function cnn(): Model {
  const model = modelFromSpec(presetSpec('lecture-cnn-bn', { input: [16, 16, 3] }));
  model.build({ batchSize: 3, backend, seed: 5 });
  const rng = new RandomStream(6);
  for (const p of model.params()) {
    if (p.weightName === 'moving_variance') rng.fillUniform(p.value, 0.5, 2);
    else if (p.weightName === 'moving_mean' || p.weightName === 'beta' || p.weightName === 'bias') rng.fillUniform(p.value, -0.3, 0.3);
  }
  return model;
}

/** Save a download as a browser would: both files side by side in `dir`. */
function saveDownload(model: Model, name: string, dir = tempDir()): string {
  const a = tfjsArtifacts(model, name);
  writeFileSync(join(dir, `${name}.json`), a.modelJson);
  writeFileSync(join(dir, a.weightsFile), a.weights);
  return dir;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: { name: string }[] }[];
  fitlabIntegrity: { sha256: Record<string, string> };
  format: string;
}

describe('tfjsArtifacts: a model as TF.js\' downloads:// saves it', () => {
  it('is saveTfjs\' model.json with one shard named <name>.weights.bin, and its checksum', () => {
    const model = cnn();
    // stamped as saveTfjs stamps it (the page passes its version; the default says "fitlab (browser)")
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const a = tfjsArtifacts(model, 'my-cnn', `fitlab ${version}`);
    const json = JSON.parse(a.modelJson) as ModelJson;
    const saved = join(tempDir(), 'model');
    saveTfjs(model, saved);
    const disk = JSON.parse(readFileSync(join(saved, 'model.json'), 'utf8')) as ModelJson;
    expect(a.weightsFile).toBe('my-cnn.weights.bin');
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest.map((g) => g.paths)).toEqual([['my-cnn.weights.bin']]);
    expect(json.modelTopology).toEqual(disk.modelTopology);
    expect(json.weightsManifest[0].weights).toEqual(disk.weightsManifest.flatMap((g) => g.weights));
    const shards = Buffer.concat(disk.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(saved, p)))));
    expect(Buffer.from(a.weights).equals(shards)).toBe(true);
    expect(json.fitlabIntegrity).toEqual({ sha256: { 'my-cnn.weights.bin': createHash('sha256').update(a.weights).digest('hex') } });
  });

  it('refuses a name that is not a plain file name', () => {
    for (const bad of ['', 'a/b', '..', 'c:d', 'x\ny']) expect(() => tfjsArtifacts(cnn(), bad)).toThrow(/^model download name must be a file name without/);
  });
});

describe('the pure SHA-256 the download uses', () => {
  it('agrees with node:crypto at every padding boundary and on views inside larger buffers', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65_537]) {
      const whole = Uint8Array.from({ length: n + 7 }, (_, i) => (i * 131 + 17) & 255);
      for (const bytes of [whole.slice(0, n), whole.subarray(5, 5 + n)]) {
        expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
      }
    }
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('a download loads back', () => {
  it('through readTfjs, from the .json and from its folder, with identical predictions', () => {
    const model = cnn();
    const dir = saveDownload(model, 'cnn');
    const x = randomInput(3, [16, 16, 3], 7);
    const ours = Float32Array.from(model.forward(x, { training: false }));
    for (const path of [join(dir, 'cnn.json'), dir]) {
      const again = modelFromTfjs(readTfjs(path), { batchSize: 3, backend });
      expect(Buffer.from(Float32Array.from(again.forward(x, { training: false })).buffer).equals(Buffer.from(ours.buffer))).toBe(true);
    }
    expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(1e-3);
  });

  it('in @tensorflow/tfjs, from the downloaded JSON text and weight bytes, predicting the same', async () => {
    const model = cnn();
    const a = tfjsArtifacts(model, 'cnn');
    const json = JSON.parse(a.modelJson) as ModelJson & { modelTopology: object };
    const loaded = await tf.loadLayersModel({
      load: () => Promise.resolve({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
        weightData: a.weights.slice().buffer,
      }),
    });
    const x = randomInput(3, [16, 16, 3], 8);
    const theirs = (loaded.predict(tf.tensor(x, [3, 16, 16, 3])) as tf.Tensor).dataSync();
    const ours = model.forward(x, { training: false });
    let diff = 0;
    for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
    expect(theirs.length).toBe(ours.length);
    expect(diff).toBeLessThan(1e-4);
  });

  it('a changed weight file fails its checksum; a folder of two downloads names both', () => {
    const dir = saveDownload(cnn(), 'cnn');
    const w = readFileSync(join(dir, 'cnn.weights.bin'));
    w[100] ^= 0x40;
    writeFileSync(join(dir, 'cnn.weights.bin'), w);
    expect(() => readTfjs(join(dir, 'cnn.json'))).toThrow(/cnn\.weights\.bin fails its SHA-256 check/);
    const two = saveDownload(cnn(), 'b-model');
    saveDownload(cnn(), 'a-model', two);
    expect(() => readTfjs(two)).toThrow(new RegExp(`^${two} holds 2 TF\\.js models \\(a-model\\.json, b-model\\.json\\) and no model\\.json; pass the \\.json of the one to use$`));
    expect(() => resolveModelSource(two)).toThrow(/holds 2 TF\.js models/);
  });

  it('a folder with other JSON files beside one download picks the download; model.json, where present, wins', () => {
    const dir = saveDownload(cnn(), 'cnn');
    writeFileSync(join(dir, 'history.json'), JSON.stringify([{ epoch: 1, loss: 0.5 }]));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 2 }] }));
    expect(readTfjs(dir).spec.input).toEqual([16, 16, 3]);
    const src = resolveModelSource(dir);
    expect([src.kind, src.label]).toEqual(['tfjs', 'cnn']);
    const mlp = modelFromSpec({ input: [4], layers: [{ type: 'dense', units: 3 }] });
    mlp.build({ batchSize: 1, backend, seed: 1 });
    saveTfjs(mlp, join(dir, 'sub'));
    writeFileSync(join(dir, 'model.json'), readFileSync(join(dir, 'sub', 'model.json')));
    for (const f of readdirSync(join(dir, 'sub'))) if (f.endsWith('.bin')) writeFileSync(join(dir, f), readFileSync(join(dir, 'sub', f)));
    expect(readTfjs(dir).spec.input).toEqual([4]);
  });
});

describe('fitlab evaluate on a downloaded model', () => {
  it('fitlab evaluate and predict on a folder holding <name>.json + <name>.weights.bin report the accuracy computed here', async () => {
    const dataset = await loadDataset('spirals');
    const model = modelFromSpec({ input: dataset.shape, layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: dataset.classes, activation: 'softmax' }] });
    model.build({ batchSize: 32, backend, seed: 2 });
    const trainer = new Trainer(model, new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false }), createOptimizer('adam'), 32);
    await trainer.fit(dataset.train, { epochs: 3 });
    const expected = trainer.evaluate(dataset.test!, dataset.scale);
    expect(expected.accuracy).toBeGreaterThan(1 / dataset.classes); // learned something: the number means something
    const dir = saveDownload(model, 'spirals-mlp');
    // the loader evaluate and predict share
    const loaded = await loadSavedModel(dir, 'final', 32);
    expect(loaded.model.params().map((p) => p.value.slice(0, 3))).toEqual(model.params().map((p) => p.value.slice(0, 3)));
    ensureBuilt();
    for (const target of [dir, join(dir, 'spirals-mlp.json')]) {
      const r = fitlab(['evaluate', target, '--dataset', 'spirals', '--json']);
      expect(r.stderr).toBe('');
      const ev = jsonOf<{ accuracy: number; loss: number; examples: number }>(r);
      expect(ev.examples).toBe(dataset.test!.y.length);
      expect(ev.accuracy).toBeCloseTo(expected.accuracy, 6);
      expect(ev.loss).toBeCloseTo(expected.loss, 4);
    }
    const pr = jsonOf<{ accuracy: number; examples: number }>(fitlab(['predict', dir, '--dataset', 'spirals', '--json']));
    expect([pr.examples, pr.accuracy]).toEqual([dataset.test!.y.length, expect.closeTo(expected.accuracy, 6) as number]);
  }, HANG_GUARD * 60_000);
});
