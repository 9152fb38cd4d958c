/**
 * Suite section: regularizer penalties and optimizer updates.
 *
 * Expected values come from the Keras 3 formulas written out again below in double precision,
 * one scalar at a time (keras/src/optimizers/{sgd,adam,nadam,rmsprop}.py; decoupled weight
 * decay w −= w·wd·lr is applied before the update, as Optimizer.apply does), plus Keras' own
 * documented examples.
 */
import { expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/backend.js';
import type { SuiteContext } from './helpers.js';
import { awayFromZero, checkGradients, expectElementsClose, uniform } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, dim, num, lit } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  penalty: [f('w', 5, false), num('l1', 0.01), num('l2', 0.01)],
  penaltyGrad: [f('dw', 5, false), f('w', 5), num('l1', 0.01), num('l2', 0.01)],
  sgdUpdate: [f('w', 5, false), f('g', 5), f('velocity', 5), num('lr', 0.1), num('momentum', 0.9), lit(true), num('weightDecay', 0)],
  adamUpdate: [f('w', 5, false), f('g', 5), f('m', 5), f('v', 5), f('vhat', 5), num('lr', 0.1), num('beta1', 0.9),
    num('beta2', 0.999), num('epsilon', 1e-7), dim('step', 1), num('weightDecay', 0)],
  nadamUpdate: [f('w', 5, false), f('g', 5), f('m', 5), f('v', 5), num('lr', 0.1), num('beta1', 0.9), num('beta2', 0.999),
    num('epsilon', 1e-7), num('coefM', 0.5), num('coefG', 0.5), num('vCorrection', 2), num('weightDecay', 0)],
  rmspropUpdate: [f('w', 5, false), f('g', 5), f('ms', 5), f('mg', 5), f('mom', 5), num('lr', 0.1), num('rho', 0.9),
    num('momentum', 0.5), num('epsilon', 1e-7), num('weightDecay', 0)],
} satisfies Partial<Record<KernelName, Arg[]>>;

// The kernels keep w and state in float32 (the native ones compute in float32 too); the scalar
// formulas below run in double on the same float32 inputs. One step differs by a few float32
// roundings of each quantity: 1e-6 relative, plus 1e-7 absolute for weights near 0 (the update
// itself is ≥ 1e-4 there, so an absent or doubled update still fails).
const STEP = { rtol: 1e-6, atol: 1e-7 };
// Optimizer state, also 1e-6 relative. Sums of non-negative terms (v, vhat, ms) cannot cancel,
// so they need no absolute floor; signed averages (m, mg, velocity, mom) can, so they get 1e-7,
// i.e. 1e-6 of the O(0.1) terms (1 − β)·g they are made of. A float32 kernel that computes 1 − β
// from the float32-rounded β makes 1 − β itself wrong by up to 6e-8/(1 − β): 6e-7 for β = 0.9,
// within these bounds, but 6e-5 for β2 = 0.999, which they are meant to catch.
const POSITIVE = { rtol: 1e-6, atol: 1e-12 };
const SIGNED = { rtol: 1e-6, atol: 1e-7 };
const LENGTHS = [5, 40001];

/** Keras' Nadam momentum schedule: the kernel's coefM, coefG and vCorrection for step t. */
export function nadamCoefficients(t: number, beta1: number, beta2: number): { coefM: number; coefG: number; vCorrection: number } {
  const u = (s: number): number => beta1 * (1 - 0.5 * 0.96 ** s);
  let uProduct = 1; // Keras' _u_product after its update for step t: Π_{s ≤ t} u_s
  for (let s = 1; s <= t; s++) uProduct *= u(s);
  const uProductNext = uProduct * u(t + 1);
  return {
    coefM: u(t + 1) / (1 - uProductNext),
    coefG: (1 - u(t)) / (1 - uProduct),
    vCorrection: 1 / (1 - beta2 ** t),
  };
}

interface AdamState { w: number; m: number; v: number; vhat: number }

