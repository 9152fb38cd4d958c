/**
 * Suite section: argument errors. For every kernel, its section gives one valid call (built from
 * suite/args.ts, next to the kernel's other tests); each buffer, dimension, scalar and geometry
 * is then spoiled in turn and the call must throw the
 * typed error of src/errors.ts whose message names the kernel, the argument and the value
 * received (STYLE.md §6). Kernel-specific range checks follow in `EXTRA`.
 */
import { expect, it } from 'vitest';
import type { KernelName } from '../../../src/backend/kernels.js';
import { poolGeometry } from '../../../src/backend/geometry.js';
import { ArgumentError, ShapeError } from '../../../src/errors.js';
import type { Arg } from './args.js';
import type { SuiteContext } from './helpers.js';
import { callKernel } from './helpers.js';

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
type Extra = [string, KernelName, Record<number, unknown>, typeof ArgumentError | typeof ShapeError, RegExp];
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

export function argumentErrorTests(ctx: SuiteContext, kernel: KernelName, specs: Arg[]): void {
  const be = ctx.backend;
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
