/**
 * The loss surface around trained solutions: the loss and accuracy along the straight line
 * between two weight vectors (Goodfellow et al.'s linear interpolation), and sharpness — how
 * much the loss rises under random weight perturbations of a fixed size relative to each
 * tensor's norm (so that layers of different scale are perturbed alike).
 */
import type { Split } from '../data/dataset.js';
import { ShapeError } from '../errors.js';
import type { Trainer } from '../train/fit.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';

export type Weights = Float32Array[];

/** (1 − α)·a + α·b, tensor by tensor (α outside [0, 1] extrapolates). */
export function lerpWeights(a: Weights, b: Weights, alpha: number): Weights {
  if (a.length !== b.length) throw new ShapeError(`lerpWeights: ${a.length} tensors against ${b.length}`);
  return a.map((t, i) => {
    const u = b[i];
    if (u.length !== t.length) throw new ShapeError(`lerpWeights: tensor ${i} has ${t.length} values against ${u.length}`);
    const out = new Float32Array(t.length);
    for (let j = 0; j < t.length; j++) out[j] = t[j] + alpha * (u[j] - t[j]);
    return out;
  });
}

export function norm(t: Float32Array): number {
  let s = 0;
  for (let j = 0; j < t.length; j++) s += t[j] * t[j];
  return Math.sqrt(s);
}

/** ‖a − b‖ over all tensors. */
export function distance(a: Weights, b: Weights): number {
  let s = 0;
  a.forEach((t, i) => {
    for (let j = 0; j < t.length; j++) s += (t[j] - b[i][j]) ** 2;
  });
  return Math.sqrt(s);
}

/**
 * w + δ with δ Gaussian in direction and ‖δ_t‖ = ε·‖w_t‖ for every tensor t (a tensor that is
 * all zeros stays as it is).
 */
export function perturbWeights(w: Weights, epsilon: number, rng: RandomStream): Weights {
  return w.map((t) => {
    const size = epsilon * norm(t);
    if (size === 0) return Float32Array.from(t);
    const d = new Float32Array(t.length);
    rng.fillNormal(d);
    const scale = size / (norm(d) || 1);
    const out = new Float32Array(t.length);
    for (let j = 0; j < t.length; j++) out[j] = t[j] + scale * d[j];
    return out;
  });
}

export interface Probe {
  /** data loss (without the regularization penalty) and accuracy */
  loss: number;
  accuracy: number;
}

/** Evaluates the trainer's model at given weights on named splits, restoring its weights after. */
export class WeightProbe {
  private readonly saved: Weights;

  constructor(readonly trainer: Trainer, readonly splits: Record<string, Split>, readonly scale: number) {
    this.saved = trainer.model.params().map((p) => Float32Array.from(p.value));
  }

  /** the model's own weights when the probe was made */
  get weights(): Weights {
    return this.saved;
  }

  at(w: Weights, only?: string[]): Record<string, Probe> {
    this.trainer.model.setWeights(w);
    const out: Record<string, Probe> = {};
    for (const [name, split] of Object.entries(this.splits)) {
      if (only && !only.includes(name)) continue;
      const r = this.trainer.evaluate(split, this.scale);
      out[name] = { loss: r.loss - r.penalty, accuracy: r.accuracy };
    }
    return out;
  }

  restore(): void {
    this.trainer.model.setWeights(this.saved);
  }
}

export interface LineScan {
  alphas: number[];
  /** per split name: the probe at each α */
  points: Record<string, Probe[]>;
}

/** The splits' loss and accuracy at (1 − α)·a + α·b for each α. */
export function scanLine(probe: WeightProbe, a: Weights, b: Weights, alphas: number[]): LineScan {
  const points: Record<string, Probe[]> = {};
  for (const name of Object.keys(probe.splits)) points[name] = [];
  for (const alpha of alphas) {
    const r = probe.at(lerpWeights(a, b, alpha));
    for (const [name, v] of Object.entries(r)) points[name].push(v);
  }
  probe.restore();
  return { alphas, points };
}

export interface Sharpness {
  epsilons: number[];
  /** loss at the point itself */
  base: number;
  /** mean loss increase over the directions (each taken both ways), per ε */
  increase: number[];
  /** standard deviation of the increase over the directions, per ε */
  spread: number[];
  /** mean accuracy at the perturbed points, per ε */
  accuracy: number[];
}

/** w + δ and w − δ for one random δ of relative size ε per tensor (see perturbWeights). */
export function perturbPair(w: Weights, epsilon: number, rng: RandomStream): [Weights, Weights] {
  const plus = perturbWeights(w, epsilon, rng);
  const minus = w.map((t, i) => Float32Array.from(t, (v, j) => 2 * v - plus[i][j]));
  return [plus, minus];
}

/**
 * Sharpness of `w` on one split: the mean rise of the data loss under random perturbations of
 * relative size ε (per tensor), for each ε. Each of the `directions` random directions is taken
 * both ways (w ± δ), which cancels the first-order (slope) term: what remains is curvature.
 * Seeded: the same seed gives the same directions for every point compared.
 */
export function sharpness(probe: WeightProbe, w: Weights, split: string, epsilons: number[], directions: number, seed: number): Sharpness {
  const base = probe.at(w, [split])[split].loss;
  const increase: number[] = [];
  const spread: number[] = [];
  const accuracy: number[] = [];
  for (const eps of epsilons) {
    const rng = new RandomStream(seed, STREAMS.sharpness);
    const rises: number[] = [];
    let acc = 0;
    for (let d = 0; d < directions; d++) {
      const [plus, minus] = perturbPair(w, eps, rng);
      const a = probe.at(plus, [split])[split];
      const b = probe.at(minus, [split])[split];
      rises.push((a.loss + b.loss) / 2 - base);
      acc += (a.accuracy + b.accuracy) / 2;
    }
    const mean = rises.reduce((s, v) => s + v, 0) / rises.length;
    increase.push(mean);
    spread.push(rises.length > 1 ? Math.sqrt(rises.reduce((s, v) => s + (v - mean) ** 2, 0) / (rises.length - 1)) : 0);
    accuracy.push(acc / directions);
  }
  probe.restore();
  return { epsilons, base, increase, spread, accuracy };
}
