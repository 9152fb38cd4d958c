/**
 * Reference affine warp of NHWC images with TensorFlow's fill modes — the oracle the native
 * kernel (native/augment.c) must match bit for bit. The matrices come from src/tensor/affine.ts.
 *
 * Each 2×3 matrix maps OUTPUT pixel coordinates to INPUT coordinates (inverse mapping):
 *   xin = m[0]·x + m[1]·y + m[2],  yin = m[3]·x + m[4]·y + m[5]
 * Coordinates outside the image are folded back per fill mode (on the float coordinate, as TF
 * does): reflect (d c b a | a b c d | d c b a), wrap, nearest (clamp), or constant (cval).
 */
import type { F32, FillMode, Interpolation } from '../backend.js';

export function affineWarp(
  y: F32, x: F32, matrices: Float64Array, n: number, h: number, w: number, c: number,
  fill: FillMode, cval: number, interpolation: Interpolation,
): void {
  const per = h * w * c;
  for (let i = 0; i < n; i++) warpImage(y, x, i * per, h, w, c, matrices.subarray(i * 6, i * 6 + 6), fill, cval, interpolation);
}

/** Fold a float coordinate into [0, len-1] per fill mode; NaN means "outside" (constant). */
function mapCoordinate(v: number, len: number, mode: FillMode): number {
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
function warpImage(
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
