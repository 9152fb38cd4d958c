/**
 * Reference BatchNormalization over x viewed as (rows, c), Keras conventions:
 * biased batch variance, moving = moving·momentum + batch·(1 − momentum).
 */
import type { F32, FusedActivation } from '../backend.js';
import { maskedGradient, relu } from './layers.js';

function normalize(
  y: F32, x: F32, gamma: F32 | null, beta: F32 | null, mean: ArrayLike<number>,
  invStd: ArrayLike<number>, rows: number, c: number, act: FusedActivation,
): void {
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      const i = r * c + ch;
      const v = (gamma ? gamma[ch] : 1) * (x[i] - mean[ch]) * invStd[ch] + (beta ? beta[ch] : 0);
      y[i] = act === 'relu' ? relu(v) : v;
    }
  }
}

export function batchNormTrainForward(
  y: F32, mean: F32, invStd: F32, movingMean: F32, movingVar: F32,
  x: F32, gamma: F32 | null, beta: F32 | null, rows: number, c: number,
  momentum: number, epsilon: number, act: FusedActivation,
): void {
  const mu = new Float64Array(c);
  const variance = new Float64Array(c);
  const inv = new Float64Array(c);
  for (let r = 0; r < rows; r++) for (let ch = 0; ch < c; ch++) mu[ch] += x[r * c + ch];
  for (let ch = 0; ch < c; ch++) mu[ch] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      const d = x[r * c + ch] - mu[ch];
      variance[ch] += d * d;
    }
  }
  for (let ch = 0; ch < c; ch++) {
    variance[ch] /= rows;
    mean[ch] = mu[ch];
    inv[ch] = 1 / Math.sqrt(variance[ch] + epsilon);
    invStd[ch] = inv[ch];
    movingMean[ch] = movingMean[ch] * momentum + mu[ch] * (1 - momentum);
    movingVar[ch] = movingVar[ch] * momentum + variance[ch] * (1 - momentum);
  }
  normalize(y, x, gamma, beta, mu, inv, rows, c, act);
}

export function batchNormInferForward(
  y: F32, x: F32, gamma: F32 | null, beta: F32 | null, movingMean: F32, movingVar: F32,
  rows: number, c: number, epsilon: number, act: FusedActivation,
): void {
  const invStd = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) invStd[ch] = 1 / Math.sqrt(movingVar[ch] + epsilon);
  normalize(y, x, gamma, beta, movingMean, invStd, rows, c, act);
}

export function batchNormBackward(
  dx: F32, dgamma: F32 | null, dbeta: F32 | null, dy: F32, y: F32 | null,
  x: F32, mean: F32, invStd: F32, gamma: F32 | null, rows: number, c: number,
  act: FusedActivation,
): void {
  const dz = maskedGradient(dy, y, act);
  const sumDz = new Float64Array(c);
  const sumDzXhat = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      const i = r * c + ch;
      sumDz[ch] += dz[i];
      sumDzXhat[ch] += dz[i] * (x[i] - mean[ch]) * invStd[ch];
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      const i = r * c + ch;
      const xhat = (x[i] - mean[ch]) * invStd[ch];
      const k = ((gamma ? gamma[ch] : 1) * invStd[ch]) / rows;
      dx[i] = k * (rows * dz[i] - sumDz[ch] - xhat * sumDzXhat[ch]);
    }
  }
  if (dgamma) dgamma.set(sumDzXhat);
  if (dbeta) dbeta.set(sumDz);
}
