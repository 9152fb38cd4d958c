/** Suite section: elementwise activations, softmax and dropout. */
import { expect, it } from 'vitest';
import type { Backend, ElementwiseActivation } from '../../../src/backend/backend.js';
import { ELEMENTWISE_ACTIVATIONS } from '../../../src/backend/backend.js';
import { RandomStream } from '../../../src/tensor/prng.js';
import type { SuiteContext } from './helpers.js';
import {
  awayFromZero, checkGradients, dot, drawFor, expectBits, expectElementsClose, expectSameInts, maxAbs, nans, uniform,
} from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, u8, dim, num, lit, draw } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  activationForward: [lit('elu'), f('y', 5, false), f('x', 5), num('alpha', 1)],
  activationBackward: [lit('elu'), f('dx', 5, false), f('dy', 5), f('x', 5), f('y', 5), num('alpha', 1)],
  softmaxForward: [f('y', 6), f('x', 6), dim('rows', 2), dim('cols', 3)],
  softmaxBackward: [f('dx', 6), f('dy', 6), f('y', 6), dim('rows', 2), dim('cols', 3)],
  dropoutForward: [f('y', 5, false), u8('mask', 5), f('x', 5), num('rate', 0.5), draw],
  dropoutBackward: [f('dx', 5, false), f('dy', 5), u8('mask', 5), num('rate', 0.5)],
} satisfies Partial<Record<KernelName, Arg[]>>;

// expf/expm1f/tanhf in C vs Math.exp/expm1/tanh in double then rounded: a few float32 ulps
// (libm's float functions are within 1–2 ulp), so 1e-6 relative; 1e-7 absolute for outputs
// that underflow toward 0 (sigmoid(−50) ≈ 2e-22).
const TRANSCENDENTAL = { rtol: 1e-6, atol: 1e-7 };
const FD = { eps: 1e-2, tol: 1e-2 };
const ALPHA: Record<ElementwiseActivation, number[]> = {
  linear: [0], relu: [0], elu: [1, 0.5], leaky_relu: [0.3, 0.01], sigmoid: [0], tanh: [0],
};
const LENGTHS = [1, 7, 1000, 40001];

/** Inputs spanning both sides of 0, exact zeros, and saturated values. */
function activationInput(seed: number, n: number): Float32Array {
  const x = uniform(seed, n, -6, 6);
  const specials = [0, -0, 50, -50, 1e-3, -1e-3, 20, -20];
  for (let i = 0; i < Math.min(n, specials.length); i++) x[(i * 7919) % n] = specials[i];
  return x;
}

/** activationInput plus NaN and ±Infinity: both backends must agree on them too. */
function withNonFinite(seed: number, n: number): Float32Array {
  const x = activationInput(seed, n);
  [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].forEach((v, i) => { x[(i * 104729 + 3) % n] = v; });
  return x;
}

function forward(be: Backend, kind: ElementwiseActivation, x: Float32Array, alpha: number): Float32Array {
  const y = nans(x.length);
  be.activationForward(kind, y, x, alpha);
  return y;
}

/** act(v) and act'(v) in double: the definitions the kernels implement (Keras). */
function exact(kind: ElementwiseActivation, v: number, alpha: number): [number, number] {
  switch (kind) {
    case 'linear': return [v, 1];
    case 'relu': return [Math.max(v, 0), v > 0 ? 1 : 0];
    case 'elu': return v > 0 ? [v, 1] : [alpha * Math.expm1(v), alpha * Math.exp(v)];
    case 'leaky_relu': return v > 0 ? [v, 1] : [alpha * v, alpha];
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-v));
      return [s, s * (1 - s)];
    }
    case 'tanh': return [Math.tanh(v), 1 - Math.tanh(v) ** 2];
  }
}

