/**
 * The WebAssembly backend: the C kernels of native/ compiled for wasm32 with SIMD128
 * (scripts/build-wasm.cjs), driven by the signature table (kernels.ts) through one C entry,
 * fl_wasm_call (native/wasm.c). Single-threaded here; ./threads.ts runs fitlab-threads.wasm.
 *
 * This file imports no Node module: it receives the .wasm bytes (or a compiled module), so a
 * browser can use it; ./index.ts is the thin Node wrapper that reads dist/wasm/fitlab.wasm.
 *
 * Design (issue 21, "Measure"): tensors live in the module's memory, so kernel calls copy nothing.
 * - `alloc` returns Float32Array views into the module's memory (malloc'd, 64-byte aligned,
 *   freed by a FinalizationRegistry when the view is collected). A call passes an argument that
 *   is a view of this memory as its byte offset; any other buffer (a JS array, labels, a
 *   SharedArrayBuffer batch) is copied into an arena in the memory and, when the kernel writes
 *   it, copied back. Arguments that are the same view share one copy, so in-place calls ("y may
 *   alias x") behave as on the native backend; views of the memory alias exactly as native ones.
 * - Views must never detach. A non-shared memory's ArrayBuffer is detached by memory.grow, so
 *   fitlab.wasm imports its memory and instantiateWasmKernels makes it with initial = maximum
 *   (`memoryBytes`, 1 GiB by default): wasi-libc's malloc adopts all of it at its first call and
 *   memory.grow can only fail (malloc returns NULL: an out-of-memory BackendError naming the
 *   size). A shared memory (fitlab-threads.wasm) grows without detaching: old views keep their
 *   range; each new memory.buffer object is remembered as the same memory.
 * - alloc stays below 3/4 of the memory (the rest is for kernel scratch and the copy arena);
 *   beyond that, or when malloc fails, it returns an ordinary Float32Array, which is copied per
 *   call as before: slower, never wrong. A module with its own memory (an old build) gets no
 *   views at all.
 * Gotchas: a subarray of a view does not keep the view alive, so alloc's views are a subclass
 * whose subarray() holds its parent (code that rebuilds a view from .buffer must hold the
 * original); and `.buffer` of a view is the whole memory: postMessage or structuredClone of a
 * view clones all of it — post a copy (Float32Array.from / slice).
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
interface MemoryLimits { initial: number; maximum?: number; shared?: boolean }
interface ModuleImport { module: string; name: string; kind: string }
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WasmModule {}
export interface WasmInstance { readonly exports: object }
type Imports = Record<string, Record<string, ((...args: number[]) => number | void) | WasmMemory>>;
type Bytes = ArrayBuffer | ArrayBufferView;
interface WasmApi {
  Module: (new (bytes: Bytes) => WasmModule) & { imports(module: WasmModule): ModuleImport[] };
  Memory: new (limits: MemoryLimits) => WasmMemory;
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
  /** Whether alloc gives views of the module's memory, which calls pass without copying (see the top of core.ts). */
  readonly zeroCopy: boolean;
  /** Bytes copied into and out of the module's memory by kernel calls so far (arguments that were not views of it). */
  copiedBytes(): number;
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

/** Options of instantiateWasmKernels. */
export interface WasmMemoryOptions {
  /**
   * Bytes of memory for a module that imports its memory (fitlab.wasm): fixed for the instance's
   * life, holding the tensors alloc makes, kernel scratch and copies. Default 1 GiB; rounded up
   * to 64 KiB pages; when the host refuses that much, half of it is tried, down to 64 MiB.
   */
  memoryBytes?: number;
}

const PAGE = 65536;
const DEFAULT_MEMORY = 2 ** 30;
const MIN_MEMORY = 64 * 2 ** 20;
/** Memories made here with initial = maximum: they never grow, so views of them never detach. */
const fixedMemories = new WeakSet<WasmMemory>();

/** A memory of `bytes` that cannot grow (or less, down to MIN_MEMORY, when the host refuses). */
function fixedMemory(bytes = DEFAULT_MEMORY): WasmMemory {
  if (!(Number.isFinite(bytes) && bytes >= MIN_MEMORY && bytes <= 2 ** 32)) {
    throw new BackendError(`memoryBytes must be a number in [${MIN_MEMORY}, ${2 ** 32}] (64 MiB to 4 GiB); received ${bytes}`);
  }
  for (let pages = Math.ceil(bytes / PAGE); ; pages = Math.ceil(pages / 2)) {
    try {
      const memory = new (api().Memory)({ initial: pages, maximum: pages });
      fixedMemories.add(memory);
      return memory;
    } catch (err) {
      if (pages * PAGE <= MIN_MEMORY) throw new BackendError(`the wasm kernels' memory could not be made (${pages * PAGE} bytes): ${(err as Error).message}`);
    }
  }
}

