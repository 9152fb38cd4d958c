/**
 * The conformance suite on the WebAssembly backend (native/ compiled for wasm32 with SIMD128 by
 * `npm run build:wasm`), in Node, held to the reference backend as the native one is.
 *
 * The module is optional (it needs clang with the wasm32 target, lld and wasi-libc): when it was
 * not built this file says so in a skipped block's title, with the reason the build recorded.
 * FITLAB_REQUIRE_WASM=1 (CI installs the toolchain) makes a missing module a failure instead.
 */
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/index.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { createWasmBackend, loadWasmBytes } from '../../src/backend/wasm/index.js';
import { BackendError } from '../../src/errors.js';
import { runKernelSuite } from './kernel-suite.js';

const loaded = loadWasmBytes();

if (!loaded.bytes) {
  if (process.env.FITLAB_REQUIRE_WASM === '1') {
    describe('wasm backend', () => {
      it('loads the module (FITLAB_REQUIRE_WASM=1)', () => {
        expect.fail(`the wasm kernels are unavailable: ${loaded.error}`);
      });
    });
  } else {
    describe.skip(`wasm backend — skipped: ${loaded.error}`, () => {
      it('runs the kernel suite', () => undefined);
    });
  }
} else {
  const wasm = createWasmBackend();

  describe('wasm backend', () => {
    it('is single-threaded and says so', () => {
      expect(wasm.name).toBe('wasm');
      expect(wasm.isa).toBe('wasm-simd128');
      expect(wasm.threads).toBe(1);
      wasm.setThreads(1);
      expect(() => wasm.setThreads(2)).toThrow(BackendError);
      expect(() => wasm.setThreads(2)).toThrow(/threads must be 1 on the wasm backend.*received 2/);
    });

    it('is what createBackend gives for backend wasm (FITLAB_BACKEND=wasm), never for auto', () => {
      expect(createBackend({ backend: 'wasm' }).name).toBe('wasm');
      expect(createBackend({ backend: 'auto', warn: () => undefined }).name).not.toBe('wasm');
    });

    it('runs in place when an output is the same view as an input (y = x + x, then y *= 2)', () => {
      const x = new Float32Array([1, -2, 3.5]);
      wasm.add(x, x, x);
      expect(Array.from(x)).toEqual([2, -4, 7]);
      wasm.scale(x.subarray(1), 2);
      expect(Array.from(x)).toEqual([2, -8, 14]);
    });
  });

  runKernelSuite({ name: 'wasm', backend: wasm, oracle: createReferenceBackend(), skip: {} });
}
