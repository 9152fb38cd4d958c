/** `fitlab bench`'s GEMM table: OpenBLAS beside fitlab, and never more than 100% of the probed peak. */
import { describe, expect, it } from 'vitest';
import { type BenchReport, benchTable, percentOfPeak } from '../../src/bench/bench.js';

describe('bench table', () => {
  it('caps the share of peak at 100% and has no share without a probe', () => {
    expect(percentOfPeak(149, 100)).toBe(100);
    expect(percentOfPeak(50, 200)).toBe(25);
    expect(percentOfPeak(50, null)).toBeNull();
  });

  it('prints GEMM beside OpenBLAS with the ratio, and the reason when OpenBLAS is missing', () => {
    const rep: BenchReport = {
      cpu: 'test cpu', backend: 'native', isa: 'avx2', threads: 1, peakGflops: 98, results: [], memory: null, pytorch: null,
      gemm: [{ n: 1024, gflops: 80, percentOfPeak: percentOfPeak(80, 98), openblasGflops: 90 }],
      openblas: { library: '/usr/lib/libopenblas.so.0', config: 'OpenBLAS 0.3.21 Zen', threads: 1 },
    };
    const table = benchTable(rep);
    expect(table).toContain('OpenBLAS: OpenBLAS 0.3.21 Zen');
    expect(table).toContain('| 1024³ | 80 GFLOP/s | 82% | 90 GFLOP/s | 0.89× | — |');
    const without = benchTable({ ...rep, openblas: null, openblasError: "NumPy's BLAS is not OpenBLAS", gemm: [{ n: 256, gflops: 10, percentOfPeak: 10 }] });
    expect(without).toContain("OpenBLAS: NumPy's BLAS is not OpenBLAS");
    expect(without).toContain('| 256³ | 10 GFLOP/s | 10% | — | — | — |');
  });
});
