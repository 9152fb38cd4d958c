/**
 * The reference backend: TypeScript loops, obviously correct. It is the oracle the native
 * kernels are tested against and the fallback where the addon cannot load. Each family file
 * exports its kernels under their table names (kernels.ts); the type checks none is missing.
 */
import type { Backend, Kernels } from '../backend.js';
import { checkedBackend } from '../checked.js';
import * as act from './act.js';
import * as augment from './augment.js';
import * as blas from './blas.js';
import * as layers from './layers.js';
import * as loss from './loss.js';
import * as norm from './norm.js';
import * as optim from './optim.js';
import * as pool from './pool.js';

export const referenceKernels: Kernels = {
  ...blas,
  ...layers,
  ...pool,
  ...norm,
  ...act,
  ...loss,
  ...optim,
  ...augment,
};

export function createReferenceBackend(): Backend {
  return checkedBackend(referenceKernels, {
    name: 'reference',
    isa: () => 'js',
    threads: () => 1,
    setThreads: () => {
      // the reference backend is single-threaded by design; the count is accepted and ignored
    },
    alloc: (n) => new Float32Array(n),
  });
}