/** The imports, and the memory this module imports (made here), if it imports one. */
function importsFor(module: WasmModule, options: WasmMemoryOptions): { imports: Imports; holder: { mem?: WasmMemory } } {
  const holder: { mem?: WasmMemory } = {}; // the imports read the memory once it exists
  const imports = wasiImports(() => holder.mem!);
  if (api().Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory')) {
    holder.mem = fixedMemory(options.memoryBytes);
    imports.env = { memory: holder.mem };
  }
  return { imports, holder };
}

/** The instance as the backend reads it: its exports, with the memory it imported. */
function withMemory(instance: WasmInstance, holder: { mem?: WasmMemory }): WasmInstance {
  const own = (instance.exports as { memory?: WasmMemory }).memory;
  holder.mem = own ?? holder.mem;
  return own ? instance : { exports: { ...instance.exports, memory: holder.mem } };
}

/** Instantiate synchronously (Node, or a browser worker); `source` is the .wasm bytes or module. */
export function instantiateWasmKernels(source: Bytes | WasmModule, options: WasmMemoryOptions = {}): WasmInstance {
  const module = source instanceof api().Module ? source : new (api().Module)(source);
  const { imports, holder } = importsFor(module, options);
  return withMemory(new (api().Instance)(module, imports), holder);
}

/** Instantiate asynchronously (a browser's main thread refuses to compile large modules synchronously). */
export async function instantiateWasmKernelsAsync(source: Bytes | WasmModule, options: WasmMemoryOptions = {}): Promise<WasmInstance> {
  const module = source instanceof api().Module ? source : await api().compile(source);
  const { imports, holder } = importsFor(module, options);
  return withMemory(await api().instantiate(module, imports), holder);
}

function cString(memory: WasmMemory, ptr: number): string {
  const bytes = new Uint8Array(memory.buffer, ptr);
  const end = bytes.indexOf(0);
  // slice, not subarray: browsers' TextDecoder refuses views of a shared memory (threads.ts)
  return new TextDecoder().decode(bytes.slice(0, end));
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** The module's memory as the call path sees it. */
interface MemoryTracker {
  /** The memory's current ArrayBuffer (a shared memory's is a new object after each grow). */
  current(): ArrayBufferLike;
  /** Whether `buffer` is this memory, so a view of it is passed by offset (always false without zero-copy). */
  holds(buffer: ArrayBufferLike): boolean;
}

function trackMemory(memory: WasmMemory, zeroCopy: boolean): MemoryTracker {
  let last: ArrayBufferLike = memory.buffer;
  const seen = new WeakSet<ArrayBufferLike>([last]);
  const current = (): ArrayBufferLike => {
    const b = memory.buffer;
    if (b !== last) {
      last = b;
      seen.add(b);
    }
    return b;
  };
  return {
    current,
    holds: (buffer) => zeroCopy && (buffer === last || seen.has(buffer) || buffer === current()),
  };
}

const MEMORY_HINT = 'give the wasm backend more memory (instantiateWasmKernels(bytes, { memoryBytes }), up to 4 GiB) or train with a smaller batch';

const isShared = (memory: WasmMemory): boolean =>
  typeof SharedArrayBuffer !== 'undefined' && (memory.buffer as ArrayBufferLike) instanceof SharedArrayBuffer;

/** What keeps a subarray's parent view (and so its malloc'd block) alive: child → parent. */
const parents = new WeakMap<Float32Array, Float32Array>();

/** alloc's views of the module's memory: a subarray holds its parent, as a subarray of an ordinary array holds its buffer. */
class WasmFloat32Array extends Float32Array<ArrayBufferLike> {
  // map, slice, filter… give ordinary arrays (copies)
  static get [Symbol.species](): Float32ArrayConstructor {
    return Float32Array;
  }

  override subarray(begin?: number, end?: number): Float32Array<ArrayBufferLike> {
    const plain = super.subarray(begin, end);
    const view = new WasmFloat32Array(plain.buffer, plain.byteOffset, plain.length);
    parents.set(view, this);
    return view;
  }
}

/** The largest share of the memory alloc hands out; the rest is kernel scratch and the copy arena. */
const ALLOC_SHARE = 0.75;
/** A shared memory's limit, for the share above: fitlab-threads.wasm's (scripts/build-wasm.cjs). */
const SHARED_MEMORY_MAX = 2 ** 31;

/**
 * alloc for a memory whose views never detach: zeroed views of malloc'd blocks, freed when the
 * view (and every subarray of it) has been collected; an ordinary array once the share is used
 * up or malloc fails (it is then copied per call).
 */
function viewAllocator(x: WasmExports, mem: MemoryTracker): (n: number) => Float32Array {
  const limit = ALLOC_SHARE * (isShared(x.memory) ? SHARED_MEMORY_MAX : mem.current().byteLength);
  let live = 0;
  const blocks = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => {
    x.fl_wasm_free(ptr);
    live -= bytes;
  });
  return (n) => {
    const bytes = align64(Math.max(1, n) * 4);
    if (live + bytes > limit) return new Float32Array(n);
    const ptr = x.fl_wasm_alloc(bytes);
    if (!ptr) return new Float32Array(n);
    live += bytes;
    const view = new WasmFloat32Array(mem.current(), ptr, n);
    view.fill(0);
    blocks.register(view, { ptr, bytes });
    return view;
  };
}

