/** Suite section: losses (fused softmax cross-entropy, categorical, MSE) and top-k accuracy. */
import { expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/backend.js';
import type { SuiteContext } from './helpers.js';
import { checkGradients, expectElementsClose, labels, nans, uniform } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, i32, dim, num } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  softmaxCrossEntropy: [f('probs', 6), f('dlogits', 6), f('logits', 6), i32('labels', 2, [0, 2]), f('weights', 2),
    dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  categoricalCrossEntropy: [f('probs', 6), f('dlogits', 6), f('logits', 6), f('targets', 6), f('weights', 2),
    dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  meanSquaredError: [f('dpred', 6), f('pred', 6), f('target', 6), f('weights', 2), dim('rows', 2), dim('cols', 3), num('gradScale', 0.5)],
  countCorrect: [f('scores', 6), i32('labels', 2, [0, 2]), dim('rows', 2), dim('cols', 3), dim('k', 1)],
} satisfies Partial<Record<KernelName, Arg[]>>;

// Loss totals are double sums of terms computed from float32 inputs on both backends: 1e-6
// relative. Probabilities and gradients are single float32 roundings of double (reference) or
// float (native) expressions: elementwise 1e-6 relative, 1e-9 absolute for tiny probabilities.
const LOSS_RTOL = 1e-6;
const ELEM = { rtol: 1e-6, atol: 1e-9 };
const FD = { eps: 1e-2, tol: 1e-2 };
const CASES: Array<[number, number]> = [[1, 2], [7, 10], [64, 1000], [33, 3]];

interface LossOut { loss: number; probs: Float32Array; grad: Float32Array }

function sce(be: Backend, logits: Float32Array, lab: Int32Array, w: Float32Array | null, rows: number, cols: number, gs: number): LossOut {
  const probs = nans(rows * cols);
  const grad = nans(rows * cols);
  const loss = be.softmaxCrossEntropy(probs, grad, logits, lab, w, rows, cols, gs);
  return { loss, probs, grad };
}

function cce(be: Backend, logits: Float32Array, t: Float32Array, w: Float32Array | null, rows: number, cols: number, gs: number): LossOut {
  const probs = nans(rows * cols);
  const grad = nans(rows * cols);
  const loss = be.categoricalCrossEntropy(probs, grad, logits, t, w, rows, cols, gs);
  return { loss, probs, grad };
}

function mse(be: Backend, pred: Float32Array, t: Float32Array, w: Float32Array | null, rows: number, cols: number, gs: number): LossOut {
  const grad = nans(rows * cols);
  const loss = be.meanSquaredError(grad, pred, t, w, rows, cols, gs);
  return { loss, probs: new Float32Array(0), grad };
}

/** Soft targets: random non-negative rows summing to 1, except row 0 which sums to 0.5. */
function softTargets(seed: number, rows: number, cols: number): Float32Array {
  const t = uniform(seed, rows * cols, 0, 1);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += t[r * cols + j];
    for (let j = 0; j < cols; j++) t[r * cols + j] /= s * (r === 0 ? 2 : 1);
  }
  return t;
}

function expectLoss(got: number, want: number, what: string): void {
  expect(Math.abs(got - want), `${what}: loss ${got}, want ${want}`).toBeLessThanOrEqual(LOSS_RTOL * Math.max(1, Math.abs(want)));
}

export function lossSection(ctx: SuiteContext): void {
  ctx.kernel('softmaxCrossEntropy', VALID.softmaxCrossEntropy, () => softmaxXentTests(ctx));
  ctx.kernel('categoricalCrossEntropy', VALID.categoricalCrossEntropy, () => categoricalTests(ctx));
  ctx.kernel('meanSquaredError', VALID.meanSquaredError, () => mseTests(ctx));
  ctx.kernel('countCorrect', VALID.countCorrect, () => countCorrectTests(ctx));
}

function softmaxXentTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const logits = Float32Array.of(1, 2, 3, 0, 0, 0);
  const lab = Int32Array.of(2, 1);

  it('hand-computed: −log softmax at the label, weights, gradScale', () => {
    const plain = sce(be, logits, lab, null, 2, 3, 1);
    // −log(e³/(e + e² + e³)) = 0.40760596; −log(1/3) = 1.09861229
    expectLoss(plain.loss, 0.40760596 + 1.09861229, 'unweighted');
    expectElementsClose(plain.probs, [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3], 1e-6, 0, 'probs');
    expectElementsClose(plain.grad, [0.09003057, 0.24472847, -0.33475904, 1 / 3, -2 / 3, 1 / 3], 1e-6, 0, 'dlogits');
    const weighted = sce(be, logits, lab, Float32Array.of(2, 0.5), 2, 3, 0.5);
    expectLoss(weighted.loss, 2 * 0.40760596 + 0.5 * 1.09861229, 'weighted');
    // gradScale·w·(p − onehot): 0.5·2 for row 0, 0.5·0.5 for row 1
    expectElementsClose(weighted.grad, [0.09003057, 0.24472847, -0.33475904, 1 / 12, -1 / 6, 1 / 12], 1e-6, 0, 'weighted dlogits');
  });

  it('large logits stay finite (log-sum-exp); dlogits null is allowed', () => {
    const probs = nans(4);
    const loss = be.softmaxCrossEntropy(probs, null, Float32Array.of(1000, 0, -1000, 0), Int32Array.of(1, 0), null, 2, 2, 1);
    expectLoss(loss, 1000 + 1000, 'saturated rows');
    expect(Array.from(probs)).toEqual([1, 0, 0, 1]);
  });

  for (const [w, gs] of [[null, 1], [Float32Array.of(0.5, 2, 1, 0), 0.25]] as const) {
    it(`finite differences: dlogits = gradScale·∂loss (weights ${w ? 'given' : 'null'}, gradScale ${gs})`, () => {
      const [rows, cols] = [4, 5];
      const z = uniform(7000, rows * cols, -2, 2);
      const lab = labels(7001, rows, cols);
      const { grad } = sce(be, z, lab, w, rows, cols, gs);
      checkGradients({ ...FD, loss: () => gs * sce(be, z, lab, w, rows, cols, gs).loss, params: [{ name: 'dlogits', value: z, analytic: grad }] });
    });
  }

  ctx.compare('matches the oracle (loss, probs, dlogits)', () => {
    let seed = 7100;
    for (const [rows, cols] of CASES) {
      const z = uniform(seed++, rows * cols, -20, 20);
      const lab = labels(seed++, rows, cols);
      for (const w of [null, uniform(seed++, rows, 0, 2)]) {
        const got = sce(be, z, lab, w, rows, cols, 1 / rows);
        const ref = sce(oracle, z, lab, w, rows, cols, 1 / rows);
        const what = `sce ${rows}×${cols} weights=${w !== null}`;
        expectLoss(got.loss, ref.loss, what);
        expectElementsClose(got.probs, ref.probs, ELEM.rtol, ELEM.atol, `${what} probs`);
        expectElementsClose(got.grad, ref.grad, ELEM.rtol, ELEM.atol, `${what} dlogits`);
      }
    }
  });
}

function categoricalTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('hand-computed: one-hot targets equal the sparse loss; soft targets and partial mass', () => {
    const z = Float32Array.of(1, 2, 3, 1, 2, 3);
    const onehot = cce(be, z, Float32Array.of(0, 0, 1, 0, 1, 0), null, 2, 3, 1);
    const sparse = sce(be, z, Int32Array.of(2, 1), null, 2, 3, 1);
    expectLoss(onehot.loss, sparse.loss, 'one-hot vs sparse');
    expectElementsClose(onehot.grad, sparse.grad, 1e-6, 1e-7, 'one-hot dlogits');
    // targets [0.2, 0.3, 0.5]: lse − Σ t·z = 3.40760596 − 2.3; targets [0, 0.5, 0] (mass 0.5)
    const soft = cce(be, z, Float32Array.of(0.2, 0.3, 0.5, 0, 0.5, 0), null, 2, 3, 2);
    const lse = 3.40760596;
    expectLoss(soft.loss, lse - 2.3 + 0.5 * (lse - 2), 'soft');
    const p = [0.09003057, 0.24472847, 0.66524096];
    // dlogits = gradScale·(mass·p − t)
    expectElementsClose(soft.grad, [2 * (p[0] - 0.2), 2 * (p[1] - 0.3), 2 * (p[2] - 0.5), p[0], p[1] - 1, p[2]], 1e-6, 1e-7, 'soft dlogits');
  });

  for (const [w, gs] of [[null, 1], [Float32Array.of(0.5, 2, 1, 3), 0.25]] as const) {
    it(`finite differences with soft targets (weights ${w ? 'given' : 'null'}, gradScale ${gs})`, () => {
      const [rows, cols] = [4, 5];
      const z = uniform(7200, rows * cols, -2, 2);
      const t = softTargets(7201, rows, cols);
      const { grad } = cce(be, z, t, w, rows, cols, gs);
      checkGradients({ ...FD, loss: () => gs * cce(be, z, t, w, rows, cols, gs).loss, params: [{ name: 'dlogits', value: z, analytic: grad }] });
    });
  }

  ctx.compare('matches the oracle', () => {
    let seed = 7300;
    for (const [rows, cols] of CASES) {
      const z = uniform(seed++, rows * cols, -20, 20);
      const t = softTargets(seed++, rows, cols);
      for (const w of [null, uniform(seed++, rows, 0, 2)]) {
        const got = cce(be, z, t, w, rows, cols, 0.5);
        const ref = cce(oracle, z, t, w, rows, cols, 0.5);
        const what = `cce ${rows}×${cols} weights=${w !== null}`;
        expectLoss(got.loss, ref.loss, what);
        expectElementsClose(got.probs, ref.probs, ELEM.rtol, ELEM.atol, `${what} probs`);
        // mass·p − t cancels where t ≈ mass·p: compare at the scale of the targets
        expectElementsClose(got.grad, ref.grad, 1e-6, 1e-7, `${what} dlogits`);
      }
    }
  });
}

function mseTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;

  it('hand-computed: Σ w·mean (pred − target)², dpred = gradScale·w·2(pred − target)/cols', () => {
    const pred = Float32Array.of(1, 2, 3, 5);
    const target = Float32Array.of(0, 2, 1, 1);
    expectLoss(mse(be, pred, target, null, 2, 2, 1).loss, 0.5 + 10, 'unweighted');
    const weighted = mse(be, pred, target, Float32Array.of(2, 0.1), 2, 2, 0.5);
    expectLoss(weighted.loss, 2 * 0.5 + 0.1 * 10, 'weighted');
    expectElementsClose(weighted.grad, [1, 0, 0.1, 0.2], 1e-6, 0, 'dpred');
    const noGrad = be.meanSquaredError(null, pred, target, null, 2, 2, 1);
    expectLoss(noGrad, 10.5, 'dpred null');
  });

  for (const [w, gs] of [[null, 1], [Float32Array.of(0.5, 2, 1), 1 / 3]] as const) {
    it(`finite differences (weights ${w ? 'given' : 'null'}, gradScale ${gs.toFixed(3)})`, () => {
      const [rows, cols] = [3, 4];
      const pred = uniform(7400, rows * cols);
      const target = uniform(7401, rows * cols);
      const { grad } = mse(be, pred, target, w, rows, cols, gs);
      checkGradients({ ...FD, loss: () => gs * mse(be, pred, target, w, rows, cols, gs).loss, params: [{ name: 'dpred', value: pred, analytic: grad }] });
    });
  }

  ctx.compare('matches the oracle', () => {
    let seed = 7500;
    for (const [rows, cols] of CASES) {
      const pred = uniform(seed++, rows * cols, -3, 3);
      const target = uniform(seed++, rows * cols, -3, 3);
      for (const w of [null, uniform(seed++, rows, 0, 2)]) {
        const got = mse(be, pred, target, w, rows, cols, 1 / rows);
        const ref = mse(oracle, pred, target, w, rows, cols, 1 / rows);
        expectLoss(got.loss, ref.loss, `mse ${rows}×${cols}`);
        expectElementsClose(got.grad, ref.grad, ELEM.rtol, ELEM.atol, `mse ${rows}×${cols} dpred`);
      }
    }
  });
}

function countCorrectTests(ctx: SuiteContext): void {
  const { backend: be, oracle } = ctx;
  const count = (k: Backend, scores: number[], lab: number[], cols: number, topK: number): number =>
    k.countCorrect(Float32Array.from(scores), Int32Array.from(lab), lab.length, cols, topK);

  it('top-1 and top-k by hand, ties going to the lower index like argmax', () => {
    const row = [0.1, 0.5, 0.5, 0.2];
    expect(count(be, row, [1], 4, 1), 'label 1 wins the tie with 2').toBe(1);
    expect(count(be, row, [2], 4, 1), 'label 2 loses the tie').toBe(0);
    expect(count(be, row, [2], 4, 2)).toBe(1);
    expect(count(be, row, [3], 4, 2)).toBe(0);
    expect(count(be, row, [3], 4, 3)).toBe(1);
    expect(count(be, row, [0], 4, 4)).toBe(1);
    expect(count(be, row, [0], 4, 9), 'k > cols counts every row').toBe(1);
    expect(count(be, [...row, 3, 2, 1, 0, 1, 1, 1, 1], [1, 0, 3], 4, 1), 'three rows').toBe(2);
  });

  it('NaN scores: a NaN label score is never correct; other NaNs rank first (argmax picks NaN)', () => {
    expect(count(be, [Number.NaN, 0.1, 0.2], [2], 3, 1)).toBe(0);
    expect(count(be, [Number.NaN, 0.1, 0.2], [2], 3, 2)).toBe(1);
    expect(count(be, [0.3, Number.NaN, 0.2], [1], 3, 3)).toBe(0);
    expect(count(be, [Number.NaN, Number.NaN, 0.2], [2], 3, 2)).toBe(0);
  });

  ctx.compare('matches the oracle (quantized scores with ties, NaNs, several k)', () => {
    let seed = 7600;
    for (const [rows, cols] of [[100, 10], [33, 3], [64, 1000]] as const) {
      const scores = uniform(seed++, rows * cols, 0, 4).map(Math.floor);
      for (let i = 0; i < scores.length; i += 37) scores[i] = Number.NaN;
      const lab = labels(seed++, rows, cols);
      for (const k of [1, 2, 5]) {
        expect(be.countCorrect(scores, lab, rows, cols, k), `${rows}×${cols} k=${k}`).toBe(oracle.countCorrect(scores, lab, rows, cols, k));
      }
    }
  });
}
