/**
 * The native backend: C kernels behind one N-API addon (native/addon.c), built by node-gyp at
 * `npm install`. This file only loads the addon and adapts argument shapes (geometry objects
 * become their packed Int32Array, fused activations become flags); validation happens in
 * checked.ts for both backends, and again in C.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BackendError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';
import type { Backend, Kernels } from '../backend.js';
import { checkedBackend } from '../checked.js';

/** The addon's exports (see the EXPORT table in native/addon.c). */
export interface Addon {
  [kernel: string]: (...args: unknown[]) => unknown;
}

let cached: { addon?: Addon; error?: string } | undefined;

/** Load build/Release/fitlab.node once; returns the addon or the reason it cannot load. */
export function loadAddon(): { addon?: Addon; error?: string } {
  if (cached) return cached;
  const root = packageRoot();
  const file = join(root, 'build', 'Release', 'fitlab.node');
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(file) as Addon };
  } catch (err) {
    const buildError = join(root, 'build', 'native-build-error.txt');
    const why = existsSync(buildError)
      ? `the build failed during npm install: ${readFileSync(buildError, 'utf8').split('\n')[0]} (details: ${buildError})`
      : existsSync(file)
        ? `${file} exists but could not be loaded: ${(err as Error).message}`
        : `${file} was not built (run \`npm run build:native\`)`;
    cached = { error: why };
  }
  return cached;
}

const FILL_CODES = { reflect: 0, wrap: 1, nearest: 2, constant: 3 } as const;

function nativeKernels(a: Addon): Kernels {
  const relu = (act: string): boolean => act === 'relu';
  return {
    fill: (y, v) => void a.fill(y, v),
    copy: (y, x) => void a.copy(y, x),
    add: (y, p, q) => void a.add(y, p, q),
    axpy: (y, alpha, x) => void a.axpy(y, alpha, x),
    scale: (y, alpha) => void a.scale(y, alpha),
    sumSquares: (x) => a.sumSquares(x) as number,
    gemm: (ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) =>
      void a.gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc),
    denseForward: (y, x, w, b, batch, inF, outF, act) =>
      void a.denseForward(y, x, w, b, batch, inF, outF, relu(act)),
    denseBackward: (dx, dw, db, dy, y, x, w, batch, inF, outF, act) =>
      void a.denseBackward(dx, dw, db, dy, y, x, w, batch, inF, outF, relu(act)),
    conv2dForward: (y, x, w, b, g, act) => void a.conv2dForward(y, x, w, b, g.packed, relu(act)),
    conv2dBackward: (dx, dw, db, dy, y, x, w, g, act) =>
      void a.conv2dBackward(dx, dw, db, dy, y, x, w, g.packed, relu(act)),
    maxPoolForward: (y, arg, x, g) => void a.maxPoolForward(y, arg, x, g.packed),
    maxPoolBackward: (dx, dy, arg, g) => void a.maxPoolBackward(dx, dy, arg, g.packed),
    avgPoolForward: (y, x, g) => void a.avgPoolForward(y, x, g.packed),
    avgPoolBackward: (dx, dy, g) => void a.avgPoolBackward(dx, dy, g.packed),
    globalMaxPoolForward: (y, arg, x, n, hw, c) => void a.globalMaxPoolForward(y, arg, x, n, hw, c),
    globalMaxPoolBackward: (dx, dy, arg, n, hw, c) => void a.globalMaxPoolBackward(dx, dy, arg, n, hw, c),
    globalAvgPoolForward: (y, x, n, hw, c) => void a.globalAvgPoolForward(y, x, n, hw, c),
    globalAvgPoolBackward: (dx, dy, n, hw, c) => void a.globalAvgPoolBackward(dx, dy, n, hw, c),
    batchNormTrainForward: (y, mean, inv, mm, mv, x, gamma, beta, rows, c, momentum, eps, act) =>
      void a.batchNormTrainForward(y, mean, inv, mm, mv, x, gamma, beta, rows, c, momentum, eps, relu(act)),
    batchNormInferForward: (y, x, gamma, beta, mm, mv, rows, c, eps, act) =>
      void a.batchNormInferForward(y, x, gamma, beta, mm, mv, rows, c, eps, relu(act)),
    batchNormBackward: (dx, dg, db, dy, y, x, mean, inv, gamma, rows, c, act) =>
      void a.batchNormBackward(dx, dg, db, dy, y, x, mean, inv, gamma, rows, c, relu(act)),
    activationForward: (kind, y, x, alpha) => void a.activationForward(kind, y, x, alpha),
    activationBackward: (kind, dx, dy, x, y, alpha) => void a.activationBackward(kind, dx, dy, x, y, alpha),
    softmaxForward: (y, x, rows, cols) => void a.softmaxForward(y, x, rows, cols),
    softmaxBackward: (dx, dy, y, rows, cols) => void a.softmaxBackward(dx, dy, y, rows, cols),
    dropoutForward: (y, mask, x, rate, draw) => void a.dropoutForward(y, mask, x, rate, draw),
    dropoutBackward: (dx, dy, mask, rate) => void a.dropoutBackward(dx, dy, mask, rate),
    softmaxCrossEntropy: (probs, dl, logits, labels, w, rows, cols, gs) =>
      a.softmaxCrossEntropy(probs, dl, logits, labels, w, rows, cols, gs) as number,
    categoricalCrossEntropy: (probs, dl, logits, t, w, rows, cols, gs) =>
      a.categoricalCrossEntropy(probs, dl, logits, t, w, rows, cols, gs) as number,
    meanSquaredError: (dp, p, t, w, rows, cols, gs) => a.meanSquaredError(dp, p, t, w, rows, cols, gs) as number,
    countCorrect: (scores, labels, rows, cols, k) => a.countCorrect(scores, labels, rows, cols, k) as number,
    penalty: (w, l1, l2) => a.penalty(w, l1, l2) as number,
    penaltyGrad: (dw, w, l1, l2) => void a.penaltyGrad(dw, w, l1, l2),
    sgdUpdate: (w, g, v, lr, m, nesterov, wd) => void a.sgdUpdate(w, g, v, lr, m, nesterov, wd),
    adamUpdate: (w, g, m, v, vh, lr, b1, b2, eps, step, wd) => void a.adamUpdate(w, g, m, v, vh, lr, b1, b2, eps, step, wd),
    nadamUpdate: (w, g, m, v, lr, b1, b2, eps, cm, cg, vc, wd) =>
      void a.nadamUpdate(w, g, m, v, lr, b1, b2, eps, cm, cg, vc, wd),
    rmspropUpdate: (w, g, ms, mg, mom, lr, rho, momentum, eps, wd) =>
      void a.rmspropUpdate(w, g, ms, mg, mom, lr, rho, momentum, eps, wd),
    affineWarp: (y, x, m, n, h, w, c, fill, cval, interp) =>
      void a.affineWarp(y, x, m, n, h, w, c, FILL_CODES[fill], cval, interp === 'bilinear' ? 1 : 0),
  };
}

