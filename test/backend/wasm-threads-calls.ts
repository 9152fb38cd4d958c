/**
 * The calls that test the threaded wasm backend against the single-threaded module, shared by
 * test/backend/wasm-threads.test.ts (Node) and test/browser/page/threads-entry.ts (a Web Worker
 * in Chromium): kernel calls big enough that the kernels split them over every thread (the sizes
 * test/backend/native.test.ts uses for its thread tests), and training steps of a small
 * lecture-CNN-shaped model. `splitFree`: each output element is computed by one task in a fixed
 * order (GEMM, forward passes, elementwise and per-image kernels), so the thread count cannot
 * change a bit; the others sum per-thread chunks.
 */
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry, poolGeometry } from '../../src/backend/geometry.js';
import { LossHead } from '../../src/nn/losses.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { trainBatch } from '../../src/train/step.js';
import { labels, nans, uniform } from './suite/helpers.js';

export type Typed = Float32Array | Int32Array | Uint8Array;
/** A call on seeded inputs; returns every buffer after the call and the return value. */
export interface HeavyCall { title: string; splitFree: boolean; run: (b: Backend) => { out: Typed[]; ret: unknown } }

const conv = convGeometry({ n: 4, h: 16, w: 16, c: 16, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 32 });
const conv5 = convGeometry({ n: 3, h: 15, w: 13, c: 5, kh: 5, kw: 5, sh: 2, sw: 2, padding: 'same', f: 17 });
const pool = poolGeometry({ n: 8, h: 16, w: 16, c: 24, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
const poolX = 8 * 16 * 16 * 24, poolY = 8 * 8 * 8 * 24;

/** Calls big enough that the kernels split them over every thread (the sizes native.test.ts uses). */
export const HEAVY: HeavyCall[] = [
  { title: 'gemm 64×200·600ᵀ', splitFree: true, run: (b) => {
    const c = nans(64 * 200);
    b.gemm(false, true, 64, 200, 600, 1, uniform(9100, 64 * 600), 600, uniform(9101, 600 * 200), 600, 0, c, 200);
    return { out: [c], ret: undefined };
  } },
  { title: 'gemm 300×257·129, alpha 0.7, beta 0.5', splitFree: true, run: (b) => {
    const c = uniform(9105, 300 * 257);
    b.gemm(false, false, 300, 257, 129, 0.7, uniform(9106, 300 * 129), 129, uniform(9107, 129 * 257), 257, 0.5, c, 257);
    return { out: [c], ret: undefined };
  } },
  ...[conv, conv5].map((g, k): HeavyCall => ({ title: `conv2dForward ${g.n}×${g.h}×${g.w}×${g.c} → ${g.f}, ${g.kh}×${g.kw}`, splitFree: true, run: (b) => {
    const y = nans(g.n * g.oh * g.ow * g.f);
    b.conv2dForward(y, uniform(9200 + k, g.n * g.h * g.w * g.c), uniform(9210 + k, g.kh * g.kw * g.c * g.f), uniform(9220 + k, g.f), g, 'relu');
    return { out: [y], ret: undefined };
  } })),
  ...[conv, conv5].map((g, k): HeavyCall => ({ title: `conv2dBackward ${g.n}×${g.h}×${g.w}×${g.c} → ${g.f}, ${g.kh}×${g.kw}`, splitFree: false, run: (b) => {
    const x = uniform(9300 + k, g.n * g.h * g.w * g.c);
    const w = uniform(9310 + k, g.kh * g.kw * g.c * g.f);
    const y = nans(g.n * g.oh * g.ow * g.f);
    b.conv2dForward(y, x, w, uniform(9320 + k, g.f), g, 'relu');
    const [dx, dw, db] = [nans(x.length), nans(w.length), nans(g.f)];
    b.conv2dBackward(dx, dw, db, uniform(9330 + k, y.length), y, x, w, g, 'relu');
    return { out: [dx, dw, db], ret: undefined };
  } })),
  { title: 'denseForward 256×300 → 100', splitFree: true, run: (b) => {
    const y = nans(256 * 100);
    b.denseForward(y, uniform(9400, 256 * 300), uniform(9401, 300 * 100), uniform(9402, 100), 256, 300, 100, 'relu');
    return { out: [y], ret: undefined };
  } },
  { title: 'denseBackward 256×300 → 100', splitFree: false, run: (b) => {
    const [x, w] = [uniform(9410, 256 * 300), uniform(9411, 300 * 100)];
    const y = nans(256 * 100);
    b.denseForward(y, x, w, uniform(9412, 100), 256, 300, 100, 'relu');
    const [dx, dw, db] = [nans(x.length), nans(w.length), nans(100)];
    b.denseBackward(dx, dw, db, uniform(9413, y.length), y, x, w, 256, 300, 100, 'relu');
    return { out: [dx, dw, db], ret: undefined };
  } },
  { title: 'maxPool forward and backward 8×16×16×24', splitFree: true, run: (b) => {
    const [y, argmax, dx] = [nans(poolY), new Int32Array(poolY), nans(poolX)];
    b.maxPoolForward(y, argmax, uniform(9500, poolX), pool);
    b.maxPoolBackward(dx, uniform(9501, poolY), argmax, pool);
    return { out: [y, argmax, dx], ret: undefined };
  } },
  { title: 'avgPool forward and backward 8×16×16×24', splitFree: true, run: (b) => {
    const [y, dx] = [nans(poolY), nans(poolX)];
    b.avgPoolForward(y, uniform(9510, poolX), pool);
    b.avgPoolBackward(dx, uniform(9511, poolY), pool);
    return { out: [y, dx], ret: undefined };
  } },
  { title: 'batch norm train forward and backward 4096×33', splitFree: false, run: (b) => {
    const x = uniform(9600, 4096 * 33, 1, 3);
    const [y, mean, inv, mm, mv] = [nans(x.length), nans(33), nans(33), new Float32Array(33), new Float32Array(33).fill(1)];
    b.batchNormTrainForward(y, mean, inv, mm, mv, x, uniform(9601, 33), uniform(9602, 33), 4096, 33, 0.99, 1e-3, 'relu');
    const [dx, dg, dbeta] = [nans(x.length), nans(33), nans(33)];
    b.batchNormBackward(dx, dg, dbeta, uniform(9603, x.length), y, x, mean, inv, uniform(9601, 33), 4096, 33, 'relu');
    return { out: [y, mean, inv, mm, mv, dx, dg, dbeta], ret: undefined };
  } },
  { title: 'activations forward and backward ×100003 (elu)', splitFree: true, run: (b) => {
    const x = uniform(9700, 100003, -3, 3);
    const [y, dx] = [nans(x.length), nans(x.length)];
    b.activationForward('elu', y, x, 1);
    b.activationBackward('elu', dx, uniform(9701, x.length), x, y, 1);
    return { out: [y, dx], ret: undefined };
  } },
  { title: 'softmax cross-entropy 2048×10', splitFree: false, run: (b) => {
    const [probs, dx] = [nans(2048 * 10), nans(2048 * 10)];
    const loss = b.softmaxCrossEntropy(probs, dx, uniform(9800, 2048 * 10, -4, 4), labels(9801, 2048, 10), null, 2048, 10, 1);
    return { out: [probs, dx], ret: loss };
  } },
  { title: 'sumSquares ×100003', splitFree: false, run: (b) => ({ out: [], ret: b.sumSquares(uniform(9900, 100003)) }) },
];

/** Losses of `steps` AdamW steps of a lecture-CNN-shaped model on 16×16×3 inputs, batch 12. */
export function trainLosses(backend: Backend, steps: number): number[] {
  const model = modelFromSpec(presetSpec('lecture-cnn', { input: [16, 16, 3] }));
  model.build({ batchSize: 12, seed: 5, backend });
  const x = backend.alloc(12 * 16 * 16 * 3);
  new RandomStream(7).fillUniform(x, 0, 1);
  const y = Int32Array.from({ length: 12 }, (_, i) => i % 10);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const opt = createOptimizer('adamw');
  return Array.from({ length: steps }, () => trainBatch(model, loss, opt, x, y, null).lossSum);
}

