/**
 * The multi-threaded WebAssembly backend (dist/wasm/fitlab-threads.wasm on a shared memory, with
 * worker_threads workers; src/backend/wasm/threads.ts) in Node:
 *   - the whole conformance suite at 2 and at 3 kernel threads, held to the reference backend;
 *   - the workers really take tasks (a counter the module keeps), and setThreads / FITLAB_BACKEND
 *     selection behave;
 *   - against the single-threaded module (fitlab.wasm) on calls big enough that the kernels split
 *     them over every thread: at one thread the same bits (the same C code runs serially); at 2
 *     and 3 threads two runs give the same bits (a seed reproduces a run at a given thread count,
 *     ARCHITECTURE.md §5) and the results agree with the single-threaded module — bit for bit
 *     where the work split does not change the arithmetic (each output element is computed by
 *     one task in a fixed order: GEMM, forward passes, elementwise and per-row kernels), within
 *     the suite's 1e-5 where partial sums are per-thread chunks (the native backend's 1-vs-2-thread
 *     promise, test/backend/native.test.ts);
 *   - a few training steps of a small lecture-CNN-shaped model give the same losses as on the
 *     single-threaded module, within 1e-5 relative.
 * Skipped, saying why in the title, when the module was not built (FITLAB_REQUIRE_WASM=1 makes
 * that a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry, poolGeometry } from '../../src/backend/geometry.js';
import { createBackend } from '../../src/backend/index.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { createThreadedWasmBackendNode, createWasmBackend, loadWasmBytes } from '../../src/backend/wasm/index.js';
import { createWasmBackendAuto, wasmThreadsUnavailable } from '../../src/backend/wasm/threads.js';
import { BackendError } from '../../src/errors.js';
import { LossHead } from '../../src/nn/losses.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { trainBatch } from '../../src/train/step.js';
import { runKernelSuite } from './kernel-suite.js';
import { expectClose, labels, nans, uniform } from './suite/helpers.js';

const loaded = loadWasmBytes(true);
const single = loadWasmBytes(false);

type Typed = Float32Array | Int32Array | Uint8Array;
/** A call on seeded inputs; returns every buffer after the call and the return value. */
interface HeavyCall { title: string; splitFree: boolean; run: (b: Backend) => { out: Typed[]; ret: unknown } }