/** Instruction sets, best first. */
export const ISAS = ['avx512', 'avx2', 'generic'] as const;
export type Isa = (typeof ISAS)[number];

export interface NativeBackend extends Backend {
  /** Instruction sets this CPU can run. */
  supportedIsas(): Isa[];
  /** Switch the kernel table (tests exercise every path the CPU supports). */
  setIsa(isa: Isa): void;
  /** FMA-only throughput of the current ISA on all kernel threads (GFLOP/s), for benchmarks. */
  peakGflops(iterations?: number): number;
}

/** Create the native backend; throws BackendError saying why when the addon cannot load. */
export function createNativeBackend(): NativeBackend {
  const { addon, error } = loadAddon();
  if (!addon) throw new BackendError(`the native backend cannot load: ${error}`, 'use FITLAB_BACKEND=reference, or rebuild with `npm run build:native`');
  const a = addon;
  const backend = checkedBackend(nativeKernels(a), {
    name: 'native',
    isa: () => a.isa() as string,
    threads: () => a.threads() as number,
    setThreads: (n) => {
      if (!Number.isInteger(n) || n < 1 || n > 64) {
        throw new BackendError(`threads must be an integer in [1, 64]; received ${n}`);
      }
      a.setThreads(n);
    },
    alloc: (n) => {
      // 64-byte alignment: one spare cache line, then a view starting on a line boundary
      const buf = new ArrayBuffer(n * 4 + 64);
      const mis = a.addressMod64(new Uint8Array(buf, 0, 1)) as number;
      return new Float32Array(buf, (64 - mis) % 64, n);
    },
  });
  const extra: Pick<NativeBackend, 'supportedIsas' | 'setIsa' | 'peakGflops'> = {
    supportedIsas: () => ISAS.filter((isa) => Boolean(a.supports(isa))),
    setIsa: (isa: Isa) => void a.setIsa(isa),
    peakGflops: (iterations = 3e7) => a.peakGflops(iterations) as number,
  };
  return Object.assign(backend, extra);
}
