/**
 * The multi-threaded WebAssembly backend: fitlab-threads.wasm (native/wasm.c built with
 * FL_WASM_THREADS by scripts/build-wasm.cjs) on a shared memory (a SharedArrayBuffer), with
 * threads − 1 workers, each running its own instance of the same module on that memory.
 *
 * The kernels split their work exactly as on the native backend (ctx.threads): the calling
 * thread publishes a job in shared memory, wakes the workers with memory.atomic.notify and takes
 * tasks itself; workers claim the rest with atomic adds. No JS runs per task. The caller never
 * blocks in Atomics.wait (it spins until the last task is done), and a worker that has not started
 * yet costs nothing but its share of the speed: the caller runs its tasks.
 *
 * Where it may run: Node (worker_threads; ./index.ts wires it to FITLAB_BACKEND=wasm with
 * --threads N) and a browser page that is cross-origin isolated (COOP/COEP headers; otherwise there
 * is no SharedArrayBuffer). Its workers park in Atomics.wait between jobs, which browsers allow
 * only off the main thread, so they are Web Workers — and the kernels themselves should be called
 * from the page's training Web Worker too: a main thread that spins through a long kernel freezes
 * the page. createWasmBackendAuto picks this backend or the single-threaded one at run time and
 * says why.
 *
 * This file imports no Node module: the host gives a `spawn` function that starts a worker from
 * the source text WASM_WORKER_SOURCE (browserSpawn here; Node's in ./index.ts).
 *
 * @example
 * const { backend, threads, reason } = await createWasmBackendAuto({ bytes, threadsBytes, threads: 4 });
 * setBackend(backend);
 * status.textContent = `WebAssembly, ${threads} thread(s): ${reason}`;
 */
import { BackendError } from '../../errors.js';
import type { WasmBackend, WasmInstance, WasmModule } from './core.js';
import { createWasmBackendFrom, instantiateWasmKernelsAsync } from './core.js';

/** The shared memory's limits in 64 KiB pages: scripts/build-wasm.cjs links with the same (16 MiB, 2 GiB). */
export const THREADS_MEMORY_PAGES = { initial: 256, maximum: 32768 } as const;
/** Each worker's stack, as the single-threaded module's (-z stack-size). */
const STACK_BYTES = 1 << 20;
const MAX_THREADS = 64; // FL_MAX_THREADS in native/fl.h

type Bytes = ArrayBuffer | ArrayBufferView;
interface SharedMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Bytes) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
  compile(bytes: Bytes): Promise<WasmModule>;
}
const api = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of fitlab-threads.wasm that this file calls (core.ts calls the rest). */
interface ThreadExports {
  fl_wasm_alloc(bytes: number): number;
  fl_wasm_set_threads(threads: number): number;
  fl_wasm_workers(): number;
  fl_wasm_stop(): void;
  fl_wasm_worker_tasks(): number;
}

/** What a spawned worker must offer (a Web Worker and Node's worker_threads Worker both do). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
}
/** Start a worker running `source` (a classic script); deliver its messages and errors to `onMessage`. */
export type SpawnWorker = (source: string, onMessage: (message: WorkerMessage) => void) => WorkerLike;
/** What a worker posts: started (its instance runs fl_wasm_worker), exited, or failed. */
export type WorkerMessage = { ready: number } | { exited: number } | { error: string };

/**
 * The worker script: instantiate the module on the shared memory, move its stack to the region
 * the caller allocated, and run the pool's loop until fl_wasm_stop. Plain JS with no static import
 * so that it runs as a Web Worker (from a blob: URL) and as a worker_threads thread (eval).
 */
export const WASM_WORKER_SOURCE = `'use strict';
// a Web Worker's global scope, or Node's parentPort (a dynamic import: the eval'd script may be CommonJS or ESM)
const portReady = typeof self !== 'undefined' ? Promise.resolve(self) : import('node:worker_threads').then((m) => m.parentPort);
const start = (port, { module, memory, id, stackTop }) => {
  const post = (m) => port.postMessage(m);
  try {
    const empty = (count, size) => { const v = new DataView(memory.buffer); v.setUint32(count, 0, true); v.setUint32(size, 0, true); return 0; };
    const instance = new WebAssembly.Instance(module, {
      env: { memory },
      wasi_snapshot_preview1: { environ_sizes_get: empty, environ_get: () => 0, proc_exit: (code) => { throw new Error('the wasm kernels exited (code ' + code + ')'); } },
    });
    instance.exports.fl_wasm_set_stack(stackTop);
    post({ ready: id });
    instance.exports.fl_wasm_worker(id);
    post({ exited: id });
  } catch (err) {
    post({ error: 'wasm worker ' + id + ': ' + (err && err.message ? err.message : String(err)) });
  }
  if (typeof port.close === 'function') port.close();
};
portReady.then((port) => {
  if (typeof port.on === 'function') port.on('message', (m) => start(port, m));
  else port.onmessage = (e) => start(port, e.data);
});
`;

