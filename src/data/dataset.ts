/**
 * Datasets in memory: examples stored compactly (uint8 pixels, or float32 for synthetic and
 * regression data) and scaled to float32 only when a batch is assembled (pixels / 255).
 */
import type { F32 } from '../backend/backend.js';
import { ArgumentError, FitlabError, ShapeError, describe } from '../errors.js';

/** A dataset file whose content is wrong (a label out of range, a class with no examples). */
export class DataFormatError extends FitlabError {}

export interface Split {
  /** n × example size values */
  x: Uint8Array | Float32Array;
  /** class labels (n) */
  y: Int32Array;
}

export interface Dataset {
  name: string;
  /** where it came from (path, cache file, "synthetic") */
  source: string;
  /** shape of one example, e.g. [28, 28, 1] */
  shape: number[];
  classes: number;
  classNames: string[];
  train: Split;
  test: Split | null;
  /** stored value × scale = model input (1/255 for uint8 pixels) */
  scale: number;
}

export function exampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function splitSize(split: Split): number {
  return split.y.length;
}

/** Check that a split's arrays agree with the shape and class count. */
export function validateSplit(split: Split, shape: readonly number[], classes: number, what: string): void {
  const per = exampleSize(shape);
  if (split.x.length !== split.y.length * per) {
    throw new ShapeError(`${what}: ${split.y.length} labels but ${split.x.length} values (${per} per example expected)`);
  }
  for (let i = 0; i < split.y.length; i++) {
    const l = split.y[i];
    if (!(l >= 0 && l < classes)) throw new ArgumentError(`${what}: label ${i} is ${l}; labels must be in [0, ${classes - 1}]`);
  }
}

/**
 * Refuse a label outside 0..classes−1, naming the file, the index and the value: a stray 255 in
 * a label file must not quietly become a 256-class model.
 */
export function checkLabelRange(labels: ArrayLike<number>, classes: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!(l >= 0 && l < classes)) throw new DataFormatError(`${file}: label ${l} at index ${i} is outside 0..${classes - 1}`);
  }
}

/**
 * The class count of a dataset whose labels are only numbers (an IDX set of unknown name): the
 * training labels must number the classes 0..N−1 with every class present. Where they do not,
 * the first label above the first missing class is the one named as out of range (a stray 255
 * among digits 0..9 leaves 10..254 empty).
 */
export function classCountFromLabels(labels: ArrayLike<number>, file: string): number {
  const present = new Set<number>();
  for (let i = 0; i < labels.length; i++) present.add(labels[i]);
  let n = 0;
  while (present.has(n)) n++;
  if (present.size === n) return n;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < n) continue;
    const rule = 'classes must be numbered 0..N-1, each with training examples';
    if (n === 0) throw new DataFormatError(`${file}: label ${l} at index ${i}, but no training label is 0 (${rule})`);
    const gap = n === l - 1 ? `label ${n} never occurs` : `labels ${n}..${l - 1} never occur`;
    throw new DataFormatError(`${file}: label ${l} at index ${i} is outside 0..${n - 1} (${gap} in training; ${rule})`);
  }
  return n;
}

/** Rows of a split picked by index (a new split that owns its data). */
export function take(split: Split, indices: ArrayLike<number>, per: number): Split {
  const n = indices.length;
  const x = split.x instanceof Uint8Array ? new Uint8Array(n * per) : new Float32Array(n * per);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    x.set(split.x.subarray(j * per, (j + 1) * per), i * per);
    y[i] = split.y[j];
  }
  return { x, y };
}

/** Concatenate splits (same example size and storage type). */
export function concat(a: Split, b: Split): Split {
  const x = a.x instanceof Uint8Array ? new Uint8Array(a.x.length + b.x.length) : new Float32Array(a.x.length + b.x.length);
  if ((a.x instanceof Uint8Array) !== (b.x instanceof Uint8Array)) throw new ArgumentError('cannot concatenate uint8 and float32 splits');
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { x, y };
}

/**
 * Copy examples indices[from..to) of a split into dst as float32 × scale. dst must hold
 * (to − from)·per values. This is where uint8 pixels become [0, 1] floats.
 */
export function fillBatch(dst: F32, split: Split, indices: ArrayLike<number>, from: number, to: number, per: number, scale: number): void {
  const src = split.x;
  for (let i = from; i < to; i++) {
    const s = indices[i] * per;
    const d = (i - from) * per;
    if (scale === 1) {
      for (let k = 0; k < per; k++) dst[d + k] = src[s + k];
    } else {
      for (let k = 0; k < per; k++) dst[d + k] = src[s + k] * scale;
    }
  }
}

/** Class counts of a label array. */
export function classCounts(y: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of y) counts[l]++;
  return counts;
}

export function describeDataset(d: Dataset): string {
  const n = (s: Split | null): string => (s ? s.y.length.toLocaleString('en-US') : '—');
  return `${d.name}: ${n(d.train)} train / ${n(d.test)} test, ${describeShape(d.shape)}, ${d.classes} classes (${d.source})`;
}

export function assertDataset(d: unknown): asserts d is Dataset {
  if (!d || typeof d !== 'object' || !('train' in d)) throw new ArgumentError(`expected a dataset; received ${describe(d)}`);
}

/** "28×28×1" for images, "2 features" for vectors. */
export function describeShape(shape: readonly number[]): string {
  return shape.length === 1 ? `${shape[0]} feature${shape[0] === 1 ? '' : 's'}` : shape.join('×');
}
