/**
 * Numeric helpers of the model-level tests: seeded data, comparisons with stated tolerances and
 * a central-difference gradient check that perturbs float32 values and differences in float64.
 *
 * Two comparison measures exist:
 * - scale-relative (`expectCloseScaled`): max|a − e| ≤ tol·max(1, max|e|), for outputs that are
 *   sums whose rounding error grows with the whole output, not with each element;
 * - elementwise (`fdCheck`): |a − n| ≤ rtol·max(|a|, |n|) + atol per coordinate.
 */
import { expect } from 'vitest';
import type { Backend, F32 } from '../../src/backend/backend.js';
import { createBackend } from '../../src/backend/index.js';
import { loadAddon } from '../../src/backend/native/index.js';
import { RandomStream } from '../../src/tensor/prng.js';

/** The TypeScript reference backend: the oracle of every comparison. */
export const reference: Backend = createBackend({ backend: 'reference' });

/**
 * The native backend, or null when the addon cannot load. A missing addon fails the suites that
 * use it (see `backendUnderTest`) unless FITLAB_SKIP_NATIVE=1 says the machine has none.
 */
export const native: Backend | null = loadAddon().addon ? createBackend({ backend: 'native' }) : null;

/** The backend the layer and model tests run on: native, or reference when skipping native is allowed. */
export function backendUnderTest(): Backend {
  if (native) return native;
  if (process.env.FITLAB_SKIP_NATIVE === '1') return reference;
  throw new Error(`the native addon is unavailable (${loadAddon().error}); build it or set FITLAB_SKIP_NATIVE=1`);
}

/** Uniform float32 data in [lo, hi) from a seeded Philox stream. */
export function uniform(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  new RandomStream(seed, 11).fillUniform(out, lo, hi);
  return out;
}

/**
 * Values pairwise at least `gap` apart (a shuffled ladder plus a little noise), centred on 0:
 * max pooling sees no near-ties, so a finite-difference step never changes a window's winner.
 */
export function distinct(seed: number, n: number, gap = 0.02): Float32Array {
  const s = new RandomStream(seed, 12);
  const order = s.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (order[i] - n / 2) * gap + s.uniform() * gap * 0.2;
  return out;
}

/** Integer labels in [0, classes). */
export function labels(seed: number, rows: number, classes: number): Int32Array {
  const s = new RandomStream(seed, 13);
  return Int32Array.from({ length: rows }, () => s.uniformInt(classes));
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max|a − e| ≤ tol·max(1, max|e|) (see the header), with a message naming `what`. */
export function expectCloseScaled(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  const bound = tol * Math.max(1, maxAbs(expected));
  expect(diff, `${what}: max |difference| ${diff.toExponential(2)} > ${bound.toExponential(2)}`).toBeLessThanOrEqual(bound);
}

/** Σ r·y in float64: the scalar loss of the gradient checks. */
export function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += r[i] * y[i];
  return s;
}

export interface FdOptions {
  /** perturbation of each float32 value (the step actually taken is the float32-rounded one) */
  h: number;
  rtol: number;
  atol: number;
  /** coordinates checked per tensor: a seeded sample when the tensor is larger */
  maxCoords: number;
  seed: number;
}

/**
 * Defaults for the small shapes these tests use (≤ ~200 outputs of magnitude ≲ 1):
 * - h = 2.5e-4: small, so that a step rarely crosses a relu kink or a max-pool tie, yet the
 *   truncation error h²·L‴/6 is negligible and a smooth loss's one-sided slopes differ by only
 *   h·|L″| ≈ 2.5e-4, far below the kink threshold (2·tol ≥ 2e-3);
 * - atol = 1e-3: L sums float32 outputs, each rounded by ≤ 6e-8 relative, so one evaluation
 *   carries noise of about 6e-8·√N·|r·y| ≲ 2e-7; divided by the 2h step that is ≲ 4e-4;
 * - rtol = 2e-2: what is left — float32 rounding of the analytic gradient and of the step.
 */
export const FD_DEFAULTS: FdOptions = { h: 2.5e-4, rtol: 2e-2, atol: 1e-3, maxCoords: 24, seed: 1 };

export interface FdReport {
  name: string;
  checked: number;
  /** coordinates skipped because the loss has a kink within ±h (relu at 0, a max-pool tie) */
  kinks: number;
  failures: string[];
}

function pickCoords(n: number, max: number, seed: number): number[] {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= max) return [...all];
  new RandomStream(seed, 14).shuffle(all);
  return [...all.subarray(0, max)].sort((a, b) => a - b);
}

/**
 * Central differences of `loss` with respect to values[i] (perturbed in place and restored),
 * compared with analytic[i]. A coordinate whose one-sided slopes disagree by more than twice the
 * tolerance has a kink within ±h: it is counted, not compared (an undetected kink shifts the
 * central difference by at most half that disagreement, i.e. within the tolerance).
 */
export function fdCheck(name: string, values: F32, analytic: ArrayLike<number>, loss: () => number, options: Partial<FdOptions> = {}): FdReport {
  const o = { ...FD_DEFAULTS, ...options };
  const report: FdReport = { name, checked: 0, kinks: 0, failures: [] };
  const l0 = loss();
  for (const i of pickCoords(values.length, o.maxCoords, o.seed)) {
    const v0 = values[i];
    const vp = Math.fround(v0 + o.h);
    const vm = Math.fround(v0 - o.h);
    values[i] = vp;
    const lp = loss();
    values[i] = vm;
    const lm = loss();
    values[i] = v0;
    const central = (lp - lm) / (vp - vm);
    const forward = (lp - l0) / (vp - v0);
    const backward = (l0 - lm) / (v0 - vm);
    const a = analytic[i];
    const tol = o.rtol * Math.max(Math.abs(a), Math.abs(central)) + o.atol;
    report.checked++;
    if (Math.abs(forward - backward) > 2 * tol) {
      report.kinks++;
      continue;
    }
    if (!(Math.abs(a - central) <= tol)) {
      report.failures.push(`${name}[${i}]: analytic ${a.toPrecision(6)} vs finite difference ${central.toPrecision(6)} (tolerance ${tol.toExponential(1)})`);
    }
  }
  return report;
}

/** Every report passes, and kinks are rare (≤ 10% of a tensor's coordinates, at least one allowed). */
export function expectFdReports(reports: FdReport[]): void {
  const failures = reports.flatMap((r) => r.failures);
  expect(failures.length, `${failures.length} gradient coordinates disagree:\n${failures.slice(0, 6).join('\n')}`).toBe(0);
  for (const r of reports) {
    expect(r.checked, `${r.name}: nothing was checked`).toBeGreaterThan(0);
    expect(r.kinks, `${r.name}: ${r.kinks} of ${r.checked} coordinates sit on a kink`).toBeLessThanOrEqual(Math.max(1, Math.floor(r.checked / 10)));
  }
}
