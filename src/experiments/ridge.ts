/**
 * Ridge regression three ways on a synthetic regression task with a known sparse truth:
 * the closed form (XᵀX + nλI)⁻¹Xᵀy, gradient descent on fitlab's own Dense layer with an l2(λ)
 * kernel regularizer and the MSE loss (the same minimizer: Keras' loss is the mean squared error
 * plus λ‖w‖², so the closed form's ridge constant is nλ), and the Lasso (L1) solution by proximal
 * gradient, which sets weights exactly to zero, beside SGD with fitlab's l1 regularizer.
 */
import { getBackend } from '../backend/index.js';
import { LossHead, parseLoss } from '../nn/losses.js';
import { modelFromSpec } from '../nn/spec.js';
import { createOptimizer } from '../optim/optimizers.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import { trainBatch } from '../train/step.js';

export interface RidgeTask {
  n: number;
  d: number;
  x: Float64Array;
  y: Float64Array;
  truth: Float64Array;
  noise: number;
}

/** y = X·w* + ε with X ~ N(0, 1), w* having `nonZero` non-zero entries, ε ~ N(0, noise²). */
export function ridgeTask(seed: number, n = 200, d = 20, nonZero = 5, noise = 0.5): RidgeTask {
  const rng = new RandomStream(seed, STREAMS.ridgeTask);
  const x = new Float64Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const truth = new Float64Array(d);
  for (let j = 0; j < nonZero; j++) truth[j] = (j % 2 ? -1 : 1) * (1 + j * 0.5);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * truth[j];
    y[i] = s + noise * rng.normal();
  }
  return { n, d, x, y, truth, noise };
}

/** Solve A·w = b (A symmetric positive definite, d×d) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = i === j ? Math.sqrt(s) : s / l[j * d + j];
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * z[k];
    z[i] = s / l[i * d + i];
  }
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * w[k];
    w[i] = s / l[i * d + i];
  }
  return w;
}

/** The closed form for the loss (1/n)‖y − Xw‖² + λ‖w‖²: w = (XᵀX + nλI)⁻¹Xᵀy. */
export function ridgeClosedForm(t: RidgeTask, lambda: number): Float64Array {
  const { n, d, x, y } = t;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      b[j] += x[i * d + j] * y[i];
      for (let k = 0; k <= j; k++) a[j * d + k] += x[i * d + j] * x[i * d + k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < j; k++) a[k * d + j] = a[j * d + k];
    a[j * d + j] += n * lambda;
  }
  return solveSpd(a, b, d);
}

/**
 * Full-batch gradient descent on fitlab's own model: Dense(1, no bias) with kernelRegularizer
 * {l2: λ} (or {l1: λ}), MSE loss, plain SGD. Returns the learned weights.
 */
export function gradientDescent(t: RidgeTask, reg: { l1?: number; l2?: number }, steps = 600, lr = 0.2): Float64Array {
  const backend = getBackend();
  const kernelRegularizer = reg.l1 ? { l1: reg.l1 } : reg.l2 ? { l2: reg.l2 } : undefined;
  const model = modelFromSpec({ input: [t.d], layers: [{ type: 'dense', units: 1, useBias: false, activation: 'linear', kernelInitializer: 'zeros', ...(kernelRegularizer ? { kernelRegularizer } : {}) }] });
  model.build({ batchSize: t.n, seed: 1, backend });
  const loss = new LossHead(model, parseLoss('mse'));
  const opt = createOptimizer({ name: 'sgd', learningRate: lr });
  const x = backend.alloc(t.n * t.d);
  x.set(Float32Array.from(t.x));
  const y = Float32Array.from(t.y);
  model.setBatch(t.n);
  for (let s = 0; s < steps; s++) trainBatch(model, loss, opt, x, y, null);
  return Float64Array.from(model.params()[0].value);
}

/** Lasso, min (1/n)‖y − Xw‖² + λ‖w‖₁, by proximal gradient (ISTA): exact zeros. */
export function lassoIsta(t: RidgeTask, lambda: number, steps = 5000, lr = 0.2): Float64Array {
  const { n, d, x, y } = t;
  const w = new Float64Array(d);
  const r = new Float64Array(n);
  const g = new Float64Array(d);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let j = 0; j < d; j++) p += x[i * d + j] * w[j];
      r[i] = p - y[i];
    }
    g.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) g[j] += (2 / n) * r[i] * x[i * d + j];
    for (let j = 0; j < d; j++) {
      const v = w[j] - lr * g[j];
      const th = lr * lambda;
      w[j] = v > th ? v - th : v < -th ? v + th : 0;
    }
  }
  return w;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface RidgeResult {
  lambda: number;
  closedForm: number[];
  gradientDescent: number[];
  maxDifference: number;
  lasso: number[];
  lassoZeros: number;
  l1Sgd: number[];
  l1SgdNearZero: number;
  ridgeZeros: number;
  truthNonZero: number;
}

export function ridgeStudy(seed: number, lambdas = [0.001, 0.01, 0.1, 1]): { task: RidgeTask; results: RidgeResult[] } {
  const task = ridgeTask(seed);
  const results = lambdas.map((lambda) => {
    const cf = ridgeClosedForm(task, lambda);
    const gd = gradientDescent(task, { l2: lambda });
    const lasso = lassoIsta(task, lambda);
    const l1 = gradientDescent(task, { l1: lambda }, 1500, 0.05);
    return {
      lambda, closedForm: [...cf], gradientDescent: [...gd], maxDifference: maxAbsDiff(cf, gd),
      lasso: [...lasso], lassoZeros: lasso.filter((v) => v === 0).length,
      l1Sgd: [...l1], l1SgdNearZero: l1.filter((v) => Math.abs(v) < 1e-2).length,
      ridgeZeros: cf.filter((v) => v === 0).length, truthNonZero: task.truth.filter((v) => v !== 0).length,
    };
  });
  return { task, results };
}
