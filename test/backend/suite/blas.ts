/** Suite section: memory, BLAS-1 and GEMM. */
import { expect, it } from 'vitest';
import type { SuiteContext } from './helpers.js';
import { expectBits, expectClose, nans, uniform, unaligned } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, dim, num, lit } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  fill: [f('y', 5, false), num('value', 1)],
  copy: [f('y', 5, false), f('x', 5)],
  add: [f('y', 5, false), f('a', 5), f('b', 5)],
  axpy: [f('y', 5, false), num('alpha', 2), f('x', 5)],
  scale: [f('y', 5, false), num('alpha', 2)],
  sumSquares: [f('x', 5, false)],
  gemm: [lit(false), lit(false), dim('m', 2), dim('n', 3), dim('k', 4), num('alpha', 1), f('a', 8), dim('lda', 4),
    f('b', 12), dim('ldb', 3), num('beta', 0), f('c', 6), dim('ldc', 3)],
} satisfies Partial<Record<KernelName, Arg[]>>;

// 40001 > FL_PARALLEL_MIN (32768): the native elementwise kernels split it across threads,
// and it is odd, so every SIMD tail is exercised.
const LENGTHS = [1, 7, 33, 40001];

/** |actual − expected| ≤ bound[i] for every element. */
function expectWithin(actual: Float32Array, expected: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= bound(i))) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, want ${expected[i]} (bound ${bound(i)})`);
    }
  }
}

// One float32 rounding is 2^-24 relative; an operand rounded to float32 first (alpha) adds
// another: 2^-22 leaves a factor of two of margin.
const ULPISH = 2 ** -22;

export function blasSection(ctx: SuiteContext): void {
  const { backend: be } = ctx;

  ctx.kernel('fill', VALID.fill, () => {
    it('writes fround(value) everywhere', () => {
      for (const n of LENGTHS) {
        for (const v of [0, -2.5, 0.3, 1e30]) {
          const y = uniform(n, n);
          be.fill(y, v);
          expect(y.every((e) => e === Math.fround(v)), `n=${n} value=${v}`).toBe(true);
        }
      }
    });
  });

  ctx.kernel('copy', VALID.copy, () => {
    it('copies bits exactly (NaN, −0, denormals included)', () => {
      for (const n of LENGTHS) {
        const x = uniform(100 + n, n);
        x[0] = -0;
        if (n > 2) x[1] = Number.NaN;
        if (n > 3) x[2] = 1e-40; // denormal
        const y = nans(n);
        be.copy(y, x);
        expectBits(y, x, `copy n=${n}`);
      }
    });
  });

  ctx.kernel('add', VALID.add, () => {
    it('y = a + b, exactly rounded, also with y aliasing a or b', () => {
      for (const n of LENGTHS) {
        const a = uniform(200 + n, n, -3, 3);
        const b = uniform(300 + n, n, -3, 3);
        const want = Float32Array.from(a, (v, i) => v + b[i]); // one rounding of an exact sum
        const y = nans(n);
        be.add(y, a, b);
        expectBits(y, want, `add n=${n}`);
        const a2 = a.slice();
        be.add(a2, a2, b);
        expectBits(a2, want, `add y=a n=${n}`);
        const b2 = b.slice();
        be.add(b2, a, b2);
        expectBits(b2, want, `add y=b n=${n}`);
      }
    });
  });

  ctx.kernel('axpy', VALID.axpy, () => {
    it('y += alpha·x (accumulates), within two roundings', () => {
      for (const n of LENGTHS) {
        for (const alpha of [1, -0.3, 2.75]) {
          const x = uniform(400 + n, n);
          const y0 = uniform(500 + n, n);
          const y = y0.slice();
          be.axpy(y, alpha, x);
          const want = Array.from(y0, (v, i) => v + alpha * x[i]);
          expectWithin(y, want, (i) => ULPISH * (Math.abs(y0[i]) + Math.abs(alpha * x[i])) + 1e-45, `axpy n=${n} alpha=${alpha}`);
          // it accumulates: a second call adds again
          be.axpy(y, alpha, x);
          const twice = Array.from(y0, (v, i) => v + 2 * alpha * x[i]);
          expectWithin(y, twice, (i) => 2 * ULPISH * (Math.abs(y0[i]) + 2 * Math.abs(alpha * x[i])) + 1e-45, `axpy twice n=${n}`);
        }
      }
    });
  });

  ctx.kernel('scale', VALID.scale, () => {
    it('y *= alpha within two roundings', () => {
      for (const n of LENGTHS) {
        for (const alpha of [0, -1, 0.3, 1e-3]) {
          const y0 = uniform(600 + n, n, -5, 5);
          const y = y0.slice();
          be.scale(y, alpha);
          expectWithin(y, Array.from(y0, (v) => v * alpha), (i) => ULPISH * Math.abs(y0[i] * alpha), `scale n=${n} alpha=${alpha}`);
        }
      }
    });
  });

  ctx.kernel('sumSquares', VALID.sumSquares, () => {
    it('Σx² in double', () => {
      for (const n of LENGTHS) {
        const x = uniform(700 + n, n, -2, 2);
        let want = 0;
        for (const v of x) want += v * v;
        // double accumulation of exact float32 squares: relative error ≤ n·2^-53 ≈ 4.5e-12 at n = 40001
        expect(Math.abs(be.sumSquares(x) - want)).toBeLessThanOrEqual(1e-11 * want);
      }
      expect(be.sumSquares(Float32Array.of(3, 4))).toBe(25);
    });
  });

  ctx.kernel('gemm', VALID.gemm, () => gemmTests(ctx));
}

interface GemmCase {
  ta: boolean;
  tb: boolean;
  m: number;
  n: number;
  k: number;
  /** extra leading-dimension columns beyond the minimum */
  pad: [number, number, number];
  alpha: number;
  beta: number;
}

function gemmCases(): GemmCase[] {
  const cases: GemmCase[] = [];
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      cases.push(
        { ta, tb, m: 1, n: 1, k: 1, pad: [0, 0, 0], alpha: 1, beta: 0 },
        { ta, tb, m: 7, n: 13, k: 5, pad: [3, 1, 2], alpha: -1.5, beta: 0 },
        { ta, tb, m: 17, n: 33, k: 70, pad: [0, 0, 0], alpha: 1, beta: 0.5 },
        { ta, tb, m: 3, n: 129, k: 31, pad: [1, 5, 7], alpha: 0.25, beta: -1 },
        // large enough for several column blocks, k blocks and both threads
        { ta, tb, m: 40, n: 200, k: 600, pad: [2, 3, 1], alpha: 0.7, beta: ta === tb ? 0 : 2 },
        { ta, tb, m: 1, n: 200, k: 600, pad: [0, 0, 0], alpha: 1, beta: 0 }, // a row vector
        { ta, tb, m: 200, n: 1, k: 600, pad: [0, 0, 0], alpha: 1, beta: 0 }, // a column vector
      );
    }
  }
  cases.push({ ta: false, tb: false, m: 65, n: 64, k: 64, pad: [0, 0, 0], alpha: 1, beta: 1 });
  return cases;
}

/** Plain double GEMM over the stored layouts: the expected value, independent of any backend. */
function gemmDouble(c: GemmCase, a: Float32Array, lda: number, b: Float32Array, ldb: number, c0: Float32Array, ldc: number): Float64Array {
  const out = new Float64Array(c0.length);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let s = 0;
      for (let p = 0; p < c.k; p++) {
        s += (c.ta ? a[p * lda + i] : a[i * lda + p]) * (c.tb ? b[j * ldb + p] : b[p * ldb + j]);
      }
      out[i * ldc + j] = c.alpha * s + (c.beta === 0 ? 0 : c.beta * c0[i * ldc + j]);
    }
  }
  return out;
}

function gemmTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('hand-computed 2×3·3×2 in all four transpose layouts', () => {
    // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]; A·B = [[58,64],[139,154]]
    const A = Float32Array.of(1, 2, 3, 4, 5, 6);
    const At = Float32Array.of(1, 4, 2, 5, 3, 6);
    const B = Float32Array.of(7, 8, 9, 10, 11, 12);
    const Bt = Float32Array.of(7, 9, 11, 8, 10, 12);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const c = Float32Array.of(1, 1, 1, 1);
      be.gemm(ta, tb, 2, 2, 3, 2, ta ? At : A, ta ? 2 : 3, tb ? Bt : B, tb ? 3 : 2, -1, c, 2);
      expect(Array.from(c), `transA=${ta} transB=${tb}`).toEqual([115, 127, 277, 307]);
    }
  });

  it('unaligned views (one float past a 64-byte boundary) give the same results', () => {
    const c: GemmCase = { ta: false, tb: true, m: 37, n: 45, k: 129, pad: [0, 0, 0], alpha: 1, beta: 0.5 };
    const a = uniform(1500, 37 * 129);
    const b = uniform(1501, 45 * 129);
    const c0 = uniform(1502, 37 * 45);
    const got = unaligned(c0);
    be.gemm(false, true, 37, 45, 129, 1, unaligned(a), 129, unaligned(b), 129, 0.5, got, 45);
    expectClose(got, gemmDouble(c, a, 129, b, 129, c0, 45), 1e-5, 'unaligned gemm');
  });

  it('matches a double-precision GEMM on random data (transposes, leading dims, alpha, beta)', () => {
    let seed = 1000;
    for (const c of gemmCases()) {
      const rowsA = c.ta ? c.k : c.m;
      const colsA = c.ta ? c.m : c.k;
      const rowsB = c.tb ? c.n : c.k;
      const colsB = c.tb ? c.k : c.n;
      const [lda, ldb, ldc] = [colsA + c.pad[0], colsB + c.pad[1], c.n + c.pad[2]];
      const a = uniform(seed++, (rowsA - 1) * lda + colsA);
      const b = uniform(seed++, (rowsB - 1) * ldb + colsB);
      // beta = 0 must ignore C entirely: NaN inside the m×n window proves it
      const c0 = c.beta === 0 ? nans((c.m - 1) * ldc + c.n) : uniform(seed++, (c.m - 1) * ldc + c.n);
      const sentinel = 12345.5;
      for (let i = 0; i < c.m - 1; i++) for (let j = c.n; j < ldc; j++) c0[i * ldc + j] = sentinel;
      const [a0, b0] = [a.slice(), b.slice()];
      const got = c0.slice();
      be.gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc);
      const what = `gemm ${JSON.stringify(c)}`;
      const want = gemmDouble(c, a, lda, b, ldb, c0, ldc);
      const window = (buf: ArrayLike<number>): number[] => {
        const out: number[] = [];
        for (let i = 0; i < c.m; i++) for (let j = 0; j < c.n; j++) out.push(buf[i * ldc + j]);
        return out;
      };
      // fp32 sums of k ≤ 600 products of O(1) terms: blocked/FMA summation error is a few
      // 1e-7·sqrt(k) of the output scale; 1e-5·max(1, max|ref|) leaves ~4× margin at k = 600.
      expectClose(window(got), window(want), 1e-5, what);
      if (!ctx.same) {
        const ref = c0.slice();
        oracle.gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, ref, ldc);
        expectClose(window(got), window(ref), 1e-5, `${what} vs oracle`);
      }
      // the ld padding of C, and A and B, are left alone
      for (let i = 0; i < c.m - 1; i++) {
        for (let j = c.n; j < ldc; j++) expect(got[i * ldc + j], `${what}: C padding`).toBe(sentinel);
      }
      expectBits(a, a0, `${what}: A untouched`);
      expectBits(b, b0, `${what}: B untouched`);
    }
  });
}
