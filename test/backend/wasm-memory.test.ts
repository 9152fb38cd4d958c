/**
 * Zero-copy calls on the WebAssembly backend (src/backend/wasm/core.ts): `alloc` gives views of the
 * module's memory, which kernel calls pass by offset instead of copying.
 *
 * - The whole conformance suite again, with every typed-array argument moved into the module's
 *   memory first (each distinct JS buffer becomes one block of the memory, views keep their offsets,
 *   so same-view and overlapping arguments alias exactly as in the suite): the pointer path of every
 *   kernel and argument kind, held to the reference backend like the copy path in wasm.test.ts.
 * - Views and copies give the same bits; mixed calls; in-place calls on views; subarrays.
 * - The memory has a fixed size, so views never detach: when it is full, alloc falls back to
 *   ordinary arrays and a call that cannot get memory throws an out-of-memory error naming the
 *   remedy, with every earlier view intact.
 * Skipped (saying why) when dist/wasm/fitlab.wasm was not built, as wasm.test.ts is.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/geometry.js';
import { KERNEL_NAMES } from '../../src/backend/kernels.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { type WasmBackend, createWasmBackendFrom, instantiateWasmKernels, loadWasmBytes } from '../../src/backend/wasm/index.js';
import { BackendError } from '../../src/errors.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { runKernelSuite } from './kernel-suite.js';

const loaded = loadWasmBytes();
type Typed = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
type TypedCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Typed;

/**
 * The backend with every typed-array argument of a kernel call moved into the module's memory:
 * one place per distinct ArrayBuffer in a 64 MiB block alloc gave (views keep their offsets in
 * it), copied back after the call. The block is reused by every call, so the test does not
 * depend on when the garbage collector frees views.
 */
function inMemory(wasm: WasmBackend): Backend {
  const block = wasm.alloc(2 ** 24);
  const memory = block.buffer;
  if (memory !== wasm.alloc(1).buffer) throw new Error('alloc did not give a view of the module memory');
  const wrapped = Object.create(wasm) as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    const run = (wasm as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    wrapped[name] = (...args: unknown[]) => {
      const places = new Map<ArrayBufferLike, number>(); // JS buffer → its byte offset in the memory
      let used = 0;
      const moved = args.map((a) => {
        if (!ArrayBuffer.isView(a) || a instanceof DataView) return a;
        const v = a as Typed;
        let at = places.get(v.buffer);
        if (at === undefined) {
          at = block.byteOffset + used;
          used += Math.ceil(v.buffer.byteLength / 64) * 64;
          if (used > block.byteLength) throw new Error(`the test's block is too small for ${name}'s arguments (${used} bytes)`);
          new Uint8Array(memory, at, v.buffer.byteLength).set(new Uint8Array(v.buffer));
          places.set(v.buffer, at);
        }
        return new (v.constructor as TypedCtor)(memory, at + v.byteOffset, v.length);
      });
      try {
        return run(...moved);
      } finally {
        for (const [buffer, at] of places) new Uint8Array(buffer).set(new Uint8Array(memory, at, buffer.byteLength));
      }
    };
  }
  return wrapped as unknown as Backend;
}

function random(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  new RandomStream(seed).fillUniform(x, -1, 1);
  return x;
}

function viewOf(wasm: WasmBackend, values: Float32Array): Float32Array {
  const v = wasm.alloc(values.length);
  v.set(values);
  return v;
}

