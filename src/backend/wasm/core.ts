/**
 * The WebAssembly backend: the C kernels of native/ compiled for wasm32 with SIMD128
 * (scripts/build-wasm.cjs), driven by the signature table (kernels.ts) through one C entry,
 * fl_wasm_call (native/wasm.c). Single-threaded.
 *
 * This file imports no Node module: it receives the .wasm bytes (or a compiled module), so a
 * browser can use it; ./index.ts is the thin Node wrapper that reads dist/wasm/fitlab.wasm.
 *
 * A call copies every buffer argument into the module's memory (one arena that only grows),
 * writes one 8-byte fl_val per argument (a pointer, an int or a double, as the generated thunk
 * reads it), calls the kernel, and copies the buffers the kernel writes back out. Arguments that
 * are the same view (same buffer, offset and length) share one copy, so in-place calls
 * ("y may alias x") behave as on the native backend.
 */
import { BackendError } from '../../errors.js';
import type { Backend, Kernels } from '../backend.js';
import { checkedBackend } from '../checked.js';
import type { ArgSpec } from '../kernels.js';
import { KERNEL_NAMES, KERNEL_TABLE } from '../kernels.js';

/*
 * The few WebAssembly JS API members used here, typed locally: the project compiles without the
 * DOM library, and @types/node declares the WebAssembly namespace without them.
 */
interface WasmMemory { readonly buffer: ArrayBuffer }
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WasmModule {}
export interface WasmInstance { readonly exports: object }
type Imports = Record<string, Record<string, (...args: number[]) => number | void>>;
type Bytes = ArrayBuffer | ArrayBufferView;
interface WasmApi {
  Module: new (bytes: Bytes) => WasmModule;
  Instance: new (module: WasmModule, imports: Imports) => WasmInstance;
  compile(bytes: Bytes): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Imports): Promise<WasmInstance>;
}
const api = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of native/wasm.c (sizes and pointers are byte offsets into `memory`). */
interface WasmExports {
  memory: WasmMemory;
  fl_wasm_args(): number;
  fl_wasm_geom(): number;
  fl_wasm_count(): number;
  fl_wasm_name(i: number): number;
  fl_wasm_nargs(i: number): number;
  fl_wasm_alloc(bytes: number): number;
  fl_wasm_free(ptr: number): void;
  fl_wasm_call(kernel: number, len: number): number;
  fl_wasm_oom(): number;
  fl_wasm_peak(iters: number): number;
}

export interface WasmBackend extends Backend {
  /** FMA-chain throughput of the module (GFLOP/s, all its kernel threads: one on fitlab.wasm), for benchmarks; needs a clock. */
  peakGflops(iterations?: number, now?: () => number): number;
}

type View = Float32Array | Int32Array | Uint8Array | Uint32Array | Float64Array;

/**
 * The imports wasi-libc's start-up code names (gemm.c reads tuning variables with getenv): an
 * empty environment, and exit as an error. The kernels use nothing else.
 */
function wasiImports(memory: () => WasmMemory): Imports {
  return {
    wasi_snapshot_preview1: {
      environ_sizes_get: (countPtr: number, sizePtr: number) => {
        const v = new DataView(memory().buffer);
        v.setUint32(countPtr, 0, true);
        v.setUint32(sizePtr, 0, true);
        return 0;
      },
      environ_get: () => 0,
      proc_exit: (code: number) => {
        throw new BackendError(`the wasm kernels exited (code ${code})`);
      },
    },
  };
}

/** Instantiate synchronously (Node, or a browser worker); `source` is the .wasm bytes or module. */
export function instantiateWasmKernels(source: Bytes | WasmModule): WasmInstance {
  const module = source instanceof api().Module ? source : new (api().Module)(source);
  const holder: { mem?: WasmMemory } = {}; // the imports read the memory once it exists
  const instance = new (api().Instance)(module, wasiImports(() => holder.mem!));
  holder.mem = (instance.exports as unknown as WasmExports).memory;
  return instance;
}

