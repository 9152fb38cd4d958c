/** Suite section: Dense and Conv2D, forward and backward. */
import { expect, it } from 'vitest';
import type { Backend, FusedActivation } from '../../../src/backend/backend.js';
import type { ConvGeometry, Padding } from '../../../src/backend/geometry.js';
import { convGeometry } from '../../../src/backend/geometry.js';
import type { SuiteContext } from './helpers.js';
import { checkGradients, dot, expectBits, expectClose, maxAbs, nans, reluPattern, uniform, unaligned } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, dim, lit, cg } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  denseForward: [f('y', 8), f('x', 6), f('w', 12), f('b', 4), dim('batch', 2), dim('inF', 3), dim('outF', 4), lit('relu')],
  denseBackward: [f('dx', 6), f('dw', 12), f('db', 4), f('dy', 8), f('y', 8), f('x', 6), f('w', 12),
    dim('batch', 2), dim('inF', 3), dim('outF', 4), lit('relu')],
  conv2dForward: [f('y', 48), f('x', 32), f('w', 54), f('b', 3), cg, lit('relu')],
  conv2dBackward: [f('dx', 32), f('dw', 54), f('db', 3), f('dy', 48), f('y', 48), f('x', 32), f('w', 54), cg, lit('relu')],
} satisfies Partial<Record<KernelName, Arg[]>>;

// Dense and conv outputs are fp32 sums of up to ~1750 products (5·5·70) of O(1) terms; the
// native kernels block and vectorize them, the oracle sums in double. Summation error grows like
// 1e-7·sqrt(terms) of the output scale, so 1e-5·max(1, max|ref|) has a comfortable margin and
// still catches any wrong tap, channel or padding offset (those are O(1) errors).
const SUM_TOL = 1e-5;
// Finite differences: see checkGradients; 1e-2 relative to the gradient's scale.
const FD = { eps: 1e-2, tol: 1e-2 };

interface DenseCase { batch: number; inF: number; outF: number }
const DENSE_CASES: DenseCase[] = [
  { batch: 1, inF: 1, outF: 1 },
  { batch: 1, inF: 3, outF: 5 },
  { batch: 4, inF: 17, outF: 33 },
  { batch: 7, inF: 70, outF: 10 },
  { batch: 32, inF: 129, outF: 65 },
  { batch: 3, inF: 600, outF: 200 },
  { batch: 1, inF: 600, outF: 200 },
];

interface ConvCase { n: number; h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number; padding: Padding; f: number }
const conv = (n: number, h: number, w: number, c: number, k: number | [number, number], s: number | [number, number], padding: Padding, f: number): ConvCase => {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  const [sh, sw] = typeof s === 'number' ? [s, s] : s;
  return { n, h, w, c, kh, kw, sh, sw, padding, f };
};
const CONV_CASES: ConvCase[] = [
  conv(1, 5, 7, 3, 1, 1, 'valid', 5), // 1×1
  conv(2, 6, 8, 5, 2, 2, 'valid', 4), // 2×2 stride 2
  conv(2, 9, 7, 17, 3, 1, 'same', 33),
  conv(1, 10, 11, 1, 3, 2, 'same', 8),
  conv(2, 8, 6, 3, 5, 1, 'same', 16),
  conv(3, 13, 11, 5, 5, 3, 'valid', 7),
  conv(1, 7, 9, 70, 3, 3, 'same', 17),
  conv(2, 5, 9, 3, [2, 3], [1, 2], 'same', 5), // non-square kernel and strides
  conv(1, 2, 3, 3, 5, 1, 'same', 2), // window larger than the image
  conv(2, 12, 12, 33, 3, 2, 'valid', 70),
  conv(3, 17, 13, 16, 3, 1, 'same', 32), // several row tiles and filter blocks, both threads
];

function geom(c: ConvCase): ConvGeometry {
  return convGeometry(c);
}

/** Run conv2dForward on a backend into a fresh NaN-filled output. */
function convForward(be: Backend, x: Float32Array, w: Float32Array, b: Float32Array | null, g: ConvGeometry, act: FusedActivation): Float32Array {
  const y = nans(g.n * g.oh * g.ow * g.f);
  be.conv2dForward(y, x, w, b, g, act);
  return y;
}

