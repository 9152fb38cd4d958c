/** Reference losses (fused with softmax where the model ends in softmax) and accuracy. */
import type { F32, I32 } from '../backend.js';

/** Row-wise stable softmax of logits into probs; returns each row's log-sum-exp. */
function softmaxRows(probs: F32, logits: F32, rows: number, cols: number): Float64Array {
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, logits[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(logits[o + j] - max);
    lse[r] = max + Math.log(sum);
    for (let j = 0; j < cols; j++) probs[o + j] = Math.exp(logits[o + j] - lse[r]);
  }
  return lse;
}

export function softmaxCrossEntropy(
  probs: F32, dlogits: F32 | null, logits: F32, labels: I32, weights: F32 | null,
  rows: number, cols: number, gradScale: number,
): number {
  const lse = softmaxRows(probs, logits, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const wr = weights ? weights[r] : 1;
    const o = r * cols;
    total += wr * (lse[r] - logits[o + labels[r]]);
    if (dlogits) {
      for (let j = 0; j < cols; j++) {
        const target = j === labels[r] ? 1 : 0;
        dlogits[o + j] = gradScale * wr * (probs[o + j] - target);
      }
    }
  }
  return total;
}

export function categoricalCrossEntropy(
  probs: F32, dlogits: F32 | null, logits: F32, targets: F32, weights: F32 | null,
  rows: number, cols: number, gradScale: number,
): number {
  const lse = softmaxRows(probs, logits, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const wr = weights ? weights[r] : 1;
    const o = r * cols;
    let mass = 0;
    let loss = 0;
    for (let j = 0; j < cols; j++) {
      mass += targets[o + j];
      loss += targets[o + j] * (lse[r] - logits[o + j]);
    }
    total += wr * loss;
    if (dlogits) {
      for (let j = 0; j < cols; j++) dlogits[o + j] = gradScale * wr * (mass * probs[o + j] - targets[o + j]);
    }
  }
  return total;
}

export function meanSquaredError(
  dpred: F32 | null, pred: F32, target: F32, weights: F32 | null,
  rows: number, cols: number, gradScale: number,
): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const wr = weights ? weights[r] : 1;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const d = pred[r * cols + j] - target[r * cols + j];
      s += d * d;
      if (dpred) dpred[r * cols + j] = (gradScale * wr * 2 * d) / cols;
    }
    total += (wr * s) / cols;
  }
  return total;
}

export function countCorrect(scores: F32, labels: I32, rows: number, cols: number, k: number): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const label = labels[r];
    const mine = scores[o + label];
    if (Number.isNaN(mine)) continue;
    // rank = how many classes beat the label (ties go to the lower index, like argmax)
    let rank = 0;
    for (let j = 0; j < cols; j++) {
      const s = scores[o + j];
      if (s > mine || (s === mine && j < label) || Number.isNaN(s)) rank++;
    }
    if (rank < k) correct++;
  }
  return correct;
}