/** The kernels over one instance; checks that the module was built from this signature table. */
function wasmKernels(x: WasmExports, mem: MemoryTracker, copiedBytes: { bytes: number }): Kernels {
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

  /** An arena of at least `bytes` for the copied arguments; it only grows. */
  function reserve(bytes: number): number {
    if (bytes <= arenaBytes) return arena;
    if (arena) x.fl_wasm_free(arena);
    arenaBytes = 0;
    const want = align64(bytes + (bytes >> 2));
    arena = x.fl_wasm_alloc(want);
    if (!arena) throw new BackendError(`the wasm kernels are out of memory (${want} bytes asked for copies of arguments; the memory holds ${mem.current().byteLength} bytes)`, MEMORY_HINT);
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
      // views of the memory are passed as they are; the others get one arena copy per distinct view
      const place = new Map<number, number>(); // argument → byte offset in the memory
      const copies = new Map<number, number>(); // argument → offset in the arena
      const seen: { view: View; offset: number }[] = [];
      let total = 0;
      for (const i of buffers) {
        const v = args[i] as View | null;
        if (!v) continue;
        if (mem.holds(v.buffer)) {
          place.set(i, v.byteOffset);
          continue;
        }
        const same = seen.find((s) => s.view.buffer === v.buffer && s.view.byteOffset === v.byteOffset && s.view.byteLength === v.byteLength);
        if (same) {
          copies.set(i, same.offset);
        } else {
          seen.push({ view: v, offset: total });
          copies.set(i, total);
          total += align64(v.byteLength);
        }
      }
      if (seen.length > 0) {
        const base = reserve(total);
        const heap = new Uint8Array(mem.current()); // after reserve: a shared memory may have grown
        for (const s of seen) heap.set(new Uint8Array(s.view.buffer, s.view.byteOffset, s.view.byteLength), base + s.offset);
        copiedBytes.bytes += total;
        for (const [i, at] of copies) place.set(i, base + at);
      }
      const buf = mem.current();
      const vals = new DataView(buf, argsPtr, 8 * 16);
      specs.forEach((s, i) => {
        const a = args[i];
        const at = 8 * i;
        switch (s.kind) {
          case 'f32': case 'i32': case 'u8': case 'f64': case 'draw':
            vals.setUint32(at, a == null ? 0 : place.get(i)!, true);
            break;
          case 'num': vals.setFloat64(at, a as number, true); break;
          case 'int': vals.setInt32(at, a as number, true); break;
          case 'bool': vals.setInt32(at, a ? 1 : 0, true); break;
          case 'fused': vals.setInt32(at, a === 'relu' ? 1 : 0, true); break;
          case 'enum': vals.setInt32(at, s.values.indexOf(a as string), true); break;
          case 'geom': new Int32Array(buf, geomPtr, 13).set((a as { packed: Int32Array }).packed); break;
        }
      });
      const len = lenArg >= 0 ? (args[lenArg] as View).length : 0;
      const result = x.fl_wasm_call(index, len);
      if (x.fl_wasm_oom()) throw new BackendError(`${name}: the wasm kernels are out of memory for scratch buffers (the memory holds ${mem.current().byteLength} bytes)`, MEMORY_HINT);
      if (seen.length > 0) {
        const after = new Uint8Array(mem.current()); // the kernel may have grown a shared memory (scratch)
        for (const i of writes) {
          const at = copies.get(i);
          if (at === undefined) continue;
          const v = args[i] as View;
          const from = place.get(i)!;
          new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(after.subarray(from, from + v.byteLength));
          copiedBytes.bytes += v.byteLength;
        }
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
  const zeroCopy = isShared(x.memory) || fixedMemories.has(x.memory);
  const mem = trackMemory(x.memory, zeroCopy);
  const copied = { bytes: 0 };
  const backend = checkedBackend(wasmKernels(x, mem, copied), {
    name: 'wasm',
    isa: () => 'wasm-simd128',
    threads: threading ? () => threading.threads() : () => 1,
    setThreads: threading ? (n) => threading.setThreads(n) : (n) => {
      if (n !== 1) throw new BackendError(`threads must be 1 on the wasm backend (it is single-threaded); received ${n}`);
    },
    alloc: zeroCopy ? viewAllocator(x, mem) : (n) => new Float32Array(n),
  });
  const extra: Pick<WasmBackend, 'peakGflops' | 'zeroCopy' | 'copiedBytes'> = {
    zeroCopy,
    copiedBytes: () => copied.bytes,
    peakGflops: (iterations = 3e7, now = () => performance.now()) => {
      const t0 = now();
      const flops = x.fl_wasm_peak(iterations);
      return flops / ((now() - t0) / 1000) / 1e9;
    },
  };
  return Object.assign(backend, extra);
}
