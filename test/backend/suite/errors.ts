/**
 * Suite section: argument errors. For every kernel, a table describes one valid call; each
 * buffer, dimension, scalar and geometry is then spoiled in turn and the call must throw the
 * typed error of src/errors.ts whose message names the kernel, the argument and the value
 * received (STYLE.md §6). Kernel-specific range checks follow in `EXTRA`.
 */
import { expect, it } from 'vitest';
import type { Kernels } from '../../../src/backend/backend.js';
import { convGeometry, poolGeometry } from '../../../src/backend/geometry.js';
import { ArgumentError, ShapeError } from '../../../src/errors.js';
import type { SuiteContext } from './helpers.js';
import { callKernel } from './helpers.js';

type Arg =
  /** a buffer; `sized` = its length is fixed by the dimensions (not by the first buffer) */
  | { kind: 'f32' | 'i32' | 'u8'; name: string; n: number; sized: boolean; fill?: number[] }
  | { kind: 'draw' }
  | { kind: 'dim'; name: string; value: number }
  | { kind: 'num'; name: string; value: number }
  | { kind: 'geom'; make: () => object }
  | { kind: 'lit'; value: unknown };

const f = (name: string, n: number, sized = true): Arg => ({ kind: 'f32', name, n, sized });
const i32 = (name: string, n: number, fill: number[]): Arg => ({ kind: 'i32', name, n, sized: true, fill });
const u8 = (name: string, n: number): Arg => ({ kind: 'u8', name, n, sized: true });
const dim = (name: string, value: number): Arg => ({ kind: 'dim', name, value });
const num = (name: string, value: number): Arg => ({ kind: 'num', name, value });
const lit = (value: unknown): Arg => ({ kind: 'lit', value });
const draw: Arg = { kind: 'draw' };

