/**
 * The WebAssembly backend in Node: reads dist/wasm/fitlab.wasm (built by `npm run build:wasm`
 * when clang with the wasm32 target is installed) and hands the bytes to ./core.ts, which
 * imports no Node module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';
import { createWasmBackendFrom, instantiateWasmKernels } from './core.js';
import type { WasmBackend } from './core.js';

export type { WasmBackend } from './core.js';
export { createWasmBackendFrom, instantiateWasmKernels, instantiateWasmKernelsAsync } from './core.js';

/** Where the build writes the module. */
export function wasmFile(): string {
  return join(packageRoot(), 'dist', 'wasm', 'fitlab.wasm');
}

/** The module's bytes, or why there are none. */
export function loadWasmBytes(): { bytes?: Uint8Array; error?: string } {
  const file = wasmFile();
  if (!existsSync(file)) {
    const buildError = join(packageRoot(), 'dist', 'wasm', 'build-error.txt');
    return {
      error: existsSync(buildError)
        ? `the wasm build failed or was skipped: ${readFileSync(buildError, 'utf8').split('\n')[0]}`
        : `${file} was not built (run \`npm run build:wasm\`)`,
    };
  }
  return { bytes: readFileSync(file) };
}

/** Create the wasm backend; throws BackendError saying why when the module is missing. */
export function createWasmBackend(): WasmBackend {
  const { bytes, error } = loadWasmBytes();
  if (!bytes) throw new BackendError(`the wasm backend cannot load: ${error}`, 'install clang and lld, then run `npm run build:wasm`');
  return createWasmBackendFrom(instantiateWasmKernels(bytes));
}
