/** Classification metrics: accuracy, top-k accuracy, per-class accuracy, confusion matrix. */
import type { F32 } from '../backend/backend.js';

/** Row-wise argmax (first maximum on ties, like Keras/NumPy). */
export function argmaxRows(scores: F32, rows: number, cols: number, out = new Int32Array(rows)): Int32Array {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = scores[r * cols];
    for (let j = 1; j < cols; j++) {
      const v = scores[r * cols + j];
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Confusion matrix: counts[actual·classes + predicted]. */
export class ConfusionMatrix {
  readonly classes: number;
  readonly counts: Float64Array;
  constructor(classes: number) {
    this.classes = classes;
    this.counts = new Float64Array(classes * classes);
  }
  add(actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
    for (let i = 0; i < actual.length; i++) this.counts[actual[i] * this.classes + predicted[i]]++;
  }
  get total(): number {
    let t = 0;
    for (const c of this.counts) t += c;
    return t;
  }
  accuracy(): number {
    let hit = 0;
    for (let k = 0; k < this.classes; k++) hit += this.counts[k * this.classes + k];
    return this.total ? hit / this.total : 0;
  }
  /** Recall per class (correct / examples of that class); NaN for absent classes. */
  perClassAccuracy(): number[] {
    return Array.from({ length: this.classes }, (_, k) => {
      let row = 0;
      for (let j = 0; j < this.classes; j++) row += this.counts[k * this.classes + j];
      return row ? this.counts[k * this.classes + k] / row : Number.NaN;
    });
  }
  toRows(): number[][] {
    return Array.from({ length: this.classes }, (_, k) => Array.from(this.counts.subarray(k * this.classes, (k + 1) * this.classes)));
  }
}