export function actSection(ctx: SuiteContext): void {
  ctx.kernel('activationForward', VALID.activationForward, () => activationForwardTests(ctx));
  ctx.kernel('activationBackward', VALID.activationBackward, () => activationBackwardTests(ctx));
  ctx.kernel('softmaxForward', VALID.softmaxForward, () => softmaxForwardTests(ctx));
  ctx.kernel('softmaxBackward', VALID.softmaxBackward, () => softmaxBackwardTests(ctx));
  ctx.kernel('dropoutForward', VALID.dropoutForward, () => dropoutForwardTests(ctx));
  ctx.kernel('dropoutBackward', VALID.dropoutBackward, () => dropoutBackwardTests(ctx));
}

function activationForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('every kind matches its double-precision definition (y may alias x)', () => {
    for (const kind of ELEMENTWISE_ACTIVATIONS) {
      for (const alpha of ALPHA[kind]) {
        const x = activationInput(5000, 1000);
        const want = Array.from(x, (v) => exact(kind, v, alpha)[0]);
        expectElementsClose(forward(be, kind, x, alpha), want, TRANSCENDENTAL.rtol, TRANSCENDENTAL.atol, `${kind}(${alpha})`);
        const inPlace = x.slice();
        be.activationForward(kind, inPlace, inPlace, alpha);
        expectBits(inPlace, forward(be, kind, x, alpha), `${kind} in place`);
      }
    }
  });

  it('hand-computed values', () => {
    const x = Float32Array.of(-2, -0.5, 0, 1.5);
    expect(Array.from(forward(be, 'relu', x, 0))).toEqual([0, 0, 0, 1.5]);
    expect(Array.from(forward(be, 'leaky_relu', x, 0.5))).toEqual([-1, -0.25, 0, 1.5]);
    expectElementsClose(forward(be, 'elu', x, 1), [Math.expm1(-2), Math.expm1(-0.5), 0, 1.5], 1e-6, 0, 'elu');
    expectElementsClose(forward(be, 'sigmoid', x, 0), [0.11920292, 0.37754067, 0.5, 0.81757448], 1e-6, 0, 'sigmoid');
    expectElementsClose(forward(be, 'tanh', x, 0), [-0.96402758, -0.46211716, 0, 0.90514825], 1e-6, 0, 'tanh');
  });

  ctx.compare('matches the oracle on every kind and length (NaN and ±Infinity included)', () => {
    let seed = 5100;
    for (const kind of ELEMENTWISE_ACTIVATIONS) {
      for (const alpha of ALPHA[kind]) {
        for (const n of LENGTHS) {
          const x = withNonFinite(seed++, n);
          expectElementsClose(forward(be, kind, x, alpha), forward(oracle, kind, x, alpha), TRANSCENDENTAL.rtol, TRANSCENDENTAL.atol, `${kind}(${alpha}) n=${n}`);
        }
      }
    }
  });
}

function backwardOf(be: Backend, kind: ElementwiseActivation, dy: Float32Array, x: Float32Array, alpha: number): Float32Array {
  const dx = nans(x.length);
  be.activationBackward(kind, dx, dy, x, forward(be, kind, x, alpha), alpha);
  return dx;
}

function activationBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  for (const kind of ELEMENTWISE_ACTIVATIONS) {
    for (const alpha of ALPHA[kind]) {
      it(`finite differences: ${kind}${alpha ? `(${alpha})` : ''}`, () => {
        // |x| ≥ 0.1 keeps relu-like kinks out of reach of the ±0.01 steps
        const x = awayFromZero(5200, 40, 0.1, 4);
        const r = uniform(5201, 40);
        const dx = backwardOf(be, kind, r, x, alpha);
        checkGradients({ ...FD, loss: () => dot(r, forward(be, kind, x, alpha)), params: [{ name: 'dx', value: x, analytic: dx }] });
      });
    }
  }

  it("every kind matches dy·act'(x) in double (dx may alias dy)", () => {
    for (const kind of ELEMENTWISE_ACTIVATIONS) {
      for (const alpha of ALPHA[kind]) {
        const x = activationInput(5300, 1000);
        const dy = uniform(5301, 1000);
        const want = Array.from(x, (v, i) => dy[i] * exact(kind, v, alpha)[1]);
        const got = backwardOf(be, kind, dy, x, alpha);
        // act' is evaluated from the float32 y (σ(1−σ), 1−tanh², y+α): its rounding is
        // amplified where y saturates, so compare at the scale of |dy| (≤ 1), not per element
        expectElementsClose(got, want, 1e-5, 1e-6, `${kind}'(${alpha})`);
        const alias = dy.slice();
        be.activationBackward(kind, alias, alias, x, forward(be, kind, x, alpha), alpha);
        expectBits(alias, got, `${kind} backward with dx = dy`);
      }
    }
  });

  it('relu and leaky_relu: derivative at exactly 0 is the negative side (x > 0 test)', () => {
    const x = Float32Array.of(0, -0);
    const dy = Float32Array.of(3, 3);
    expect(Array.from(backwardOf(be, 'relu', dy, x, 0))).toEqual([0, 0]);
    expect(Array.from(backwardOf(be, 'leaky_relu', dy, x, 0.5))).toEqual([1.5, 1.5]);
  });

  ctx.compare('matches the oracle on every kind and length (NaN and ±Infinity included)', () => {
    let seed = 5400;
    for (const kind of ELEMENTWISE_ACTIVATIONS) {
      for (const alpha of ALPHA[kind]) {
        for (const n of LENGTHS) {
          const x = withNonFinite(seed++, n);
          const y = forward(oracle, kind, x, alpha);
          const dy = uniform(seed++, n);
          const [got, ref] = [nans(n), nans(n)];
          be.activationBackward(kind, got, dy, x, y, alpha);
          oracle.activationBackward(kind, ref, dy, x, y, alpha);
          expectElementsClose(got, ref, TRANSCENDENTAL.rtol, TRANSCENDENTAL.atol, `${kind}'(${alpha}) n=${n}`);
        }
      }
    }
  });
}

function softmax(be: Backend, x: Float32Array, rows: number, cols: number): Float32Array {
  const y = nans(x.length);
  be.softmaxForward(y, x, rows, cols);
  return y;
}

const SOFTMAX_CASES: Array<[number, number]> = [[1, 1], [3, 10], [17, 1000], [64, 3]];

function softmaxForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('hand-computed rows, including large logits (max-subtracted)', () => {
    const y = softmax(be, Float32Array.of(1, 2, 3, 0, 0, 0, 1000, 1001, 1000, -1000, -1001, -1000), 4, 3);
    // e^k / (e + e² + e³); 1/3 each; e^0/(2 + e) and e/(2 + e) for the shifted rows
    const e = Math.E;
    const s = e + e * e + e * e * e;
    const mid = e / (2 + e);
    const side = 1 / (2 + e);
    const [far, near] = [e / (2 * e + 1), 1 / (2 * e + 1)]; // [1, 1/e, 1] / (2 + 1/e)
    expectElementsClose(y, [e / s, (e * e) / s, (e * e * e) / s, 1 / 3, 1 / 3, 1 / 3, side, mid, side, far, near, far], 1e-6, 0, 'softmax');
    expectElementsClose(y.subarray(0, 3), [0.09003057, 0.24472847, 0.66524096], 1e-6, 0, 'softmax [1,2,3]');
  });

  ctx.compare('matches the oracle (wide rows, large logits)', () => {
    let seed = 5500;
    for (const [rows, cols] of SOFTMAX_CASES) {
      const x = uniform(seed++, rows * cols, -30, 30);
      expectElementsClose(softmax(be, x, rows, cols), softmax(oracle, x, rows, cols), 1e-5, 1e-9, `softmax ${rows}×${cols}`);
    }
  });
}

function softmaxBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('finite differences', () => {
    const [rows, cols] = [3, 5];
    const x = uniform(5600, rows * cols, -2, 2);
    const r = uniform(5601, rows * cols);
    const dx = nans(x.length);
    be.softmaxBackward(dx, r, softmax(be, x, rows, cols), rows, cols);
    checkGradients({ ...FD, loss: () => dot(r, softmax(be, x, rows, cols)), params: [{ name: 'dx', value: x, analytic: dx }] });
  });

  it('a constant dy has zero gradient (softmax is shift invariant)', () => {
    const y = softmax(be, uniform(5650, 12), 2, 6);
    const dx = nans(12);
    be.softmaxBackward(dx, new Float32Array(12).fill(0.7), y, 2, 6);
    expect(maxAbs(dx)).toBeLessThan(1e-7);
  });

  ctx.compare('matches the oracle', () => {
    let seed = 5700;
    for (const [rows, cols] of SOFTMAX_CASES) {
      const y = softmax(oracle, uniform(seed++, rows * cols, -3, 3), rows, cols);
      const dy = uniform(seed++, rows * cols);
      const [got, ref] = [nans(y.length), nans(y.length)];
      be.softmaxBackward(got, dy, y, rows, cols);
      oracle.softmaxBackward(ref, dy, y, rows, cols);
      // y·(dy − Σdy·y): the dot is a sum of `cols` terms, so the error is relative to y·max|dy|
      for (let i = 0; i < got.length; i++) {
        expect(Math.abs(got[i] - ref[i]), `softmax backward ${rows}×${cols} [${i}]`).toBeLessThanOrEqual(1e-6 * y[i] * 2 + 1e-9);
      }
    }
  });
}

/** Run dropoutForward with a fresh draw of `stream` (seed, id). */
function dropout(be: Backend, x: Float32Array, rate: number, draw: Uint32Array): { y: Float32Array; mask: Uint8Array } {
  const y = nans(x.length);
  const mask = new Uint8Array(x.length).fill(7);
  be.dropoutForward(y, mask, x, rate, draw);
  return { y, mask };
}

function dropoutForwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('rate 0 keeps everything unchanged', () => {
    const x = uniform(5800, 1001);
    const { y, mask } = dropout(be, x, 0, drawFor(new RandomStream(1), x.length));
    expect(mask.every((m) => m === 1)).toBe(true);
    expectBits(y, x, 'rate 0');
  });

  it('keep[i] = uniform_i ≥ rate, uniform_i from block start + i/4, lane i%4 (prng.ts layout)', () => {
    for (const n of [1, 5, 4097]) {
      const stream = new RandomStream(42, 3);
      stream.reserveBlocks(11); // a draw that does not start at block 0
      const draw = drawFor(stream, n);
      const u = new Float32Array(n);
      const replay = new RandomStream(42, 3);
      replay.reserveBlocks(11);
      replay.fillUniform(u); // same blocks, same lanes
      const { mask } = dropout(be, new Float32Array(n).fill(1), 0.3, draw);
      expectSameInts(mask, Array.from(u, (v) => (v >= 0.3 ? 1 : 0)), `mask n=${n}`);
    }
  });

  it('y = x/(1 − rate) where kept, 0 where dropped; mean keep ≈ 1 − rate on 100003 elements; y may alias x', () => {
    for (const rate of [0.1, 0.5, 0.9]) {
      const n = 100003;
      const x = uniform(5900, n, 0.5, 2);
      const draw = drawFor(new RandomStream(7, 1), n);
      const { y, mask } = dropout(be, x, rate, draw);
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (mask[i] === 1) {
          kept++;
          // x·fround(1/(1−rate)) or x/(1−rate): within two float32 roundings
          if (!(Math.abs(y[i] - x[i] / (1 - rate)) <= 2 ** -22 * (x[i] / (1 - rate)))) expect.fail(`y[${i}] = ${y[i]}, want ${x[i] / (1 - rate)}`);
        } else {
          expect(mask[i], `mask[${i}]`).toBe(0);
          expect(y[i], `y[${i}]`).toBe(0);
        }
      }
      // the keep fraction is binomial: 5σ = 5·sqrt(rate(1−rate)/n) ≤ 0.008
      expect(Math.abs(kept / n - (1 - rate)), `keep fraction at rate ${rate}`).toBeLessThan(0.008);
      const inPlace = x.slice();
      be.dropoutForward(inPlace, new Uint8Array(n), inPlace, rate, draw);
      expectBits(inPlace, y, `rate ${rate} in place`);
    }
  });

  it('different draws give different masks; the same draw the same mask', () => {
    const x = new Float32Array(999).fill(1);
    const s = new RandomStream(9, 2);
    const d1 = drawFor(s, 999);
    const d2 = drawFor(s, 999);
    const a = dropout(be, x, 0.5, d1).mask;
    expectSameInts(dropout(be, x, 0.5, d1).mask, a, 'same draw');
    expect(dropout(be, x, 0.5, d2).mask.some((m, i) => m !== a[i])).toBe(true);
  });

  ctx.compare('the mask is BIT-IDENTICAL to the oracle for the same draw (cross-backend PRNG guarantee)', () => {
    const draws: Uint32Array[] = [
      drawFor(new RandomStream(0, 0), 1 << 17),
      drawFor(new RandomStream(2 ** 40 + 17, 2 ** 33 + 5), 1 << 17), // high key and stream words
      // a start block whose low word overflows into the high word inside the draw
      Uint32Array.of(0xdeadbeef, 0x12345678, 0x9abcdef0, 7, 0xfffffff0, 3),
    ];
    for (const draw of draws) {
      for (const n of [1, 3, 4, 5, 4099, 100003]) {
        for (const rate of [0.05, 0.5, 0.95]) {
          const x = uniform(n, n);
          const got = dropout(be, x, rate, draw);
          const ref = dropout(oracle, x, rate, draw);
          const what = `dropout draw=${Array.from(draw).join(',')} n=${n} rate=${rate}`;
          expectSameInts(got.mask, ref.mask, `${what} mask`);
          expectBits(got.y, ref.y, `${what} y`);
        }
      }
    }
  });
}

function dropoutBackwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('dx = mask ? dy/(1 − rate) : 0, matching the forward mask; dx may alias dy', () => {
    for (const rate of [0, 0.25, 0.6]) {
      const n = 40001;
      const { mask } = dropout(be, new Float32Array(n).fill(1), rate, drawFor(new RandomStream(11), n));
      const dy = uniform(6000, n);
      const dx = nans(n);
      be.dropoutBackward(dx, dy, mask, rate);
      for (let i = 0; i < n; i++) {
        const want = mask[i] ? dy[i] / (1 - rate) : 0;
        if (!(Math.abs(dx[i] - want) <= 2 ** -22 * Math.abs(want))) expect.fail(`dx[${i}] = ${dx[i]}, want ${want}`);
      }
      const alias = dy.slice();
      be.dropoutBackward(alias, alias, mask, rate);
      expectBits(alias, dx, `rate ${rate} in place`);
    }
  });

  it('backward of forward: dropout is linear in x, so dx·x equals dy·y', () => {
    const n = 1000;
    const x = uniform(6050, n);
    const { y, mask } = dropout(be, x, 0.4, drawFor(new RandomStream(12), n));
    const dy = uniform(6051, n);
    const dx = nans(n);
    be.dropoutBackward(dx, dy, mask, 0.4);
    expect(Math.abs(dot(dx, x) - dot(dy, y))).toBeLessThan(1e-5 * Math.max(1, Math.abs(dot(dy, y))));
  });

  ctx.compare('matches the oracle bit for bit', () => {
    for (const n of [1, 7, 40001]) {
      const mask = dropout(oracle, new Float32Array(n).fill(1), 0.3, drawFor(new RandomStream(13), n)).mask;
      const dy = uniform(6100 + n, n);
      const [got, ref] = [nans(n), nans(n)];
      be.dropoutBackward(got, dy, mask, 0.3);
      oracle.dropoutBackward(ref, dy, mask, 0.3);
      expectBits(got, ref, `dropout backward n=${n}`);
    }
  });
}
