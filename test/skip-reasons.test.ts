/** The end-of-run skip summary reads the reasons this project writes into skipped tests' names. */
import { describe, expect, it } from 'vitest';
import { reasonIn, skipSummary } from './skip-reasons.js';

describe('skip reasons', () => {
  it('reads both naming conventions, keeping a parenthesis inside the reason', () => {
    expect(reasonIn('paper-mlp on MNIST, 3 epochs — skipped: MNIST not found')).toBe('MNIST not found');
    expect(reasonIn('real MNIST (skipped: no data (set FITLAB_TEST_DATA))')).toBe('no data (set FITLAB_TEST_DATA)');
    expect(reasonIn('gemm — trivial: the backend is its own oracle')).toBe('trivial: the backend is its own oracle');
    expect(reasonIn('loads the file')).toBeUndefined();
  });

  it('groups by the innermost reason, most frequent first, and names the file when none is given', () => {
    const line = skipSummary([
      { names: ['a', 'real MNIST (skipped: MNIST not found)'], file: 'test/data/real-data.test.ts' },
      { names: ['b — skipped: no h5py', 'real MNIST (skipped: MNIST not found)'], file: 'test/io/k.test.ts' },
      { names: ['c', 'real MNIST (skipped: MNIST not found)'], file: 'test/data/real-data.test.ts' },
      { names: ['d', 'suite'], file: 'test/cli/p.test.ts' },
    ]);
    expect(line).toBe('skipped 4: 2 × MNIST not found; 1 × no h5py; 1 × no reason in the name (test/cli/p.test.ts)');
    expect(skipSummary([])).toBeUndefined();
    // tests a -t filter left out are counted as such, whatever their names say
    expect(skipSummary([{ names: ['x — skipped: no data'], file: 'a.test.ts', filtered: true }, { names: ['y'], file: 'a.test.ts', filtered: true }]))
      .toBe('skipped 2: 2 × not selected by -t');
  });
});
