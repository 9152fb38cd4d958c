/**
 * The page's fitlab worker (bundled by bench/browser.ts with scripts/build-browser.cjs): makes
 * the wasm backend from ./fitlab.wasm beside it, then answers each job with the training
 * throughput of one network (./net.ts: measureThroughput's network, data, optimizer and steps).
 * Training runs in a worker because that is how the site trains.
 */
import { type WasmBackend, createWasmBackendFrom, instantiateWasmKernelsAsync } from '../../src/backend/wasm/core.js';
import { timeTraining } from './net.js';
import type { PageJob, WorkerReply } from './protocol.js';

/** The few worker-scope members used (the project compiles without the DOM library). */
interface WorkerScope {
  onmessage: ((e: { data: { id: number; job: PageJob } }) => void) | null;
  postMessage(message: WorkerReply): void;
}
const scope = globalThis as unknown as WorkerScope;

let backend: Promise<WasmBackend> | null = null;

async function wasmBackend(): Promise<WasmBackend> {
  const res = await fetch(new URL('./fitlab.wasm', import.meta.url));
  if (!res.ok) throw new Error(`fitlab.wasm: HTTP ${res.status}`);
  return createWasmBackendFrom(await instantiateWasmKernelsAsync(await res.arrayBuffer()));
}

scope.onmessage = (e) => {
  const { id, job } = e.data;
  backend ??= wasmBackend();
  backend.then((b) => {
    const t = timeTraining(job.net, job.batch, job.steps, b);
    scope.postMessage({ id, ok: true, result: { ...t, backend: `${b.name} ${b.isa}`, threads: b.threads } });
  }).catch((err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }));
};
