/**
 * Argument validation shared by every backend, derived from the signature table (kernels.ts):
 * the same call is refused with the same typed error whichever backend runs it. Checks are
 * O(1) except label range checks (O(rows)). The native addon checks buffer sizes again in C, so
 * a direct call cannot crash the process.
 *
 * Each kernel's checks are compiled once into a list of steps, run in this order: integers, the
 * geometry and the buffer that sets the shared length (sizes are computed from them),
 * enumerations, input buffers, output buffers (so a wrong geometry is reported on the input it
 * disagrees with), scalars, then the relations between arguments (a buffer needed by a scalar,
 * labels in range, no overlap).
 */
import { ArgumentError, ShapeError, describe } from '../errors.js';
import type { Backend, BackendName, F32, Kernels } from './backend.js';
import type { ConvGeometry, WindowGeometry } from './geometry.js';
import type { ArgSpec, KernelName, KernelSpec, Size } from './kernels.js';
import { KERNEL_NAMES, KERNEL_TABLE } from './kernels.js';

type Args = unknown[];
type Step = (args: Args) => void;

function dim(kernel: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new ArgumentError(`${kernel}: ${name} must be an integer ≥ 1; received ${describe(value)}`);
  }
  return value;
}

function finite(kernel: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(`${kernel}: ${name} must be a finite number; received ${describe(value)}`);
  }
  return value;
}

const GEOMETRY_FIELDS = ['n', 'h', 'w', 'c', 'kh', 'kw', 'f', 'sh', 'sw', 'padTop', 'padLeft', 'oh', 'ow'] as const;

/**
 * A geometry must come from convGeometry()/poolGeometry() unchanged: the packed array agrees
 * with the fields, sizes are positive, and every window touches the input (the same rules the
 * native binding enforces).
 */
function geometry(kernel: string, g: WindowGeometry & { packed?: Int32Array; f?: number }): void {
  if (!g || !(g.packed instanceof Int32Array) || g.packed.length !== 13) {
    throw new ArgumentError(`${kernel}: geometry must come from convGeometry()/poolGeometry(); received ${describe(g)}`);
  }
  const fields = g as unknown as Record<string, number>;
  GEOMETRY_FIELDS.forEach((name, i) => {
    const value = name === 'f' ? (g.f ?? g.c) : fields[name];
    const min = name === 'padTop' || name === 'padLeft' ? 0 : 1;
    if (!Number.isInteger(value) || value < min || g.packed?.[i] !== value) {
      throw new ArgumentError(`${kernel}: geometry.${name} is ${describe(value)} (packed ${g.packed?.[i]}); it must be an integer ≥ ${min} matching the packed array — build geometries with convGeometry()/poolGeometry()`);
    }
  });
  if (g.padTop >= g.kh || g.padLeft >= g.kw || (g.oh - 1) * g.sh - g.padTop >= g.h || (g.ow - 1) * g.sw - g.padLeft >= g.w) {
    throw new ArgumentError(`${kernel}: geometry does not describe windows inside the input (output ${g.oh}x${g.ow} from ${g.h}x${g.w} with window ${g.kh}x${g.kw}, stride ${g.sh}x${g.sw}, padding ${g.padTop},${g.padLeft})`);
  }
}

/** A buffer's expected length, and how a message spells it (built only when a check fails). */
interface Expect {
  n: (args: Args) => number;
  shape: (args: Args) => string;
}

function sizeOf(spec: KernelSpec, size: Size, lenArg: number, index: (name: string) => number): Expect | null {
  if (size === 'custom') return null;
  if (size === 'len') {
    const first = spec.args[lenArg].name;
    return { n: (args) => (args[lenArg] as { length?: number } | null)?.length ?? 0, shape: () => `${first}.length` };
  }
  if (typeof size === 'string') {
    const g = index('g');
    const pool = (spec.args[g] as { of?: string }).of === 'pool';
    const q = (args: Args): ConvGeometry => args[g] as ConvGeometry;
    const f = (args: Args): number => (pool ? q(args).c : q(args).f);
    switch (size) {
      case 'geom.x': return {
        n: (args) => { const v = q(args); return v.n * v.h * v.w * v.c; },
        shape: (args) => { const v = q(args); return `n·h·w·c = ${v.n}·${v.h}·${v.w}·${v.c}`; },
      };
      case 'geom.y': return {
        n: (args) => { const v = q(args); return v.n * v.oh * v.ow * f(args); },
        shape: (args) => { const v = q(args); return `n·oh·ow·${pool ? 'c' : 'f'} = ${v.n}·${v.oh}·${v.ow}·${f(args)}`; },
      };
      case 'geom.w': return {
        n: (args) => { const v = q(args); return v.kh * v.kw * v.c * v.f; },
        shape: (args) => { const v = q(args); return `kh·kw·c·f = ${v.kh}·${v.kw}·${v.c}·${v.f}`; },
      };
      default: return { n: (args) => q(args).f, shape: () => 'f' };
    }
  }
  let constant = 1;
  const dims: number[] = [];
  for (const t of size) {
    if (typeof t === 'number') constant *= t;
    else dims.push(index(t));
  }
  const shape = size.join('·');
  return {
    n: (args) => {
      let n = constant;
      for (const d of dims) n *= args[d] as number;
      return n;
    },
    shape: () => shape,
  };
}

