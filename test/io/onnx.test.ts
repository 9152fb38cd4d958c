/**
 * ONNX export against the real onnxruntime (onnxruntime-node, CPU): for every preset and for a
 * residual graph using every exported operator, onnxruntime's outputs on 100 images match
 * fitlab's within 1e-5. 28×28×1 presets see the first 100 MNIST test digits, 32×32×3 presets the
 * first 100 CIFAR-10 test images (the user cache, never downloaded here), when those are there;
 * seeded uniform noise otherwise, and for the other shapes.
 * Batch-norm statistics and biases are perturbed so that every weight matters.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/locate.js';
import { encodeModel } from '../../src/io/onnx-proto.js';
import { ONNX_OPSET, modelToOnnx } from '../../src/io/onnx.js';
import type { Model } from '../../src/nn/model.js';
import { PRESETS, PRESET_NAMES, presetSpec } from '../../src/nn/presets.js';
import { type ModelSpec, modelFromSpec } from '../../src/nn/spec.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { ensureBuilt, fitlab, testDataRoot } from '../cli/cli-helpers.js';

const backend = createBackend();
const N = 100;
const data = testDataRoot();
let mnist: Float32Array | null = null;
let cifar: Float32Array | null = null;
let tmp = '';
beforeAll(async () => {
  try {
    const ds = await loadDataset('cifar10', { download: false });
    if (ds.test) cifar = Float32Array.from(ds.test.x.subarray(0, N * 3072), (v) => v * ds.scale);
  } catch {
    cifar = null; // not cached here: noise stands in
  }
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-onnx-'));
  if (data.root) {
    const raw = gunzipSync(readFileSync(join(data.root, 'mnist', 't10k-images-idx3-ubyte.gz')));
    mnist = Float32Array.from(raw.subarray(16, 16 + N * 784), (v) => v / 255);
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function images(shape: readonly number[], seed: number): Float32Array {
  if (mnist && shape.join() === '28,28,1') return mnist;
  if (cifar && shape.join() === '32,32,3') return cifar;
  const x = new Float32Array(N * shape.reduce((a, b) => a * b, 1));
  new RandomStream(seed).fillUniform(x, 0, 1);
  return x;
}

function perturb(model: Model, seed: number): void {
  const rng = new RandomStream(seed);
  for (const p of model.params()) {
    if (p.weightName === 'moving_variance') rng.fillUniform(p.value, 0.5, 2);
    else if (p.weightName === 'moving_mean' || p.weightName === 'beta' || p.weightName === 'bias') rng.fillUniform(p.value, -0.3, 0.3);
    else if (p.weightName === 'gamma') rng.fillUniform(p.value, 0.7, 1.4);
  }
}

async function compare(spec: ModelSpec, seed: number): Promise<{ diff: number; spread: number; ops: Set<string>; proto: Record<string, unknown> }> {
  const model = modelFromSpec(spec);
  model.build({ batchSize: N, backend, seed });
  perturb(model, seed + 1);
  const x = images(model.inputShape, seed + 2);
  const ours = Float32Array.from(model.forward(x, { training: false }));
  const proto = modelToOnnx(model);
  const session = await ort.InferenceSession.create(encodeModel(proto));
  const result = await session.run({ input: new ort.Tensor('float32', x, [N, ...model.inputShape]) });
  const theirs = result[session.outputNames[0]].data as Float32Array;
  expect(theirs.length).toBe(ours.length);
  let diff = 0;
  for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
  const ops = new Set(((proto.graph as { node: { opType: string }[] }).node).map((n) => n.opType));
  return { diff, spread: Math.max(...ours) - Math.min(...ours), ops, proto };
}

describe('ONNX export matches fitlab (onnxruntime-node)', () => {
  for (const preset of PRESET_NAMES) {
    it(`${preset} (${PRESETS[preset].defaultInput.join('×')}): 100 images within 1e-5`, async () => {
      const { diff, spread } = await compare(presetSpec(preset, { classes: 10 }), 11);
      expect(diff).toBeLessThan(1e-5);
      expect(spread).toBeGreaterThan(1e-3); // real outputs, not a constant
    });
  }

  it('a residual graph with every exported operator', async () => {
    const spec: ModelSpec = {
      name: 'residual-all-ops', input: [15, 13, 3],
      layers: [
        { type: 'rescaling', name: 'rescale', scale: 2, offset: -1 },
        { type: 'conv2d', name: 'stem', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' },
        { type: 'batchNormalization', name: 'bn' },
        { type: 'conv2d', name: 'a', filters: 6, kernelSize: [3, 2], padding: 'same', activation: 'leaky_relu' },
        { type: 'conv2d', name: 'b', filters: 6, kernelSize: 1, activation: 'tanh', inputs: ['bn'] },
        { type: 'add', name: 'join', inputs: ['a', 'b', 'bn'] },
        { type: 'activation', name: 'act', activation: 'sigmoid' },
        { type: 'averagePooling2d', name: 'avg', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'maxPooling2d', name: 'max', poolSize: 2, padding: 'valid' },
        { type: 'dropout', name: 'drop', rate: 0.5 },
        { type: 'flatten', name: 'flat' },
        { type: 'dense', name: 'hidden', units: 7, activation: 'relu' },
        { type: 'dense', name: 'head', units: 4, activation: 'softmax' },
      ],
    };
    const { diff, spread, ops } = await compare(spec, 21);
    expect(diff).toBeLessThan(1e-5);
    expect(spread).toBeGreaterThan(1e-3);
    for (const op of ['Conv', 'BatchNormalization', 'Add', 'Elu', 'LeakyRelu', 'Tanh', 'Sigmoid', 'AveragePool', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Softmax', 'Mul', 'Transpose']) {
      expect(ops, op).toContain(op);
    }
  });

  it('global average pooling and the opset', async () => {
    const spec: ModelSpec = { input: [9, 9, 2], layers: [{ type: 'conv2d', name: 'c', filters: 3, kernelSize: 3 }, { type: 'globalAveragePooling2d', name: 'g' }, { type: 'dense', name: 'd', units: 3, activation: 'softmax' }] };
    const { diff, ops, proto } = await compare(spec, 31);
    expect(diff).toBeLessThan(1e-5);
    expect(ops).toContain('GlobalAveragePool');
    expect((proto as { opsetImport: { version: number }[] }).opsetImport[0].version).toBe(ONNX_OPSET);
  });
});

describe('fitlab export --format onnx (CLI)', () => {
  it('writes a file onnxruntime runs, and never replaces an existing file without --force', async () => {
    ensureBuilt();
    const modelDir = join(tmp, 'tfjs');
    const model = modelFromSpec(presetSpec('paper-cnn', {}));
    model.build({ batchSize: 1, backend, seed: 5 });
    const { saveTfjs } = await import('../../src/io/tfjs.js');
    saveTfjs(model, modelDir);
    const out = join(tmp, 'm.onnx');
    const r = fitlab(['export', modelDir, '--format', 'onnx', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`ONNX opset ${ONNX_OPSET}`);
    const session = await ort.InferenceSession.create(readFileSync(out));
    expect(session.inputNames).toEqual(['input']);
    writeFileSync(join(tmp, 'mine.onnx'), 'my own file');
    const refused = fitlab(['export', modelDir, '--format', 'onnx', '--out', join(tmp, 'mine.onnx')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^fitlab: error: --out .*mine\.onnx already exists; pass --force to replace it/);
    expect(readFileSync(join(tmp, 'mine.onnx'), 'utf8')).toBe('my own file');
  });
});
