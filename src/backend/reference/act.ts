/** Reference activations, softmax and dropout. */
import type { ElementwiseActivation, F32, RandomDraw } from '../backend.js';
import { dropoutKeep } from '../../tensor/prng.js';
import { relu } from './layers.js';

export function activationForward(kind: ElementwiseActivation, y: F32, x: F32, alpha: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    switch (kind) {
      case 'linear': y[i] = v; break;
      case 'relu': y[i] = relu(v); break;
      case 'elu': y[i] = v > 0 ? v : alpha * Math.expm1(v); break;
      case 'leaky_relu': y[i] = v > 0 ? v : alpha * v; break;
      case 'sigmoid': y[i] = 1 / (1 + Math.exp(-v)); break;
      case 'tanh': y[i] = Math.tanh(v); break;
    }
  }
}

export function activationBackward(
  kind: ElementwiseActivation, dx: F32, dy: F32, x: F32, y: F32, alpha: number,
): void {
  for (let i = 0; i < dy.length; i++) {
    const g = dy[i];
    switch (kind) {
      case 'linear': dx[i] = g; break;
      case 'relu': dx[i] = x[i] > 0 ? g : 0; break;
      // elu'(x) = alpha·e^x = y + alpha for x ≤ 0
      case 'elu': dx[i] = x[i] > 0 ? g : g * (y[i] + alpha); break;
      case 'leaky_relu': dx[i] = x[i] > 0 ? g : g * alpha; break;
      case 'sigmoid': dx[i] = g * y[i] * (1 - y[i]); break;
      case 'tanh': dx[i] = g * (1 - y[i] * y[i]); break;
    }
  }
}

export function softmaxForward(y: F32, x: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    for (let j = 0; j < cols; j++) y[o + j] = Math.exp(x[o + j] - max) / sum;
  }
}

export function softmaxBackward(dx: F32, dy: F32, y: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
    for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
  }
}

export function dropoutForward(y: F32, mask: Uint8Array, x: F32, rate: number, draw: RandomDraw): void {
  dropoutKeep(mask, rate, [draw[0], draw[1]], [draw[2], draw[3]], draw[4] + draw[5] * 4294967296);
  const keepScale = Math.fround(1 / (1 - rate));
  for (let i = 0; i < x.length; i++) y[i] = mask[i] ? x[i] * keepScale : 0;
}

export function dropoutBackward(dx: F32, dy: F32, mask: Uint8Array, rate: number): void {
  const keepScale = Math.fround(1 / (1 - rate));
  for (let i = 0; i < dy.length; i++) dx[i] = mask[i] ? dy[i] * keepScale : 0;
}
