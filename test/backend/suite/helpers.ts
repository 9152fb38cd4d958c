/**
 * Shared helpers of the kernel conformance suite: seeded data, comparisons with explicit
 * tolerances, and central-difference gradient checks.
 *
 * Tolerances are stated where they are used. Two measures exist:
 * - scale-relative (`expectClose`): max|a − e| ≤ tol·max(floor, max|e|), for sums whose rounding
 *   error grows with the size of the whole output, not of each element;
 * - elementwise (`expectElementsClose`): |a − e| ≤ rtol·|e| + atol per element, for maps whose
 *   error is a few float32 roundings of the element itself.
 */
import { expect } from 'vitest';
import type { Backend, Kernels, RandomDraw } from '../../../src/backend/backend.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { RandomStream, splitU64 } from '../../../src/tensor/prng.js';

/** Options of runKernelSuite; `skip` maps a kernel name to the reason it is skipped. */
export interface KernelSuiteOptions {
  /** Shown in the describe title ("reference", "native/avx2"). */
  name: string;
  /** The backend under test (may be mutated by the caller's beforeAll, e.g. setIsa). */
  backend: Backend;
  /** The reference backend every result is compared with. */
  oracle: Backend;
  /** Kernels not to test here, each with its reason. */
  skip?: Partial<Record<keyof Kernels, string>>;
}

/** What every section of the suite receives. */
export interface SuiteContext {
  backend: Backend;
  oracle: Backend;
  /** backend === oracle: comparisons are trivial, the other checks are not. */
  same: boolean;
  /**
   * Register the tests of one kernel (skipped, with its reason, when listed in `skip`); `valid`
   * is one valid call, which the argument-error tests spoil argument by argument.
   */
  kernel(name: KernelName, valid: Arg[], body: () => void): void;
  /** Register a backend-vs-oracle comparison (skipped, saying why, when backend === oracle). */
  compare(title: string, body: () => void): void;
}

/** Uniform float32 data in [lo, hi) from a seeded Philox stream. */
export function uniform(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  new RandomStream(seed, 7).fillUniform(out, lo, hi);
  return out;
}

/** Normal float32 data. */
export function normal(seed: number, n: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  new RandomStream(seed, 8).fillNormal(out, mean, std);
  return out;
}

/** Uniform data with |v| ≥ gap (no value near a kink at 0). */
export function awayFromZero(seed: number, n: number, gap: number, max = 1): Float32Array {
  const u = uniform(seed, n, -1, 1);
  for (let i = 0; i < n; i++) u[i] = Math.sign(u[i] || 1) * (gap + Math.abs(u[i]) * (max - gap));
  return u;
}

/**
 * Values that are pairwise at least `gap` apart (a shuffled ladder plus small noise): max pooling
 * has no ties and no near-ties, so a finite-difference step never changes the winner.
 */
export function distinct(seed: number, n: number, gap = 0.05): Float32Array {
  const s = new RandomStream(seed, 9);
  const order = s.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (order[i] - n / 2) * gap + s.uniform() * gap * 0.2;
  return out;
}

/** Integer labels in [0, cols). */
export function labels(seed: number, rows: number, cols: number): Int32Array {
  const s = new RandomStream(seed, 10);
  return Int32Array.from({ length: rows }, () => s.uniformInt(cols));
}

/** A buffer full of NaN: an output that must be overwritten, or an ignored input (beta = 0). */
export function nans(n: number): Float32Array {
  return new Float32Array(n).fill(Number.NaN);
}

/**
 * A copy of `a` as a view that starts one float past a 64-byte boundary: SIMD kernels must not
 * assume the alignment that Backend.alloc happens to give.
 */
export function unaligned(a: Float32Array): Float32Array {
  const view = new Float32Array(new ArrayBuffer((a.length + 17) * 4), 4, a.length);
  view.set(a);
  return view;
}

/** A dropout draw reserving ceil(n/4) blocks of `stream`, as a layer would make it. */
export function drawFor(stream: RandomStream, n: number): RandomDraw {
  const [k0, k1] = stream.key;
  const [s0, s1] = stream.streamWords;
  const [lo, hi] = splitU64(stream.reserveBlocks(Math.ceil(n / 4)));
  return Uint32Array.of(k0, k1, s0, s1, lo, hi);
}

/** Largest magnitude, NaN ignored. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}

function firstNaNMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) return i;
  }
  return -1;
}

/**
 * max|a − e| ≤ tol·max(floor, max|e|): the error of a float32 sum scales with the size of the
 * terms, which the output's largest magnitude stands for. NaN must sit exactly where e has NaN.
 */