const TYPED: Record<string, [new (n: number) => ArrayLike<number>, string]> = {
  f32: [Float32Array, 'a Float32Array'],
  i32: [Int32Array, 'an Int32Array'],
  u8: [Uint8Array, 'a Uint8Array'],
};

/** The check steps of one kernel, compiled from its table entry. */
function compile(kernel: KernelName, spec: KernelSpec): Step[] {
  const index = (name: string): number => {
    const i = spec.args.findIndex((a) => a.name === name);
    if (i < 0) throw new Error(`kernel table: ${kernel} has no argument ${name}`);
    return i;
  };
  const lenArg = spec.args.findIndex((a) => 'size' in a && a.size === 'len');
  const act = spec.args.findIndex((a) => a.kind === 'fused');
  const early: Step[] = [];
  const enums: Step[] = [];
  const inputs: Step[] = [];
  const outputs: Step[] = [];
  const scalars: Step[] = [];
  const relations: Step[] = [];

  spec.args.forEach((a: ArgSpec, i) => {
    switch (a.kind) {
      case 'int': early.push((args) => void dim(kernel, a.name, args[i])); break;
      case 'geom': early.push((args) => geometry(kernel, args[i] as ConvGeometry)); break;
      case 'bool': early.push((args) => { args[i] = !!args[i]; }); break;
      case 'fused':
        enums.push((args) => {
          if (args[i] !== 'linear' && args[i] !== 'relu') {
            throw new ArgumentError(`${kernel}: fused activation must be 'linear' or 'relu'; received ${describe(args[i])}`);
          }
        });
        break;
      case 'enum':
        enums.push((args) => {
          if (!a.values.includes(args[i] as string)) throw new ArgumentError(`${kernel}: ${a.label} must be ${a.allowed}; received ${describe(args[i])}`);
        });
        break;
      case 'num':
        scalars.push((args) => {
          const v = finite(kernel, a.name, args[i]);
          if (a.range) {
            const [lo, hi, end] = a.range;
            if (v < lo || (end === 'open' ? v >= hi : v > hi)) {
              throw new ArgumentError(`${kernel}: ${a.name} must be in [${lo}, ${hi}${end === 'open' ? ')' : ']'}; received ${v}`);
            }
          }
        });
        break;
      case 'draw':
        inputs.push((args) => {
          const d = args[i];
          if (!(d instanceof Uint32Array) || d.length !== 6) {
            throw new ArgumentError(`${kernel}: draw must be a Uint32Array(6) from a RandomStream; received ${describe(d)}`);
          }
        });
        break;
      case 'f64': {
        const want = sizeOf(spec, a.size, lenArg, index) as Expect;
        inputs.push((args) => {
          const n = want.n(args);
          if (!(args[i] instanceof Float64Array) || args[i].length !== n) {
            throw new ArgumentError(`${kernel}: ${a.name} must be a Float64Array of ${want.shape(args)} = ${n} numbers; received ${describe(args[i])}`);
          }
        });
        break;
      }
      case 'f32': case 'i32': case 'u8': {
        const [type, article] = TYPED[a.kind];
        const want = i === lenArg ? null : sizeOf(spec, a.size, lenArg, index);
        const nullable = a.kind === 'f32' ? a.nullable : undefined;
        const buffers = i === lenArg ? early : a.io === 'in' ? inputs : outputs;
        buffers.push((args) => {
          const buf = args[i];
          if (buf === null && (nullable === true || (nullable === 'linear' && args[act] !== 'relu'))) return;
          if (nullable === 'linear' && args[act] !== 'relu') return; // y is not read without relu
          if (!(buf instanceof type)) throw new ArgumentError(`${kernel}: ${a.name} must be ${article}; received ${describe(buf)}`);
          if (!want) return;
          const n = want.n(args);
          if (buf.length !== n) {
            const what = a.kind === 'u8' ? `${n}` : `${want.shape(args)} = ${n}`;
            throw new ShapeError(`${kernel}: ${a.name} must have ${what} elements; received ${buf.length}`);
          }
        });
        if (a.kind === 'f32' && a.neededWhen) {
          const { arg, what } = a.neededWhen;
          const s = index(arg);
          relations.push((args) => {
            if ((args[s] as number) > 0 && !args[i]) throw new ArgumentError(`${kernel}: ${arg} ${args[s] as number} needs ${what}; received null`);
          });
        }
        if (a.kind === 'f32' && a.distinctFrom) {
          const other = index(a.distinctFrom);
          const name = a.distinctFrom;
          relations.push((args) => {
            const [y, x] = [args[i] as F32, args[other] as F32];
            if (y.buffer === x.buffer && y.byteOffset < x.byteOffset + x.byteLength && x.byteOffset < y.byteOffset + y.byteLength) {
              throw new ArgumentError(`${kernel}: ${a.name} must not overlap ${name}`);
            }
          });
        }
        if (a.kind === 'i32' && a.classesOf) {
          const cols = index(a.classesOf);
          relations.push((args) => {
            const labels = args[i] as Int32Array;
            const c = args[cols] as number;
            for (let r = 0; r < labels.length; r++) {
              const l = labels[r];
              if (l < 0 || l >= c) throw new ArgumentError(`${kernel}: ${a.name}[${r}] must be a class index in [0, ${c - 1}]; received ${l}`);
            }
          });
        }
        break;
      }
    }
  });
  if (spec.extra === 'gemm') relations.push(gemmShapes);
  return [...early, ...enums, ...inputs, ...outputs, ...scalars, ...relations];
}