function adamScalar(s: AdamState, g: number, lr: number, b1: number, b2: number, eps: number, t: number, wd: number, amsgrad: boolean): void {
  s.w -= s.w * wd * lr;
  s.m += (g - s.m) * (1 - b1);
  s.v += (g * g - s.v) * (1 - b2);
  const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
  if (amsgrad) s.vhat = Math.max(s.vhat, s.v);
  s.w -= (alpha * s.m) / (Math.sqrt(amsgrad ? s.vhat : s.v) + eps);
}

interface RmsState { w: number; ms: number; mg: number; mom: number }

function rmsScalar(s: RmsState, g: number, lr: number, rho: number, momentum: number, eps: number, centered: boolean, wd: number): void {
  s.w -= s.w * wd * lr;
  s.ms = rho * s.ms + (1 - rho) * g * g;
  let denom = s.ms + eps;
  if (centered) {
    s.mg = rho * s.mg + (1 - rho) * g;
    denom = s.ms - s.mg * s.mg + eps;
  }
  const inc = (lr * g) / Math.sqrt(denom);
  if (momentum > 0) {
    s.mom = momentum * s.mom + inc;
    s.w -= s.mom;
  } else {
    s.w -= inc;
  }
}

export function optimSection(ctx: SuiteContext): void {
  ctx.kernel('penalty', VALID.penalty, () => penaltyTests(ctx));
  ctx.kernel('penaltyGrad', VALID.penaltyGrad, () => penaltyGradTests(ctx));
  ctx.kernel('sgdUpdate', VALID.sgdUpdate, () => sgdTests(ctx));
  ctx.kernel('adamUpdate', VALID.adamUpdate, () => adamTests(ctx));
  ctx.kernel('nadamUpdate', VALID.nadamUpdate, () => nadamTests(ctx));
  ctx.kernel('rmspropUpdate', VALID.rmspropUpdate, () => rmspropTests(ctx));
}

function penaltyTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  it('hand-computed: l1·Σ|w| + l2·Σw²', () => {
    const w = Float32Array.of(1, -2, 0.5, 0);
    expect(be.penalty(w, 0.01, 0.1)).toBeCloseTo(0.01 * 3.5 + 0.1 * 5.25, 7);
    expect(be.penalty(w, 0, 0)).toBe(0);
    expect(be.penalty(w, 1, 0)).toBeCloseTo(3.5, 6);
  });
  ctx.compare('matches the oracle', () => {
    for (const n of [1, ...LENGTHS]) {
      const w = uniform(8000 + n, n);
      for (const [l1, l2] of [[0.01, 0], [0, 0.02], [1e-3, 5e-4]]) {
        const [got, ref] = [be.penalty(w, l1, l2), oracle.penalty(w, l1, l2)];
        // double sums on both sides; l1/l2 may be rounded to float32 in C (1e-7 relative)
        expect(Math.abs(got - ref), `penalty n=${n} l1=${l1} l2=${l2}`).toBeLessThanOrEqual(1e-6 * ref);
      }
    }
  });
}

function penaltyGradTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  it('hand-computed: dw += l1·sign(w) + 2·l2·w (accumulates; sign(0) = 0)', () => {
    const dw = Float32Array.of(1, 1, 1, 1);
    be.penaltyGrad(dw, Float32Array.of(1, -2, 0.5, 0), 0.01, 0.1);
    expectElementsClose(dw, [1.21, 0.59, 1.11, 1], 1e-6, 0, 'dw');
  });
  it('finite differences of penalty', () => {
    const w = awayFromZero(8100, 30, 0.1, 2); // the l1 kink at 0 stays out of reach
    const dw = new Float32Array(30).fill(0.25);
    be.penaltyGrad(dw, w, 0.3, 0.2);
    const grad = dw.map((v) => v - 0.25);
    checkGradients({ eps: 1e-2, tol: 1e-2, loss: () => be.penalty(w, 0.3, 0.2), params: [{ name: 'dw', value: w, analytic: grad }] });
  });
  ctx.compare('matches the oracle', () => {
    for (const n of [1, ...LENGTHS]) {
      const w = uniform(8200 + n, n);
      w[0] = 0;
      const base = uniform(8300 + n, n);
      const [got, ref] = [base.slice(), base.slice()];
      be.penaltyGrad(got, w, 1e-3, 5e-4);
      oracle.penaltyGrad(ref, w, 1e-3, 5e-4);
      expectElementsClose(got, ref, STEP.rtol, STEP.atol, `penaltyGrad n=${n}`);
    }
  });
}

function sgdTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const g = Float32Array.of(0.5, 0.25);

  it('hand-computed: plain, weight decay, momentum (two steps), nesterov', () => {
    const w = Float32Array.of(1, -2);
    be.sgdUpdate(w, g, null, 0.1, 0, false, 0);
    expectElementsClose(w, [0.95, -2.025], 1e-7, 0, 'plain');

    const wd = Float32Array.of(1, -2);
    be.sgdUpdate(wd, g, null, 0.1, 0, false, 0.1); // w·(1 − 0.01) first, then − 0.1·g
    expectElementsClose(wd, [0.94, -2.005], 1e-7, 0, 'weight decay');

    const wm = Float32Array.of(1, -2);
    const v = new Float32Array(2);
    be.sgdUpdate(wm, g, v, 0.1, 0.9, false, 0);
    expectElementsClose(v, [-0.05, -0.025], 1e-7, 0, 'velocity step 1');
    be.sgdUpdate(wm, g, v, 0.1, 0.9, false, 0); // v = 0.9·v − 0.1·g; w += v
    expectElementsClose(v, [-0.095, -0.0475], 1e-6, 0, 'velocity step 2');
    expectElementsClose(wm, [0.855, -2.0725], 1e-7, 0, 'momentum');

    const wn = Float32Array.of(1, -2);
    const vn = new Float32Array(2);
    be.sgdUpdate(wn, g, vn, 0.1, 0.9, true, 0); // w += 0.9·v − 0.1·g
    expectElementsClose(wn, [0.905, -2.0475], 1e-7, 0, 'nesterov');

    const w0 = Float32Array.of(1, -2);
    const vUnused = Float32Array.of(3, 3);
    be.sgdUpdate(w0, g, vUnused, 0.1, 0, true, 0);
    expectElementsClose(w0, [0.95, -2.025], 1e-7, 0, 'momentum 0 ignores the velocity');
    expect(Array.from(vUnused)).toEqual([3, 3]);
  });

  ctx.compare('matches the oracle over three steps', () => {
    for (const n of LENGTHS) {
      for (const [momentum, nesterov, wdecay] of [[0, false, 0], [0.9, false, 0], [0.9, true, 1e-2], [0.5, false, 0.1]] as const) {
        const run = (k: Backend): Float32Array[] => {
          const w = uniform(8400 + n, n);
          const v = momentum ? uniform(8401, n, -0.1, 0.1) : null;
          for (let t = 0; t < 3; t++) k.sgdUpdate(w, uniform(8402 + t, n), v, 0.05, momentum, nesterov, wdecay);
          return v ? [w, v] : [w];
        };
        const [got, ref] = [run(be), run(oracle)];
        got.forEach((a, i) => expectElementsClose(a, ref[i], STEP.rtol, STEP.atol, `sgd n=${n} m=${momentum} nesterov=${nesterov} wd=${wdecay} [${i}]`));
      }
    }
  });
}

function adamTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('the first step moves each weight by ≈ lr·sign(g) (bias correction)', () => {
    const w = Float32Array.of(1, 1);
    const [m, v] = [new Float32Array(2), new Float32Array(2)];
    be.adamUpdate(w, Float32Array.of(0.5, -3), m, v, null, 0.001, 0.9, 0.999, 1e-7, 1, 0);
    // lr·sqrt(1−β2)/(1−β1)·(1−β1)g / (sqrt((1−β2)g²) + ε) = lr·g/(|g| + ε/sqrt(1−β2))
    expectElementsClose(w, [1 - 0.001 * (0.5 / (0.5 + 1e-7 / Math.sqrt(0.001))), 1 + 0.001 * (3 / (3 + 1e-7 / Math.sqrt(0.001)))], STEP.rtol, 0, 'w');
    expectElementsClose(m, [0.05, -0.3], SIGNED.rtol, 0, 'm');
    expectElementsClose(v, [0.00025, 0.009], POSITIVE.rtol, 0, 'v');
  });

  for (const [label, amsgrad, b2, wdecay] of [
    ['Adam', false, 0.999, 0],
    ['AdamW (weight decay 0.004)', false, 0.999, 0.004],
    ['AMSGrad (β2 = 0.5, shrinking gradients: vhat > v)', true, 0.5, 0],
  ] as const) {
    it(`${label}: four steps match the Keras formulas`, () => {
      const grads = [[1, -0.5, 2], [0.1, -0.4, 0.05], [0.01, 0.3, -0.02], [0.2, 0.1, 0.01]];
      const w = Float32Array.of(1, -1, 0.5);
      const [m, v] = [new Float32Array(3), new Float32Array(3)];
      const vhat = amsgrad ? new Float32Array(3) : null;
      const states: AdamState[] = Array.from(w, (x) => ({ w: x, m: 0, v: 0, vhat: 0 }));
      grads.forEach((g, t) => {
        be.adamUpdate(w, Float32Array.from(g), m, v, vhat, 0.01, 0.9, b2, 1e-7, t + 1, wdecay);
        states.forEach((s, i) => adamScalar(s, Math.fround(g[i]), 0.01, 0.9, b2, 1e-7, t + 1, wdecay, amsgrad));
      });
      expectElementsClose(w, states.map((s) => s.w), STEP.rtol, STEP.atol, 'w');
      expectElementsClose(m, states.map((s) => s.m), SIGNED.rtol, SIGNED.atol, 'm');
      expectElementsClose(v, states.map((s) => s.v), POSITIVE.rtol, POSITIVE.atol, 'v');
      if (vhat) {
        expectElementsClose(vhat, states.map((s) => s.vhat), POSITIVE.rtol, POSITIVE.atol, 'vhat');
        expect(vhat.some((x, i) => x > v[i]), 'the max was needed').toBe(true);
      }
    });
  }

  ctx.compare('matches the oracle over three steps', () => {
    for (const n of LENGTHS) {
      for (const [amsgrad, wdecay, start] of [[false, 0, 1], [true, 0.01, 1], [false, 0.004, 1000]] as const) {
        const run = (k: Backend): Float32Array[] => {
          const w = uniform(8500 + n, n);
          const m = uniform(8501, n, -0.1, 0.1);
          const v = uniform(8502, n, 0, 0.1);
          const vhat = amsgrad ? uniform(8503, n, 0, 0.1) : null;
          for (let t = 0; t < 3; t++) k.adamUpdate(w, uniform(8504 + t, n), m, v, vhat, 1e-3, 0.9, 0.999, 1e-7, start + t, wdecay);
          return vhat ? [w, m, v, vhat] : [w, m, v];
        };
        const [got, ref] = [run(be), run(oracle)];
        const tol = [STEP, SIGNED, POSITIVE, POSITIVE];
        got.forEach((a, i) => expectElementsClose(a, ref[i], tol[i].rtol, tol[i].atol, `adam n=${n} amsgrad=${amsgrad} ${['w', 'm', 'v', 'vhat'][i]}`));
      }
    }
  });
}

function nadamTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it("Keras' documented example: Nadam(learning_rate=0.2) on var1 = 10, loss var1²/2, gives 9.8", () => {
    const { coefM, coefG, vCorrection } = nadamCoefficients(1, 0.9, 0.999);
    // u1 = 0.9·(1 − 0.5·0.96) = 0.468, u2 = 0.9·(1 − 0.5·0.96²) = 0.48528
    expect(coefM).toBeCloseTo(0.48528 / (1 - 0.468 * 0.48528), 12);
    expect(coefG).toBeCloseTo(1, 12);
    expect(vCorrection).toBeCloseTo(1000, 9);
    const w = Float32Array.of(10);
    be.nadamUpdate(w, Float32Array.of(10), new Float32Array(1), new Float32Array(1), 0.2, 0.9, 0.999, 1e-7, coefM, coefG, vCorrection, 0);
    expect(w[0].toFixed(1)).toBe('9.8');
    // m = 1, v = 0.1: w = 10 − 0.2·(coefM·1 + 10)/(sqrt(100) + 1e-7) = 9.78744…
    expectElementsClose(w, [10 - (0.2 * (coefM + 10)) / (10 + 1e-7)], STEP.rtol, 0, 'w');
  });

  it('three steps with the schedule coefficients match the Keras formulas', () => {
    const w = Float32Array.of(1, -1);
    const [m, v] = [new Float32Array(2), new Float32Array(2)];
    const want = [1, -1];
    const [mm, vv] = [[0, 0], [0, 0]];
    [[0.5, -2], [0.1, 1], [-0.3, 0.2]].forEach((g, i) => {
      const t = i + 1;
      const { coefM, coefG, vCorrection } = nadamCoefficients(t, 0.9, 0.999);
      be.nadamUpdate(w, Float32Array.from(g), m, v, 0.01, 0.9, 0.999, 1e-7, coefM, coefG, vCorrection, 0.004);
      for (let j = 0; j < 2; j++) {
        want[j] -= want[j] * 0.004 * 0.01;
        mm[j] += (g[j] - mm[j]) * 0.1;
        vv[j] += (g[j] * g[j] - vv[j]) * 0.001;
        want[j] -= (0.01 * (coefM * mm[j] + coefG * g[j])) / (Math.sqrt(vv[j] * vCorrection) + 1e-7);
      }
    });
    expectElementsClose(w, want, STEP.rtol, STEP.atol, 'w');
    expectElementsClose(m, mm, SIGNED.rtol, SIGNED.atol, 'm');
    expectElementsClose(v, vv, POSITIVE.rtol, POSITIVE.atol, 'v');
  });

  ctx.compare('matches the oracle over three steps', () => {
    for (const n of LENGTHS) {
      for (const wdecay of [0, 0.004]) {
        const run = (k: Backend): Float32Array[] => {
          const w = uniform(8600 + n, n);
          const m = uniform(8601, n, -0.1, 0.1);
          const v = uniform(8602, n, 0, 0.1);
          for (let t = 1; t <= 3; t++) {
            const c = nadamCoefficients(t + 10, 0.9, 0.999);
            k.nadamUpdate(w, uniform(8603 + t, n), m, v, 1e-3, 0.9, 0.999, 1e-7, c.coefM, c.coefG, c.vCorrection, wdecay);
          }
          return [w, m, v];
        };
        const [got, ref] = [run(be), run(oracle)];
        const tol = [STEP, SIGNED, POSITIVE];
        got.forEach((a, i) => expectElementsClose(a, ref[i], tol[i].rtol, tol[i].atol, `nadam n=${n} wd=${wdecay} ${['w', 'm', 'v'][i]}`));
      }
    }
  });
}

function rmspropTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it("Keras' documented example: RMSprop(learning_rate=0.1) on var1 = 10, loss var1²/2, gives 9.683772", () => {
    const w = Float32Array.of(10);
    const ms = new Float32Array(1);
    be.rmspropUpdate(w, Float32Array.of(10), ms, null, null, 0.1, 0.9, 0, 1e-7, 0);
    expect(w[0]).toBeCloseTo(9.683772, 5);
    expectElementsClose(ms, [10], POSITIVE.rtol, 0, 'ms = 0.1·g²');
  });

  it('centered and momentum variants by hand', () => {
    // centered: ms = 10, mg = 1, denom = 10 − 1 + 1e-7: w = 10 − 0.1·10/3
    const wc = Float32Array.of(10);
    const mg = new Float32Array(1);
    be.rmspropUpdate(wc, Float32Array.of(10), new Float32Array(1), mg, null, 0.1, 0.9, 0, 1e-7, 0);
    expectElementsClose(wc, [10 - 1 / Math.sqrt(9 + 1e-7)], STEP.rtol, 0, 'centered w');
    expectElementsClose(mg, [1], SIGNED.rtol, 0, 'mg');
    // momentum 0.5, two steps of the var1²/2 problem (g = w)
    const w = Float32Array.of(10);
    const [ms, mom] = [new Float32Array(1), new Float32Array(1)];
    const s: RmsState = { w: 10, ms: 0, mg: 0, mom: 0 };
    for (let t = 0; t < 2; t++) {
      be.rmspropUpdate(w, Float32Array.of(w[0]), ms, null, mom, 0.1, 0.9, 0.5, 1e-7, 0);
      rmsScalar(s, Math.fround(s.w), 0.1, 0.9, 0.5, 1e-7, false, 0);
    }
    expectElementsClose(w, [s.w], 1e-6, 0, 'momentum w');
    expectElementsClose(mom, [s.mom], 1e-6, 0, 'momentum buffer');
    expect(w[0]).toBeCloseTo(9.2998, 3);
  });

  it('three steps of every variant match the Keras formulas (weight decay too)', () => {
    for (const [centered, momentum, wdecay] of [[false, 0, 0], [true, 0, 0], [false, 0.9, 0], [true, 0.5, 0.01]] as const) {
      const w = Float32Array.of(1, -0.5, 0.25);
      const ms = new Float32Array(3);
      const mg = centered ? new Float32Array(3) : null;
      const mom = momentum ? new Float32Array(3) : null;
      const states: RmsState[] = Array.from(w, (x) => ({ w: x, ms: 0, mg: 0, mom: 0 }));
      for (const g of [[0.5, -1, 0.1], [0.2, 0.3, -0.1], [-0.4, 0.05, 0.2]]) {
        be.rmspropUpdate(w, Float32Array.from(g), ms, mg, mom, 0.01, 0.9, momentum, 1e-7, wdecay);
        states.forEach((s, i) => rmsScalar(s, Math.fround(g[i]), 0.01, 0.9, momentum, 1e-7, centered, wdecay));
      }
      const what = `rmsprop centered=${centered} momentum=${momentum} wd=${wdecay}`;
      // centered: ms − mg² loses a few bits to cancellation on the first steps
      expectElementsClose(w, states.map((s) => s.w), centered ? 1e-5 : STEP.rtol, STEP.atol, `${what} w`);
      expectElementsClose(ms, states.map((s) => s.ms), POSITIVE.rtol, POSITIVE.atol, `${what} ms`);
    }
  });

  ctx.compare('matches the oracle over three steps', () => {
    for (const n of LENGTHS) {
      for (const [centered, momentum, wdecay] of [[false, 0, 0], [true, 0, 0.01], [false, 0.9, 0], [true, 0.5, 0]] as const) {
        const run = (k: Backend): Float32Array[] => {
          const w = uniform(8700 + n, n);
          const ms = uniform(8701, n, 0.5, 1);
          const mg = centered ? uniform(8702, n, -0.1, 0.1) : null;
          const mom = momentum ? uniform(8703, n, -0.01, 0.01) : null;
          for (let t = 0; t < 3; t++) k.rmspropUpdate(w, uniform(8704 + t, n), ms, mg, mom, 1e-3, 0.9, momentum, 1e-7, wdecay);
          return [w, ms, ...(mg ? [mg] : []), ...(mom ? [mom] : [])];
        };
        const [got, ref] = [run(be), run(oracle)];
        const tol = [STEP, POSITIVE, SIGNED, SIGNED];
        got.forEach((a, i) => expectElementsClose(a, ref[i], tol[i].rtol, tol[i].atol, `rmsprop n=${n} centered=${centered} momentum=${momentum} [${i}]`));
      }
    }
  });
}
