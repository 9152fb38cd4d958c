/**
 * How much memory a model needs for a batch size, estimated from its shapes before anything is
 * allocated, so that a spec with `"units": 100000000`, an input of 100000×100000×3 or a batch
 * size of 99999999999 is refused with the estimate and the limit instead of dying in
 * `RangeError: Array buffer allocation failed` halfway through building.
 *
 * The estimate counts float32 values:
 *  - parameters: every weight;
 *  - gradients: one per trainable weight (allocated with the weight);
 *  - optimizer slots: `optimizerSlots` per trainable weight (default 2: Adam's two moments,
 *    the most a Keras-default optimizer keeps; SGD without momentum keeps none);
 *  - activations: per layer and example, its output, its input gradient and the pre-activation
 *    value and gradient (3 × output + inputs), plus the model input batch, times the batch size.
 * It is an estimate, not an account, and errs high: for lecture-cnn, paper-mlp and resnet at batch
 * 128 it came out 1.4–2× the typed arrays build() and the Trainer allocate (the native kernels'
 * own scratch comes on top of those). Its job is to tell a model that fits from one that needs
 * a thousand times the machine.
 */
import { ArgumentError, FitlabError } from '../errors.js';
import { hostMemoryBytes, hostSetting } from './host.js';
import type { Layer } from './layer.js';
import { sizeOf } from './shape.js';

const FLOAT_BYTES = 4;

/**
 * The most values one buffer may hold: sizes pass to the C kernels as 32-bit integers (the addon
 * refuses larger), and V8 itself caps a typed array at 2^32 elements.
 */
export const MAX_ARRAY_LENGTH = 2 ** 31 - 1;

/** The largest batch size fitlab accepts (the kernels take it as a 32-bit integer). */
export const MAX_BATCH_SIZE = 2 ** 31 - 1;

export interface MemoryEstimate {
  batchSize: number;
  parameterBytes: number;
  gradientBytes: number;
  optimizerBytes: number;
  activationBytes: number;
  totalBytes: number;
  /** the largest single buffer: what it holds and its length in values */
  largest: { what: string; length: number };
}

/** What the estimate needs of a model: its input shape and configured layers. */
export interface ModelShapes {
  inputShape: readonly number[];
  layers: readonly Layer[];
}

export function estimateMemory(model: ModelShapes, batchSize: number, optimizerSlots = 2): MemoryEstimate {
  let params = 0;
  let trainable = 0;
  let activations = sizeOf(model.inputShape);
  let largest = { what: `the input batch (${batchSize} × ${model.inputShape.join('×')})`, length: batchSize * sizeOf(model.inputShape) };
  const consider = (what: string, length: number): void => {
    if (length > largest.length) largest = { what, length };
  };
  for (const layer of model.layers) {
    const weights = layer.params.length
      ? layer.params.map((p) => ({ shape: [...p.shape], trainable: p.trainable }))
      : layer.plannedWeights().map((w) => ({ shape: w.shape, trainable: w.trainable && layer.trainable }));
    for (const w of weights) {
      const n = sizeOf(w.shape);
      params += n;
      if (w.trainable) trainable += n;
      consider(`weight ${layer.name || layer.className} [${w.shape.join(', ')}]`, n);
    }
    const out = sizeOf(layer.outputShape);
    const ins = layer.inputShapes.reduce((s, shape) => s + sizeOf(shape), 0);
    activations += 3 * out + ins;
    consider(`the output of ${layer.name || layer.className} (${batchSize} × ${layer.outputShape.join('×')})`, batchSize * out);
  }
  const estimate = {
    batchSize,
    parameterBytes: params * FLOAT_BYTES,
    gradientBytes: trainable * FLOAT_BYTES,
    optimizerBytes: trainable * optimizerSlots * FLOAT_BYTES,
    activationBytes: activations * batchSize * FLOAT_BYTES,
    totalBytes: 0,
    largest,
  };
  estimate.totalBytes = estimate.parameterBytes + estimate.gradientBytes + estimate.optimizerBytes + estimate.activationBytes;
  return estimate;
}

/** "1.2 TB", "400 MB", "12 GB": decimal units, two or three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v >= 100 ? v.toFixed(0) : v.toPrecision(2)} ${units[u]}`;
}

/** Parse FITLAB_MEMORY_LIMIT: bytes, or a number with kB/MB/GB/TB (decimal) or KiB/MiB/GiB/TiB. */
export function parseMemorySize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?b?|b|bytes)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const binary = unit.includes('i');
  const power = { b: 0, bytes: 0, k: 1, m: 2, g: 3, t: 4 }[unit === 'bytes' ? 'bytes' : unit[0]] ?? 0;
  const bytes = Number(m[1]) * (binary ? 1024 : 1000) ** power;
  return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
}

/** The memory a model may use: FITLAB_MEMORY_LIMIT, or half this machine's memory. */
export function memoryLimit(): { bytes: number; why: string } {
  const env = hostSetting('FITLAB_MEMORY_LIMIT')?.trim();
  if (env) {
    const bytes = parseMemorySize(env);
    if (bytes === null) {
      throw new ArgumentError(`FITLAB_MEMORY_LIMIT must be a size such as 8GB, 512MB or 2000000000; received ${JSON.stringify(env)}`);
    }
    return { bytes, why: 'set by FITLAB_MEMORY_LIMIT' };
  }
  return { bytes: hostMemoryBytes() / 2, why: 'half this machine\'s memory; set FITLAB_MEMORY_LIMIT to change it' };
}

/**
 * Refuse, before allocating, a batch size no kernel takes, a model whose estimate exceeds the
 * memory limit, or one buffer longer than an array may be. The message carries the estimate,
 * its parts and the limit.
 */
export function checkMemory(model: ModelShapes, batchSize: number, optimizerSlots = 2): MemoryEstimate {
  if (batchSize > MAX_BATCH_SIZE) {
    throw new ArgumentError(`batch size must be at most ${MAX_BATCH_SIZE.toLocaleString('en-US')}; received ${batchSize}`);
  }
  const e = estimateMemory(model, batchSize, optimizerSlots);
  const parts = `parameters ${formatBytes(e.parameterBytes)}, gradients ${formatBytes(e.gradientBytes)}, optimizer slots ${formatBytes(e.optimizerBytes)}, activations ${formatBytes(e.activationBytes)}`;
  const limit = memoryLimit();
  if (e.totalBytes > limit.bytes) {
    throw new FitlabError(
      `model needs about ${formatBytes(e.totalBytes)} for batch size ${batchSize} (${parts}); the limit is ${formatBytes(limit.bytes)} (${limit.why})`,
      'use a smaller model (fewer units or filters, a smaller input) or a smaller --batch-size',
    );
  }
  if (e.largest.length > MAX_ARRAY_LENGTH) {
    throw new FitlabError(
      `${e.largest.what} needs ${e.largest.length.toLocaleString('en-US')} values in one buffer; at most ${MAX_ARRAY_LENGTH.toLocaleString('en-US')} fit (model needs about ${formatBytes(e.totalBytes)} for batch size ${batchSize}: ${parts})`,
      'use a smaller model (fewer units or filters, a smaller input) or a smaller --batch-size',
    );
  }
  return e;
}