if (!loaded.bytes) {
  describe.skip(`wasm backend, zero-copy — skipped: ${loaded.error}`, () => {
    it('runs the kernel suite on views of the memory', () => undefined);
  });
} else {
  const bytes = loaded.bytes;
  const wasm = createWasmBackendFrom(instantiateWasmKernels(bytes));

  describe('wasm backend: views of the module memory', () => {
    it('alloc gives zeroed views of one fixed memory', () => {
      expect(wasm.zeroCopy).toBe(true);
      const a = wasm.alloc(1000);
      const b = wasm.alloc(3);
      expect(a.length).toBe(1000);
      expect(a.buffer).toBe(b.buffer);
      expect(a.buffer.byteLength).toBe(2 ** 30);
      expect(a.byteOffset % 64).toBe(0);
      expect(Array.from(b)).toEqual([0, 0, 0]);
      expect(a.every((v) => v === 0)).toBe(true);
    });

    it('a subarray is a view of the same memory; slice and map give ordinary arrays', () => {
      const a = viewOf(wasm, Float32Array.from([1, 2, 3, 4]));
      const s = a.subarray(1, 3);
      expect(s.buffer).toBe(a.buffer);
      expect(s.byteOffset).toBe(a.byteOffset + 4);
      expect(Array.from(s)).toEqual([2, 3]);
      expect(Array.from(s.subarray(1))).toEqual([3]);
      expect(a.slice(1).buffer).not.toBe(a.buffer);
      expect(a.map((v) => v * 2).buffer).not.toBe(a.buffer);
    });

    it('views and ordinary arrays give the same bits (gemm, conv forward and backward), and may be mixed', () => {
      const g = convGeometry({ n: 3, h: 9, w: 7, c: 5, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 6 });
      const x = random(3 * 9 * 7 * 5, 1), w = random(3 * 3 * 5 * 6, 2), bias = random(6, 3), dy = random(3 * 9 * 7 * 6, 4);
      const plain = { y: new Float32Array(dy.length), dx: new Float32Array(x.length), dw: new Float32Array(w.length), db: new Float32Array(6) };
      wasm.conv2dForward(plain.y, x, w, bias, g, 'relu');
      wasm.conv2dBackward(plain.dx, plain.dw, plain.db, dy, plain.y, x, w, g, 'relu');
      const vx = viewOf(wasm, x), vw = viewOf(wasm, w), vdy = viewOf(wasm, dy);
      const views = { y: wasm.alloc(dy.length), dx: wasm.alloc(x.length), dw: wasm.alloc(w.length), db: wasm.alloc(6) };
      const before = wasm.copiedBytes();
      wasm.conv2dBackward(views.dx, views.dw, views.db, vdy, views.y, vx, vw, g, 'relu');
      expect(wasm.copiedBytes()).toBe(before); // all views: nothing copied
      wasm.conv2dForward(views.y, vx, vw, bias, g, 'relu'); // bias stays an ordinary array: a mixed call
      expect(wasm.copiedBytes()).toBe(before + 64); // bias only (its copy rounded up to 64 bytes)
      wasm.conv2dBackward(views.dx, views.dw, views.db, vdy, views.y, vx, vw, g, 'relu');
      for (const k of ['y', 'dx', 'dw', 'db'] as const) expect(Array.from(views[k]), k).toEqual(Array.from(plain[k]));
      expect(plain.dw.some((v) => v !== 0)).toBe(true);

      const [m, n, k] = [37, 29, 41];
      const a = random(m * k, 5), bm = random(k * n, 6);
      const c1 = new Float32Array(m * n);
      wasm.gemm(false, false, m, n, k, 1, a, k, bm, n, 0, c1, n);
      const c2 = wasm.alloc(m * n);
      wasm.gemm(false, false, m, n, k, 1, viewOf(wasm, a), k, bm, n, 0, c2, n);
      expect(Array.from(c2)).toEqual(Array.from(c1));
    });

    it('runs in place on views (y = x + x, then y *= 2 on a subarray), as on native', () => {
      const x = viewOf(wasm, Float32Array.from([1, -2, 3.5]));
      wasm.add(x, x, x);
      expect(Array.from(x)).toEqual([2, -4, 7]);
      wasm.scale(x.subarray(1), 2);
      expect(Array.from(x)).toEqual([2, -8, 14]);
    });

    it('refuses a memory size outside [64 MiB, 4 GiB], naming it', () => {
      expect(() => instantiateWasmKernels(bytes, { memoryBytes: 1000 })).toThrow(/memoryBytes must be a number in \[67108864, 4294967296\].*received 1000/);
    });

    it('never detaches views: a full memory gives ordinary arrays, then an out-of-memory error, views intact', () => {
      const small = createWasmBackendFrom(instantiateWasmKernels(bytes, { memoryBytes: 64 * 2 ** 20 }));
      const kept = viewOf(small, Float32Array.from([1, 2, 3]));
      const memory = kept.buffer;
      expect(memory.byteLength).toBe(64 * 2 ** 20);
      const big: Float32Array[] = [];
      for (let i = 0; i < 5; i++) big.push(small.alloc(2 ** 22)); // 16 MiB each: 48 MiB (3/4) are handed out as views
      expect(big.slice(0, 2).every((v) => v.buffer === memory)).toBe(true);
      expect(big[4].buffer).not.toBe(memory); // an ordinary array: copied per call
      small.fill(big[4], 0.5);
      expect(big[4][123]).toBe(0.5);
      // three 24 MiB ordinary arrays need a 72 MiB arena: more than the memory has
      const n = 6 * 2 ** 20;
      let error: unknown;
      try {
        small.add(new Float32Array(n), new Float32Array(n), new Float32Array(n));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).message).toMatch(/out of memory \(\d+ bytes asked for copies of arguments; the memory holds 67108864 bytes\)/);
      expect((error as BackendError).hint).toMatch(/memoryBytes/);
      expect(kept.buffer).toBe(memory);
      expect(Array.from(kept)).toEqual([1, 2, 3]);
      small.scale(kept, 2);
      expect(Array.from(kept)).toEqual([2, 4, 6]);
    });
  });

  runKernelSuite({ name: 'wasm, arguments in the module memory', backend: inMemory(wasm), oracle: createReferenceBackend(), skip: {} });
}
