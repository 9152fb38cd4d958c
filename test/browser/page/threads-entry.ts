/**
 * The training Web Worker of test/browser/wasm-threads-chromium.test.ts: bundled as a module
 * worker (with 'vitest' aliased to ./vitest-shim.ts), it makes the wasm backend with
 * createWasmBackendAuto from the two modules the page fetched — threaded when the page is cross-
 * origin isolated, single-threaded with the reason otherwise — and reports back: the choice, every
 * output of the shared heavy calls (test/backend/wasm-threads-calls.ts) as base64, the losses of a
 * few training steps, how many tasks the pool's workers ran and, when asked, the outcome of every
 * test of the kernel conformance suite on that backend.
 */
import type { Backend } from '../../../src/backend/backend.js';
import { createReferenceBackend } from '../../../src/backend/reference/index.js';
import { type ThreadedWasmBackend, createWasmBackendAuto } from '../../../src/backend/wasm/threads.js';
import { runKernelSuite } from '../../backend/kernel-suite.js';
import { HEAVY, type Typed, trainLosses } from '../../backend/wasm-threads-calls.js';
import type { SuiteOutcome } from './suite-entry.js';
import { collected } from './vitest-shim.js';

interface Request { bytes: ArrayBuffer; threadsBytes: ArrayBuffer; threads: number; suite: boolean }

export interface ThreadsReport {
  crossOriginIsolated: boolean;
  threads: number;
  reason: string;
  calls: { title: string; out: { t: string; b64: string }[]; ret: unknown }[];
  losses: number[];
  workerTasks: number;
  suite: SuiteOutcome[];
}

const scope = globalThis as unknown as {
  crossOriginIsolated?: boolean;
  onmessage: ((e: { data: Request }) => void) | null;
  postMessage(m: unknown): void;
};

function b64(v: Typed): { t: string; b64: string } {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { t: v instanceof Float32Array ? 'f32' : v instanceof Int32Array ? 'i32' : 'u8', b64: btoa(s) };
}

async function runSuite(backend: Backend): Promise<SuiteOutcome[]> {
  collected.length = 0;
  runKernelSuite({ name: 'wasm threads in Chromium', backend, oracle: createReferenceBackend(), skip: {} });
  const outcomes: SuiteOutcome[] = [];
  for (const test of collected) {
    if (test.skipped !== null) {
      outcomes.push({ name: test.name, status: 'skipped', detail: test.skipped });
      continue;
    }
    try {
      await test.fn();
      outcomes.push({ name: test.name, status: 'passed', detail: '' });
    } catch (err) {
      outcomes.push({ name: test.name, status: 'failed', detail: err instanceof Error ? err.message : String(err) });
    }
  }
  return outcomes;
}

async function handle(req: Request): Promise<ThreadsReport> {
  const choice = await createWasmBackendAuto({ bytes: req.bytes, threadsBytes: req.threadsBytes, threads: req.threads });
  const threaded = choice.threads > 1 ? (choice.backend as ThreadedWasmBackend) : null;
  if (threaded) await threaded.ready();
  const calls = HEAVY.map((call) => {
    const { out, ret } = call.run(choice.backend);
    return { title: call.title, out: out.map(b64), ret };
  });
  const losses = trainLosses(choice.backend, 4);
  const suite = req.suite ? await runSuite(choice.backend) : [];
  return {
    crossOriginIsolated: scope.crossOriginIsolated === true,
    threads: choice.threads,
    reason: choice.reason,
    calls,
    losses,
    workerTasks: threaded ? threaded.workerTasks() : 0,
    suite,
  };
}

scope.onmessage = (e) => {
  handle(e.data).then(
    (report) => scope.postMessage({ report }),
    (err: unknown) => scope.postMessage({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
