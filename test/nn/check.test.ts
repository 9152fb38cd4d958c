/**
 * The gradient checker itself: it must pass a right gradient, fail a slightly wrong one, and
 * recognise a kink instead of reporting it as a wrong gradient (a test that cannot fail is a
 * defect, STYLE.md §3).
 */
import { describe, expect, it } from 'vitest';
import { fdCheck, uniform } from './check.js';

describe('fdCheck', () => {
  const cube = (v: Float32Array) => (): number => v.reduce((s, x) => s + x * x * x, 0);

  it('passes the exact gradient of a smooth function', () => {
    const v = uniform(1, 50);
    const report = fdCheck('cube', v, Array.from(v, (x) => 3 * x * x), cube(v));
    expect(report).toMatchObject({ checked: 24, kinks: 0, failures: [] });
  });

  it('fails a gradient that is 5% off', () => {
    const v = uniform(2, 50, 0.5, 1);
    const report = fdCheck('cube', v, Array.from(v, (x) => 3.15 * x * x), cube(v));
    expect(report.failures).toHaveLength(24);
  });

  it('counts a relu kink within ±h as a kink, not as a failure, and restores the values', () => {
    const v = Float32Array.from([1e-4, -1e-4, 0.5]);
    const copy = Float32Array.from(v);
    const relu = (): number => v.reduce((s, x) => s + Math.max(x, 0), 0);
    const report = fdCheck('relu', v, [1, 0, 1], relu);
    expect(report).toMatchObject({ checked: 3, kinks: 2, failures: [] });
    expect(v).toEqual(copy);
  });
});
