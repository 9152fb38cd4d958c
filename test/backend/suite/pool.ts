/** Suite section: windowed and global pooling, max and average, forward and backward. */
import { expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/backend.js';
import type { Padding, PoolGeometry } from '../../../src/backend/geometry.js';
import { poolGeometry } from '../../../src/backend/geometry.js';
import type { SuiteContext } from './helpers.js';
import {
  checkGradients, distinct, dot, expectBits, expectElementsClose, expectSameInts, nans, uniform,
} from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, i32, dim, pg } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  maxPoolForward: [f('y', 8), i32('argmax', 8, [0]), f('x', 32), pg],
  maxPoolBackward: [f('dx', 32), f('dy', 8), i32('argmax', 8, [0, 3, 8, 11, 17, 19, 24, 31]), pg],
  avgPoolForward: [f('y', 8), f('x', 32), pg],
  avgPoolBackward: [f('dx', 32), f('dy', 8), pg],
  globalMaxPoolForward: [f('y', 4), i32('argmax', 4, [0]), f('x', 12), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalMaxPoolBackward: [f('dx', 12), f('dy', 4), i32('argmax', 4, [0, 3, 6, 11]), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalAvgPoolForward: [f('y', 4), f('x', 12), dim('n', 2), dim('hw', 3), dim('c', 2)],
  globalAvgPoolBackward: [f('dx', 12), f('dy', 4), dim('n', 2), dim('hw', 3), dim('c', 2)],
} satisfies Partial<Record<KernelName, Arg[]>>;

// Average pooling sums at most 25 cells and scales by 1/count (a multiply or a divide): a few
// float32 roundings of the element itself, hence elementwise 1e-6 relative (+1e-7 absolute for
// results near 0). Max pooling copies values and must match bit for bit.
const AVG = { rtol: 1e-6, atol: 1e-7 };
const FD = { eps: 1e-2, tol: 1e-2 };

interface PoolCase { n: number; h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number; padding: Padding }
const pool = (n: number, h: number, w: number, c: number, k: number | [number, number], s: number | [number, number], padding: Padding): PoolCase => {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  const [sh, sw] = typeof s === 'number' ? [s, s] : s;
  return { n, h, w, c, kh, kw, sh, sw, padding };
};
const POOL_CASES: PoolCase[] = [
  pool(1, 6, 6, 1, 2, 2, 'valid'),
  pool(2, 7, 5, 3, 2, 2, 'same'),
  pool(2, 9, 8, 17, 3, 2, 'same'),
  pool(1, 5, 5, 5, 3, 1, 'same'), // overlapping windows
  pool(3, 8, 7, 2, 2, 3, 'valid'), // stride > pool: gaps
  pool(1, 6, 5, 70, [3, 2], [2, 1], 'valid'),
  pool(2, 4, 4, 33, 1, 1, 'valid'),
  pool(1, 2, 2, 3, 3, 1, 'same'), // window larger than the image
  pool(4, 16, 16, 16, 2, 2, 'valid'), // several images: both threads
];

const FD_POOL: PoolCase[] = [
  pool(2, 4, 4, 2, 2, 2, 'valid'),
  pool(1, 5, 5, 2, 3, 2, 'same'),
  pool(1, 5, 4, 3, 3, 1, 'same'),
  pool(2, 7, 6, 1, 2, 3, 'same'), // stride ≠ pool
  pool(1, 6, 5, 2, [3, 2], [2, 1], 'valid'),
];

function maxForward(be: Backend, x: Float32Array, g: PoolGeometry): { y: Float32Array; arg: Int32Array } {
  const y = nans(g.n * g.oh * g.ow * g.c);
  const arg = new Int32Array(y.length).fill(-7);
  be.maxPoolForward(y, arg, x, g);
  return { y, arg };
}

function avgForward(be: Backend, x: Float32Array, g: PoolGeometry): Float32Array {
  const y = nans(g.n * g.oh * g.ow * g.c);
  be.avgPoolForward(y, x, g);
  return y;
}

/** The 6×6 test vector of STYLE.md (2×2 max pooling, stride 2). */
const LECTURE_X = [
  1, 3, 0, 1, 2, 6,
  4, 2, 0, 1, 4, 0,
  7, 0, 0, 3, 4, 4,
  5, 5, 3, 5, 4, 4,
  8, 2, 4, 3, 2, 0,
  3, 3, 6, 0, 3, 0,
];
const LECTURE_Y = [4, 1, 6, 7, 5, 4, 8, 6, 3];
// winners: first cell in row-major window order on ties (the 1s of window (0,1), the 4s of (1,2))
const LECTURE_ARGMAX = [6, 3, 5, 12, 21, 16, 24, 32, 34];

export function poolSection(ctx: SuiteContext): void {
  ctx.kernel('maxPoolForward', VALID.maxPoolForward, () => maxForwardTests(ctx));
  ctx.kernel('maxPoolBackward', VALID.maxPoolBackward, () => maxBackwardTests(ctx));
  ctx.kernel('avgPoolForward', VALID.avgPoolForward, () => avgForwardTests(ctx));
  ctx.kernel('avgPoolBackward', VALID.avgPoolBackward, () => avgBackwardTests(ctx));
  globalSection(ctx);
}

function maxForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('STYLE.md 6×6 test vector: values and argmax', () => {
    const g = poolGeometry({ n: 1, h: 6, w: 6, c: 1, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
    const { y, arg } = maxForward(be, Float32Array.from(LECTURE_X), g);
    expect(Array.from(y)).toEqual(LECTURE_Y);
    expect(Array.from(arg)).toEqual(LECTURE_ARGMAX);
  });

  it('the 6×6 vector as channel 1 of 3, image 2 of 2: NHWC flat indices', () => {
    const g = poolGeometry({ n: 2, h: 6, w: 6, c: 3, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
    const x = uniform(3000, 2 * 36 * 3, -10, -5); // other cells never compete (all negative)
    LECTURE_X.forEach((v, p) => { x[(36 + p) * 3 + 1] = v; });
    const { y, arg } = maxForward(be, x, g);
    expect(Array.from({ length: 9 }, (_, p) => y[(9 + p) * 3 + 1])).toEqual(LECTURE_Y);
    expect(Array.from({ length: 9 }, (_, p) => arg[(9 + p) * 3 + 1])).toEqual(LECTURE_ARGMAX.map((a) => (36 + a) * 3 + 1));
  });

  it("padding never wins: all-negative input with 'same' padding", () => {
    const g = poolGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'same' });
    const { y, arg } = maxForward(be, Float32Array.from([-9, -8, -7, -6, -5, -4, -3, -2, -1]), g);
    expect(Array.from(y)).toEqual([-5, -4, -2, -1]);
    expect(Array.from(arg)).toEqual([4, 5, 7, 8]);
  });

  it('NaN propagates (a NaN cell wins its windows)', () => {
    const g = poolGeometry({ n: 1, h: 2, w: 3, c: 1, kh: 2, kw: 2, sh: 1, sw: 1, padding: 'valid' });
    const { y, arg } = maxForward(be, Float32Array.of(1, 2, 3, 4, Number.NaN, 0), g);
    expect(Number.isNaN(y[0]) && Number.isNaN(y[1])).toBe(true);
    expect(Array.from(arg)).toEqual([4, 4]);
  });

  ctx.compare('matches the oracle bit for bit, argmax included (ties from quantized data)', () => {
    let seed = 3100;
    for (const c of POOL_CASES) {
      const g = poolGeometry(c);
      const x = uniform(seed++, c.n * c.h * c.w * c.c, -4, 4).map(Math.round); // many ties
      const got = maxForward(be, x, g);
      const ref = maxForward(oracle, x, g);
      expectBits(got.y, ref.y, `maxpool ${JSON.stringify(c)} y`);
      expectSameInts(got.arg, ref.arg, `maxpool ${JSON.stringify(c)} argmax`);
    }
  });
}

function maxBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  for (const c of FD_POOL) {
    it(`finite differences: ${c.kh}×${c.kw} stride ${c.sh}×${c.sw} ${c.padding}`, () => {
      const g = poolGeometry(c);
      const x = distinct(3200, c.n * c.h * c.w * c.c);
      let { y, arg } = maxForward(be, x, g);
      const r = uniform(3201, y.length);
      const dx = nans(x.length);
      be.maxPoolBackward(dx, r, arg, g);
      checkGradients({
        ...FD,
        loss: () => {
          ({ y, arg } = maxForward(be, x, g));
          return dot(r, y);
        },
        regime: () => arg.join(','),
        params: [{ name: 'dx', value: x, analytic: dx }],
      });
    });
  }

  it('overlapping windows accumulate into a shared winner; the rest is overwritten with 0', () => {
    // 3×3 stride 1 'same' on 3×3: the centre (9) wins all nine windows
    const g = poolGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' });
    const { arg } = maxForward(be, Float32Array.of(1, 2, 3, 4, 9, 5, 6, 7, 8), g);
    const dx = nans(9);
    be.maxPoolBackward(dx, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), arg, g);
    expect(Array.from(dx)).toEqual([0, 0, 0, 0, 45, 0, 0, 0, 0]);
  });

  ctx.compare('matches the oracle on every shape', () => {
    let seed = 3300;
    for (const c of POOL_CASES) {
      const g = poolGeometry(c);
      const { arg } = maxForward(oracle, uniform(seed++, c.n * c.h * c.w * c.c).map((v) => Math.round(v * 3)), g);
      const dy = uniform(seed++, arg.length);
      const [got, ref] = [nans(c.n * c.h * c.w * c.c), nans(c.n * c.h * c.w * c.c)];
      be.maxPoolBackward(got, dy, arg, g);
      oracle.maxPoolBackward(ref, dy, arg, g);
      // overlapping windows add several dy into one cell, possibly in another order
      expectElementsClose(got, ref, 1e-6, 1e-7, `maxpool backward ${JSON.stringify(c)}`);
    }
  });
}

function avgForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it("hand-computed: 'same' padding cells are not counted (TensorFlow)", () => {
    const g = poolGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'same' });
    const y = avgForward(be, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), g);
    expect(Array.from(y)).toEqual([3, 4.5, 7.5, 9]);
    // 3×3 stride 1 'same': the corner window holds 4 cells, the edge 6, the centre 9
    const g2 = poolGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' });
    const y2 = avgForward(be, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), g2);
    expectElementsClose(y2, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7], 1e-7, 0, 'avg 3×3 same');
  });

  ctx.compare('matches the oracle on every shape', () => {
    let seed = 3400;
    for (const c of POOL_CASES) {
      const g = poolGeometry(c);
      const x = uniform(seed++, c.n * c.h * c.w * c.c);
      expectElementsClose(avgForward(be, x, g), avgForward(oracle, x, g), AVG.rtol, AVG.atol, `avgpool ${JSON.stringify(c)}`);
    }
  });
}

function avgBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  for (const c of FD_POOL) {
    it(`finite differences: ${c.kh}×${c.kw} stride ${c.sh}×${c.sw} ${c.padding}`, () => {
      const g = poolGeometry(c);
      const x = uniform(3500, c.n * c.h * c.w * c.c);
      const r = uniform(3501, c.n * g.oh * g.ow * c.c);
      const dx = nans(x.length);
      be.avgPoolBackward(dx, r, g);
      checkGradients({
        ...FD,
        loss: () => dot(r, avgForward(be, x, g)),
        params: [{ name: 'dx', value: x, analytic: dx }],
      });
    });
  }

  ctx.compare('matches the oracle on every shape', () => {
    let seed = 3600;
    for (const c of POOL_CASES) {
      const g = poolGeometry(c);
      const dy = uniform(seed++, c.n * g.oh * g.ow * c.c);
      const [got, ref] = [nans(c.n * c.h * c.w * c.c), nans(c.n * c.h * c.w * c.c)];
      be.avgPoolBackward(got, dy, g);
      oracle.avgPoolBackward(ref, dy, g);
      expectElementsClose(got, ref, AVG.rtol, AVG.atol, `avgpool backward ${JSON.stringify(c)}`);
    }
  });
}

