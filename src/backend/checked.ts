/**
 * Argument validation shared by every backend: the same call is refused with the same typed
 * error whichever backend runs it. Checks are O(1) except label range checks (O(rows)).
 * The native addon checks buffer sizes again in C, so a direct call cannot crash the process.
 */
import { ArgumentError, ShapeError, describe } from '../errors.js';
import type {
  Backend, BackendName, ElementwiseActivation, F32, FusedActivation, I32, Kernels, RandomDraw,
} from './backend.js';
import { ELEMENTWISE_ACTIVATIONS, FILL_MODES, INTERPOLATIONS } from './backend.js';
import type { ConvGeometry, PoolGeometry, WindowGeometry } from './geometry.js';

function f32(kernel: string, name: string, buf: unknown, expected: number, shape: string): asserts buf is F32 {
  if (!(buf instanceof Float32Array)) {
    throw new ArgumentError(`${kernel}: ${name} must be a Float32Array; received ${describe(buf)}`);
  }
  if (buf.length !== expected) {
    throw new ShapeError(
      `${kernel}: ${name} must have ${shape} = ${expected} elements; received ${buf.length}`,
    );
  }
}

function f32OrNull(kernel: string, name: string, buf: unknown, expected: number, shape: string): void {
  if (buf !== null) f32(kernel, name, buf, expected, shape);
}

function i32(kernel: string, name: string, buf: unknown, expected: number, shape: string): asserts buf is I32 {
  if (!(buf instanceof Int32Array)) {
    throw new ArgumentError(`${kernel}: ${name} must be an Int32Array; received ${describe(buf)}`);
  }
  if (buf.length !== expected) {
    throw new ShapeError(`${kernel}: ${name} must have ${shape} = ${expected} elements; received ${buf.length}`);
  }
}

function dim(kernel: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 0x7fffffff) {
    throw new ArgumentError(`${kernel}: ${name} must be an integer ≥ ${min}; received ${describe(value)}`);
  }
  return value;
}

function finite(kernel: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(`${kernel}: ${name} must be a finite number; received ${describe(value)}`);
  }
  return value;
}

function inRange(kernel: string, name: string, value: unknown, lo: number, hi: number, hiOpen: boolean): number {
  const v = finite(kernel, name, value);
  if (v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new ArgumentError(`${kernel}: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}; received ${v}`);
  }
  return v;
}

function fused(kernel: string, act: unknown): FusedActivation {
  if (act !== 'linear' && act !== 'relu') {
    throw new ArgumentError(`${kernel}: fused activation must be 'linear' or 'relu'; received ${describe(act)}`);
  }
  return act;
}

function elementwise(kernel: string, kind: unknown): ElementwiseActivation {
  if (!ELEMENTWISE_ACTIVATIONS.includes(kind as ElementwiseActivation)) {
    throw new ArgumentError(
      `${kernel}: activation must be one of ${ELEMENTWISE_ACTIVATIONS.join(', ')}; received ${describe(kind)}`,
    );
  }
  return kind as ElementwiseActivation;
}

function sameLength(kernel: string, names: string[], bufs: unknown[]): void {
  const first = bufs[0];
  f32(kernel, names[0], first, (first as F32)?.length ?? 0, 'its length');
  for (let i = 1; i < bufs.length; i++) f32(kernel, names[i], bufs[i], first.length, `${names[0]}.length`);
}

function labelsInRange(kernel: string, labels: I32, cols: number): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0 || l >= cols) {
      throw new ArgumentError(`${kernel}: labels[${i}] must be a class index in [0, ${cols - 1}]; received ${l}`);
    }
  }
}

const GEOMETRY_FIELDS = ['n', 'h', 'w', 'c', 'kh', 'kw', 'f', 'sh', 'sw', 'padTop', 'padLeft', 'oh', 'ow'] as const;

/**
 * A geometry must come from convGeometry()/poolGeometry() unchanged: the packed array agrees
 * with the fields, sizes are positive, and every window touches the input (the same rules the
 * native binding enforces).
 */
