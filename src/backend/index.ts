/**
 * Backend selection: native when the addon loads, else the reference backend with one warning
 * line. FITLAB_BACKEND=reference|native|wasm (or ts, an alias of reference) forces one; asking
 * for native or wasm when it cannot load is an error that says why (wasm is never chosen by
 * 'auto': in Node it is slower than native). FITLAB_THREADS sets the kernel threads.
 */
import { BackendError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { createNativeBackend, loadAddon } from './native/index.js';
import { createReferenceBackend } from './reference/index.js';
import { createWasmBackend, wasmEnvThreads } from './wasm/index.js';

export type { Backend, BackendName } from './backend.js';

let current: Backend | undefined;
let warned = false;

export interface BackendOptions {
  /** 'auto' (default): native if it loads, else reference with a warning. */
  backend?: BackendName | 'auto';
  /** Kernel threads (native only); default FITLAB_THREADS or the number of cores. */
  threads?: number;
  /** Where the fallback warning goes (default: stderr). */
  warn?: (line: string) => void;
}

function requested(): BackendName | 'auto' {
  const env = (process.env.FITLAB_BACKEND ?? '').trim().toLowerCase();
  if (env === '' || env === 'auto') return 'auto';
  if (env === 'native') return 'native';
  if (env === 'reference' || env === 'ts') return 'reference';
  if (env === 'wasm') return 'wasm';
  throw new BackendError(`FITLAB_BACKEND must be 'native', 'reference' (or 'ts'), 'wasm' or 'auto'; received ${JSON.stringify(process.env.FITLAB_BACKEND)}`);
}

/** Create a backend as asked (does not change the process-wide one). */
export function createBackend(options: BackendOptions = {}): Backend {
  const want = options.backend ?? requested();
  let backend: Backend;
  if (want === 'reference') {
    backend = createReferenceBackend();
  } else if (want === 'native') {
    backend = createNativeBackend();
  } else if (want === 'wasm') {
    backend = createWasmBackend(options.threads ?? wasmEnvThreads()); // more than one: the threaded module
  } else {
    const { addon, error } = loadAddon();
    if (addon) {
      backend = createNativeBackend();
    } else {
      if (!warned) {
        warned = true;
        (options.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(
          `fitlab: warning: native kernels unavailable (${error}); using the TypeScript reference backend, which is much slower`,
        );
      }
      backend = createReferenceBackend();
    }
  }
  if (options.threads !== undefined) backend.setThreads(options.threads);
  return backend;
}

/** The process-wide backend, created on first use. */
export function getBackend(): Backend {
  current ??= createBackend();
  return current;
}

/** Replace the process-wide backend (tests, `--threads`, `--backend`). */
export function setBackend(backend: Backend): void {
  current = backend;
}
