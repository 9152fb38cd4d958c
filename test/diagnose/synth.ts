/**
 * Crafted training histories for the diagnosis tests: each regime as closed-form curves (so the
 * expected onset, best epoch and counterfactuals can be worked out by hand), and a seeded
 * Gaussian noise that turns them into realistic, jittery versions.
 */
import type { EpochLog } from '../../src/train/history.js';

/** mulberry32: a tiny seeded PRNG, independent of fitlab's own Philox stream. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
export function gauss(r: () => number): number {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface CurveFns {
  loss: (i: number) => number;
  val_loss?: (i: number) => number;
  accuracy?: (i: number) => number;
  val_accuracy?: (i: number) => number;
}

/** n epochs of logs from closed-form curves (fitlab's EpochLog shape). */
export function history(n: number, f: CurveFns): EpochLog[] {
  return Array.from({ length: n }, (_, i) => {
    const e: EpochLog = { epoch: i, loss: f.loss(i), learning_rate: 1e-3, penalty: 0, seconds: 0.5 };
    if (f.accuracy) e.accuracy = f.accuracy(i);
    if (f.val_loss) e.val_loss = f.val_loss(i);
    if (f.val_accuracy) e.val_accuracy = f.val_accuracy(i);
    return e;
  });
}

/**
 * The same history with seeded Gaussian noise: losses get σ·N(0,1) added (training loss
 * relative, ×(1 + σ·N), so it stays positive), accuracies σacc·N(0,1), clipped to [0, 1].
 */
export function noisy(h: EpochLog[], seed: number, sigma: number, sigmaAcc = sigma / 2): EpochLog[] {
  const r = rng(seed);
  const clip = (v: number): number => Math.min(1, Math.max(0, v));
  return h.map((e) => {
    const o: EpochLog = { ...e, loss: e.loss * (1 + sigma * gauss(r)) };
    if (e.val_loss !== undefined) o.val_loss = e.val_loss + sigma * gauss(r);
    if (e.accuracy !== undefined) o.accuracy = clip(e.accuracy + sigmaAcc * gauss(r));
    if (e.val_accuracy !== undefined) o.val_accuracy = clip(e.val_accuracy + sigmaAcc * gauss(r));
    return o;
  });
}

export const col = (h: EpochLog[], k: string): number[] => h.map((e) => e[k] as number);

/** Index of the smallest value (first one on ties), computed independently of fitlab's argmin. */
export function indexOfMin(xs: number[]): number {
  return xs.reduce((best, v, i) => (v < xs[best] ? i : best), 0);
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- the regimes, as closed-form curves (10 classes: chance is 10%) ----------------------------

/** Where the crafted overfitting run's validation loss bottoms out (0-based). */
export const OVERFIT_MIN = 15;

/**
 * True overfitting, 40 epochs: training loss falls all along to ≈0.02 and training accuracy to
 * ≈100%; validation loss falls 0.05 per epoch to its minimum 0.5 at epoch 15 (plus a fast early
 * drop), then rises 0.03 per epoch; validation accuracy peaks near 86% and slowly sags.
 */
export const overfitting = (): EpochLog[] => history(40, {
  loss: (i) => 0.02 + 2.0 * Math.exp(-i / 6),
  accuracy: (i) => 1 - 0.6 * Math.exp(-i / 5),
  val_loss: (i) => 0.5 + (i < OVERFIT_MIN ? 0.05 * (OVERFIT_MIN - i) : 0.03 * (i - OVERFIT_MIN)) + 0.8 * Math.exp(-i / 2),
  val_accuracy: (i) => 0.86 - 0.4 * Math.exp(-i / 4) - (i > OVERFIT_MIN ? 0.002 * (i - OVERFIT_MIN) : 0),
});

/** Healthy, 30 epochs: both curves fall and level off together; 93% vs 91% accuracy. */
export const healthy = (): EpochLog[] => history(30, {
  loss: (i) => 0.25 + 1.8 * Math.exp(-i / 3),
  accuracy: (i) => 0.93 - 0.6 * Math.exp(-i / 3),
  val_loss: (i) => 0.3 + 1.7 * Math.exp(-i / 3),
  val_accuracy: (i) => 0.91 - 0.6 * Math.exp(-i / 3),
});

/**
 * Dropout at work, 30 epochs: training metrics are measured with dropout on, so validation loss
 * sits *below* training loss and validation accuracy *above* training accuracy all along.
 */
export const dropoutHealthy = (): EpochLog[] => history(30, {
  loss: (i) => 0.55 + 1.5 * Math.exp(-i / 4),
  accuracy: (i) => 0.85 - 0.5 * Math.exp(-i / 4),
  val_loss: (i) => 0.4 + 1.5 * Math.exp(-i / 4),
  val_accuracy: (i) => 0.89 - 0.5 * Math.exp(-i / 4),
});

/** Underfitting, 30 epochs: stuck near 28% / 27% (chance 10%), losses flat near 2.0. */
export const underfitting = (): EpochLog[] => history(30, {
  loss: (i) => 2.0 + 0.2 * Math.exp(-i / 2),
  accuracy: (i) => 0.28 - 0.08 * Math.exp(-i / 2),
  val_loss: (i) => 2.02 + 0.2 * Math.exp(-i / 2),
  val_accuracy: (i) => 0.27 - 0.08 * Math.exp(-i / 2),
});

/** Not converged, 15 epochs: both losses still fall ~0.07 per epoch; accuracy only 55%. */
export const notConverged = (): EpochLog[] => history(15, {
  loss: (i) => 2.2 - (1.0 * i) / 14,
  accuracy: (i) => 0.2 + (0.35 * i) / 14,
  val_loss: (i) => 2.25 - (1.0 * i) / 14,
  val_accuracy: (i) => 0.19 + (0.34 * i) / 14,
});

/** Where the crafted partial-overfitting run's validation loss bottoms out (0-based). */
export const PARTIAL_MIN = 12;

/**
 * Partial overfitting, 30 epochs: validation loss turns up at epoch 12 while training loss keeps
 * falling, but training accuracy only reaches 60% (validation 40%): capacity-limited.
 */
export const partialOverfitting = (): EpochLog[] => history(30, {
  loss: (i) => 1.0 + 1.3 * Math.exp(-i / 8),
  accuracy: (i) => 0.6 - 0.45 * Math.exp(-i / 6),
  val_loss: (i) => 1.6 + (i < PARTIAL_MIN ? 0.04 * (PARTIAL_MIN - i) : 0.03 * (i - PARTIAL_MIN)) + 0.5 * Math.exp(-i / 2),
  val_accuracy: (i) => 0.4 - 0.25 * Math.exp(-i / 6) - (i > PARTIAL_MIN ? 0.003 * (i - PARTIAL_MIN) : 0),
});
