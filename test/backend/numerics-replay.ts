/**
 * Replays the three SGD steps of test/backend/fixtures/numerics-truth.json (written by
 * bench/numerics-truth.py) on a fitlab backend and measures each weight tensor's error against
 * the float64 truth, the way the script measured PyTorch float32's.
 *
 * The network: Conv2D(4, 3, same, relu) → BatchNormalization → MaxPooling2D → Flatten →
 * Dense(10, softmax), sparse categorical cross-entropy, SGD lr 0.1, batches of 8 in order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../src/backend/backend.js';
import { LossHead } from '../../src/nn/losses.js';
import { BatchNormalization } from '../../src/nn/layers/batch-norm.js';
import { Conv2D } from '../../src/nn/layers/conv2d.js';
import { Dense } from '../../src/nn/layers/dense.js';
import { Flatten } from '../../src/nn/layers/basic.js';
import { MaxPooling2D } from '../../src/nn/layers/pooling.js';
import { sequential } from '../../src/nn/model.js';
import { SGD } from '../../src/optim/optimizers.js';
import { trainBatch } from '../../src/train/step.js';

export const FIXTURE = join(import.meta.dirname, 'fixtures', 'numerics-truth.json');

interface Stored { shape: number[]; float32?: string; float64?: string }

interface RawFixture {
  steps: number;
  batch: number;
  learningRate: number;
  images: string;
  labels: number[];
  initial: Record<string, Stored>;
  truth: Record<string, Stored>;
  torchFloat32Error: Record<string, TensorError>;
}

export interface TensorError {
  /** max |w − truth| */
  maxAbs: number;
  /** maxAbs / max |truth| */
  relative: number;
}

export interface NumericsFixture {
  steps: number;
  batch: number;
  learningRate: number;
  /** images (count, 784) scaled to [0, 1] as float32, as fitlab's batches are */
  images: Float32Array;
  labels: Int32Array;
  /** weight name → initial float32 values, in the model's params() order */
  initial: Map<string, Float32Array>;
  truth: Map<string, Float64Array>;
  torch: Map<string, TensorError>;
}

function bytes(b64: string): Buffer {
  return Buffer.from(b64, 'base64');
}

function f32(s: Stored): Float32Array {
  const b = bytes(s.float32 ?? '');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function f64(s: Stored): Float64Array {
  const b = bytes(s.float64 ?? '');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function loadFixture(path = FIXTURE): NumericsFixture {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawFixture;
  const pixels = bytes(raw.images);
  const images = new Float32Array(pixels.length);
  // the dataset pipeline's scaling: byte · (1/255) in float32
  for (let i = 0; i < pixels.length; i++) images[i] = Math.fround(pixels[i] / 255);
  return {
    steps: raw.steps,
    batch: raw.batch,
    learningRate: raw.learningRate,
    images,
    labels: Int32Array.from(raw.labels),
    initial: new Map(Object.entries(raw.initial).map(([k, v]) => [k, f32(v)])),
    truth: new Map(Object.entries(raw.truth).map(([k, v]) => [k, f64(v)])),
    torch: new Map(Object.entries(raw.torchFloat32Error)),
  };
}

/** Run the fixture's steps on `backend`; returns every weight after them, by name. */
export function replay(fx: NumericsFixture, backend: Backend): Map<string, Float32Array> {
  const model = sequential([28, 28, 1], [
    new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    new BatchNormalization({}),
    new MaxPooling2D({}),
    new Flatten({}),
    new Dense({ units: 10, activation: 'softmax' }),
  ]);
  model.build({ batchSize: fx.batch, backend, seed: 1 });
  model.setWeights(model.params().map((p) => {
    const w = fx.initial.get(p.name);
    if (!w) throw new Error(`the fixture has no initial value for ${p.name}`);
    return w;
  }));
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const sgd = new SGD({ learningRate: fx.learningRate });
  const per = 28 * 28;
  for (let s = 0; s < fx.steps; s++) {
    const lo = s * fx.batch, hi = lo + fx.batch;
    trainBatch(model, loss, sgd, fx.images.subarray(lo * per, hi * per), fx.labels.subarray(lo, hi), null);
  }
  return new Map(model.getWeights().map((w) => [w.name, w.values]));
}

/** Each tensor's error against the float64 truth. */
export function errors(fx: NumericsFixture, weights: Map<string, Float32Array>): Map<string, TensorError> {
  const out = new Map<string, TensorError>();
  for (const [name, truth] of fx.truth) {
    const w = weights.get(name);
    if (!w || w.length !== truth.length) throw new Error(`no weight ${name} of ${truth.length} values to compare`);
    let err = 0, mag = 0;
    for (let i = 0; i < truth.length; i++) {
      err = Math.max(err, Math.abs(w[i] - truth[i]));
      mag = Math.max(mag, Math.abs(truth[i]));
    }
    out.set(name, { maxAbs: err, relative: err / mag });
  }
  return out;
}
