/**
 * 2×3 affine maps for image augmentation, as OUTPUT → INPUT pixel coordinates (inverse mapping):
 *   xin = m[0]·x + m[1]·y + m[2],  yin = m[3]·x + m[4]·y + m[5]
 * with x rightward, y downward and pixel centres at integers. The warp kernel that applies them
 * is `affineWarp` (src/backend/reference/augment.ts and native/augment.c).
 */

/** A 2×3 output → input map, row-major: [m0 m1 m2; m3 m4 m5]. */
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
