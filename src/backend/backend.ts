/**
 * The Backend interface: the one narrow seam between fitlab's TypeScript and its compute.
 *
 * Two implementations exist: `reference` (TypeScript loops, the living spec and fallback) and
 * `native` (C kernels behind N-API). Both receive the same validated arguments; the shared
 * conformance suite (test/backend/kernel-suite.ts) holds the native one to the reference.
 *
 * Conventions (STYLE.md §1):
 * - Argument order: outputs, saved buffers, inputs/weights, then dimensions and scalars.
 * - Tensors are NHWC float32, row-major; labels are Int32Array; dense weights are (in, out) and
 *   conv weights (kh, kw, cin, cout), the Keras layouts.
 * - Outputs are overwritten unless a kernel says it accumulates (`axpy`, `penaltyGrad`).
 * - A gradient output passed as `null` is not computed (a frozen layer needs no `dw`, the first
 *   layer needs no `dx`).
 */
import type { ConvGeometry, PoolGeometry } from './geometry.js';
import type { ArgSpec, KERNEL_TABLE } from './kernels.js';

export type {
  ElementwiseActivation, FillMode, FusedActivation, Interpolation, KernelName,
} from './kernels.js';
export { ELEMENTWISE_ACTIVATIONS, FILL_MODES, INTERPOLATIONS } from './kernels.js';

export type F32 = Float32Array;
export type I32 = Int32Array;

/**
 * A draw from the PRNG for a kernel that samples in place (dropout):
 * [key0, key1, stream0, stream1, startBlockLo, startBlockHi], see src/tensor/prng.ts.
 */
export type RandomDraw = Uint32Array;

/** The TypeScript type of one argument of the signature table. */
type ArgType<A extends ArgSpec> =
  A extends { kind: 'f32'; nullable: true | 'linear' } ? F32 | null
    : A extends { kind: 'f32' } ? F32
      : A extends { kind: 'i32' } ? I32
        : A extends { kind: 'u8' } ? Uint8Array
          : A extends { kind: 'f64' } ? Float64Array
            : A extends { kind: 'draw' } ? RandomDraw
              : A extends { kind: 'bool' } ? boolean
                : A extends { kind: 'fused' } ? 'linear' | 'relu'
                  : A extends { kind: 'enum'; values: readonly (infer V)[] } ? V
                    : A extends { kind: 'geom'; of: 'conv' } ? ConvGeometry
                      : A extends { kind: 'geom'; of: 'pool' } ? PoolGeometry
                        : number;

type ArgTypes<Args extends readonly ArgSpec[]> = { -readonly [I in keyof Args]: ArgType<Args[I]> };

/**
 * The kernels, derived from the signature table in kernels.ts (which documents each one): a
 * method per entry, its parameters in table order. Every method validates its arguments
 * (ShapeError / ArgumentError, see checked.ts).
 */
export type Kernels = {
  [K in keyof typeof KERNEL_TABLE]: (
    ...args: ArgTypes<(typeof KERNEL_TABLE)[K]['args']>
  ) => (typeof KERNEL_TABLE)[K]['returns'] extends 'number' ? number : void;
};

export type BackendName = 'reference' | 'native' | 'wasm';

/** A compute backend: buffers, thread control and the kernels. */
export interface Backend extends Kernels {
  readonly name: BackendName;
  /** Instruction set the kernels dispatched to ('avx512', 'avx2', 'generic', 'wasm-simd128' or 'js'). */
  readonly isa: string;
  /** Threads used inside kernels. */
  readonly threads: number;
  setThreads(threads: number): void;
  /** A zeroed float32 buffer (64-byte aligned on the native backend). */
  alloc(length: number): F32;
}
