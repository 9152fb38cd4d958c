/**
 * Validation splits. `--val` accepts:
 *   0.1        a stratified, seeded 10% (the right default for class-sorted folders such as
 *              the CIFAR-10 JPEG copy: every class keeps its share)
 *   first:5000 the first N training examples (the common MNIST/CIFAR split)
 *   last:0.1   Keras' validation_split: the last fraction, before shuffling
 *   0          no validation
 */
import { ArgumentError, describe } from '../errors.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import { type Split, take } from './dataset.js';

export type ValSpec = { kind: 'none' } | { kind: 'stratified'; fraction: number } | { kind: 'first'; n: number } | { kind: 'last'; fraction: number } | { kind: 'fold'; fold: number; folds: number };

export function parseVal(value: string | number): ValSpec {
  const text = String(value).trim();
  const bad = (): never => {
    throw new ArgumentError(`--val must be a fraction in [0, 1) such as 0.1, first:N, last:F or fold:I/K; received ${describe(value)}`);
  };
  if (text === '0' || text === 'none') return { kind: 'none' };
  const f2 = /^fold:(\d+)\/(\d+)$/.exec(text);
  if (f2) {
    const fold = Number(f2[1]);
    const folds = Number(f2[2]);
    if (!(folds >= 2 && fold >= 1 && fold <= folds)) bad();
    return { kind: 'fold', fold, folds };
  }
  const m = /^(first|last):(.+)$/.exec(text);
  if (m) {
    const v = Number(m[2]);
    if (m[1] === 'first') {
      if (!Number.isInteger(v) || v < 1) bad();
      return { kind: 'first', n: v };
    }
    if (!(v > 0 && v < 1)) bad();
    return { kind: 'last', fraction: v };
  }
  const f = Number(text);
  if (!(f > 0 && f < 1)) bad();
  return { kind: 'stratified', fraction: f };
}

export function formatVal(v: ValSpec): string {
  switch (v.kind) {
    case 'none': return '0';
    case 'stratified': return String(v.fraction);
    case 'first': return `first:${v.n}`;
    case 'last': return `last:${v.fraction}`;
    case 'fold': return `fold:${v.fold}/${v.folds}`;
  }
}

/**
 * The stratified splits' one mechanism: per class, a seeded order of its examples; position i of
 * a class with `count` examples validates when `validates(i, count)`. Each part keeps the original
 * order (training shuffles per epoch anyway).
 */
function dealByClass(split: Split, classes: number, per: number, seed: number, validates: (i: number, count: number) => boolean): { train: Split; val: Split } {
  const rng = new RandomStream(seed, STREAMS.split);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  split.y.forEach((l, i) => byClass[l].push(i));
  const valIdx: number[] = [];
  const trainIdx: number[] = [];
  for (const members of byClass) {
    const order = rng.shuffle(Int32Array.from(members));
    for (let i = 0; i < order.length; i++) (validates(i, order.length) ? valIdx : trainIdx).push(order[i]);
  }
  trainIdx.sort((a, b) => a - b);
  valIdx.sort((a, b) => a - b);
  return { train: take(split, trainIdx, per), val: take(split, valIdx, per) };
}

/** Per class, a seeded round(fraction·count) of its examples go to validation. */
export function stratifiedSplit(split: Split, fraction: number, classes: number, per: number, seed: number): { train: Split; val: Split } {
  return dealByClass(split, classes, per, seed, (i, count) => i < Math.round(fraction * count));
}

/**
 * Stratified k-fold: per class, a seeded order deals the examples to folds 1..K in turn; fold
 * `fold` validates and the others train (the same seed gives the same folds for every I).
 */
export function foldSplit(split: Split, fold: number, folds: number, classes: number, per: number, seed: number): { train: Split; val: Split } {
  return dealByClass(split, classes, per, seed, (i) => (i % folds) + 1 === fold);
}

/** Apply a validation spec to the training split; a split that leaves either side empty is refused. */
export function applyVal(split: Split, spec: ValSpec, classes: number, per: number, seed: number): { train: Split; val: Split | null } {
  const out = splitBy(split, spec, classes, per, seed);
  const n = split.y.length;
  if (out.val && out.val.y.length === 0) {
    throw new ArgumentError(`--val ${formatVal(spec)} leaves no validation examples: ${n} training example${n === 1 ? '' : 's'} over ${classes} classes`, 'use a larger fraction, first:N, or --val 0 (no validation)');
  }
  if (out.val && out.train.y.length === 0) throw new ArgumentError(`--val ${formatVal(spec)} leaves no training examples (there are ${n})`);
  return out;
}

function splitBy(split: Split, spec: ValSpec, classes: number, per: number, seed: number): { train: Split; val: Split | null } {
  const n = split.y.length;
  switch (spec.kind) {
    case 'none':
      return { train: split, val: null };
    case 'stratified':
      return stratifiedSplit(split, spec.fraction, classes, per, seed);
    case 'fold':
      return foldSplit(split, spec.fold, spec.folds, classes, per, seed);
    case 'first': {
      if (spec.n >= n) throw new ArgumentError(`--val first:${spec.n} leaves no training examples (there are ${n})`);
      return {
        train: { x: split.x.subarray(spec.n * per), y: split.y.subarray(spec.n) },
        val: { x: split.x.subarray(0, spec.n * per), y: split.y.subarray(0, spec.n) },
      };
    }
    case 'last': {
      const at = Math.floor(n * (1 - spec.fraction));
      return {
        train: { x: split.x.subarray(0, at * per), y: split.y.subarray(0, at) },
        val: { x: split.x.subarray(at * per), y: split.y.subarray(at) },
      };
    }
  }
}
