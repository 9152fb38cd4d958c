import { describe, expect, it } from 'vitest';
import { pct } from '../../src/util/format.js';

describe('pct', () => {
  it('writes a fraction as a percentage, one decimal unless told', () => {
    expect(pct(0.8412)).toBe('84.1%');
    expect(pct(0.8412, 2)).toBe('84.12%');
    expect(pct(1)).toBe('100.0%');
    expect(pct(0)).toBe('0.0%');
    expect(pct(-0.034)).toBe('-3.4%');
  });

  it('writes a dash where there is no number', () => {
    for (const v of [null, undefined, Number.NaN, Infinity, -Infinity]) expect(pct(v)).toBe('—');
  });
});
