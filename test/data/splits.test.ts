/**
 * Validation splits (`--val`): a fraction is a stratified, seeded split — the same seed gives
 * the same split, another seed another, every class gives round(fraction × its count) to
 * validation (so within ±1 of its share), train and validation partition the examples and
 * keep their original order; `first:N` holds out the first N examples (the classic
 * MNIST/CIFAR split); `last:F` holds out the last fraction as Keras' validation_split does
 * (split_at = int(n · (1 − F)), before any shuffling); `0` holds out nothing; bad values are
 * refused with the value in the message.
 */
import { describe, expect, it } from 'vitest';
import type { Split } from '../../src/data/dataset.js';
import { applyVal, formatVal, parseVal, stratifiedSplit } from '../../src/data/splits.js';
import { ArgumentError } from '../../src/errors.js';
import { arr } from './data-helpers.js';

/** n examples of 2 values each: x = [i, 1000 + i], labels from `labelOf`. */
function split(n: number, labelOf: (i: number) => number): Split {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 1000 + i;
  }
  return { x, y: Int32Array.from({ length: n }, (_, i) => labelOf(i)) };
}

/** The example ids of a split (x[2i] holds the id) — and a check that x and y moved together. */
function ids(s: Split, source: Split): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.y.length; i++) {
    const id = s.x[2 * i];
    expect(s.x[2 * i + 1]).toBe(1000 + id);
    expect(s.y[i]).toBe(source.y[id]);
    out.push(id);
  }
  return out;
}

describe('stratified fraction split', () => {
  // class-sorted, unbalanced: 37 of class 0, 23 of class 1, 10 of class 2, 3 of class 3
  const counts = [37, 23, 10, 3];
  const labelOf = (i: number): number => (i < 37 ? 0 : i < 60 ? 1 : i < 70 ? 2 : 3);
  const data = split(73, labelOf);

  it('each class gives round(0.2 × count) to validation: 7, 5, 2, 1; train and validation partition the set, order kept', () => {
    const { train, val } = stratifiedSplit(data, 0.2, 4, 2, 42);
    const v = ids(val, data);
    const t = ids(train, data);
    const perClass = (list: number[]): number[] => counts.map((_, k) => list.filter((i) => labelOf(i) === k).length);
    expect(perClass(v)).toEqual([7, 5, 2, 1]);
    perClass(v).forEach((c, k) => expect(Math.abs(c - 0.2 * counts[k])).toBeLessThanOrEqual(1));
    expect(perClass(t)).toEqual([30, 18, 8, 2]);
    expect([...t, ...v].sort((a, b) => a - b)).toEqual(Array.from({ length: 73 }, (_, i) => i));
    expect(v).toEqual([...v].sort((a, b) => a - b));
    expect(t).toEqual([...t].sort((a, b) => a - b));
  });

  it('seeded: the same seed gives the same split, other seeds other ones', () => {
    const a = ids(stratifiedSplit(data, 0.2, 4, 2, 42).val, data);
    const b = ids(stratifiedSplit(data, 0.2, 4, 2, 42).val, data);
    expect(b).toEqual(a);
    const others = [1, 2, 3, 43].map((s) => ids(stratifiedSplit(data, 0.2, 4, 2, s).val, data));
    for (const o of others) expect(o).not.toEqual(a);
    // and it is not simply the first examples of each class
    expect(a.filter((i) => i < 37)).not.toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('on a balanced 10-class set of 1,000, a 0.1 split takes exactly 10 of each class (the CIFAR-10 JPEG case, in miniature)', () => {
    const balanced = split(1000, (i) => Math.floor(i / 100));
    const { train, val } = applyVal(balanced, parseVal('0.1'), 10, 2, 7);
    const c = new Array<number>(10).fill(0);
    for (const l of val!.y) c[l]++;
    expect(c).toEqual(new Array<number>(10).fill(10));
    expect(train.y).toHaveLength(900);
  });
});

describe('first:N, last:F and 0', () => {
  const data = split(10, (i) => i % 3);

  it('first:3 holds out examples 0, 1, 2 and trains on 3..9', () => {
    const { train, val } = applyVal(data, parseVal('first:3'), 3, 2, 1);
    expect(ids(val!, data)).toEqual([0, 1, 2]);
    expect(ids(train, data)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('last:0.3 holds out the LAST three (Keras validation_split), last:0.25 the last three of ten (int(7.5) = 7)', () => {
    const a = applyVal(data, parseVal('last:0.3'), 3, 2, 1);
    expect(ids(a.val!, data)).toEqual([7, 8, 9]);
    expect(ids(a.train, data)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const b = applyVal(data, parseVal('last:0.25'), 3, 2, 1);
    expect(ids(b.val!, data)).toEqual([7, 8, 9]);
    const c = applyVal(data, parseVal('last:0.05'), 3, 2, 1);
    expect(ids(c.val!, data)).toEqual([9]);
    // does not depend on the seed
    expect(ids(applyVal(data, parseVal('last:0.3'), 3, 2, 99).val!, data)).toEqual([7, 8, 9]);
  });

  it('0 and none hold out nothing; specs print back as given', () => {
    for (const v of ['0', 'none']) {
      const { train, val } = applyVal(data, parseVal(v), 3, 2, 1);
      expect(val).toBeNull();
      expect(arr(train.y)).toEqual(arr(data.y));
    }
    for (const v of ['0', '0.1', 'first:5000', 'last:0.2']) expect(formatVal(parseVal(v))).toBe(v);
    expect(parseVal(0.25)).toEqual({ kind: 'stratified', fraction: 0.25 });
  });

  it('bad values are refused with the value named', () => {
    for (const bad of ['1', '1.5', '-0.1', 'abc', 'first:0', 'first:2.5', 'last:1', 'last:0', 'middle:3']) {
      expect(() => parseVal(bad), bad).toThrow(ArgumentError);
      expect(() => parseVal(bad), bad).toThrow(`received "${bad}"`);
    }
    expect(() => applyVal(data, parseVal('first:10'), 3, 2, 1)).toThrow('--val first:10 leaves no training examples (there are 10)');
  });

  it('a fraction that rounds to no validation example in every class is refused, not trained on an empty validation set', () => {
    // 12 examples over 10 classes: round(0.1 × 1 or 2) = 0 in every class
    const tiny = split(12, (i) => i % 10);
    expect(() => applyVal(tiny, parseVal('0.1'), 10, 2, 1)).toThrow(ArgumentError);
    expect(() => applyVal(tiny, parseVal('0.1'), 10, 2, 1)).toThrow('--val 0.1 leaves no validation examples: 12 training examples over 10 classes');
    // one example per class, all of it to validation: nothing left to train on
    const single = split(3, (i) => i);
    expect(() => applyVal(single, parseVal('0.9'), 3, 2, 1)).toThrow('--val 0.9 leaves no training examples (there are 3)');
    // a fraction that gives each class one: fine
    expect(applyVal(tiny, parseVal('0.5'), 10, 2, 1).val!.y.length).toBeGreaterThan(0);
  });
});