/** Instantiate asynchronously (a browser's main thread refuses to compile large modules synchronously). */
export async function instantiateWasmKernelsAsync(source: Bytes | WasmModule): Promise<WasmInstance> {
  const module = source instanceof api().Module ? source : await api().compile(source);
  const holder: { mem?: WasmMemory } = {}; // the imports read the memory once it exists
  const instance = await api().instantiate(module, wasiImports(() => holder.mem!));
  holder.mem = (instance.exports as unknown as WasmExports).memory;
  return instance;
}

function cString(memory: WasmMemory, ptr: number): string {
  const bytes = new Uint8Array(memory.buffer, ptr);
  const end = bytes.indexOf(0);
  // slice, not subarray: browsers' TextDecoder refuses views of a shared memory (threads.ts)
  return new TextDecoder().decode(bytes.slice(0, end));
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** The kernels over one instance; checks that the module was built from this signature table. */
function wasmKernels(x: WasmExports): Kernels {
  if (x.fl_wasm_count() !== KERNEL_NAMES.length) {
    throw new BackendError(`the wasm kernels were built from another kernel table (${x.fl_wasm_count()} kernels, expected ${KERNEL_NAMES.length})`,
      'rebuild them with `npm run build:wasm`');
  }
  KERNEL_NAMES.forEach((name, i) => {
    const built = cString(x.memory, x.fl_wasm_name(i));
    if (built !== name || x.fl_wasm_nargs(i) !== KERNEL_TABLE[name].args.length) {
      throw new BackendError(`the wasm kernels were built from another kernel table (kernel ${i} is ${built}, expected ${name})`,
        'rebuild them with `npm run build:wasm`');
    }
  });
  const argsPtr = x.fl_wasm_args();
  const geomPtr = x.fl_wasm_geom();
  let arena = 0;
  let arenaBytes = 0;

  /** An arena of at least `bytes`; it only grows (memory.grow replaces memory.buffer: views are made after). */
  function reserve(bytes: number): number {
    if (bytes <= arenaBytes) return arena;
    if (arena) x.fl_wasm_free(arena);
    arenaBytes = 0;
    const want = align64(bytes + (bytes >> 2));
    arena = x.fl_wasm_alloc(want);
    if (!arena) throw new BackendError(`the wasm kernels are out of memory (${want} bytes asked for arguments)`);
    arenaBytes = want;
    return arena;
  }

  const kernels: Record<string, (...args: unknown[]) => unknown> = {};
  KERNEL_NAMES.forEach((name, index) => {
    const specs: readonly ArgSpec[] = KERNEL_TABLE[name].args;
    const lenArg = specs.findIndex((s) => 'size' in s && s.size === 'len');
    const geomArg = specs.findIndex((s) => s.kind === 'geom');
    const buffers = specs.flatMap((s, i) => (s.kind === 'f32' || s.kind === 'i32' || s.kind === 'u8' || s.kind === 'f64' || s.kind === 'draw' ? [i] : []));
    const writes = new Set(buffers.filter((i) => 'io' in specs[i] && (specs[i] as { io: string }).io === 'out'));
    // saved indexes are checked here as the native binder does (the thunk trusts them)
    const indexChecks = specs.flatMap((s, i) => (s.kind === 'i32' && s.indexesInto
      ? [{ at: i, into: specs.findIndex((o) => o.name === s.indexesInto), images: geomArg >= 0 ? -1 : specs.findIndex((o) => o.name === 'n') }]
      : []));

    kernels[name] = (...args: unknown[]) => {
      for (const c of indexChecks) {
        const idx = args[c.at] as Int32Array;
        const images = c.images < 0 ? (args[geomArg] as { packed: Int32Array }).packed[0] : (args[c.images] as number);
        const perIn = (args[c.into] as View).length / images;
        const perOut = idx.length / images;
        for (let k = 0; k < idx.length; k++) {
          const img = Math.floor(k / perOut);
          if (!(idx[k] >= img * perIn && idx[k] < (img + 1) * perIn)) {
            throw new RangeError(`${name}: ${specs[c.at].name}[${k}] = ${idx[k]} does not point into its image (indices ${img * perIn}..${(img + 1) * perIn - 1})`);
          }
        }
      }
      // lay the buffers out in the arena: one copy per distinct view
      const place = new Map<number, number>();
      const seen: { view: View; offset: number }[] = [];
      let total = 0;
      for (const i of buffers) {
        const v = args[i] as View | null;
        if (!v) continue;
        const same = seen.find((s) => s.view.buffer === v.buffer && s.view.byteOffset === v.byteOffset && s.view.byteLength === v.byteLength);
        if (same) {
          place.set(i, same.offset);
        } else {
          seen.push({ view: v, offset: total });
          place.set(i, total);
          total += align64(v.byteLength);
        }
      }
      const base = reserve(total);
      const mem = x.memory.buffer;
      const heap = new Uint8Array(mem);
      for (const s of seen) heap.set(new Uint8Array(s.view.buffer, s.view.byteOffset, s.view.byteLength), base + s.offset);
      const vals = new DataView(mem, argsPtr, 8 * 16);
      specs.forEach((s, i) => {
        const a = args[i];
        const at = 8 * i;
        switch (s.kind) {
          case 'f32': case 'i32': case 'u8': case 'f64': case 'draw':
            vals.setUint32(at, a == null ? 0 : base + place.get(i)!, true);
            break;
          case 'num': vals.setFloat64(at, a as number, true); break;
          case 'int': vals.setInt32(at, a as number, true); break;
          case 'bool': vals.setInt32(at, a ? 1 : 0, true); break;
          case 'fused': vals.setInt32(at, a === 'relu' ? 1 : 0, true); break;
          case 'enum': vals.setInt32(at, s.values.indexOf(a as string), true); break;
          case 'geom': new Int32Array(mem, geomPtr, 13).set((a as { packed: Int32Array }).packed); break;
        }
      });
      const len = lenArg >= 0 ? (args[lenArg] as View).length : 0;
      const result = x.fl_wasm_call(index, len);
      if (x.fl_wasm_oom()) throw new BackendError(`${name}: the wasm kernels are out of memory for scratch buffers`);
      const after = new Uint8Array(x.memory.buffer); // the kernel may have grown memory (scratch)
      for (const i of writes) {
        const v = args[i] as View | null;
        if (!v) continue;
        new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(after.subarray(base + place.get(i)!, base + place.get(i)! + v.byteLength));
      }
      return result;
    };
  });
  return kernels as unknown as Kernels;
}

/** How a multi-threaded module (./threads.ts) reports and sets its kernel threads. */
export interface WasmThreading {
  threads(): number;
  setThreads(n: number): void;
}

/**
 * The wasm backend over an instance of native/wasm.c (see instantiateWasmKernels); `threading`
 * is given by ./threads.ts for fitlab-threads.wasm (whose instance's exports must then include
 * the imported shared memory as `memory`).
 */
export function createWasmBackendFrom(instance: WasmInstance, threading?: WasmThreading): WasmBackend {
  const x = instance.exports as unknown as WasmExports;
  const backend = checkedBackend(wasmKernels(x), {
    name: 'wasm',
    isa: () => 'wasm-simd128',
    threads: threading ? () => threading.threads() : () => 1,
    setThreads: threading ? (n) => threading.setThreads(n) : (n) => {
      if (n !== 1) throw new BackendError(`threads must be 1 on the wasm backend (it is single-threaded); received ${n}`);
    },
    alloc: (n) => new Float32Array(n),
  });
  const extra: Pick<WasmBackend, 'peakGflops'> = {
    peakGflops: (iterations = 3e7, now = () => performance.now()) => {
      const t0 = now();
      const flops = x.fl_wasm_peak(iterations);
      return flops / ((now() - t0) / 1000) / 1e9;
    },
  };
  return Object.assign(backend, extra);
}
