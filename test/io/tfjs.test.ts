/**
 * TF.js Layers-format interop against the real @tensorflow/tfjs: a model exported here loads in
 * tfjs and predicts the same (≤ 1e-4), and a model built and saved by tfjs loads here and
 * predicts the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/index.js';
import { modelFromTfjs, modelToTfjs, readTfjs, saveTfjs } from '../../src/io/tfjs.js';
import type { Model } from '../../src/nn/model.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { RandomStream } from '../../src/tensor/prng.js';

// TF.js greets Node users with a multi-line banner on first use (and other console advice);
// production mode keeps its log/warn helpers silent without changing any computation.
tf.enableProdMode();
const backend = createBackend();
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fitlab-tfjs-'));
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

/** Make batch-norm statistics and biases non-trivial so the comparison means something. */
function perturb(model: Model, seed: number): void {
  const rng = new RandomStream(seed);
  for (const p of model.params()) {
    if (p.weightName === 'moving_variance') rng.fillUniform(p.value, 0.5, 2);
    else if (p.weightName === 'moving_mean' || p.weightName === 'beta' || p.weightName === 'bias') rng.fillUniform(p.value, -0.3, 0.3);
    else if (p.weightName === 'gamma') rng.fillUniform(p.value, 0.7, 1.4);
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('export to TF.js', () => {
  for (const preset of ['lecture-cnn-bn', 'resnet', 'mlp-cifar', 'paper-cnn']) {
    it(`${preset}: tfjs.loadLayersModel predicts what fitlab predicts`, async () => {
      const input = preset === 'paper-cnn' ? [28, 28, 1] : [16, 16, 3];
      const model = modelFromSpec(presetSpec(preset, { input }));
      model.build({ batchSize: 4, backend, seed: 7 });
      perturb(model, 8);
      const x = randomInput(4, input, 9);
      const ours = Float32Array.from(model.forward(x, { training: false }));

      const art = modelToTfjs(model);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: art.modelTopology, weightSpecs: art.weightSpecs, weightData: art.weightData }));
      const theirs = (loaded.predict(tf.tensor(x, [4, ...input])) as tf.Tensor).dataSync();
      expect(theirs.length).toBe(ours.length);
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
      // the probabilities are not trivially uniform: the check compares real outputs
      expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(1e-3);
    });
  }

  it('saveTfjs writes model.json + shards that read back to the same predictions', () => {
    const model = modelFromSpec(presetSpec('lecture-cnn', { input: [16, 16, 3] }));
    model.build({ batchSize: 2, backend, seed: 3 });
    const dir = join(tempDir(), 'model-final');
    saveTfjs(model, dir);
    const again = modelFromTfjs(readTfjs(dir), { batchSize: 2, backend });
    const x = randomInput(2, [16, 16, 3], 4);
    expect(maxAbsDiff(model.forward(x, { training: false }), again.forward(x, { training: false }))).toBe(0);
  });
});

describe('import from TF.js', () => {
  async function saveWithTfjs(m: tf.LayersModel): Promise<string> {
    const dir = tempDir();
    await m.save(tf.io.withSaveHandler((a) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      writeFileSync(join(dir, 'model.json'), JSON.stringify({
        format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      }));
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' as const } });
    }));
    return dir;
  }

  it('a tfjs Sequential CNN (default glorotNormal init, BN, pooling, dropout) loads and predicts the same', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 2, strides: 2, padding: 'valid', activation: 'tanh' }));
    m.add(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dropout({ rate: 0.3 }));
    m.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
    // give BN moving statistics non-trivial values
    const bn = m.layers[1];
    const [g, b, mm, mv] = bn.getWeights();
    bn.setWeights([g.mul(1.3), b.add(0.2), mm.add(0.1), mv.mul(1.7)]);
    const dir = await saveWithTfjs(m);

    const ours = modelFromTfjs(readTfjs(dir), { batchSize: 3, backend });
    const x = randomInput(3, [12, 12, 3], 5);
    const expected = (m.predict(tf.tensor(x, [3, 12, 12, 3])) as tf.Tensor).dataSync();
    expect(maxAbsDiff(ours.forward(x, { training: false }), expected)).toBeLessThan(1e-4);
  });

  it('a tfjs functional model with a residual Add loads and predicts the same', async () => {
    const inp = tf.input({ shape: [8, 8, 4] });
    const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(c1) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([c2, inp]) as tf.SymbolicTensor;
    const act = tf.layers.activation({ activation: 'relu' }).apply(sum) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(act) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(gap) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    const dir = await saveWithTfjs(m);

    const ours = modelFromTfjs(readTfjs(dir), { batchSize: 2, backend });
    const x = randomInput(2, [8, 8, 4], 6);
    const expected = (m.predict(tf.tensor(x, [2, 8, 8, 4])) as tf.Tensor).dataSync();
    expect(maxAbsDiff(ours.forward(x, { training: false }), expected)).toBeLessThan(1e-4);
  });

  it('refuses what it cannot represent, naming the layer and the field', () => {
    const topo = {
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [
        { class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [3, 3], dilation_rate: [2, 2], batch_input_shape: [null, 8, 8, 1] } },
      ] } },
    };
    const dir = tempDir();
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...topo, weightsManifest: [] }));
    expect(() => readTfjs(dir)).toThrow(/layer 0 \('c', Conv2D\): dilation_rate = \[2, 2\] is not supported/);
  });
});
