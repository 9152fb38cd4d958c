/**
 * The shared kernel conformance suite (STYLE.md §2, §3): one set of tests that every backend
 * runs. For each kernel of the Kernels interface it registers
 *   - comparisons with the oracle (the reference backend) on seeded random inputs, with the
 *     tolerance stated and justified where it is used,
 *   - finite-difference gradient checks of every backward kernel,
 *   - known numbers (STYLE.md's 6×6 max-pooling vector, hand-computed softmax, losses, batch-norm
 *     moving statistics, Keras' optimizer examples, the dropout PRNG layout),
 *   - argument errors (typed, naming the kernel, the argument and the value received).
 *
 * @example
 * runKernelSuite({ name: 'native/avx2', backend, oracle: createReferenceBackend(), skip: {} });
 */
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../src/backend/kernels.js';
import { KERNEL_NAMES } from '../../src/backend/kernels.js';
import { actSection } from './suite/act.js';
import { augmentSection } from './suite/augment.js';
import { blasSection } from './suite/blas.js';
import { argumentErrorTests } from './suite/errors.js';
import type { KernelSuiteOptions, SuiteContext } from './suite/helpers.js';
import { layersSection } from './suite/layers.js';
import { lossSection } from './suite/loss.js';
import { normSection } from './suite/norm.js';
import { optimSection } from './suite/optim.js';
import { poolSection } from './suite/pool.js';

export type { KernelSuiteOptions } from './suite/helpers.js';

/** Every kernel, by name: the signature table's (a kernel added there must be tested here). */
export { KERNEL_NAMES };
const KERNEL_SET: ReadonlySet<string> = new Set(KERNEL_NAMES);

export function runKernelSuite({ name, backend, oracle, skip = {} }: KernelSuiteOptions): void {
  for (const [kernel, reason] of Object.entries(skip)) {
    if (!KERNEL_SET.has(kernel)) throw new Error(`runKernelSuite: skip names an unknown kernel ${JSON.stringify(kernel)}`);
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(`runKernelSuite: the skip of ${kernel} must give its reason; received ${JSON.stringify(reason)}`);
    }
  }
  const registered = new Set<KernelName>();

  describe(`kernel suite: ${name}`, () => {
    const ctx: SuiteContext = {
      backend,
      oracle,
      same: backend === oracle,
      kernel(kernel, valid, body) {
        registered.add(kernel);
        const reason = skip[kernel];
        const block = (): void => {
          body();
          argumentErrorTests(ctx, kernel, valid);
        };
        if (reason) describe.skip(`${kernel} — skipped: ${reason}`, block);
        else describe(kernel, block);
      },
      compare(title, body) {
        if (ctx.same) it.skip(`${title} — trivial: the backend is its own oracle`, body);
        else it(title, body);
      },
    };

    blasSection(ctx);
    layersSection(ctx);
    poolSection(ctx);
    normSection(ctx);
    actSection(ctx);
    lossSection(ctx);
    optimSection(ctx);
    augmentSection(ctx);

    it('covers every kernel of the signature table', () => {
      expect(KERNEL_NAMES.filter((k) => !registered.has(k))).toEqual([]);
      expect(backend.name).toMatch(/^(reference|native|wasm)$/);
      expect(oracle.name).toBe('reference');
    });
  });
}
