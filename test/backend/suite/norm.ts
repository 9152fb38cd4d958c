/** Suite section: BatchNormalization (training forward, inference forward, backward). */
import { expect, it } from 'vitest';
import type { Backend, FusedActivation } from '../../../src/backend/backend.js';
import type { SuiteContext } from './helpers.js';
import { checkGradients, dot, expectClose, expectElementsClose, nans, reluPattern, uniform } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, dim, num, lit } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  batchNormTrainForward: [f('y', 6), f('mean', 2), f('invStd', 2), f('movingMean', 2), f('movingVar', 2), f('x', 6),
    f('gamma', 2), f('beta', 2), dim('rows', 3), dim('c', 2), num('momentum', 0.99), num('epsilon', 1e-3), lit('relu')],
  batchNormInferForward: [f('y', 6), f('x', 6), f('gamma', 2), f('beta', 2), f('movingMean', 2), f('movingVar', 2),
    dim('rows', 3), dim('c', 2), num('epsilon', 1e-3), lit('relu')],
  batchNormBackward: [f('dx', 6), f('dgamma', 2), f('dbeta', 2), f('dy', 6), f('y', 6), f('x', 6), f('mean', 2), f('invStd', 2),
    f('gamma', 2), dim('rows', 3), dim('c', 2), lit('relu')],
} satisfies Partial<Record<KernelName, Arg[]>>;

// Normalized outputs are O(1) and come from per-channel sums of `rows` terms (double on both
// backends) and one affine map in float32: 1e-5 of the output scale covers float32 rounding of
// mean, invStd and the affine coefficients. Statistics themselves are compared elementwise.
const Y_TOL = 1e-5;
const STAT = { rtol: 1e-5, atol: 1e-6 };
const FD = { eps: 1e-2, tol: 1e-2 };

interface BnCase { rows: number; c: number }
// rows = 1 has zero variance; 2048·33 is large enough for the native row-chunk threads
const BN_CASES: BnCase[] = [{ rows: 1, c: 3 }, { rows: 2, c: 3 }, { rows: 37, c: 5 }, { rows: 128, c: 17 }, { rows: 2048, c: 33 }];

interface TrainOut { y: Float32Array; mean: Float32Array; invStd: Float32Array; mm: Float32Array; mv: Float32Array }

function train(
  be: Backend, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, rows: number, c: number,
  act: FusedActivation, momentum = 0.99, epsilon = 1e-3, moving?: [Float32Array, Float32Array],
): TrainOut {
  const out = {
    y: nans(rows * c), mean: nans(c), invStd: nans(c),
    mm: moving ? moving[0].slice() : new Float32Array(c), mv: moving ? moving[1].slice() : new Float32Array(c).fill(1),
  };
  be.batchNormTrainForward(out.y, out.mean, out.invStd, out.mm, out.mv, x, gamma, beta, rows, c, momentum, epsilon, act);
  return out;
}

export function normSection(ctx: SuiteContext): void {
  ctx.kernel('batchNormTrainForward', VALID.batchNormTrainForward, () => trainTests(ctx));
  ctx.kernel('batchNormInferForward', VALID.batchNormInferForward, () => inferTests(ctx));
  ctx.kernel('batchNormBackward', VALID.batchNormBackward, () => backwardTests(ctx));
}

function trainTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('hand-computed: batch statistics, Keras moving statistics (momentum 0.99), gamma/beta', () => {
    // channel 0 = 1,2,3,4 (mean 2.5, biased variance 1.25); channel 1 constant 2 (variance 0)
    const x = Float32Array.of(1, 2, 2, 2, 3, 2, 4, 2);
    const out = train(be, x, Float32Array.of(2, 1), Float32Array.of(0.5, -1), 4, 2, 'linear', 0.99, 1e-3,
      [Float32Array.of(0, 1), Float32Array.of(1, 1)]);
    expectElementsClose(out.mean, [2.5, 2], 1e-7, 0, 'mean');
    expectElementsClose(out.invStd, [1 / Math.sqrt(1.251), 1 / Math.sqrt(0.001)], 1e-6, 0, 'invStd');
    // moving = moving·0.99 + batch·0.01: [0·0.99 + 2.5·0.01, 1·0.99 + 2·0.01], [1·0.99 + 1.25·0.01, 0.99]
    expectElementsClose(out.mm, [0.025, 1.01], 1e-6, 0, 'movingMean');
    expectElementsClose(out.mv, [1.0025, 0.99], 1e-6, 0, 'movingVar');
    const s = 2 / Math.sqrt(1.251);
    expectElementsClose(out.y, [-1.5 * s + 0.5, -1, -0.5 * s + 0.5, -1, 0.5 * s + 0.5, -1, 1.5 * s + 0.5, -1], 1e-6, 1e-7, 'y');
    const relu = train(be, x, Float32Array.of(2, 1), Float32Array.of(0.5, -1), 4, 2, 'relu');
    expectElementsClose(relu.y, [0, 0, 0, 0, 0.5 * s + 0.5, 0, 1.5 * s + 0.5, 0], 1e-6, 0, 'y relu');
    const plain = train(be, x, null, null, 4, 2, 'linear');
    expectElementsClose(plain.y, [-1.5, 0, -0.5, 0, 0.5, 0, 1.5, 0].map((v) => v / Math.sqrt(1.251)), 1e-6, 1e-7, 'y without gamma/beta');
  });

  it('a large mean offset does not cost precision (variance by cancellation would)', () => {
    // x = 1000 + small noise: the variance (≈1/3·1e-2) is 1e-8 of E[x²]
    const rows = 64;
    const x = uniform(4000, rows).map((v) => 1000 + 0.1 * v);
    let mu = 0;
    for (const v of x) mu += v / rows;
    let variance = 0;
    for (const v of x) variance += (v - mu) ** 2 / rows;
    const out = train(be, x, null, null, rows, 1, 'linear', 0.99, 1e-5);
    expectElementsClose(out.invStd, [1 / Math.sqrt(variance + 1e-5)], 1e-4, 0, 'invStd with offset 1000');
  });

  ctx.compare('matches the oracle: y, mean, invStd, moving statistics (gamma/beta or null, relu)', () => {
    let seed = 4100;
    for (const { rows, c } of BN_CASES) {
      const x = uniform(seed++, rows * c, 1, 5); // mean ≈ 3: the centring matters
      const gamma = uniform(seed++, c, 0.5, 2);
      const beta = uniform(seed++, c);
      const moving: [Float32Array, Float32Array] = [uniform(seed++, c), uniform(seed++, c, 0.5, 2)];
      for (const [g, b, act] of [[gamma, beta, 'linear'], [null, null, 'linear'], [gamma, null, 'relu']] as const) {
        const what = `bn ${rows}×${c} gamma=${g !== null} beta=${b !== null} ${act}`;
        const got = train(be, x, g, b, rows, c, act, 0.9, 1e-3, moving);
        const ref = train(oracle, x, g, b, rows, c, act, 0.9, 1e-3, moving);
        expectClose(got.y, ref.y, Y_TOL, `${what} y`);
        expectElementsClose(got.mean, ref.mean, STAT.rtol, STAT.atol, `${what} mean`);
        expectElementsClose(got.invStd, ref.invStd, STAT.rtol, STAT.atol, `${what} invStd`);
        expectElementsClose(got.mm, ref.mm, STAT.rtol, STAT.atol, `${what} movingMean`);
        expectElementsClose(got.mv, ref.mv, STAT.rtol, STAT.atol, `${what} movingVar`);
      }
    }
  });
}

function inferTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const run = (k: Backend, x: Float32Array, g: Float32Array | null, b: Float32Array | null, mm: Float32Array, mv: Float32Array, rows: number, c: number, act: FusedActivation): Float32Array => {
    const y = nans(rows * c);
    k.batchNormInferForward(y, x, g, b, mm, mv, rows, c, 1e-3, act);
    return y;
  };

  it('hand-computed: y = gamma·(x − movingMean)/sqrt(movingVar + eps) + beta; nothing updated', () => {
    const mm = Float32Array.of(1, -2);
    const mv = Float32Array.of(3.999, 0.249);
    const x = Float32Array.of(3, 0, -1, -2.5);
    const y = run(be, x, Float32Array.of(2, 1), Float32Array.of(0, 0.5), mm, mv, 2, 2, 'linear');
    // sqrt(3.999 + 0.001) = 2, sqrt(0.249 + 0.001) = 0.5
    expectElementsClose(y, [2, 4.5, -2, -0.5], 1e-6, 1e-7, 'y');
    expect(Array.from(mm)).toEqual([1, -2].map(Math.fround));
    expect(Array.from(mv)).toEqual([3.999, 0.249].map(Math.fround));
    const relu = run(be, x, null, null, mm, mv, 2, 2, 'relu');
    expectElementsClose(relu, [1, 4, 0, 0], 1e-6, 0, 'y relu, no gamma/beta');
  });

  ctx.compare('matches the oracle', () => {
    let seed = 4200;
    for (const { rows, c } of BN_CASES) {
      const x = uniform(seed++, rows * c, -2, 4);
      const [g, b, mm, mv] = [uniform(seed++, c, 0.5, 2), uniform(seed++, c), uniform(seed++, c), uniform(seed++, c, 0.1, 3)];
      for (const act of ['linear', 'relu'] as const) {
        expectClose(run(be, x, g, b, mm, mv, rows, c, act), run(oracle, x, g, b, mm, mv, rows, c, act), Y_TOL, `bn infer ${rows}×${c} ${act}`);
        expectClose(run(be, x, null, null, mm, mv, rows, c, act), run(oracle, x, null, null, mm, mv, rows, c, act), Y_TOL, `bn infer ${rows}×${c} ${act} no gamma/beta`);
      }
    }
  });
}

function backwardTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const [rows, c] = [6, 3];

  for (const [label, affine, act] of [
    ['with gamma and beta', true, 'linear'],
    ['with null gamma and beta', false, 'linear'],
    ['with gamma and beta, relu', true, 'relu'],
    ['with null gamma and beta, relu', false, 'relu'],
  ] as const) {
    it(`finite differences (training mode) ${label}: dx${affine ? ', dgamma, dbeta' : ''}`, () => {
      const make = (s: number): [Float32Array, Float32Array | null, Float32Array | null] =>
        [uniform(s, rows * c, -1, 2), affine ? uniform(s + 1, c, 0.5, 1.5) : null, affine ? uniform(s + 2, c, -0.5, 0.5) : null];
      let seed = 4300;
      // pre-activations (the linear output) at least 0.05 from the relu kink
      while (act === 'relu' && !train(oracle, ...make(seed), rows, c, 'linear').y.every((v) => Math.abs(v) > 0.05)) seed += 3;
      const [x, gamma, beta] = make(seed);
      const r = uniform(seed + 10, rows * c);
      let fwd = train(be, x, gamma, beta, rows, c, act);
      const dx = nans(x.length);
      const dgamma = affine ? nans(c) : null;
      const dbeta = affine ? nans(c) : null;
      be.batchNormBackward(dx, dgamma, dbeta, r, fwd.y, x, fwd.mean, fwd.invStd, gamma, rows, c, act);
      const params = [{ name: 'dx', value: x, analytic: dx }];
      if (gamma && beta && dgamma && dbeta) {
        params.push({ name: 'dgamma', value: gamma, analytic: dgamma }, { name: 'dbeta', value: beta, analytic: dbeta });
      }
      checkGradients({
        ...FD,
        loss: () => {
          fwd = train(be, x, gamma, beta, rows, c, act);
          return dot(r, fwd.y);
        },
        regime: act === 'relu' ? () => reluPattern(fwd.y) : undefined,
        params,
      });
    });
  }

  ctx.compare('matches the oracle (gamma or null, relu or linear, outputs null or not)', () => {
    let seed = 4400;
    for (const { rows: n, c: ch } of BN_CASES) {
      const x = uniform(seed++, n * ch, 1, 5);
      const gamma = uniform(seed++, ch, 0.5, 2);
      const dy = uniform(seed++, n * ch);
      for (const [g, act] of [[gamma, 'linear'], [null, 'linear'], [gamma, 'relu'], [null, 'relu']] as const) {
        const fwd = train(oracle, x, g, uniform(seed++, ch), n, ch, act);
        const run = (k: Backend, withParams: boolean): Array<Float32Array | null> => {
          const out = [nans(n * ch), withParams ? nans(ch) : null, withParams ? nans(ch) : null];
          k.batchNormBackward(out[0] as Float32Array, out[1], out[2], dy, act === 'relu' ? fwd.y : null, x, fwd.mean, fwd.invStd, g, n, ch, act);
          return out;
        };
        const ref = run(oracle, true);
        for (const withParams of [true, false]) {
          const got = run(be, withParams);
          const what = `bn backward ${n}×${ch} gamma=${g !== null} ${act} dgamma/dbeta=${withParams}`;
          // dx = k·(rows·dz − Σdz − x̂·Σdz·x̂): a difference of O(rows) sums, so compare at the
          // scale of dz·gamma·invStd, which is the output's own scale
          expectClose(got[0] as Float32Array, ref[0] as Float32Array, Y_TOL, `${what} dx`);
          if (withParams) {
            expectClose(got[1] as Float32Array, ref[1] as Float32Array, Y_TOL, `${what} dgamma`, n);
            expectClose(got[2] as Float32Array, ref[2] as Float32Array, Y_TOL, `${what} dbeta`, n);
          }
        }
      }
    }
  });
}