function denseForward(be: Backend, x: Float32Array, w: Float32Array, b: Float32Array | null, d: DenseCase, act: FusedActivation): Float32Array {
  const y = nans(d.batch * d.outF);
  be.denseForward(y, x, w, b, d.batch, d.inF, d.outF, act);
  return y;
}

/** First seed ≥ start whose pre-activations all keep |z| ≥ margin (no relu kink within reach). */
function seedAwayFromKinks(start: number, z: (seed: number) => Float32Array, margin: number): number {
  for (let s = start; s < start + 200; s++) {
    const v = z(s);
    if (v.every((e) => Math.abs(e) >= margin)) return s;
  }
  throw new Error('no seed keeps the pre-activations away from 0; shrink the problem');
}

export function layersSection(ctx: SuiteContext): void {
  ctx.kernel('denseForward', VALID.denseForward, () => denseForwardTests(ctx));
  ctx.kernel('denseBackward', VALID.denseBackward, () => denseBackwardTests(ctx));
  ctx.kernel('conv2dForward', VALID.conv2dForward, () => convForwardTests(ctx));
  ctx.kernel('conv2dBackward', VALID.conv2dBackward, () => convBackwardTests(ctx));
}

function denseForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  it('hand-computed: [1,2]·[[1,2,3],[4,5,6]] + [0.5,−20,1], linear and relu', () => {
    const x = Float32Array.of(1, 2);
    const w = Float32Array.of(1, 2, 3, 4, 5, 6);
    const b = Float32Array.of(0.5, -20, 1);
    const d = { batch: 1, inF: 2, outF: 3 };
    expect(Array.from(denseForward(be, x, w, b, d, 'linear'))).toEqual([9.5, -8, 16]);
    expect(Array.from(denseForward(be, x, w, b, d, 'relu'))).toEqual([9.5, 0, 16]);
    expect(Array.from(denseForward(be, x, w, null, d, 'linear'))).toEqual([9, 12, 15]);
  });

  ctx.compare('matches the oracle (bias / no bias, linear / relu)', () => {
    let seed = 2000;
    for (const d of DENSE_CASES) {
      const x = uniform(seed++, d.batch * d.inF);
      const w = uniform(seed++, d.inF * d.outF);
      const b = uniform(seed++, d.outF);
      for (const act of ['linear', 'relu'] as const) {
        for (const bias of [b, null]) {
          const what = `dense ${JSON.stringify(d)} ${act} bias=${bias !== null}`;
          expectClose(denseForward(be, x, w, bias, d, act), denseForward(oracle, x, w, bias, d, act), SUM_TOL, what);
        }
      }
    }
  });
}

function denseBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const d: DenseCase = { batch: 3, inF: 5, outF: 4 };

  for (const act of ['linear', 'relu'] as const) {
    it(`finite differences: dx, dw, db (${act})`, () => {
      const make = (s: number): [Float32Array, Float32Array, Float32Array] =>
        [uniform(s, d.batch * d.inF), uniform(s + 1000, d.inF * d.outF), uniform(s + 2000, d.outF)];
      const seed = act === 'relu'
        ? seedAwayFromKinks(2100, (s) => denseForward(oracle, ...make(s), d, 'linear'), 0.1)
        : 2100;
      const [x, w, b] = make(seed);
      const r = uniform(seed + 3000, d.batch * d.outF);
      let y = denseForward(be, x, w, b, d, act);
      const dx = nans(x.length);
      const dw = nans(w.length);
      const db = nans(b.length);
      const dy = r.slice();
      be.denseBackward(dx, dw, db, dy, y, x, w, d.batch, d.inF, d.outF, act);
      expectBits(dy, r, 'dy is left untouched');
      if (act === 'relu') expect(reluPattern(y), 'the relu case must have both regimes').toMatch(/0.*1|1.*0/);
      checkGradients({
        ...FD,
        loss: () => {
          y = denseForward(be, x, w, b, d, act);
          return dot(r, y);
        },
        regime: act === 'relu' ? () => reluPattern(y) : undefined,
        params: [
          { name: 'dx', value: x, analytic: dx },
          { name: 'dw', value: w, analytic: dw },
          { name: 'db', value: b, analytic: db },
        ],
      });
    });
  }

  it('null gradient outputs are skipped and do not change the others', () => {
    const x = uniform(2200, d.batch * d.inF);
    const w = uniform(2201, d.inF * d.outF);
    const dy = uniform(2202, d.batch * d.outF);
    const y = denseForward(be, x, w, uniform(2203, d.outF), d, 'relu');
    const full = [nans(x.length), nans(w.length), nans(d.outF)] as const;
    be.denseBackward(full[0], full[1], full[2], dy, y, x, w, d.batch, d.inF, d.outF, 'relu');
    const dw = nans(w.length);
    be.denseBackward(null, dw, null, dy, y, x, w, d.batch, d.inF, d.outF, 'relu');
    expectBits(dw, full[1], 'dw alone');
    const dx = nans(x.length);
    const db = nans(d.outF);
    be.denseBackward(dx, null, db, dy, y, x, w, d.batch, d.inF, d.outF, 'relu');
    expectBits(dx, full[0], 'dx without dw');
    expectBits(db, full[2], 'db without dw');
  });

  ctx.compare('matches the oracle on every shape (linear and relu)', () => {
    let seed = 2300;
    for (const c of DENSE_CASES) {
      const x = uniform(seed++, c.batch * c.inF);
      const w = uniform(seed++, c.inF * c.outF);
      const dy = uniform(seed++, c.batch * c.outF);
      for (const act of ['linear', 'relu'] as const) {
        const y = denseForward(oracle, x, w, uniform(seed++, c.outF), c, act);
        const run = (k: Backend): Float32Array[] => {
          const out = [nans(x.length), nans(w.length), nans(c.outF)];
          k.denseBackward(out[0], out[1], out[2], dy, act === 'relu' ? y : null, x, w, c.batch, c.inF, c.outF, act);
          return out;
        };
        const [got, ref] = [run(be), run(oracle)];
        const what = `dense backward ${JSON.stringify(c)} ${act}`;
        expectClose(got[0], ref[0], SUM_TOL, `${what} dx`);
        expectClose(got[1], ref[1], SUM_TOL, `${what} dw`);
        expectClose(got[2], ref[2], SUM_TOL, `${what} db`);
      }
    }
  });
}

function convForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  it("hand-computed 'same' padding puts the extra row/column at the bottom/right (TensorFlow)", () => {
    // x = 1..9 (3×3), 2×2 ones kernel, stride 1: total padding 1, all of it bottom/right
    const g1 = convGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, sh: 1, sw: 1, padding: 'same', f: 1 });
    const x1 = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    expect(Array.from(convForward(be, x1, new Float32Array(4).fill(1), null, g1, 'linear')))
      .toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9]);
    // x = 1..16 (4×4), 3×3 ones kernel, stride 2: output 2×2, padding 0 top/left, 1 bottom/right
    const g2 = convGeometry({ n: 1, h: 4, w: 4, c: 1, kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same', f: 1 });
    const x2 = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    expect(Array.from(convForward(be, x2, new Float32Array(9).fill(1), Float32Array.of(-50), g2, 'relu')))
      .toEqual([4, 0, 22, 4]);
  });

  it('hand-computed channels and filters: weights are (kh, kw, cin, cout)', () => {
    // 1×1 conv = per-pixel dense: x (1,1,2,2) = [[1,2],[3,4]], w (1,1,2,3)
    const g = convGeometry({ n: 1, h: 1, w: 2, c: 2, kh: 1, kw: 1, sh: 1, sw: 1, padding: 'valid', f: 3 });
    const y = convForward(be, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 0, -1, 10, 100, 1000), Float32Array.of(0, 0, 0.5), g, 'linear');
    expect(Array.from(y)).toEqual([21, 200, 1999.5, 43, 400, 3997.5]);
  });

  ctx.compare('matches the oracle (1×1 … 5×5, strides 1–3, same/valid, odd channels)', () => {
    let seed = 2400;
    for (const c of CONV_CASES) {
      const g = geom(c);
      const x = uniform(seed++, c.n * c.h * c.w * c.c);
      const w = uniform(seed++, c.kh * c.kw * c.c * c.f);
      const b = uniform(seed++, c.f);
      for (const act of ['linear', 'relu'] as const) {
        const bias = act === 'relu' ? b : null;
        expectClose(convForward(be, x, w, bias, g, act), convForward(oracle, x, w, bias, g, act), SUM_TOL, `conv ${JSON.stringify(c)} ${act}`);
      }
    }
  });
}