const convG = (): object => convGeometry({ n: 1, h: 4, w: 4, c: 2, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 3 });
const poolG = (): object => poolGeometry({ n: 1, h: 4, w: 4, c: 2, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
const cg: Arg = { kind: 'geom', make: convG };
const pg: Arg = { kind: 'geom', make: poolG };

/** One valid call per kernel (dimensions kept tiny and distinct, so messages are unambiguous). */
const VALID: Record<keyof Kernels, Arg[]> = {
  fill: [f('y', 5, false), num('value', 1)],
  copy: [f('y', 5, false), f('x', 5)],
  add: [f('y', 5, false), f('a', 5), f('b', 5)],
  axpy: [f('y', 5, false), num('alpha', 2), f('x', 5)],
  scale: [f('y', 5, false), num('alpha', 2)],
  sumSquares: [f('x', 5, false)],
  gemm: [lit(false), lit(false), dim('m', 2), dim('n', 3), dim('k', 4), num('alpha', 1), f('a', 8), dim('lda', 4),
    f('b', 12), dim('ldb', 3), num('beta', 0), f('c', 6), dim('ldc', 3)],
  denseForward: [f('y', 8), f('x', 6), f('w', 12), f('b', 4), dim('batch', 2), dim('inF', 3), dim('outF', 4), lit('relu')],
  denseBackward: [f('dx', 6), f('dw', 12), f('db', 4), f('dy', 8), f('y', 8), f('x', 6), f('w', 12),
    dim('batch', 2), dim('inF', 3), dim('outF', 4), lit('relu')],
  conv2dForward: [f('y', 48), f('x', 32), f('w', 54), f('b', 3), cg, lit('relu')],
  conv2dBackward: [f('dx', 32), f('dw', 54), f('db', 3), f('dy', 48), f('y', 48), f('x', 32), f('w', 54), cg, lit('relu')],
  maxPoolForward: [f('y', 8), i32('argmax', 8, [0]), f('x', 32), pg],
  maxPoolBackward: [f('dx', 32), f('dy', 8), i32('argmax', 8, [0, 3, 8, 11, 17, 19, 24, 31]), pg],
  avgPoolForward: [f('y', 8), f('x', 32), pg],
  avgPoolBackward: [f('dx', 32), f('dy', 8), pg],
  globalMaxPoolForward: [f('y', 4), i32('argmax', 4, [0]), f('x', 12), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalMaxPoolBackward: [f('dx', 12), f('dy', 4), i32('argmax', 4, [0, 3, 6, 11]), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalAvgPoolForward: [f('y', 4), f('x', 12), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalAvgPoolBackward: [f('dx', 12), f('dy', 4), dim('n', 2), dim('hw', 3), dim('c', 2)],
  batchNormTrainForward: [f('y', 6), f('mean', 2), f('invStd', 2), f('movingMean', 2), f('movingVar', 2), f('x', 6),
    f('gamma', 2), f('beta', 2), dim('rows', 3), dim('c', 2), num('momentum', 0.99), num('epsilon', 1e-3), lit('relu')],
  batchNormInferForward: [f('y', 6), f('x', 6), f('gamma', 2), f('beta', 2), f('movingMean', 2), f('movingVar', 2),
    dim('rows', 3), dim('c', 2), num('epsilon', 1e-3), lit('relu')],
  batchNormBackward: [f('dx', 6), f('dgamma', 2), f('dbeta', 2), f('dy', 6), f('y', 6), f('x', 6), f('mean', 2), f('invStd', 2),
    f('gamma', 2), dim('rows', 3), dim('c', 2), lit('relu')],
  activationForward: [lit('elu'), f('y', 5, false), f('x', 5), num('alpha', 1)],
  activationBackward: [lit('elu'), f('dx', 5, false), f('dy', 5), f('x', 5), f('y', 5), num('alpha', 1)],
  softmaxForward: [f('y', 6), f('x', 6), dim('rows', 2), dim('cols', 3)],
  softmaxBackward: [f('dx', 6), f('dy', 6), f('y', 6), dim('rows', 2), dim('cols', 3)],
  dropoutForward: [f('y', 5, false), u8('mask', 5), f('x', 5), num('rate', 0.5), draw],
  dropoutBackward: [f('dx', 5, false), f('dy', 5), u8('mask', 5), num('rate', 0.5)],
  softmaxCrossEntropy: [f('probs', 6), f('dlogits', 6), f('logits', 6), i32('labels', 2, [0, 2]), f('weights', 2),
    dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  categoricalCrossEntropy: [f('probs', 6), f('dlogits', 6), f('logits', 6), f('targets', 6), f('weights', 2),
    dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  meanSquaredError: [f('dpred', 6), f('pred', 6), f('target', 6), f('weights', 2), dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  countCorrect: [f('scores', 6), i32('labels', 2, [0, 2]), dim('rows', 2), dim('cols', 3), dim('k', 1)],
  penalty: [f('w', 5, false), num('l1', 0.01), num('l2', 0.01)],
  penaltyGrad: [f('dw', 5, false), f('w', 5), num('l1', 0.01), num('l2', 0.01)],
  sgdUpdate: [f('w', 5, false), f('g', 5), f('velocity', 5), num('lr', 0.1), num('momentum', 0.9), lit(true), num('weightDecay', 0)],
  adamUpdate: [f('w', 5, false), f('g', 5), f('m', 5), f('v', 5), f('vhat', 5), num('lr', 0.1), num('beta1', 0.9),
    num('beta2', 0.999), num('epsilon', 1e-7), dim('step', 1), num('weightDecay', 0)],
  nadamUpdate: [f('w', 5, false), f('g', 5), f('m', 5), f('v', 5), num('lr', 0.1), num('beta1', 0.9), num('beta2', 0.999),
    num('epsilon', 1e-7), num('coefM', 0.5), num('coefG', 0.5), num('vCorrection', 2), num('weightDecay', 0)],
  rmspropUpdate: [f('w', 5, false), f('g', 5), f('ms', 5), f('mg', 5), f('mom', 5), num('lr', 0.1), num('rho', 0.9),
    num('momentum', 0.5), num('epsilon', 1e-7), num('weightDecay', 0)],
  affineWarp: [f('y', 12), f('x', 12), lit(Float64Array.of(1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0)), dim('n', 2), dim('h', 2), dim('w', 3), dim('c', 1),
    lit('reflect'), num('cval', 0), lit('bilinear')],
};

/** Materialize the argument list, with `override(i)` replacing argument i when it returns a value. */
function build(specs: Arg[], override?: (i: number) => { value: unknown } | undefined): unknown[] {
  return specs.map((a, i) => {
    const o = override?.(i);
    if (o) return o.value;
    switch (a.kind) {
      case 'f32': return new Float32Array(a.n).fill(0.5);
      case 'i32': return Int32Array.from({ length: a.n }, (_, j) => a.fill?.[j] ?? 0);
      case 'u8': return new Uint8Array(a.n).fill(1);
      case 'draw': return Uint32Array.of(1, 2, 3, 4, 0, 0);
      case 'dim': case 'num': return a.value;
      case 'geom': return a.make();
      case 'lit': return a.value;
    }
  });
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Expect `fn` to throw an instance of `type` whose message matches `pattern`. */
export function expectThrows(fn: () => unknown, type: typeof ArgumentError | typeof ShapeError, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${type.name} matching ${pattern}`).toBeInstanceOf(type);
  expect((caught as Error).message).toMatch(pattern);
}

/** Kernel-specific refusals beyond the generic table: [title, kernel, arg index → value, type, message]. */
type Extra = [string, keyof Kernels, Record<number, unknown>, typeof ArgumentError | typeof ShapeError, RegExp];
const EXTRA: Extra[] = [
  ['a label ≥ cols', 'softmaxCrossEntropy', { 3: Int32Array.of(0, 3) }, ArgumentError, /^softmaxCrossEntropy: labels\[1\] must be a class index in \[0, 2\]; received 3$/],
  ['a negative label', 'softmaxCrossEntropy', { 3: Int32Array.of(-1, 0) }, ArgumentError, /^softmaxCrossEntropy: labels\[0\] must be a class index in \[0, 2\]; received -1$/],
  ['a label ≥ cols', 'countCorrect', { 1: Int32Array.of(2, 7) }, ArgumentError, /^countCorrect: labels\[1\] must be a class index in \[0, 2\]; received 7$/],
  ['dropout rate 1.5', 'dropoutForward', { 3: 1.5 }, ArgumentError, /^dropoutForward: rate must be in \[0, 1\); received 1\.5$/],
  ['dropout rate 1', 'dropoutForward', { 3: 1 }, ArgumentError, /^dropoutForward: rate must be in \[0, 1\); received 1$/],
  ['dropout rate −0.1', 'dropoutBackward', { 3: -0.1 }, ArgumentError, /^dropoutBackward: rate must be in \[0, 1\); received -0\.1$/],
  ['a draw of length 5', 'dropoutForward', { 4: new Uint32Array(5) }, ArgumentError, /^dropoutForward: draw must be a Uint32Array\(6\).*; received Uint32Array\(5\)$/],
  ['fused activation "sigmoid"', 'denseForward', { 7: 'sigmoid' }, ArgumentError, /^denseForward: fused activation must be 'linear' or 'relu'; received "sigmoid"$/],
  ['fused activation "tanh"', 'conv2dBackward', { 8: 'tanh' }, ArgumentError, /^conv2dBackward: fused activation must be 'linear' or 'relu'; received "tanh"$/],
  ['activation "gelu"', 'activationForward', { 0: 'gelu' }, ArgumentError, /^activationForward: activation must be one of linear, relu, elu, leaky_relu, sigmoid, tanh; received "gelu"$/],
  ['activation "softmax"', 'activationBackward', { 0: 'softmax' }, ArgumentError, /^activationBackward: activation must be one of .*; received "softmax"$/],
  ['lda < k', 'gemm', { 7: 3 }, ArgumentError, /^gemm: lda must be ≥ 4; received 3$/],
  ['ldc < n', 'gemm', { 12: 2 }, ArgumentError, /^gemm: ldc must be ≥ 3; received 2$/],
  ['ldb < k when transB', 'gemm', { 1: true, 9: 3 }, ArgumentError, /^gemm: ldb must be ≥ 4; received 3$/],
  ['relu without y', 'denseBackward', { 4: null }, ArgumentError, /^denseBackward: y must be a Float32Array; received null$/],
  ['relu without y', 'batchNormBackward', { 4: null }, ArgumentError, /^batchNormBackward: y must be a Float32Array; received null$/],
  ['momentum 1.5', 'batchNormTrainForward', { 10: 1.5 }, ArgumentError, /^batchNormTrainForward: momentum must be in \[0, 1\]; received 1\.5$/],
  ['negative epsilon', 'batchNormInferForward', { 8: -1 }, ArgumentError, /^batchNormInferForward: epsilon must be in \[0, Infinity\]; received -1$/],
  ['momentum without a velocity buffer', 'sgdUpdate', { 2: null }, ArgumentError, /^sgdUpdate: momentum 0\.9 needs a velocity buffer; received null$/],
  ['momentum without a momentum buffer', 'rmspropUpdate', { 4: null }, ArgumentError, /^rmspropUpdate: momentum 0\.5 needs a momentum buffer; received null$/],
  ['beta1 = 1', 'adamUpdate', { 6: 1 }, ArgumentError, /^adamUpdate: beta1 must be in \[0, 1\); received 1$/],
  ['step 0', 'adamUpdate', { 9: 0 }, ArgumentError, /^adamUpdate: step must be an integer ≥ 1; received 0$/],
  ['rho = 1', 'rmspropUpdate', { 6: 1 }, ArgumentError, /^rmspropUpdate: rho must be in \[0, 1\); received 1$/],
  ['negative l1', 'penalty', { 1: -0.1 }, ArgumentError, /^penalty: l1 must be in \[0, Infinity\]; received -0\.1$/],
  ['negative l2', 'penaltyGrad', { 3: -1 }, ArgumentError, /^penaltyGrad: l2 must be in \[0, Infinity\]; received -1$/],
  ['matrices of the wrong length', 'affineWarp', { 2: new Float64Array(6) }, ArgumentError, /^affineWarp: matrices must be a Float64Array of n·6 = 12 numbers; received Float64Array\(6\)$/],
  ['matrices as float32', 'affineWarp', { 2: new Float32Array(12) }, ArgumentError, /^affineWarp: matrices must be a Float64Array of n·6 = 12 numbers; received Float32Array\(12\)$/],
  ['fill mode "mirror"', 'affineWarp', { 7: 'mirror' }, ArgumentError, /^affineWarp: fill must be one of reflect, wrap, nearest, constant; received "mirror"$/],
  ['interpolation "bicubic"', 'affineWarp', { 9: 'bicubic' }, ArgumentError, /^affineWarp: interpolation must be bilinear or nearest; received "bicubic"$/],
  ['a pool geometry of another size', 'avgPoolForward', { 2: poolGeometry({ n: 1, h: 6, w: 4, c: 2, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' }) },
    ShapeError, /^avgPoolForward: x must have n·h·w·c = 1·6·4·2 = 48 elements; received 32$/],
];

/**
 * A geometry object whose windows fall outside the input (oh three rows too many): the
 * geometry helpers never make one, but a hand-edited or deserialized object can. Both backends
 * must refuse it with a typed error rather than compute over cells that do not exist.
 */
function outsideGeometry(make: () => object): { g: object; outputs: number } {
  const g = make() as { n: number; oh: number; ow: number; c: number; f?: number; packed: Int32Array };
  const bad = { ...g, oh: g.oh + 3, packed: g.packed.slice() };
  bad.packed[11] = bad.oh;
  return { g: bad, outputs: bad.n * bad.oh * bad.ow * (bad.f ?? bad.c) };
}

export function argumentErrorTests(ctx: SuiteContext, kernel: keyof Kernels): void {
  const be = ctx.backend;
  const specs = VALID[kernel];
  const call = (override?: (i: number) => { value: unknown } | undefined): unknown => callKernel(be, kernel, build(specs, override));
  const K = esc(kernel);

  it('argument errors: the valid call passes; every spoiled argument throws a typed error naming it', () => {
    expect(() => call()).not.toThrow();
    specs.forEach((a, i) => {
      const at = (value: unknown) => (j: number): { value: unknown } | undefined => (j === i ? { value } : undefined);
      switch (a.kind) {
        case 'f32': case 'i32': {
          const want = a.kind === 'f32' ? 'a Float32Array' : 'an Int32Array';
          const wrong = a.kind === 'f32' ? new Float64Array(a.n) : new Float32Array(a.n);
          const got = wrong.constructor.name;
          expectThrows(() => call(at(wrong)), ArgumentError, new RegExp(`^${K}: ${a.name} must be ${want}; received ${got}\\(${a.n}\\)$`));
          expectThrows(() => call(at([1, 2, 3])), ArgumentError, new RegExp(`^${K}: ${a.name} must be ${want}; received \\[1, 2, 3\\]$`));
          if (a.sized) {
            const short = a.kind === 'f32' ? new Float32Array(a.n - 1) : new Int32Array(a.n - 1);
            expectThrows(() => call(at(short)), ShapeError,
              new RegExp(`^${K}: ${a.name} must (have|hold at least) (.*\\D)?${a.n}\\D.*; received ${a.n - 1}$`));
          }
          break;
        }
        case 'u8':
          // a mask of the wrong type is an ArgumentError, of the wrong length a ShapeError (as for every buffer)
          expectThrows(() => call(at(new Float32Array(a.n))), ArgumentError, new RegExp(`^${K}: mask must be a Uint8Array; received Float32Array\\(${a.n}\\)$`));
          expectThrows(() => call(at(new Uint8Array(a.n + 1))), ShapeError, new RegExp(`^${K}: mask must have ${a.n} elements; received ${a.n + 1}$`));
          break;
        case 'draw':
          expectThrows(() => call(at(new Float64Array(6))), ArgumentError, new RegExp(`^${K}: draw must be a Uint32Array\\(6\\).*; received Float64Array\\(6\\)$`));
          break;
        case 'dim':
          for (const bad of [-1, 0, 2.5, Number.NaN, '3']) {
            expectThrows(() => call(at(bad)), ArgumentError, new RegExp(`^${K}: ${a.name} must be an integer ≥ 1; received ${esc(typeof bad === 'string' ? JSON.stringify(bad) : String(bad))}$`));
          }
          break;
        case 'num':
          for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '0.5']) {
            expectThrows(() => call(at(bad)), ArgumentError, new RegExp(`^${K}: ${a.name} must be a finite number; received ${esc(typeof bad === 'string' ? JSON.stringify(bad) : String(bad))}$`));
          }
          break;
        case 'geom': {
          const pattern = new RegExp(`^${K}: geometry must come from convGeometry\\(\\)/poolGeometry\\(\\); received `);
          expectThrows(() => call(at({})), ArgumentError, pattern);
          expectThrows(() => call(at(null)), ArgumentError, pattern);
          expectThrows(() => call(at({ ...a.make(), packed: [1, 2, 3] })), ArgumentError, pattern);
          break;
        }
        case 'lit':
          break;
      }
    });
  });

  for (const [title, , overrides, type, pattern] of EXTRA.filter((e) => e[1] === kernel)) {
    it(`argument errors: ${title}`, () => {
      expectThrows(() => call((i) => (i in overrides ? { value: overrides[i] } : undefined)), type, pattern);
    });
  }

  const geomSpec = specs.find((a) => a.kind === 'geom');
  if (geomSpec?.kind === 'geom') {
    it('argument errors: a geometry whose windows fall outside the input is refused (ArgumentError)', () => {
      const { g, outputs } = outsideGeometry(geomSpec.make);
      const override = (i: number): { value: unknown } | undefined => {
        const a = specs[i];
        if (a === geomSpec) return { value: g };
        // outputs sized for the bad oh, so that only the geometry itself is wrong
        if (a.kind === 'f32' && (a.name === 'y' || a.name === 'dy')) return { value: new Float32Array(outputs) };
        if (a.kind === 'i32') return { value: new Int32Array(outputs) };
        return undefined;
      };
      expectThrows(() => call(override), ArgumentError, new RegExp(`^${K}: geometry`));
    });
  }
}
