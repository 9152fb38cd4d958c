/** Reference regularizer penalties and optimizer updates (Keras 3 formulas). */
import type { F32 } from '../backend.js';

export function penalty(w: F32, l1: number, l2: number): number {
  let a = 0;
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    a += Math.abs(w[i]);
    s += w[i] * w[i];
  }
  return l1 * a + l2 * s;
}

export function penaltyGrad(dw: F32, w: F32, l1: number, l2: number): void {
  for (let i = 0; i < w.length; i++) dw[i] += l1 * Math.sign(w[i]) + 2 * l2 * w[i];
}

/** Keras' decoupled decay, applied before the update: w −= lr·wd·w. */
function decay(w: F32, lr: number, weightDecay: number): void {
  if (weightDecay === 0) return;
  for (let i = 0; i < w.length; i++) w[i] -= w[i] * weightDecay * lr;
}

export function sgdUpdate(
  w: F32, g: F32, velocity: F32 | null, lr: number, momentum: number, nesterov: boolean,
  weightDecay: number,
): void {
  decay(w, lr, weightDecay);
  if (!velocity || momentum === 0) {
    for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
    return;
  }
  for (let i = 0; i < w.length; i++) {
    velocity[i] = momentum * velocity[i] - lr * g[i];
    w[i] += nesterov ? momentum * velocity[i] - lr * g[i] : velocity[i];
  }
}

export function adamUpdate(
  w: F32, g: F32, m: F32, v: F32, vhat: F32 | null, lr: number, beta1: number, beta2: number,
  epsilon: number, step: number, weightDecay: number,
): void {
  decay(w, lr, weightDecay);
  const alpha = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  for (let i = 0; i < w.length; i++) {
    m[i] += (g[i] - m[i]) * (1 - beta1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
    let second = v[i];
    if (vhat) {
      vhat[i] = Math.max(vhat[i], v[i]);
      second = vhat[i];
    }
    w[i] -= (alpha * m[i]) / (Math.sqrt(second) + epsilon);
  }
}

export function nadamUpdate(
  w: F32, g: F32, m: F32, v: F32, lr: number, beta1: number, beta2: number, epsilon: number,
  coefM: number, coefG: number, vCorrection: number, weightDecay: number,
): void {
  decay(w, lr, weightDecay);
  for (let i = 0; i < w.length; i++) {
    m[i] += (g[i] - m[i]) * (1 - beta1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
    const mHat = coefM * m[i] + coefG * g[i];
    w[i] -= (lr * mHat) / (Math.sqrt(v[i] * vCorrection) + epsilon);
  }
}

export function rmspropUpdate(
  w: F32, g: F32, ms: F32, mg: F32 | null, mom: F32 | null, lr: number, rho: number,
  momentum: number, epsilon: number, weightDecay: number,
): void {
  decay(w, lr, weightDecay);
  for (let i = 0; i < w.length; i++) {
    ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
    let denom: number;
    if (mg) {
      mg[i] = rho * mg[i] + (1 - rho) * g[i];
      denom = ms[i] - mg[i] * mg[i] + epsilon;
    } else {
      denom = ms[i] + epsilon;
    }
    const inc = (lr * g[i]) / Math.sqrt(denom);
    if (mom && momentum > 0) {
      mom[i] = momentum * mom[i] + inc;
      w[i] -= mom[i];
    } else {
      w[i] -= inc;
    }
  }
}
