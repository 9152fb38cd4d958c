/**
 * The two networks of `fitlab bench` (src/bench/bench.ts: buildNet and measureThroughput's
 * training loop), rebuilt here without a Node module so the page's worker can bundle them: the
 * lecture CNN (32×32×3, AdamW) and paper-mlp at 28×28×1 (784-512-10, Adam), seed 1, inputs
 * uniform [0, 1) from stream 7, labels i mod 10, the same warm-up and step counts. The Node side
 * of bench/browser.ts calls measureThroughput itself; this file is the page's copy of its
 * training half, and the driver checks that both build the same network (parameter count, and
 * the loss of the first step, bit for bit on the wasm backend in Node and in the page).
 */
import type { Backend } from '../../src/backend/backend.js';
import { LossHead } from '../../src/nn/losses.js';
import type { Model } from '../../src/nn/model.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { trainBatch } from '../../src/train/step.js';

export type BenchNet = 'lecture-cnn' | 'paper-mlp';

/** Trainable parameters of each network (README's preset table; Keras prints the same). */
export const EXPECTED_PARAMS: Record<BenchNet, number> = { 'lecture-cnn': 295_914, 'paper-mlp': 407_050 };

/** The optimizer measureThroughput trains each network with. */
export const OPTIMIZER: Record<BenchNet, 'adamw' | 'adam'> = { 'lecture-cnn': 'adamw', 'paper-mlp': 'adam' };

/** Warm-up steps and measured steps for `steps` (measureThroughput: the MLP's steps are short, so 8× as many). */
export function stepCounts(name: BenchNet, steps: number): { warm: number; reps: number } {
  return name === 'paper-mlp' ? { warm: 20, reps: steps * 8 } : { warm: 3, reps: steps };
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface TrainTiming {
  /** batch · 1000 / median step time */
  imagesPerSec: number;
  /** every measured step, ms */
  stepMs: number[];
  /** trainable parameters of the network built */
  params: number;
  /** mean loss of the first warm-up step (the same bits on every wasm host) */
  firstLoss: number;
}

/** Build the network as measureThroughput does, with its batch, data, loss and optimizer. */
export function buildBenchNet(name: BenchNet, batch: number, backend: Backend): { model: Model; x: Float32Array; y: Int32Array } {
  const spec = name === 'lecture-cnn' ? presetSpec('lecture-cnn') : presetSpec('paper-mlp', { input: [28, 28, 1] });
  const model = modelFromSpec(spec);
  model.build({ batchSize: batch, seed: 1, backend });
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  const x = backend.alloc(batch * per);
  new RandomStream(7).fillUniform(x, 0, 1);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  return { model, x, y };
}

/** Build the network and train one step: its mean loss and trainable parameters (the same-network check). */
export function firstStep(name: BenchNet, batch: number, backend: Backend): { loss: number; params: number } {
  const { model, x, y } = buildBenchNet(name, batch, backend);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const r = trainBatch(model, loss, createOptimizer(OPTIMIZER[name]), x, y, null);
  return { loss: r.lossSum / r.size, params: model.countParams().trainable };
}

/** measureThroughput's training half: warm-up, then the median of the measured steps. */
export function timeTraining(name: BenchNet, batch: number, steps: number, backend: Backend, now: () => number = () => performance.now()): TrainTiming {
  const { model, x, y } = buildBenchNet(name, batch, backend);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const opt = createOptimizer(OPTIMIZER[name]);
  const params = model.trainableParams();
  const { warm, reps } = stepCounts(name, steps);
  let firstLoss = Number.NaN;
  for (let i = 0; i < warm; i++) {
    const r = trainBatch(model, loss, opt, x, y, null, params);
    if (i === 0) firstLoss = r.lossSum / r.size;
  }
  const stepMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    trainBatch(model, loss, opt, x, y, null, params);
    stepMs.push(now() - t0);
  }
  return { imagesPerSec: (batch * 1000) / median(stepMs), stepMs, params: model.countParams().trainable, firstLoss };
}
