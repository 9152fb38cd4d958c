/**
 * The curve-reading primitives under the diagnosis, on numbers small enough to check by hand:
 * smoothing (median of 3, then a centred moving average), the noise estimate, argmin/argmax,
 * the end-of-run trend, divergence (NaN, Infinity, explosion) and the onset search's refusals
 * (too short, a rise inside the noise, a rise that falls back, training not improving).
 */
import { describe, expect, it } from 'vitest';
import { argmax, argmin, endTrend, findDivergence, findOnset, noiseLevel, smooth } from '../../src/diagnose/curves.js';
import { gauss, rng } from './synth.js';

describe('smooth', () => {
  it('a median of 3 removes an isolated spike; a constant stays constant', () => {
    expect(smooth([1, 1, 1, 5, 1, 1, 1], 1)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(smooth([2, 2, 2, 2, 2], 5)).toEqual([2, 2, 2, 2, 2]);
  });
  it('the moving average of a straight line is the line, except at the edges (fewer points)', () => {
    expect(smooth([0, 1, 2, 3, 4, 5, 6], 3)).toEqual([0.5, 1, 2, 3, 4, 5, 5.5]);
  });
  it('the default width grows with the run: 1 under 20 epochs, 3 under 40, 5 from 40', () => {
    const line = (n: number): number[] => Array.from({ length: n }, (_, i) => i * i);
    // width 1: only the median (a convex curve is its own median) → unchanged
    expect(smooth(line(19))).toEqual(line(19));
    // width 3 at i = 10 of 20: (81 + 100 + 121) / 3
    expect(smooth(line(20))[10]).toBeCloseTo(302 / 3, 12);
    // width 5 at i = 10 of 40: (64 + 81 + 100 + 121 + 144) / 5
    expect(smooth(line(40))[10]).toBeCloseTo(102, 12);
  });
  it('a NaN inside the curve is filled by the median of its neighbours', () => {
    expect(smooth([1, Number.NaN, 3], 1)).toEqual([1, 2, 3]);
  });
});

describe('noiseLevel', () => {
  it('is about σ for Gaussian noise around a slow trend, and 0 for a clean line', () => {
    const r = rng(11);
    const sigma = 0.05;
    const xs = Array.from({ length: 300 }, (_, i) => 1 - i / 600 + sigma * gauss(r));
    const est = noiseLevel(xs);
    expect(est).toBeGreaterThan(0.7 * sigma);
    expect(est).toBeLessThan(1.3 * sigma);
    expect(noiseLevel(Array.from({ length: 30 }, (_, i) => 2 - i / 30))).toBeCloseTo(0, 12);
  });
});

describe('argmin / argmax', () => {
  it('first index of the extreme, NaN ignored, -1 when nothing is finite', () => {
    expect(argmin([3, 1, 2, 1])).toBe(1);
    expect(argmax([Number.NaN, 2, 5, 5])).toBe(2);
    expect(argmin([Number.NaN, Number.NaN])).toBe(-1);
    expect(argmin([5, 4, 3, 2, 1], 0, 3)).toBe(2);
  });
});

describe('endTrend', () => {
  it('least-squares slope of the last window, relative to the level there', () => {
    // 10 − i for i = 0..9; window 5: levels 5, 4, 3, 2, 1 → slope −1 over mean 3
    const t = endTrend(Array.from({ length: 10 }, (_, i) => 10 - i), 5);
    expect(t.slope).toBeCloseTo(-1 / 3, 12);
    expect(t.improving).toBe(true);
    expect(endTrend([1, 1, 1, 1, 1]).improving).toBe(false);
    // −0.4% per epoch is not "improving" (the threshold is −0.5%)
    expect(endTrend([1, 0.996, 0.992], 3).improving).toBe(false);
  });
});

describe('findDivergence', () => {
  it('the first non-finite training loss, then validation loss', () => {
    expect(findDivergence([1, 0.5, Number.NaN], [1, 0.6, 0.7])).toEqual({ epoch: 2, reason: 'the training loss is NaN at epoch 3' });
    expect(findDivergence([1, 0.5, 0.4], [1, -Infinity, 0.7])).toEqual({ epoch: 1, reason: 'the validation loss is -Infinity at epoch 2' });
    expect(findDivergence([1, 0.5, 0.4], null)).toBeNull();
  });
  it('an explosion: the end above 3× the minimum and 1.5× the start', () => {
    expect(findDivergence([1, 0.5, 0.6, 1.6], null)).toEqual({ epoch: 2, reason: 'the training loss exploded from 0.500 (epoch 2) to 1.60' });
    // 3× the minimum but not 1.5× the start: a loss that came back up, not an explosion
    expect(findDivergence([1, 0.4, 1.3], null)).toBeNull();
  });
});

describe('findOnset refuses', () => {
  const falling = (n: number): number[] => Array.from({ length: n }, (_, i) => 2 * Math.exp(-i / 5));
  it('fewer than 4 finite validation points', () => {
    expect(findOnset([3, 2, 1], [1, 0.5, 2])).toBeNull();
  });
  it('a minimum too close to the end (fewer than minEpochsAfter epochs after it)', () => {
    // falls to epoch 16, then 0.9, 1.0, 1.2: three epochs of rise
    const val = [2, 1.6, 1.3, 1.1, 1.0, 0.95, 0.9, 0.88, 0.86, 0.85, 0.84, 0.83, 0.82, 0.81, 0.8, 0.79, 0.78, 0.9, 1.0, 1.2];
    expect(findOnset(falling(20), val, 5)).toBeNull();
    const onset = findOnset(falling(20), val, 2);
    // the raw minimum is epoch 16; the smoothed one, 15: within the ±1 the diagnosis promises
    expect([15, 16, 17]).toContain(onset?.epoch);
  });
  it('a single high last epoch (the median filter cannot look past the end) is no rise', () => {
    const val = [2, 1.6, 1.3, 1.1, 1.0, 0.95, 0.9, 0.88, 0.86, 0.85, 0.84, 0.83, 0.82, 0.81, 0.8, 0.79, 0.78, 0.77, 0.76, 1.2];
    expect(findOnset(falling(20), val)).toBeNull();
    expect(findOnset(falling(15), val.slice(5))).toBeNull();
  });
  it('a rise that falls back below the margin before the end', () => {
    const val = [2, 1.5, 1.2, 1.0, 0.9, 0.85, 0.8, 1.0, 1.2, 1.3, 1.2, 1.0, 0.85, 0.82, 0.83, 0.84, 0.82, 0.83, 0.84, 0.835];
    expect(findOnset(falling(20), val)).toBeNull();
  });
  it('a rise while training loss does not fall (no overfitting: everything got worse)', () => {
    const val = Array.from({ length: 20 }, (_, i) => (i < 8 ? 1 - 0.05 * i : 0.6 + 0.05 * (i - 8)));
    expect(findOnset(new Array<number>(20).fill(0.9), val)).toBeNull();
    // …and accepts the same validation curve when training keeps falling
    expect(findOnset(falling(20), val)?.epoch).toBeGreaterThanOrEqual(7);
  });
});