export function expectClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = 1,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad = firstNaNMismatch(actual, expected);
  expect(bad, `${what}: NaN mismatch at ${bad} (got ${actual[bad]}, want ${expected[bad]})`).toBe(-1);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) continue;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const bound = tol * Math.max(floor, maxAbs(expected));
  expect(worst, `${what}: max error at ${at} (got ${actual[at]}, want ${expected[at]}) exceeds ${bound}`)
    .toBeLessThanOrEqual(bound);
}

/** |a − e| ≤ rtol·|e| + atol for every element; NaN where e has NaN; equal infinities. */
export function expectElementsClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      expect(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, want ${e}`).toBe(true);
      continue;
    }
    const bound = rtol * Math.abs(e) + atol;
    if (!(Math.abs(a - e) <= bound)) {
      expect.fail(`${what}[${i}]: got ${a}, want ${e} (|diff| ${Math.abs(a - e)} > ${bound})`);
    }
  }
}

/** Bit-for-bit equality (float32 bit patterns, so −0 ≠ +0 and NaN payloads count). */
export function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) expect.fail(`${what}[${i}]: got ${actual[i]}, want ${expected[i]} (bits differ)`);
  }
}

/** Exact equality of integer arrays (masks, argmax). */
export function expectSameInts(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${what}[${i}]: got ${actual[i]}, want ${expected[i]}`);
  }
}

/** Σ r·y in double. */
export function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * y[i];
  return s;
}

/** One parameter of a finite-difference check: perturbed in place, compared with `analytic`. */
export interface FdParam {
  name: string;
  value: Float32Array;
  analytic: ArrayLike<number>;
}

export interface FdOptions {
  /** Recompute the forward pass from the parameters' current values; returns the loss (double). */
  loss: () => number;
  params: FdParam[];
  /** Step added to and subtracted from each parameter element (before float32 rounding). */
  eps: number;
  /** max|numeric − analytic| ≤ tol·max|analytic| per parameter. */
  tol: number;
  /**
   * Signature of the piecewise regime (relu pattern, argmax). The check fails if a step changes
   * it: kinks must be avoided by construction, never straddled by a difference quotient.
   */
  regime?: () => string;
}

/**
 * Central differences: numeric_i = (L(θ_i⁺) − L(θ_i⁻)) / (θ_i⁺ − θ_i⁻), where θ_i± are the
 * float32 values actually stored (so float32 rounding of the step does not bias the quotient)
 * and L is summed in double. With steps ~1e-2 of O(1) data, the truncation error is O(eps²) and
 * the float32 rounding noise of the outputs is ~1e-7·|L|/eps: both far below tol = 1e-2.
 */
export function checkGradients(o: FdOptions): void {
  const base = o.regime?.();
  for (const p of o.params) {
    expect(p.analytic.length, `${p.name}: analytic length`).toBe(p.value.length);
    const numeric = new Float64Array(p.value.length);
    for (let i = 0; i < p.value.length; i++) {
      const orig = p.value[i];
      p.value[i] = orig + o.eps;
      const up = p.value[i];
      const lUp = o.loss();
      if (o.regime) expect(o.regime(), `${p.name}[${i}] + eps changes the regime: choose data away from kinks`).toBe(base);
      p.value[i] = orig - o.eps;
      const down = p.value[i];
      const lDown = o.loss();
      if (o.regime) expect(o.regime(), `${p.name}[${i}] − eps changes the regime: choose data away from kinks`).toBe(base);
      p.value[i] = orig;
      numeric[i] = (lUp - lDown) / (up - down);
    }
    o.loss(); // leave the forward state as it was for θ
    const scale = maxAbs(p.analytic);
    // a gradient that is all zeros would make the check vacuous
    expect(maxAbs(numeric), `${p.name}: the numeric gradient is zero; the check would prove nothing`).toBeGreaterThan(1e-3);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < numeric.length; i++) {
      const d = Math.abs(numeric[i] - p.analytic[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    expect(
      worst,
      `${p.name}: |numeric − analytic| at ${at}: numeric ${numeric[at]}, analytic ${p.analytic[at]}`,
    ).toBeLessThanOrEqual(o.tol * Math.max(scale, maxAbs(numeric)));
  }
}

/** Signature of a relu output pattern (which outputs are positive). */
export function reluPattern(y: Float32Array): string {
  let s = '';
  for (let i = 0; i < y.length; i++) s += y[i] > 0 ? '1' : '0';
  return s;
}

/** Kernels called by name (for argument-error tables). */
export function callKernel(backend: Backend, name: keyof Kernels, args: unknown[]): unknown {
  const fn = (backend as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
  return fn.apply(backend, args);
}
