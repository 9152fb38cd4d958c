/** Reference BLAS-1 and GEMM: plain loops, double accumulation. */
import type { F32 } from '../backend.js';

export function fill(y: F32, value: number): void {
  y.fill(value);
}

export function copy(y: F32, x: F32): void {
  y.set(x);
}

export function add(y: F32, a: F32, b: F32): void {
  for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
}

export function axpy(y: F32, alpha: number, x: F32): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

export function scale(y: F32, alpha: number): void {
  for (let i = 0; i < y.length; i++) y[i] *= alpha;
}

export function sumSquares(x: F32): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** C (m,n) = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions. */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: F32, lda: number, b: F32, ldb: number, beta: number, c: F32, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i] : a[i * lda + p];
        const bv = transB ? b[j * ldb + p] : b[p * ldb + j];
        s += av * bv;
      }
      const old = beta === 0 ? 0 : beta * c[i * ldc + j];
      c[i * ldc + j] = alpha * s + old;
    }
  }
}
