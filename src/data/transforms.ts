/**
 * Dataset tools for the experiments: subsets (N per class), class imbalance, label noise,
 * fully random labels, and the "extreme overfitting" corruption (every test label replaced by
 * a different class, the corrupted test set repeated and appended to the training set).
 * All seeded; each returns new arrays and says which examples it changed.
 */
import { ArgumentError, describe } from '../errors.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import { type Split, concat, take } from './dataset.js';

/** The first `perClass` examples of every class (in a seeded order). */
export function subsetPerClass(split: Split, perClass: number, classes: number, per: number, seed: number): Split {
  if (!Number.isInteger(perClass) || perClass < 1) throw new ArgumentError(`per-class subset size must be a positive integer; received ${describe(perClass)}`);
  const rng = new RandomStream(seed, STREAMS.subset);
  const order = rng.shuffle(Int32Array.from({ length: split.y.length }, (_, i) => i));
  const taken = new Array<number>(classes).fill(0);
  const keep: number[] = [];
  for (const i of order) {
    const l = split.y[i];
    if (taken[l] < perClass) {
      taken[l]++;
      keep.push(i);
    }
  }
  keep.sort((a, b) => a - b);
  return take(split, keep, per);
}

/** Keep a fraction ratios[k] of class k (e.g. a long tail); others unchanged. */
export function imbalance(split: Split, ratios: number[], per: number, seed: number): Split {
  if (ratios.some((r) => !(r >= 0 && r <= 1))) throw new ArgumentError(`class ratios must be in [0, 1]; received ${describe(ratios)}`);
  // exactly round(ratio × count) of each class, chosen at random (seeded)
  const counts = new Array<number>(ratios.length).fill(0);
  for (const l of split.y) if (l < counts.length) counts[l]++;
  const quota = counts.map((c, k) => Math.round(ratios[k] * c));
  const rng = new RandomStream(seed, STREAMS.imbalance);
  const order = rng.shuffle(Int32Array.from({ length: split.y.length }, (_, i) => i));
  const keep: number[] = [];
  for (const i of order) {
    const l = split.y[i];
    if (l >= quota.length) keep.push(i);
    else if (quota[l] > 0) {
      quota[l]--;
      keep.push(i);
    }
  }
  keep.sort((a, b) => a - b);
  return take(split, keep, per);
}

/** Replace a `fraction` of labels by a different class; `flipped` marks them. */
export function labelNoise(split: Split, fraction: number, classes: number, seed: number): { split: Split; flipped: Uint8Array } {
  if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentError(`label noise must be a fraction in [0, 1]; received ${describe(fraction)}`);
  const rng = new RandomStream(seed, STREAMS.labelNoise);
  const n = split.y.length;
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const y = Int32Array.from(split.y);
  const flipped = new Uint8Array(n);
  const k = Math.round(fraction * n);
  for (let t = 0; t < k; t++) {
    const i = order[t];
    y[i] = (y[i] + 1 + rng.uniformInt(classes - 1)) % classes;
    flipped[i] = 1;
  }
  return { split: { x: split.x, y }, flipped };
}

/** Every label drawn uniformly at random (Zhang et al.): a fraction p of them, or all. */
export function randomLabels(split: Split, fraction: number, classes: number, seed: number): { split: Split; changed: Uint8Array } {
  if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentError(`random-label fraction must be in [0, 1]; received ${describe(fraction)}`);
  const rng = new RandomStream(seed, STREAMS.randomLabels);
  const n = split.y.length;
  const y = Int32Array.from(split.y);
  const changed = new Uint8Array(n);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const k = Math.round(fraction * n);
  for (let t = 0; t < k; t++) {
    const i = order[t];
    y[i] = rng.uniformInt(classes);
    changed[i] = y[i] !== split.y[i] ? 1 : 0;
  }
  return { split: { x: split.x, y }, changed };
}

/**
 * The extreme-overfitting corruption: every test label replaced by a different (wrong) class,
 * the corrupted test set repeated `copies` times (default: about the training set's size) and
 * appended to the training set. `corrupted` marks the appended examples.
 */
export function extremeCorruption(train: Split, test: Split, classes: number, seed: number, copies?: number): { split: Split; corrupted: Uint8Array; copies: number } {
  const k = copies ?? Math.max(1, Math.round(train.y.length / test.y.length));
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`copies must be a positive integer; received ${describe(copies)}`);
  const rng = new RandomStream(seed, STREAMS.extremeCorruption);
  const wrongY = Int32Array.from(test.y, (l) => (l + 1 + rng.uniformInt(classes - 1)) % classes);
  let merged: Split = train;
  for (let i = 0; i < k; i++) merged = concat(merged, { x: test.x, y: wrongY });
  const corrupted = new Uint8Array(merged.y.length);
  corrupted.fill(1, train.y.length);
  return { split: merged, corrupted, copies: k };
}