const FD_CONV: Array<ConvCase & { act: FusedActivation }> = [
  { ...conv(2, 5, 4, 3, 3, 1, 'same', 2), act: 'linear' },
  { ...conv(2, 5, 4, 3, 3, 1, 'same', 2), act: 'relu' },
  { ...conv(1, 6, 5, 2, 2, 2, 'valid', 3), act: 'linear' },
  { ...conv(2, 5, 5, 2, 3, 2, 'same', 2), act: 'relu' },
  { ...conv(1, 4, 3, 3, 1, 1, 'valid', 2), act: 'linear' },
  { ...conv(1, 7, 6, 2, 5, 3, 'same', 2), act: 'relu' },
  { ...conv(1, 5, 6, 2, [2, 3], [1, 2], 'same', 3), act: 'linear' },
];

function convBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  for (const c of FD_CONV) {
    it(`finite differences: dx, dw, db ${c.kh}×${c.kw} stride ${c.sh}×${c.sw} ${c.padding} ${c.act}`, () => {
      const g = geom(c);
      const make = (s: number): [Float32Array, Float32Array, Float32Array] =>
        [uniform(s, c.n * c.h * c.w * c.c), uniform(s + 1000, c.kh * c.kw * c.c * c.f), uniform(s + 2000, c.f)];
      const seed = c.act === 'relu'
        ? seedAwayFromKinks(2500, (s) => convForward(oracle, ...make(s), g, 'linear'), 0.05)
        : 2500;
      const [x, w, b] = make(seed);
      const r = uniform(seed + 3000, c.n * g.oh * g.ow * c.f);
      let y = convForward(be, x, w, b, g, c.act);
      const [dx, dw, db] = [nans(x.length), nans(w.length), nans(b.length)];
      const dy = r.slice();
      be.conv2dBackward(dx, dw, db, dy, y, x, w, g, c.act);
      expectBits(dy, r, 'dy is left untouched');
      checkGradients({
        ...FD,
        loss: () => {
          y = convForward(be, x, w, b, g, c.act);
          return dot(r, y);
        },
        regime: c.act === 'relu' ? () => reluPattern(y) : undefined,
        params: [
          { name: 'dx', value: x, analytic: dx },
          { name: 'dw', value: w, analytic: dw },
          { name: 'db', value: b, analytic: db },
        ],
      });
    });
  }

  it("stride > kernel leaves the skipped input pixels with zero gradient ('valid' 1×1 stride 2)", () => {
    const g = convGeometry({ n: 1, h: 5, w: 5, c: 2, kh: 1, kw: 1, sh: 2, sw: 2, padding: 'valid', f: 3 });
    const x = uniform(2550, 50);
    const w = uniform(2551, 6);
    const dx = nans(50);
    be.conv2dBackward(dx, null, null, uniform(2552, 27), null, x, w, g, 'linear');
    for (let iy = 0; iy < 5; iy++) {
      for (let ix = 0; ix < 5; ix++) {
        const used = iy % 2 === 0 && ix % 2 === 0;
        for (let ch = 0; ch < 2; ch++) {
          const v = dx[(iy * 5 + ix) * 2 + ch];
          if (used) expect(v, `dx at ${iy},${ix}`).not.toBe(0);
          else expect(v, `dx at ${iy},${ix}`).toBe(0);
        }
      }
    }
  });

  it('null gradient outputs are skipped and do not change the others', () => {
    const g = geom(conv(2, 6, 5, 3, 3, 2, 'same', 4));
    const x = uniform(2600, 2 * 6 * 5 * 3);
    const w = uniform(2601, 3 * 3 * 3 * 4);
    const y = convForward(be, x, w, uniform(2602, 4), g, 'relu');
    const dy = uniform(2603, y.length);
    const full = [nans(x.length), nans(w.length), nans(4)];
    be.conv2dBackward(full[0], full[1], full[2], dy, y, x, w, g, 'relu');
    for (const mask of [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 1]]) {
      const out = full.map((f, i) => (mask[i] ? nans(f.length) : null));
      be.conv2dBackward(out[0], out[1], out[2], dy, y, x, w, g, 'relu');
      out.forEach((o, i) => { if (o) expectBits(o, full[i], `output ${i} with mask ${mask.join('')}`); });
    }
  });

  ctx.compare('unaligned views (one float past a 64-byte boundary) match the oracle, forward and backward', () => {
    const g = geom(conv(2, 9, 9, 5, 3, 1, 'same', 17));
    const x = uniform(2650, 2 * 81 * 5);
    const w = uniform(2651, 9 * 5 * 17);
    const b = uniform(2652, 17);
    const dy = uniform(2653, 2 * 81 * 17);
    const y = unaligned(nans(dy.length));
    be.conv2dForward(y, unaligned(x), unaligned(w), unaligned(b), g, 'relu');
    const yRef = convForward(oracle, x, w, b, g, 'relu');
    expectClose(y, yRef, SUM_TOL, 'unaligned conv forward');
    const got = [unaligned(nans(x.length)), unaligned(nans(w.length)), unaligned(nans(17))];
    be.conv2dBackward(got[0], got[1], got[2], unaligned(dy), unaligned(yRef), unaligned(x), unaligned(w), g, 'relu');
    const ref = [nans(x.length), nans(w.length), nans(17)];
    oracle.conv2dBackward(ref[0], ref[1], ref[2], dy, yRef, x, w, g, 'relu');
    ['dx', 'dw', 'db'].forEach((name, i) => expectClose(got[i], ref[i], SUM_TOL, `unaligned conv backward ${name}`));
    const d: DenseCase = { batch: 5, inF: 37, outF: 19 };
    const [dxIn, dwIn] = [uniform(2654, 5 * 37), uniform(2655, 37 * 19)];
    const dz = unaligned(nans(5 * 19));
    be.denseForward(dz, unaligned(dxIn), unaligned(dwIn), null, 5, 37, 19, 'linear');
    expectClose(dz, denseForward(oracle, dxIn, dwIn, null, d, 'linear'), SUM_TOL, 'unaligned dense forward');
  });

  ctx.compare('matches the oracle on every shape (linear and relu)', () => {
    let seed = 2700;
    for (const c of CONV_CASES) {
      const g = geom(c);
      const x = uniform(seed++, c.n * c.h * c.w * c.c);
      const w = uniform(seed++, c.kh * c.kw * c.c * c.f);
      const dy = uniform(seed++, c.n * g.oh * g.ow * c.f);
      for (const act of ['linear', 'relu'] as const) {
        const y = act === 'relu' ? convForward(oracle, x, w, uniform(seed++, c.f), g, 'relu') : null;
        const run = (k: Backend): Float32Array[] => {
          const out = [nans(x.length), nans(w.length), nans(c.f)];
          k.conv2dBackward(out[0], out[1], out[2], dy, y, x, w, g, act);
          return out;
        };
        const [got, ref] = [run(be), run(oracle)];
        const what = `conv backward ${JSON.stringify(c)} ${act}`;
        expect(maxAbs(ref[1]), `${what}: non-trivial dw`).toBeGreaterThan(0);
        expectClose(got[0], ref[0], SUM_TOL, `${what} dx`);
        expectClose(got[1], ref[1], SUM_TOL, `${what} dw`);
        expectClose(got[2], ref[2], SUM_TOL, `${what} db`);
      }
    }
  });
}
