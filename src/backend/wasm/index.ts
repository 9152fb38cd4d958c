/**
 * The WebAssembly backend in Node: reads dist/wasm/fitlab.wasm, or fitlab-threads.wasm for more
 * than one thread (both built by `npm run build:wasm` when clang with the wasm32 target is
 * installed), and hands the bytes to ./core.ts / ./threads.ts, which import no Node module.
 * Threads come from the caller: createBackend gives --threads, else FITLAB_THREADS; the default
 * is one. The threaded backend's workers are worker_threads threads (see nodeSpawn).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';
import { createWasmBackendFrom, instantiateWasmKernels } from './core.js';
import type { WasmBackend } from './core.js';
import { type SpawnWorker, type ThreadedWasmBackend, type WorkerMessage, createThreadedWasmBackend } from './threads.js';

export type { WasmBackend } from './core.js';
export { createWasmBackendFrom, instantiateWasmKernels, instantiateWasmKernelsAsync } from './core.js';
export type { ThreadedWasmBackend } from './threads.js';

/** Where the build writes the module (`threads`: the multi-threaded one). */
export function wasmFile(threads = false): string {
  return join(packageRoot(), 'dist', 'wasm', threads ? 'fitlab-threads.wasm' : 'fitlab.wasm');
}

/**
 * Workers as worker_threads threads running the worker source (eval). Each keeps the process
 * alive only until it runs its loop (so that awaiting ready() cannot end the process first), then
 * is unref'd: parked workers never hold the process open.
 */
export const nodeSpawn: SpawnWorker = (source, onMessage) => {
  const worker = new Worker(source, { eval: true });
  worker.on('message', (m: WorkerMessage) => {
    if (!('exited' in m)) worker.unref();
    onMessage(m);
  });
  worker.on('error', (err: Error) => {
    worker.unref();
    onMessage({ error: `wasm worker: ${err.message}` });
  });
  return worker;
};

/** Kernel threads asked for by FITLAB_THREADS (undefined when unset); createBackend passes them on. */
export function wasmEnvThreads(): number | undefined {
  const raw = process.env.FITLAB_THREADS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new BackendError(`FITLAB_THREADS must be an integer in [1, 64]; received ${JSON.stringify(raw)}`);
  return n;
}

/** The module's bytes (`threads`: fitlab-threads.wasm), or why there are none. */
export function loadWasmBytes(threads = false): { bytes?: Uint8Array; error?: string } {
  const file = wasmFile(threads);
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

/**
 * Create the wasm backend with `threads` kernel threads (default 1; createBackend gives --threads
 * or FITLAB_THREADS): the single-threaded module for one, the threaded one (workers started now)
 * for more; throws BackendError saying why when the module is missing.
 */
export function createWasmBackend(threads = 1): WasmBackend {
  const { bytes, error } = loadWasmBytes(threads > 1);
  if (!bytes) throw new BackendError(`the wasm backend cannot load: ${error}`, 'install clang and lld, then run `npm run build:wasm`');
  return threads > 1 ? createThreadedWasmBackend({ source: bytes, threads, spawn: nodeSpawn }) : createWasmBackendFrom(instantiateWasmKernels(bytes));
}

/** The threaded wasm backend in Node (even at one thread, where setThreads can raise it later). */
export function createThreadedWasmBackendNode(threads: number): ThreadedWasmBackend {
  const { bytes, error } = loadWasmBytes(true);
  if (!bytes) throw new BackendError(`the threaded wasm backend cannot load: ${error}`, 'install clang and lld, then run `npm run build:wasm`');
  return createThreadedWasmBackend({ source: bytes, threads, spawn: nodeSpawn });
}