function geometry(kernel: string, g: WindowGeometry & { packed?: Int32Array; f?: number }): void {
  if (!g || !(g.packed instanceof Int32Array) || g.packed.length !== 13) {
    throw new ArgumentError(`${kernel}: geometry must come from convGeometry()/poolGeometry(); received ${describe(g)}`);
  }
  const fields = g as unknown as Record<string, number>;
  GEOMETRY_FIELDS.forEach((name, i) => {
    const value = name === 'f' ? (g.f ?? g.c) : fields[name];
    const min = name === 'padTop' || name === 'padLeft' ? 0 : 1;
    if (!Number.isInteger(value) || value < min || g.packed?.[i] !== value) {
      throw new ArgumentError(`${kernel}: geometry.${name} is ${describe(value)} (packed ${g.packed?.[i]}); it must be an integer ≥ ${min} matching the packed array — build geometries with convGeometry()/poolGeometry()`);
    }
  });
  if (g.padTop >= g.kh || g.padLeft >= g.kw || (g.oh - 1) * g.sh - g.padTop >= g.h || (g.ow - 1) * g.sw - g.padLeft >= g.w) {
    throw new ArgumentError(`${kernel}: geometry does not describe windows inside the input (output ${g.oh}x${g.ow} from ${g.h}x${g.w} with window ${g.kh}x${g.kw}, stride ${g.sh}x${g.sw}, padding ${g.padTop},${g.padLeft})`);
  }
}

/** Run a kernel whose backends report bad saved indices with RangeError; make it typed. */
function typedRange<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof RangeError) throw new ArgumentError(err.message);
    throw err;
  }
}

function convShapes(kernel: string, g: ConvGeometry): { x: number; y: number; w: number; xs: string; ys: string; ws: string } {
  geometry(kernel, g);
  return {
    x: g.n * g.h * g.w * g.c,
    y: g.n * g.oh * g.ow * g.f,
    w: g.kh * g.kw * g.c * g.f,
    xs: `n·h·w·c = ${g.n}·${g.h}·${g.w}·${g.c}`,
    ys: `n·oh·ow·f = ${g.n}·${g.oh}·${g.ow}·${g.f}`,
    ws: `kh·kw·c·f = ${g.kh}·${g.kw}·${g.c}·${g.f}`,
  };
}

function poolShapes(kernel: string, g: PoolGeometry): { x: number; y: number; xs: string; ys: string } {
  geometry(kernel, g);
  return {
    x: g.n * g.h * g.w * g.c,
    y: g.n * g.oh * g.ow * g.c,
    xs: `n·h·w·c = ${g.n}·${g.h}·${g.w}·${g.c}`,
    ys: `n·oh·ow·c = ${g.n}·${g.oh}·${g.ow}·${g.c}`,
  };
}

function drawCheck(kernel: string, draw: unknown): asserts draw is RandomDraw {
  if (!(draw instanceof Uint32Array) || draw.length !== 6) {
    throw new ArgumentError(`${kernel}: draw must be a Uint32Array(6) from a RandomStream; received ${describe(draw)}`);
  }
}

function mask(kernel: string, m: unknown, expected: number): asserts m is Uint8Array {
  if (!(m instanceof Uint8Array)) throw new ArgumentError(`${kernel}: mask must be a Uint8Array; received ${describe(m)}`);
  if (m.length !== expected) throw new ShapeError(`${kernel}: mask must have ${expected} elements; received ${m.length}`);
}

export interface BackendInfo {
  name: BackendName;
  isa: () => string;
  threads: () => number;
  setThreads: (n: number) => void;
  alloc: (n: number) => F32;
}

