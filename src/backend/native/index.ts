/**
 * The native backend: C kernels behind one N-API addon (native/addon.c), built by node-gyp at
 * `npm install`. This file only loads the addon and adapts two argument kinds of the signature
 * table (kernels.ts): geometry objects become their packed Int32Array, fused activations become
 * flags. Validation happens in checked.ts for both backends, and again in C.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BackendError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';
import type { Backend, Kernels } from '../backend.js';
import { checkedBackend } from '../checked.js';
import { KERNEL_NAMES, KERNEL_TABLE } from '../kernels.js';

/** The addon's exports: one function per kernel of the table, plus the control calls of native/addon.c. */
export interface Addon {
  [kernel: string]: (...args: unknown[]) => unknown;
}

let cached: { addon?: Addon; error?: string } | undefined;

/** Load build/Release/fitlab.node once; returns the addon or the reason it cannot load. */
export function loadAddon(): { addon?: Addon; error?: string } {
  if (cached) return cached;
  const root = packageRoot();
  const file = join(root, 'build', 'Release', 'fitlab.node');
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(file) as Addon };
  } catch (err) {
    const buildError = join(root, 'build', 'native-build-error.txt');
    const why = existsSync(buildError)
      ? `the build failed during npm install: ${readFileSync(buildError, 'utf8').split('\n')[0]} (details: ${buildError})`
      : existsSync(file)
        ? `${file} exists but could not be loaded: ${(err as Error).message}`
        : `${file} was not built (run \`npm run build:native\`)`;
    cached = { error: why };
  }
  return cached;
}

/**
 * The raw kernels: each addon function takes the table's arguments in table order (and checks
 * them again in C). Only two kinds need adapting: a geometry travels as its packed Int32Array,
 * a fused activation as a relu flag.
 */
function nativeKernels(a: Addon): Kernels {
  const kernels: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of KERNEL_NAMES) {
    const fn = a[name];
    const specs = KERNEL_TABLE[name].args;
    const geom = specs.findIndex((s) => s.kind === 'geom');
    const act = specs.findIndex((s) => s.kind === 'fused');
    kernels[name] = geom < 0 && act < 0
      ? fn
      : (...args) => {
        if (geom >= 0) args[geom] = (args[geom] as { packed: Int32Array }).packed;
        if (act >= 0) args[act] = args[act] === 'relu';
        return fn(...args);
      };
  }
  return kernels as unknown as Kernels;
}

/** Instruction sets, best first. */
export const ISAS = ['avx512', 'avx2', 'generic'] as const;
export type Isa = (typeof ISAS)[number];

export interface NativeBackend extends Backend {
  /** Instruction sets this CPU can run. */
  supportedIsas(): Isa[];
  /** Switch the kernel table (tests exercise every path the CPU supports). */
  setIsa(isa: Isa): void;
  /** FMA-only throughput of the current ISA on all kernel threads (GFLOP/s), for benchmarks. */
  peakGflops(iterations?: number): number;
}

/** Create the native backend; throws BackendError saying why when the addon cannot load. */
export function createNativeBackend(): NativeBackend {
  const { addon, error } = loadAddon();
  if (!addon) throw new BackendError(`the native backend cannot load: ${error}`, 'use FITLAB_BACKEND=reference, or rebuild with `npm run build:native`');
  const a = addon;
  const backend = checkedBackend(nativeKernels(a), {
    name: 'native',
    isa: () => a.isa() as string,
    threads: () => a.threads() as number,
    setThreads: (n) => {
      if (!Number.isInteger(n) || n < 1 || n > 64) {
        throw new BackendError(`threads must be an integer in [1, 64]; received ${n}`);
      }
      a.setThreads(n);
    },
    alloc: (n) => {
      // 64-byte alignment: one spare cache line, then a view starting on a line boundary
      const buf = new ArrayBuffer(n * 4 + 64);
      const mis = a.addressMod64(new Uint8Array(buf, 0, 1)) as number;
      return new Float32Array(buf, (64 - mis) % 64, n);
    },
  });
  const extra: Pick<NativeBackend, 'supportedIsas' | 'setIsa' | 'peakGflops'> = {
    supportedIsas: () => ISAS.filter((isa) => Boolean(a.supports(isa))),
    setIsa: (isa: Isa) => void a.setIsa(isa),
    peakGflops: (iterations = 3e7) => a.peakGflops(iterations) as number,
  };
  return Object.assign(backend, extra);
}