const conv = convGeometry({ n: 4, h: 16, w: 16, c: 16, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 32 });
const conv5 = convGeometry({ n: 3, h: 15, w: 13, c: 5, kh: 5, kw: 5, sh: 2, sw: 2, padding: 'same', f: 17 });
const pool = poolGeometry({ n: 8, h: 16, w: 16, c: 24, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
const poolX = 8 * 16 * 16 * 24, poolY = 8 * 8 * 8 * 24;

/** Calls big enough that the kernels split them over every thread (the sizes native.test.ts uses). */
const HEAVY: HeavyCall[] = [
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

/** Same bits (compared as bytes: −0 and NaN payloads count). */
function sameBits(a: Typed, b: Typed): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Losses of `steps` AdamW steps of a lecture-CNN-shaped model on 16×16×3 inputs, batch 12. */
function trainLosses(backend: Backend, steps: number): number[] {
  const model = modelFromSpec(presetSpec('lecture-cnn', { input: [16, 16, 3] }));
  model.build({ batchSize: 12, seed: 5, backend });
  const x = backend.alloc(12 * 16 * 16 * 3);
  new RandomStream(7).fillUniform(x, 0, 1);
  const y = Int32Array.from({ length: 12 }, (_, i) => i % 10);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const opt = createOptimizer('adamw');
  return Array.from({ length: steps }, () => trainBatch(model, loss, opt, x, y, null).lossSum);
}

if (!loaded.bytes || !single.bytes) {
  const error = loaded.error ?? single.error;
  if (process.env.FITLAB_REQUIRE_WASM === '1') {
    describe('threaded wasm backend', () => {
      it('loads the modules (FITLAB_REQUIRE_WASM=1)', () => expect.fail(`the wasm kernels are unavailable: ${error}`));
    });
  } else {
    describe.skip(`threaded wasm backend — skipped: ${error}`, () => {
      it('runs the kernel suite at 2 and 3 threads', () => undefined);
    });
  }
} else {
  const reference = createReferenceBackend();
  const serial = createWasmBackend(1);
  const two = createThreadedWasmBackendNode(2);
  const three = createThreadedWasmBackendNode(3);
  beforeAll(async () => {
    await two.ready();
    await three.ready();
  });
  afterAll(() => {
    two.dispose();
    three.dispose();
  });

  describe('threaded wasm backend', () => {
    it('reports its threads; setThreads takes 1 to 64 and refuses the rest with a BackendError', () => {
      expect([two.name, two.isa, two.threads, three.threads]).toEqual(['wasm', 'wasm-simd128', 2, 3]);
      for (const bad of [0, -1, 65, 1.5]) {
        expect(() => two.setThreads(bad)).toThrow(BackendError);
      }
      expect(() => two.setThreads(0)).toThrow(/threads must be an integer in \[1, 64\] on the threaded wasm backend; received 0/);
      expect(two.threads).toBe(2);
    });

    it('its workers take tasks (two long probe tasks, one per thread)', () => {
      const before = two.workerTasks();
      // each task is 12 chains × 4e6 vector FMAs (~50 ms); retried because a busy machine may not
      // schedule the worker before the caller has finished its own task and taken the other
      for (let i = 0; i < 5 && two.workerTasks() === before; i++) two.peakGflops(4e6);
      expect(two.workerTasks()).toBeGreaterThan(before);
    });

    it('is what createBackend gives for backend wasm with threads > 1 (--threads, FITLAB_THREADS), the single-threaded module for 1', () => {
      const chosen = createBackend({ backend: 'wasm', threads: 2 });
      expect([chosen.name, chosen.threads]).toEqual(['wasm', 2]);
      (chosen as ReturnType<typeof createThreadedWasmBackendNode>).dispose();
      const one = createBackend({ backend: 'wasm', threads: 1 });
      expect(one.threads).toBe(1);
      expect(() => one.setThreads(2)).toThrow(/threads must be 1 on the wasm backend/);
    });

    it('createWasmBackendAuto picks threads in Node (SharedArrayBuffer, no isolation needed) and says so; one thread when asked or without the module', async () => {
      expect(wasmThreadsUnavailable()).toBeNull();
      const { nodeSpawn } = await import('../../src/backend/wasm/index.js');
      const auto = await createWasmBackendAuto({ bytes: single.bytes as Uint8Array, threadsBytes: loaded.bytes, threads: 2, spawn: nodeSpawn });
      expect([auto.threads, auto.backend.threads]).toEqual([2, 2]);
      expect(auto.reason).toMatch(/^2 threads: cross-origin isolated \(SharedArrayBuffer and 1 worker\)$/);
      (auto.backend as ReturnType<typeof createThreadedWasmBackendNode>).dispose();
      const alone = await createWasmBackendAuto({ bytes: single.bytes as Uint8Array, threads: 2, spawn: nodeSpawn });
      expect([alone.threads, alone.reason]).toEqual([1, '1 thread: no threaded module (fitlab-threads.wasm) was given']);
      const asked = await createWasmBackendAuto({ bytes: single.bytes as Uint8Array, threadsBytes: loaded.bytes, threads: 1, spawn: nodeSpawn });
      expect([asked.threads, asked.reason]).toEqual([1, '1 thread: one thread was asked for']);
      await expect(createWasmBackendAuto({ bytes: single.bytes as Uint8Array, threads: 0 })).rejects.toThrow(/threads must be an integer in \[1, 64\].*received 0/);
    });
  });

  describe('threaded wasm backend against the single-threaded module', () => {
    const outcomes = new Map<string, { out: Typed[]; ret: unknown }>();
    const once = (be: Backend, call: HeavyCall) => call.run(be);
    for (const call of HEAVY) {
      it(`${call.title}: 1 thread is bit-identical; 2 and 3 threads are deterministic and ${call.splitFree ? 'bit-identical' : 'within 1e-5'}`, () => {
        const base = once(serial, call);
        outcomes.set(call.title, base);
        const oracle = once(reference, call);
        base.out.forEach((v, i) => {
          if (v instanceof Float32Array) expectClose(v, oracle.out[i], 1e-5, `${call.title}: output ${i}, single-threaded module vs reference`);
        });
        two.setThreads(1);
        const atOne = once(two, call);
        two.setThreads(2);
        atOne.out.forEach((v, i) => expect(sameBits(v, base.out[i]), `${call.title}: output ${i} at 1 thread`).toBe(true));
        expect(atOne.ret).toBe(base.ret);
        for (const be of [two, three]) {
          const [first, second] = [once(be, call), once(be, call)];
          first.out.forEach((v, i) => {
            expect(sameBits(second.out[i], v), `${call.title}: output ${i}, run 2 vs run 1 at ${be.threads} threads`).toBe(true);
            if (call.splitFree || !(v instanceof Float32Array)) expect(sameBits(v, base.out[i]), `${call.title}: output ${i} at ${be.threads} threads vs 1`).toBe(true);
            else expectClose(v, base.out[i], 1e-5, `${call.title}: output ${i} at ${be.threads} threads vs 1`);
          });
          expect(second.ret).toBe(first.ret);
          if (typeof base.ret === 'number') expectClose([first.ret as number], [base.ret], 1e-5, `${call.title}: result at ${be.threads} threads`);
        }
      });
    }

    it('the workers took part in those calls', () => {
      expect(two.workerTasks()).toBeGreaterThan(0);
      expect(three.workerTasks()).toBeGreaterThan(0);
    });

    it('four training steps of a lecture-CNN-shaped model: the same losses at 2 threads as on the single-threaded module (1e-5 relative)', () => {
      const want = trainLosses(serial, 4);
      const got = trainLosses(two, 4);
      expect(want.every(Number.isFinite)).toBe(true);
      got.forEach((l, i) => expect(Math.abs(l - want[i]) / Math.abs(want[i]), `step ${i}: ${l} vs ${want[i]}`).toBeLessThan(1e-5));
    });
  });

  runKernelSuite({ name: 'wasm, 2 threads', backend: two, oracle: reference, skip: {} });
  runKernelSuite({ name: 'wasm, 3 threads', backend: three, oracle: reference, skip: {} });
}