const GLOBAL_CASES: Array<[number, number, number]> = [[1, 1, 1], [2, 49, 3], [3, 17, 70], [8, 64, 33]];

function globalSection(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const gmax = (k: Backend, x: Float32Array, n: number, hw: number, c: number): { y: Float32Array; arg: Int32Array } => {
    const y = nans(n * c);
    const arg = new Int32Array(n * c).fill(-7);
    k.globalMaxPoolForward(y, arg, x, n, hw, c);
    return { y, arg };
  };
  const gavg = (k: Backend, x: Float32Array, n: number, hw: number, c: number): Float32Array => {
    const y = nans(n * c);
    k.globalAvgPoolForward(y, x, n, hw, c);
    return y;
  };

  ctx.kernel('globalMaxPoolForward', VALID.globalMaxPoolForward, () => {
    it('hand-computed: per image and channel, first position wins ties, NaN propagates', () => {
      // x (2 images, 3 positions, 2 channels)
      const x = Float32Array.of(1, 5, 3, 5, 2, 4, /* image 1 */ -1, 0, Number.NaN, -2, -3, 0);
      const { y, arg } = gmax(be, x, 2, 3, 2);
      expect([y[0], y[1], y[3]]).toEqual([3, 5, 0]);
      expect(Number.isNaN(y[2]), 'NaN wins image 1, channel 0').toBe(true);
      expect(Array.from(arg)).toEqual([2, 1, 8, 7]);
    });

    ctx.compare('matches the oracle bit for bit (ties from quantized data)', () => {
      let seed = 3700;
      for (const [n, hw, c] of GLOBAL_CASES) {
        const x = uniform(seed++, n * hw * c, -3, 3).map(Math.round);
        const got = gmax(be, x, n, hw, c);
        const ref = gmax(oracle, x, n, hw, c);
        expectBits(got.y, ref.y, `global max ${n},${hw},${c}`);
        expectSameInts(got.arg, ref.arg, `global max argmax ${n},${hw},${c}`);
      }
    });
  });

  ctx.kernel('globalMaxPoolBackward', VALID.globalMaxPoolBackward, () => {
    it('finite differences', () => {
      const [n, hw, c] = [2, 5, 3];
      const x = distinct(3800, n * hw * c);
      let { y, arg } = gmax(be, x, n, hw, c);
      const r = uniform(3801, n * c);
      const dx = nans(x.length);
      be.globalMaxPoolBackward(dx, r, arg, n, hw, c);
      checkGradients({
        ...FD,
        loss: () => {
          ({ y, arg } = gmax(be, x, n, hw, c));
          return dot(r, y);
        },
        regime: () => arg.join(','),
        params: [{ name: 'dx', value: x, analytic: dx }],
      });
    });

    ctx.compare('matches the oracle', () => {
      let seed = 3850;
      for (const [n, hw, c] of GLOBAL_CASES) {
        const { arg } = gmax(oracle, uniform(seed++, n * hw * c), n, hw, c);
        const dy = uniform(seed++, n * c);
        const [got, ref] = [nans(n * hw * c), nans(n * hw * c)];
        be.globalMaxPoolBackward(got, dy, arg, n, hw, c);
        oracle.globalMaxPoolBackward(ref, dy, arg, n, hw, c);
        expectBits(got, ref, `global max backward ${n},${hw},${c}`);
      }
    });
  });

  ctx.kernel('globalAvgPoolForward', VALID.globalAvgPoolForward, () => {
    it('hand-computed means', () => {
      const y = gavg(be, Float32Array.of(1, 10, 2, 20, 6, 60, /* image 1 */ -1, 0.5, -2, 0.5, -3, 0.5), 2, 3, 2);
      expectElementsClose(y, [3, 30, -2, 0.5], 1e-7, 0, 'global avg');
    });

    ctx.compare('matches the oracle', () => {
      let seed = 3900;
      for (const [n, hw, c] of GLOBAL_CASES) {
        const x = uniform(seed++, n * hw * c);
        // a float32 sum of hw ≤ 64 terms of O(1): scale-relative, not elementwise (means near 0)
        expectElementsClose(gavg(be, x, n, hw, c), gavg(oracle, x, n, hw, c), 1e-6, 1e-6, `global avg ${n},${hw},${c}`);
      }
    });
  });

  ctx.kernel('globalAvgPoolBackward', VALID.globalAvgPoolBackward, () => {
    it('finite differences', () => {
      const [n, hw, c] = [2, 5, 3];
      const x = uniform(3950, n * hw * c);
      const r = uniform(3951, n * c);
      const dx = nans(x.length);
      be.globalAvgPoolBackward(dx, r, n, hw, c);
      checkGradients({ ...FD, loss: () => dot(r, gavg(be, x, n, hw, c)), params: [{ name: 'dx', value: x, analytic: dx }] });
    });

    ctx.compare('matches the oracle', () => {
      let seed = 3960;
      for (const [n, hw, c] of GLOBAL_CASES) {
        const dy = uniform(seed++, n * c);
        const [got, ref] = [nans(n * hw * c), nans(n * hw * c)];
        be.globalAvgPoolBackward(got, dy, n, hw, c);
        oracle.globalAvgPoolBackward(ref, dy, n, hw, c);
        expectElementsClose(got, ref, 1e-6, 1e-7, `global avg backward ${n},${hw},${c}`);
      }
    });
  });
}
