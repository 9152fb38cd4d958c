/**
 * Backend selection in a browser bundle. scripts/build-browser.cjs puts this file in place of
 * ./index.ts, which reads the environment and loads the Node addon: here there is no addon and
 * no environment. The page makes the wasm backend from the module's bytes
 * (createWasmBackendFrom(await instantiateWasmKernelsAsync(bytes)), ./wasm/core.ts) and calls
 * setBackend; until it does, models get the reference backend, with one warning line.
 */
import { BackendError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import type * as NodeSide from './index.js';
import { createReferenceBackend } from './reference/index.js';

export type { Backend, BackendName } from './backend.js';

export interface BackendOptions {
  /** 'auto' (default) and 'reference' give the reference backend; 'native' and 'wasm' are refused (see above). */
  backend?: BackendName | 'auto';
  threads?: number;
  /** Where the fallback warning goes (default: console.warn). */
  warn?: (line: string) => void;
}

let current: Backend | undefined;
let warned = false;

export function createBackend(options: BackendOptions = {}): Backend {
  const want = options.backend ?? 'auto';
  if (want === 'native') {
    throw new BackendError('the native backend needs Node; in a browser use the wasm backend or the reference one');
  }
  if (want === 'wasm') {
    throw new BackendError('in a browser the wasm backend is made from the module bytes: setBackend(createWasmBackendFrom(await instantiateWasmKernelsAsync(bytes)))');
  }
  if (want === 'auto' && !warned) {
    warned = true;
    (options.warn ?? ((l: string) => console.warn(l)))('fitlab: warning: no backend set (setBackend); using the TypeScript reference backend, which is much slower');
  }
  const backend = createReferenceBackend();
  if (options.threads !== undefined) backend.setThreads(options.threads);
  return backend;
}

export function getBackend(): Backend {
  current ??= createBackend();
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}

// this twin exports what ./index.ts exports, with the same types
const sameExports: typeof NodeSide = { createBackend, getBackend, setBackend };
void sameExports;
