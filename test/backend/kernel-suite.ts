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
import type { Kernels } from '../../src/backend/backend.js';
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

/** Every kernel, by name; the Record type makes a kernel added to the interface a compile error here. */
const KERNEL_TABLE: Record<keyof Kernels, true> = {
  fill: true, copy: true, add: true, axpy: true, scale: true, sumSquares: true, gemm: true,
  denseForward: true, denseBackward: true, conv2dForward: true, conv2dBackward: true,
  maxPoolForward: true, maxPoolBackward: true, avgPoolForward: true, avgPoolBackward: true,
  globalMaxPoolForward: true, globalMaxPoolBackward: true, globalAvgPoolForward: true, globalAvgPoolBackward: true,
  batchNormTrainForward: true, batchNormInferForward: true, batchNormBackward: true,
  activationForward: true, activationBackward: true, softmaxForward: true, softmaxBackward: true,
  dropoutForward: true, dropoutBackward: true,
  softmaxCrossEntropy: true, categoricalCrossEntropy: true, meanSquaredError: true, countCorrect: true,
  penalty: true, penaltyGrad: true, sgdUpdate: true, adamUpdate: true, nadamUpdate: true, rmspropUpdate: true,
  affineWarp: true,
};
export const KERNEL_NAMES = Object.keys(KERNEL_TABLE) as Array<keyof Kernels>;

export function runKernelSuite({ name, backend, oracle, skip = {} }: KernelSuiteOptions): void {
  for (const [kernel, reason] of Object.entries(skip)) {
    if (!(kernel in KERNEL_TABLE)) throw new Error(`runKernelSuite: skip names an unknown kernel ${JSON.stringify(kernel)}`);
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(`runKernelSuite: the skip of ${kernel} must give its reason; received ${JSON.stringify(reason)}`);
    }
  }
  const registered = new Set<keyof Kernels>();

  describe(`kernel suite: ${name}`, () => {
    const ctx: SuiteContext = {
      backend,
      oracle,
      same: backend === oracle,
      kernel(kernel, body) {
        registered.add(kernel);
        const reason = skip[kernel];
        const block = (): void => {
          body();
          argumentErrorTests(ctx, kernel);
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

    it('covers every kernel of the Kernels interface', () => {
      expect(KERNEL_NAMES.filter((k) => !registered.has(k))).toEqual([]);
      expect(backend.name).toMatch(/^(reference|native)$/);
      expect(oracle.name).toBe('reference');
    });
  });
}
