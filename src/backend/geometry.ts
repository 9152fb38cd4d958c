/**
 * Shapes of convolution and pooling windows, computed once when a layer is built and handed to
 * every kernel call. Padding follows TensorFlow: 'valid' uses no padding; 'same' gives
 * out = ceil(in / stride) and splits the total padding with the extra pixel at the bottom/right.
 */
import { ArgumentError, describe } from '../errors.js';

export type Padding = 'same' | 'valid';

/** Geometry of a 2-D window op on an NHWC batch. */
export interface WindowGeometry {
  /** batch, input height, width, channels */
  n: number;
  h: number;
  w: number;
  c: number;
  /** window (kernel or pool) height and width */
  kh: number;
  kw: number;
  /** strides */
  sh: number;
  sw: number;
  /** padding added at the top and left (bottom/right padding is implied by oh/ow) */
  padTop: number;
  padLeft: number;
  /** output height and width */
  oh: number;
  ow: number;
  padding: Padding;
}

/** Convolution geometry: a window geometry plus the number of filters. */
export interface ConvGeometry extends WindowGeometry {
  f: number;
  /** [n,h,w,c,kh,kw,f,sh,sw,padTop,padLeft,oh,ow] for the native kernels. */
  packed: Int32Array;
}

/** Pooling geometry; the channel count is unchanged. */
export interface PoolGeometry extends WindowGeometry {
  /** [n,h,w,c,kh,kw,c,sh,sw,padTop,padLeft,oh,ow] (same layout as conv, f = c). */
  packed: Int32Array;
}

function positiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${name} must be a positive integer; received ${describe(value)}`);
  }
  return value;
}

/** Output length and leading pad along one axis, TensorFlow conventions. */
export function windowAxis(
  size: number,
  window: number,
  stride: number,
  padding: Padding,
): { out: number; padBefore: number } {
  if (padding === 'valid') {
    return { out: size >= window ? Math.floor((size - window) / stride) + 1 : 0, padBefore: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

export interface WindowSpec {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padding: Padding;
}

function windowGeometry(spec: WindowSpec, what: string): WindowGeometry {
  const n = positiveInt(`${what} batch size`, spec.n);
  const h = positiveInt(`${what} input height`, spec.h);
  const w = positiveInt(`${what} input width`, spec.w);
  const c = positiveInt(`${what} input channels`, spec.c);
  const kh = positiveInt(`${what} window height`, spec.kh);
  const kw = positiveInt(`${what} window width`, spec.kw);
  const sh = positiveInt(`${what} stride height`, spec.sh);
  const sw = positiveInt(`${what} stride width`, spec.sw);
  if (spec.padding !== 'same' && spec.padding !== 'valid') {
    throw new ArgumentError(`${what} padding must be 'same' or 'valid'; received ${describe(spec.padding)}`);
  }
  const y = windowAxis(h, kh, sh, spec.padding);
  const x = windowAxis(w, kw, sw, spec.padding);
  if (y.out < 1 || x.out < 1) {
    throw new ArgumentError(
      `${what} window ${kh}x${kw} does not fit the ${h}x${w} input with 'valid' padding`,
      "use padding 'same' or a smaller window",
    );
  }
  return {
    n, h, w, c, kh, kw, sh, sw,
    padTop: y.padBefore,
    padLeft: x.padBefore,
    oh: y.out,
    ow: x.out,
    padding: spec.padding,
  };
}

function pack(g: WindowGeometry, f: number): Int32Array {
  return Int32Array.from([g.n, g.h, g.w, g.c, g.kh, g.kw, f, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow]);
}

/** Geometry of Conv2D with `f` filters of size kh×kw on an (n,h,w,c) input. */
export function convGeometry(spec: WindowSpec & { f: number }): ConvGeometry {
  const g = windowGeometry(spec, 'Conv2D');
  const f = positiveInt('Conv2D filters', spec.f);
  return { ...g, f, packed: pack(g, f) };
}

/** Geometry of a pooling window of kh×kw on an (n,h,w,c) input. */
export function poolGeometry(spec: WindowSpec): PoolGeometry {
  const g = windowGeometry(spec, 'Pooling2D');
  return { ...g, packed: pack(g, g.c) };
}