/** gemm's buffers are strided matrices: each must hold (rows − 1)·ld + cols elements. */
function gemmShapes(args: Args): void {
  const [transA, transB, m, n, k, , a, lda, b, ldb, , c, ldc] = args as [boolean, boolean, number, number, number, number, F32, number, F32, number, number, F32, number];
  const aCols = transA ? m : k;
  const bCols = transB ? k : n;
  if (lda < aCols) throw new ArgumentError(`gemm: lda must be ≥ ${aCols}; received ${lda}`);
  if (ldb < bCols) throw new ArgumentError(`gemm: ldb must be ≥ ${bCols}; received ${ldb}`);
  if (ldc < n) throw new ArgumentError(`gemm: ldc must be ≥ ${n}; received ${ldc}`);
  const need = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;
  for (const [name, buf, rows, cols, ld] of [
    ['a', a, transA ? k : m, aCols, lda], ['b', b, transB ? n : k, bCols, ldb], ['c', c, m, n, ldc],
  ] as const) {
    if (buf.length < need(rows, cols, ld)) {
      throw new ShapeError(`gemm: ${name} must hold at least ${need(rows, cols, ld)} elements (${rows}×${cols}, leading dimension ${ld}); received ${buf.length}`);
    }
  }
}

export interface BackendInfo {
  name: BackendName;
  isa: () => string;
  threads: () => number;
  setThreads: (n: number) => void;
  alloc: (n: number) => F32;
}

/** Wrap raw kernels with validation; the result is a full Backend. */
export function checkedBackend(raw: Kernels, info: BackendInfo): Backend {
  const k: Record<string, (...args: Args) => unknown> = {};
  for (const name of KERNEL_NAMES) {
    const steps = compile(name, KERNEL_TABLE[name]);
    const run = raw[name] as (...args: Args) => unknown;
    // a saved index that points outside its image is found by the backend (RangeError): typed here
    const indexes = KERNEL_TABLE[name].args.some((a) => a.kind === 'i32' && 'indexesInto' in a);
    k[name] = indexes
      ? (...args) => {
        for (const step of steps) step(args);
        try {
          return run(...args);
        } catch (err) {
          if (err instanceof RangeError) throw new ArgumentError(err.message);
          throw err;
        }
      }
      : (...args) => {
        for (const step of steps) step(args);
        return run(...args);
      };
  }
  // defineProperties, not Object.assign: isa and threads must stay live getters
  return Object.defineProperties(k, {
    name: { value: info.name, enumerable: true },
    isa: { get: info.isa, enumerable: true },
    threads: { get: info.threads, enumerable: true },
    setThreads: { value: info.setThreads },
    alloc: { value: info.alloc },
  }) as unknown as Backend;
}