/** Start workers as Web Workers from a blob: URL (a page or a worker that is cross-origin isolated). */
export const browserSpawn: SpawnWorker = (source, onMessage) => {
  interface WebWorker extends WorkerLike { onmessage: ((e: { data: WorkerMessage }) => void) | null; onerror: ((e: { message?: string }) => void) | null }
  const g = globalThis as unknown as {
    Worker: new (url: string) => WebWorker;
    Blob: new (parts: string[], options: { type: string }) => object;
    URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
  };
  const url = g.URL.createObjectURL(new g.Blob([source], { type: 'text/javascript' }));
  const worker = new g.Worker(url);
  worker.onmessage = (e) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ error: `wasm worker: ${e.message ?? 'failed to start'}` });
  return worker;
};

export interface ThreadedWasmOptions {
  /** fitlab-threads.wasm: its bytes or the compiled module. */
  source: Bytes | WasmModule;
  /** Kernel threads (the caller and threads − 1 workers), 1 to 64. */
  threads: number;
  /** How to start a worker (browserSpawn in a page; ./index.ts has Node's). */
  spawn: SpawnWorker;
}

export interface ThreadedWasmBackend extends WasmBackend {
  /** Resolves when every worker started so far runs its loop; rejects with a worker's error. */
  ready(): Promise<void>;
  /** Stop and terminate the workers; the backend then runs on the calling thread only. */
  dispose(): void;
  /** Tasks the workers (not the calling thread) have run so far: evidence that they take part. */
  workerTasks(): number;
}

function checkThreads(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new BackendError(`threads must be an integer in [1, ${MAX_THREADS}] on the threaded wasm backend; received ${String(n)}`);
  }
  return n;
}

/** The threaded wasm backend (see the top of this file); synchronous, so give a compiled module on a browser's main thread. */
export function createThreadedWasmBackend({ source, threads, spawn }: ThreadedWasmOptions): ThreadedWasmBackend {
  checkThreads(threads);
  const W = api();
  if (typeof SharedArrayBuffer !== 'function') {
    throw new BackendError('the threaded wasm backend needs SharedArrayBuffer, which a browser gives only to a cross-origin isolated page', 'serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp');
  }
  const module = source instanceof W.Module ? source : new W.Module(source);
  const memory = new W.Memory({ ...THREADS_MEMORY_PAGES, shared: true });
  const empty = (count: number, size: number): number => {
    const v = new DataView(memory.buffer);
    v.setUint32(count, 0, true);
    v.setUint32(size, 0, true);
    return 0;
  };
  const instance = new W.Instance(module, {
    env: { memory },
    wasi_snapshot_preview1: {
      environ_sizes_get: empty,
      environ_get: () => 0,
      proc_exit: (code: number) => { throw new BackendError(`the wasm kernels exited (code ${code})`); },
    },
  });
  const x = instance.exports as unknown as ThreadExports;
  if (typeof (instance.exports as Record<string, unknown>).fl_wasm_worker !== 'function') {
    throw new BackendError('this module is not fitlab-threads.wasm (it has no fl_wasm_worker export)');
  }

  const workers: WorkerLike[] = [];
  let started = 0;
  let failure: string | null = null;
  let waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let disposed = false;
  const settle = (): void => {
    if (failure === null && started < workers.length) return;
    const list = waiters;
    waiters = [];
    for (const w of list) {
      if (failure !== null) w.reject(new BackendError(failure));
      else w.resolve();
    }
  };
  const onMessage = (m: WorkerMessage): void => {
    if ('ready' in m) started++;
    else if ('error' in m) failure ??= m.error;
    settle();
  };
  /** Workers up to id n − 1, each with a stack of its own in the shared memory. */
  const grow = (n: number): void => {
    while (workers.length < n - 1) {
      const id = workers.length + 1;
      const stack = x.fl_wasm_alloc(STACK_BYTES);
      if (!stack) throw new BackendError(`the wasm kernels are out of memory (a ${STACK_BYTES}-byte stack for worker ${id})`);
      const worker = spawn(WASM_WORKER_SOURCE, onMessage);
      worker.postMessage({ module, memory, id, stackTop: stack + STACK_BYTES });
      workers.push(worker);
    }
  };
  let current = 1;
  const threading = {
    threads: () => current,
    setThreads: (n: number) => {
      checkThreads(n);
      if (disposed && n > 1) throw new BackendError(`threads must be 1 once the threaded wasm backend is disposed; received ${n}`);
      grow(n);
      current = x.fl_wasm_set_threads(n);
    },
  };
  const backend = createWasmBackendFrom({ exports: { ...instance.exports, memory } }, threading);
  threading.setThreads(threads);
  const extra: Pick<ThreadedWasmBackend, 'ready' | 'dispose' | 'workerTasks'> = {
    workerTasks: () => x.fl_wasm_worker_tasks(),
    ready: () => new Promise<void>((resolve, reject) => {
      waiters.push({ resolve, reject });
      settle();
    }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      current = x.fl_wasm_set_threads(1);
      x.fl_wasm_stop();
      for (const w of workers) void w.terminate();
    },
  };
  return Object.assign(backend, extra);
}