/** Wrap raw kernels with validation; the result is a full Backend. */
export function checkedBackend(raw: Kernels, info: BackendInfo): Backend {
  const k: Kernels = {
    fill(y, value) {
      f32('fill', 'y', y, y?.length ?? 0, 'its length');
      raw.fill(y, finite('fill', 'value', value));
    },
    copy(y, x) {
      sameLength('copy', ['y', 'x'], [y, x]);
      raw.copy(y, x);
    },
    add(y, a, b) {
      sameLength('add', ['y', 'a', 'b'], [y, a, b]);
      raw.add(y, a, b);
    },
    axpy(y, alpha, x) {
      sameLength('axpy', ['y', 'x'], [y, x]);
      raw.axpy(y, finite('axpy', 'alpha', alpha), x);
    },
    scale(y, alpha) {
      f32('scale', 'y', y, y?.length ?? 0, 'its length');
      raw.scale(y, finite('scale', 'alpha', alpha));
    },
    sumSquares(x) {
      f32('sumSquares', 'x', x, x?.length ?? 0, 'its length');
      return raw.sumSquares(x);
    },
    gemm(transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc) {
      const K = 'gemm';
      dim(K, 'm', m); dim(K, 'n', n); dim(K, 'k', kk);
      const aRows = transA ? kk : m;
      const aCols = transA ? m : kk;
      const bRows = transB ? n : kk;
      const bCols = transB ? kk : n;
      if (dim(K, 'lda', lda) < aCols) throw new ArgumentError(`gemm: lda must be ≥ ${aCols}; received ${lda}`);
      if (dim(K, 'ldb', ldb) < bCols) throw new ArgumentError(`gemm: ldb must be ≥ ${bCols}; received ${ldb}`);
      if (dim(K, 'ldc', ldc) < n) throw new ArgumentError(`gemm: ldc must be ≥ ${n}; received ${ldc}`);
      const need = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;
      for (const [name, buf, rows, cols, ld] of [
        ['a', a, aRows, aCols, lda], ['b', b, bRows, bCols, ldb], ['c', c, m, n, ldc],
      ] as const) {
        if (!(buf instanceof Float32Array)) throw new ArgumentError(`gemm: ${name} must be a Float32Array; received ${describe(buf)}`);
        if (buf.length < need(rows, cols, ld)) {
          throw new ShapeError(`gemm: ${name} must hold at least ${need(rows, cols, ld)} elements (${rows}×${cols}, leading dimension ${ld}); received ${buf.length}`);
        }
      }
      raw.gemm(!!transA, !!transB, m, n, kk, finite(K, 'alpha', alpha), a, lda, b, ldb, finite(K, 'beta', beta), c, ldc);
    },
    denseForward(y, x, w, b, batch, inF, outF, act) {
      const K = 'denseForward';
      dim(K, 'batch', batch); dim(K, 'inF', inF); dim(K, 'outF', outF);
      f32(K, 'x', x, batch * inF, 'batch·inF');
      f32(K, 'w', w, inF * outF, 'inF·outF');
      f32OrNull(K, 'b', b, outF, 'outF');
      f32(K, 'y', y, batch * outF, 'batch·outF');
      raw.denseForward(y, x, w, b, batch, inF, outF, fused(K, act));
    },
    denseBackward(dx, dw, db, dy, y, x, w, batch, inF, outF, act) {
      const K = 'denseBackward';
      dim(K, 'batch', batch); dim(K, 'inF', inF); dim(K, 'outF', outF);
      f32OrNull(K, 'dx', dx, batch * inF, 'batch·inF');
      f32OrNull(K, 'dw', dw, inF * outF, 'inF·outF');
      f32OrNull(K, 'db', db, outF, 'outF');
      f32(K, 'dy', dy, batch * outF, 'batch·outF');
      if (fused(K, act) === 'relu') f32(K, 'y', y, batch * outF, 'batch·outF');
      f32(K, 'x', x, batch * inF, 'batch·inF');
      f32(K, 'w', w, inF * outF, 'inF·outF');
      raw.denseBackward(dx, dw, db, dy, y, x, w, batch, inF, outF, act);
    },
    conv2dForward(y, x, w, b, g, act) {
      const K = 'conv2dForward';
      const s = convShapes(K, g);
      f32(K, 'x', x, s.x, s.xs);
      f32(K, 'w', w, s.w, s.ws);
      f32OrNull(K, 'b', b, g.f, 'f');
      f32(K, 'y', y, s.y, s.ys);
      raw.conv2dForward(y, x, w, b, g, fused(K, act));
    },
    conv2dBackward(dx, dw, db, dy, y, x, w, g, act) {
      const K = 'conv2dBackward';
      const s = convShapes(K, g);
      f32OrNull(K, 'dx', dx, s.x, s.xs);
      f32OrNull(K, 'dw', dw, s.w, s.ws);
      f32OrNull(K, 'db', db, g.f, 'f');
      f32(K, 'dy', dy, s.y, s.ys);
      if (fused(K, act) === 'relu') f32(K, 'y', y, s.y, s.ys);
      f32(K, 'x', x, s.x, s.xs);
      f32(K, 'w', w, s.w, s.ws);
      raw.conv2dBackward(dx, dw, db, dy, y, x, w, g, act);
    },
    maxPoolForward(y, argmax, x, g) {
      const K = 'maxPoolForward';
      const s = poolShapes(K, g);
      f32(K, 'x', x, s.x, s.xs);
      f32(K, 'y', y, s.y, s.ys);
      i32(K, 'argmax', argmax, s.y, s.ys);
      raw.maxPoolForward(y, argmax, x, g);
    },
    maxPoolBackward(dx, dy, argmax, g) {
      const K = 'maxPoolBackward';
      const s = poolShapes(K, g);
      f32(K, 'dx', dx, s.x, s.xs);
      f32(K, 'dy', dy, s.y, s.ys);
      i32(K, 'argmax', argmax, s.y, s.ys);
      typedRange(() => raw.maxPoolBackward(dx, dy, argmax, g));
    },
    avgPoolForward(y, x, g) {
      const K = 'avgPoolForward';
      const s = poolShapes(K, g);
      f32(K, 'x', x, s.x, s.xs);
      f32(K, 'y', y, s.y, s.ys);
      raw.avgPoolForward(y, x, g);
    },
    avgPoolBackward(dx, dy, g) {
      const K = 'avgPoolBackward';
      const s = poolShapes(K, g);
      f32(K, 'dx', dx, s.x, s.xs);
      f32(K, 'dy', dy, s.y, s.ys);
      raw.avgPoolBackward(dx, dy, g);
    },
    globalMaxPoolForward(y, argmax, x, n, hw, c) {
      const K = 'globalMaxPoolForward';
      dim(K, 'n', n); dim(K, 'hw', hw); dim(K, 'c', c);
      f32(K, 'x', x, n * hw * c, 'n·hw·c');
      f32(K, 'y', y, n * c, 'n·c');
      i32(K, 'argmax', argmax, n * c, 'n·c');
      raw.globalMaxPoolForward(y, argmax, x, n, hw, c);
    },
    globalMaxPoolBackward(dx, dy, argmax, n, hw, c) {
      const K = 'globalMaxPoolBackward';
      dim(K, 'n', n); dim(K, 'hw', hw); dim(K, 'c', c);
      f32(K, 'dx', dx, n * hw * c, 'n·hw·c');
      f32(K, 'dy', dy, n * c, 'n·c');
      i32(K, 'argmax', argmax, n * c, 'n·c');
      typedRange(() => raw.globalMaxPoolBackward(dx, dy, argmax, n, hw, c));
    },
    globalAvgPoolForward(y, x, n, hw, c) {
      const K = 'globalAvgPoolForward';
      dim(K, 'n', n); dim(K, 'hw', hw); dim(K, 'c', c);
      f32(K, 'x', x, n * hw * c, 'n·hw·c');
      f32(K, 'y', y, n * c, 'n·c');
      raw.globalAvgPoolForward(y, x, n, hw, c);
    },
    globalAvgPoolBackward(dx, dy, n, hw, c) {
      const K = 'globalAvgPoolBackward';
      dim(K, 'n', n); dim(K, 'hw', hw); dim(K, 'c', c);
      f32(K, 'dx', dx, n * hw * c, 'n·hw·c');
      f32(K, 'dy', dy, n * c, 'n·c');
      raw.globalAvgPoolBackward(dx, dy, n, hw, c);
    },
    batchNormTrainForward(y, mean, invStd, movingMean, movingVar, x, gamma, beta, rows, c, momentum, epsilon, act) {
      const K = 'batchNormTrainForward';
      dim(K, 'rows', rows); dim(K, 'c', c);
      f32(K, 'x', x, rows * c, 'rows·c');
      f32(K, 'y', y, rows * c, 'rows·c');
      for (const [name, buf] of [['mean', mean], ['invStd', invStd], ['movingMean', movingMean], ['movingVar', movingVar]] as const) {
        f32(K, name, buf, c, 'c');
      }
      f32OrNull(K, 'gamma', gamma, c, 'c');
      f32OrNull(K, 'beta', beta, c, 'c');
      inRange(K, 'momentum', momentum, 0, 1, false);
      inRange(K, 'epsilon', epsilon, 0, Infinity, false);
      raw.batchNormTrainForward(y, mean, invStd, movingMean, movingVar, x, gamma, beta, rows, c, momentum, epsilon, fused(K, act));
    },
    batchNormInferForward(y, x, gamma, beta, movingMean, movingVar, rows, c, epsilon, act) {
      const K = 'batchNormInferForward';
      dim(K, 'rows', rows); dim(K, 'c', c);
      f32(K, 'x', x, rows * c, 'rows·c');
      f32(K, 'y', y, rows * c, 'rows·c');
      f32(K, 'movingMean', movingMean, c, 'c');
      f32(K, 'movingVar', movingVar, c, 'c');
      f32OrNull(K, 'gamma', gamma, c, 'c');
      f32OrNull(K, 'beta', beta, c, 'c');
      inRange(K, 'epsilon', epsilon, 0, Infinity, false);
      raw.batchNormInferForward(y, x, gamma, beta, movingMean, movingVar, rows, c, epsilon, fused(K, act));
    },
    batchNormBackward(dx, dgamma, dbeta, dy, y, x, mean, invStd, gamma, rows, c, act) {
      const K = 'batchNormBackward';
      dim(K, 'rows', rows); dim(K, 'c', c);
      f32(K, 'dx', dx, rows * c, 'rows·c');
      f32(K, 'dy', dy, rows * c, 'rows·c');
      f32(K, 'x', x, rows * c, 'rows·c');
      if (fused(K, act) === 'relu') f32(K, 'y', y, rows * c, 'rows·c');
      f32(K, 'mean', mean, c, 'c');
      f32(K, 'invStd', invStd, c, 'c');
      f32OrNull(K, 'gamma', gamma, c, 'c');
      f32OrNull(K, 'dgamma', dgamma, c, 'c');
      f32OrNull(K, 'dbeta', dbeta, c, 'c');
      raw.batchNormBackward(dx, dgamma, dbeta, dy, y, x, mean, invStd, gamma, rows, c, act);
    },
    activationForward(kind, y, x, alpha) {
      const K = 'activationForward';
      elementwise(K, kind);
      sameLength(K, ['y', 'x'], [y, x]);
      raw.activationForward(kind, y, x, finite(K, 'alpha', alpha));
    },
    activationBackward(kind, dx, dy, x, y, alpha) {
      const K = 'activationBackward';
      elementwise(K, kind);
      sameLength(K, ['dx', 'dy', 'x', 'y'], [dx, dy, x, y]);
      raw.activationBackward(kind, dx, dy, x, y, finite(K, 'alpha', alpha));
    },
    softmaxForward(y, x, rows, cols) {
      const K = 'softmaxForward';
      dim(K, 'rows', rows); dim(K, 'cols', cols);
      f32(K, 'x', x, rows * cols, 'rows·cols');
      f32(K, 'y', y, rows * cols, 'rows·cols');
      raw.softmaxForward(y, x, rows, cols);
    },
    softmaxBackward(dx, dy, y, rows, cols) {
      const K = 'softmaxBackward';
      dim(K, 'rows', rows); dim(K, 'cols', cols);
      for (const [name, buf] of [['dx', dx], ['dy', dy], ['y', y]] as const) f32(K, name, buf, rows * cols, 'rows·cols');
      raw.softmaxBackward(dx, dy, y, rows, cols);
    },
    dropoutForward(y, m, x, rate, draw) {
      const K = 'dropoutForward';
      sameLength(K, ['y', 'x'], [y, x]);
      mask(K, m, x.length);
      inRange(K, 'rate', rate, 0, 1, true);
      drawCheck(K, draw);
      raw.dropoutForward(y, m, x, rate, draw);
    },
    dropoutBackward(dx, dy, m, rate) {
      const K = 'dropoutBackward';
      sameLength(K, ['dx', 'dy'], [dx, dy]);
      mask(K, m, dy.length);
      inRange(K, 'rate', rate, 0, 1, true);
      raw.dropoutBackward(dx, dy, m, rate);
    },
    softmaxCrossEntropy(probs, dlogits, logits, labels, weights, rows, cols, gradScale) {
      const K = 'softmaxCrossEntropy';
      dim(K, 'rows', rows); dim(K, 'cols', cols);
      f32(K, 'logits', logits, rows * cols, 'rows·cols');
      f32(K, 'probs', probs, rows * cols, 'rows·cols');
      f32OrNull(K, 'dlogits', dlogits, rows * cols, 'rows·cols');
      i32(K, 'labels', labels, rows, 'rows');
      f32OrNull(K, 'weights', weights, rows, 'rows');
      labelsInRange(K, labels, cols);
      return raw.softmaxCrossEntropy(probs, dlogits, logits, labels, weights, rows, cols, finite(K, 'gradScale', gradScale));
    },
    categoricalCrossEntropy(probs, dlogits, logits, targets, weights, rows, cols, gradScale) {
      const K = 'categoricalCrossEntropy';
      dim(K, 'rows', rows); dim(K, 'cols', cols);
      for (const [name, buf] of [['logits', logits], ['probs', probs], ['targets', targets]] as const) f32(K, name, buf, rows * cols, 'rows·cols');
      f32OrNull(K, 'dlogits', dlogits, rows * cols, 'rows·cols');
      f32OrNull(K, 'weights', weights, rows, 'rows');
      return raw.categoricalCrossEntropy(probs, dlogits, logits, targets, weights, rows, cols, finite(K, 'gradScale', gradScale));
    },
    meanSquaredError(dpred, pred, target, weights, rows, cols, gradScale) {
      const K = 'meanSquaredError';
      dim(K, 'rows', rows); dim(K, 'cols', cols);
      f32(K, 'pred', pred, rows * cols, 'rows·cols');
      f32(K, 'target', target, rows * cols, 'rows·cols');
      f32OrNull(K, 'dpred', dpred, rows * cols, 'rows·cols');
      f32OrNull(K, 'weights', weights, rows, 'rows');
      return raw.meanSquaredError(dpred, pred, target, weights, rows, cols, finite(K, 'gradScale', gradScale));
    },
    countCorrect(scores, labels, rows, cols, kk) {
      const K = 'countCorrect';
      dim(K, 'rows', rows); dim(K, 'cols', cols); dim(K, 'k', kk);
      f32(K, 'scores', scores, rows * cols, 'rows·cols');
      i32(K, 'labels', labels, rows, 'rows');
      labelsInRange(K, labels, cols);
      return raw.countCorrect(scores, labels, rows, cols, kk);
    },
    penalty(w, l1, l2) {
      f32('penalty', 'w', w, w?.length ?? 0, 'its length');
      return raw.penalty(w, inRange('penalty', 'l1', l1, 0, Infinity, false), inRange('penalty', 'l2', l2, 0, Infinity, false));
    },
    penaltyGrad(dw, w, l1, l2) {
      sameLength('penaltyGrad', ['dw', 'w'], [dw, w]);
      raw.penaltyGrad(dw, w, inRange('penaltyGrad', 'l1', l1, 0, Infinity, false), inRange('penaltyGrad', 'l2', l2, 0, Infinity, false));
    },
    sgdUpdate(w, g, velocity, lr, momentum, nesterov, weightDecay) {
      const K = 'sgdUpdate';
      sameLength(K, ['w', 'g'], [w, g]);
      f32OrNull(K, 'velocity', velocity, w.length, 'w.length');
      inRange(K, 'momentum', momentum, 0, 1, false);
      if (momentum > 0 && !velocity) throw new ArgumentError(`${K}: momentum ${momentum} needs a velocity buffer; received null`);
      raw.sgdUpdate(w, g, velocity, finite(K, 'lr', lr), momentum, !!nesterov, finite(K, 'weightDecay', weightDecay));
    },
    adamUpdate(w, g, m, v, vhat, lr, beta1, beta2, epsilon, step, weightDecay) {
      const K = 'adamUpdate';
      sameLength(K, ['w', 'g', 'm', 'v'], [w, g, m, v]);
      f32OrNull(K, 'vhat', vhat, w.length, 'w.length');
      inRange(K, 'beta1', beta1, 0, 1, true);
      inRange(K, 'beta2', beta2, 0, 1, true);
      inRange(K, 'epsilon', epsilon, 0, Infinity, false);
      dim(K, 'step', step);
      raw.adamUpdate(w, g, m, v, vhat, finite(K, 'lr', lr), beta1, beta2, epsilon, step, finite(K, 'weightDecay', weightDecay));
    },
    nadamUpdate(w, g, m, v, lr, beta1, beta2, epsilon, coefM, coefG, vCorrection, weightDecay) {
      const K = 'nadamUpdate';
      sameLength(K, ['w', 'g', 'm', 'v'], [w, g, m, v]);
      inRange(K, 'beta1', beta1, 0, 1, true);
      inRange(K, 'beta2', beta2, 0, 1, true);
      inRange(K, 'epsilon', epsilon, 0, Infinity, false);
      raw.nadamUpdate(w, g, m, v, finite(K, 'lr', lr), beta1, beta2, epsilon, finite(K, 'coefM', coefM),
        finite(K, 'coefG', coefG), finite(K, 'vCorrection', vCorrection), finite(K, 'weightDecay', weightDecay));
    },
    affineWarp(y, x, matrices, n, h, w, c, fill, cval, interpolation) {
      const K = 'affineWarp';
      dim(K, 'n', n); dim(K, 'h', h); dim(K, 'w', w); dim(K, 'c', c);
      f32(K, 'x', x, n * h * w * c, 'n·h·w·c');
      f32(K, 'y', y, n * h * w * c, 'n·h·w·c');
      if (y.buffer === x.buffer && y.byteOffset < x.byteOffset + x.byteLength && x.byteOffset < y.byteOffset + y.byteLength) {
        throw new ArgumentError(`${K}: y must not overlap x`);
      }
      if (!(matrices instanceof Float64Array) || matrices.length !== n * 6) {
        throw new ArgumentError(`${K}: matrices must be a Float64Array of n·6 = ${n * 6} numbers; received ${describe(matrices)}`);
      }
      if (!FILL_MODES.includes(fill)) throw new ArgumentError(`${K}: fill must be one of ${FILL_MODES.join(', ')}; received ${describe(fill)}`);
      if (!INTERPOLATIONS.includes(interpolation)) throw new ArgumentError(`${K}: interpolation must be bilinear or nearest; received ${describe(interpolation)}`);
      raw.affineWarp(y, x, matrices, n, h, w, c, fill, finite(K, 'cval', cval), interpolation);
    },
    rmspropUpdate(w, g, ms, mg, mom, lr, rho, momentum, epsilon, weightDecay) {
      const K = 'rmspropUpdate';
      sameLength(K, ['w', 'g', 'ms'], [w, g, ms]);
      f32OrNull(K, 'mg', mg, w.length, 'w.length');
      f32OrNull(K, 'mom', mom, w.length, 'w.length');
      inRange(K, 'rho', rho, 0, 1, true);
      inRange(K, 'momentum', momentum, 0, 1, false);
      if (momentum > 0 && !mom) throw new ArgumentError(`${K}: momentum ${momentum} needs a momentum buffer; received null`);
      inRange(K, 'epsilon', epsilon, 0, Infinity, false);
      raw.rmspropUpdate(w, g, ms, mg, mom, finite(K, 'lr', lr), rho, momentum, epsilon, finite(K, 'weightDecay', weightDecay));
    },
  };
  // defineProperties, not Object.assign: isa and threads must stay live getters
  return Object.defineProperties(k, {
    name: { value: info.name, enumerable: true },
    isa: { get: info.isa, enumerable: true },
    threads: { get: info.threads, enumerable: true },
    setThreads: { value: info.setThreads },
    alloc: { value: info.alloc },
  }) as Backend;
}
