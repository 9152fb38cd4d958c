/**
 * The page's fitlab worker (bundled by bench/browser.ts with scripts/build-browser.cjs): makes
 * the wasm backend from ./fitlab.wasm beside it — and, for jobs with threads, the threaded one
 * from ./fitlab-threads.wasm through createWasmBackendAuto, which needs the page cross-origin
 * isolated — then answers each job with the training throughput of one network (./net.ts:
 * measureThroughput's network, data, optimizer and steps). Training runs in a worker because that
 * is how the site trains (and the threaded backend must not run on a page's main thread).
 */
import { type WasmBackend, createWasmBackendFrom, instantiateWasmKernelsAsync } from '../../src/backend/wasm/core.js';
import { type ThreadedWasmBackend, createWasmBackendAuto } from '../../src/backend/wasm/threads.js';
import { timeTraining } from './net.js';
import type { PageJob, PageResult, WorkerReply } from './protocol.js';

/** The few worker-scope members used (the project compiles without the DOM library). */
interface WorkerScope {
  onmessage: ((e: { data: { id: number; job: PageJob } }) => void) | null;
  postMessage(message: WorkerReply): void;
}
const scope = globalThis as unknown as WorkerScope;

async function bytesOf(file: string): Promise<ArrayBuffer> {
  const res = await fetch(new URL(file, import.meta.url));
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** One backend per thread count, made on first use. */
const backends = new Map<number, Promise<{ backend: WasmBackend; reason?: string }>>();

function backendFor(threads: number): Promise<{ backend: WasmBackend; reason?: string }> {
  let b = backends.get(threads);
  if (!b) {
    b = threads === 1
      ? bytesOf('./fitlab.wasm').then(async (bytes) => ({ backend: createWasmBackendFrom(await instantiateWasmKernelsAsync(bytes)) }))
      : Promise.all([bytesOf('./fitlab.wasm'), bytesOf('./fitlab-threads.wasm')]).then(async ([bytes, threadsBytes]) => {
        const choice = await createWasmBackendAuto({ bytes, threadsBytes, threads });
        if (choice.threads > 1) await (choice.backend as ThreadedWasmBackend).ready();
        return { backend: choice.backend, reason: choice.reason };
      });
    backends.set(threads, b);
  }
  return b;
}

async function run(job: PageJob): Promise<PageResult> {
  const { backend, reason } = await backendFor(job.threads ?? 1);
  const t = timeTraining(job.net, job.batch, job.steps, backend);
  return { ...t, backend: `${backend.name} ${backend.isa}`, threads: backend.threads, ...(reason ? { reason } : {}) };
}

scope.onmessage = (e) => {
  const { id, job } = e.data;
  run(job).then(
    (result) => scope.postMessage({ id, ok: true, result }),
    (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
