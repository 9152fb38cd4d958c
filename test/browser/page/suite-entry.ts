/**
 * The kernel conformance suite (test/backend/kernel-suite.ts) in a browser page, on the wasm
 * backend made from the module's bytes, held to the reference backend: bundled by
 * test/browser/wasm-chromium.test.ts with 'vitest' aliased to ./vitest-shim.ts, loaded by the
 * page, which calls runSuite and hands the outcome of every test back.
 */
import { createReferenceBackend } from '../../../src/backend/reference/index.js';
import { createWasmBackendFrom, instantiateWasmKernelsAsync } from '../../../src/backend/wasm/core.js';
import { runKernelSuite } from '../../backend/kernel-suite.js';
import { collected } from './vitest-shim.js';

export interface SuiteOutcome {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  /** the failure's message, or the skip's reason */
  detail: string;
}

export async function runSuite(bytes: ArrayBuffer): Promise<{ backend: { name: string; isa: string; threads: number }; outcomes: SuiteOutcome[] }> {
  const backend = createWasmBackendFrom(await instantiateWasmKernelsAsync(bytes));
  collected.length = 0;
  runKernelSuite({ name: 'wasm in Chromium', backend, oracle: createReferenceBackend(), skip: {} });
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
  return { backend: { name: backend.name, isa: backend.isa, threads: backend.threads }, outcomes };
}