export interface WasmAutoOptions {
  /** fitlab.wasm (single-threaded): bytes or compiled module. */
  bytes: Bytes | WasmModule;
  /** fitlab-threads.wasm; without it the choice is single-threaded. */
  threadsBytes?: Bytes | WasmModule;
  /** Kernel threads wanted (default: navigator.hardwareConcurrency, at most 64). */
  threads?: number;
  /** How to start workers (default: browserSpawn where Worker exists). */
  spawn?: SpawnWorker;
}

export interface WasmAutoChoice {
  backend: WasmBackend;
  /** Kernel threads of the backend chosen. */
  threads: number;
  /** One sentence saying which backend was chosen and why, for the page. */
  reason: string;
}

/** Why threads cannot be used here, or null when they can. */
export function wasmThreadsUnavailable(): string | null {
  const g = globalThis as unknown as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
  }
  if (typeof SharedArrayBuffer !== 'function') return 'this JavaScript engine has no SharedArrayBuffer';
  return null;
}

/**
 * The wasm backend for where the code runs: threaded when the page is cross-origin isolated
 * (SharedArrayBuffer exists; in Node always) and a threaded module, more than one thread and a way
 * to start workers are given; single-threaded otherwise. Either way `reason` says which and why.
 */
export async function createWasmBackendAuto(options: WasmAutoOptions): Promise<WasmAutoChoice> {
  const nav = (globalThis as unknown as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const want = options.threads ?? Math.min(MAX_THREADS, Math.max(1, nav?.hardwareConcurrency ?? 1));
  checkThreads(want);
  const spawn = options.spawn ?? (typeof (globalThis as { Worker?: unknown }).Worker === 'function' ? browserSpawn : undefined);
  const single = async (reason: string): Promise<WasmAutoChoice> => ({
    backend: createWasmBackendFrom(await instantiateWasmKernelsAsync(options.bytes)),
    threads: 1,
    reason,
  });
  const unavailable = wasmThreadsUnavailable();
  if (unavailable) return single(`1 thread: ${unavailable}`);
  if (!options.threadsBytes) return single('1 thread: no threaded module (fitlab-threads.wasm) was given');
  if (want === 1) return single('1 thread: one thread was asked for');
  if (!spawn) return single('1 thread: no way to start workers here (no Worker)');
  try {
    const W = api();
    const module = options.threadsBytes instanceof W.Module ? options.threadsBytes : await W.compile(options.threadsBytes);
    const backend = createThreadedWasmBackend({ source: module, threads: want, spawn });
    return { backend, threads: backend.threads, reason: `${backend.threads} threads: cross-origin isolated (SharedArrayBuffer and ${backend.threads - 1} worker${backend.threads === 2 ? '' : 's'})` };
  } catch (err) {
    return single(`1 thread: the threaded module failed to start (${(err as Error).message})`);
  }
}
