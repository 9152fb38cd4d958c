/**
 * Affine warp of NHWC images with TensorFlow's fill modes — the reference implementation used
 * by the augmentation layers (the native kernel must match it).
 *
 * The transform maps OUTPUT pixel coordinates to INPUT coordinates (inverse mapping):
 *   xin = m[0]·x + m[1]·y + m[2],  yin = m[3]·x + m[4]·y + m[5]
 * Coordinates outside the image are folded back per fill mode (on the float coordinate, as TF
 * does): reflect (d c b a | a b c d | d c b a), wrap, nearest (clamp), or constant (cval).
 */
import type { FillMode, Interpolation } from '../backend/backend.js';

export { FILL_MODES, INTERPOLATIONS, type FillMode, type Interpolation } from '../backend/backend.js';

/** Fold a float coordinate into [0, len-1] per fill mode; NaN means "outside" (constant). */
export function mapCoordinate(v: number, len: number, mode: FillMode): number {
  if (mode === 'constant') return v < -0.5 || v > len - 0.5 ? Number.NaN : v;
  if (len <= 1) return 0;
  if (mode === 'nearest') return Math.min(Math.max(v, 0), len - 1);
  if (mode === 'wrap') {
    const period = len;
    let r = v % period;
    if (r < -0.5) r += period;
    return r > len - 0.5 ? r - period : r;
  }
  // reflect about the outer edges of the border pixels: -1 → 0, -2 → 1, len → len-1
  const period = 2 * len;
  let r = (v + 0.5) % period;
  if (r < 0) r += period;
  r = r < len ? r : period - r;
  return Math.min(Math.max(r - 0.5, 0), len - 1);
}

function sample(src: Float32Array, h: number, w: number, c: number, base: number, yi: number, xi: number, ch: number, cval: number): number {
  if (yi < 0 || yi >= h || xi < 0 || xi >= w) return cval;
  return src[base + (yi * w + xi) * c + ch];
}

/** Warp one image (h, w, c) at src[base…] into dst[base…] with the 2×3 inverse matrix m. */
export function warpImage(
  dst: Float32Array, src: Float32Array, base: number, h: number, w: number, c: number,
  m: ArrayLike<number>, fill: FillMode, cval: number, interp: Interpolation,
): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xs = mapCoordinate(m[0] * x + m[1] * y + m[2], w, fill);
      const ys = mapCoordinate(m[3] * x + m[4] * y + m[5], h, fill);
      const o = base + (y * w + x) * c;
      if (Number.isNaN(xs) || Number.isNaN(ys)) {
        for (let ch = 0; ch < c; ch++) dst[o + ch] = cval;
        continue;
      }
      if (interp === 'nearest') {
        const xi = Math.round(xs);
        const yi = Math.round(ys);
        for (let ch = 0; ch < c; ch++) dst[o + ch] = sample(src, h, w, c, base, yi, xi, ch, cval);
        continue;
      }
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const fx = xs - x0;
      const fy = ys - y0;
      for (let ch = 0; ch < c; ch++) {
        const a = sample(src, h, w, c, base, y0, x0, ch, cval);
        const b = fx > 0 ? sample(src, h, w, c, base, y0, x0 + 1, ch, cval) : 0;
        const d = fy > 0 ? sample(src, h, w, c, base, y0 + 1, x0, ch, cval) : 0;
        const e = fx > 0 && fy > 0 ? sample(src, h, w, c, base, y0 + 1, x0 + 1, ch, cval) : 0;
        dst[o + ch] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
      }
    }
  }
}

/** 2×3 matrix composition helpers (output → input mapping). */
export type Affine = [number, number, number, number, number, number];

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** Inverse map of a rotation by `angle` radians (counter-clockwise as seen on screen) about the image centre. */
export function rotation(angle: number, h: number, w: number): Affine {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // y grows downward: a counter-clockwise turn on screen is clockwise in (x, y) maths coords.
  // inverse: rotate the output coordinate back by the same angle.
  return [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy];
}

/** Inverse map of a zoom: zy, zx are input/output size ratios (> 1 zooms out). */
export function zoom(zy: number, zx: number, h: number, w: number): Affine {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return [zx, 0, cx - zx * cx, 0, zy, cy - zy * cy];
}

/** Inverse map of a translation by (dy, dx) pixels (positive: content moves down/right). */
export function translation(dy: number, dx: number): Affine {
  return [1, 0, -dx, 0, 1, -dy];
}

/** Inverse map of a shear by `angle` radians (Keras ImageDataGenerator: x' = x − sin(a)·y). */
export function shear(angle: number, h: number, w: number): Affine {
  void w;
  const cy = (h - 1) / 2;
  return [1, -Math.sin(angle), Math.sin(angle) * cy, 0, Math.cos(angle), cy - Math.cos(angle) * cy];
}

/** Inverse map of a horizontal and/or vertical flip. */
export function flip(horizontal: boolean, vertical: boolean, h: number, w: number): Affine {
  return [horizontal ? -1 : 1, 0, horizontal ? w - 1 : 0, 0, vertical ? -1 : 1, vertical ? h - 1 : 0];
}

/** a∘b: first apply b's mapping, then a's (both output→input maps: in = a(b(out))). */
export function compose(a: Affine, b: Affine): Affine {
  return [
    a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}
