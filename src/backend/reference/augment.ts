/** Reference affine warp: the per-image loop of src/data/warp.ts. */
import type { F32, FillMode, Interpolation } from '../backend.js';
import { warpImage } from '../../data/warp.js';

export function affineWarp(
  y: F32, x: F32, matrices: Float64Array, n: number, h: number, w: number, c: number,
  fill: FillMode, cval: number, interpolation: Interpolation,
): void {
  const per = h * w * c;
  for (let i = 0; i < n; i++) warpImage(y, x, i * per, h, w, c, matrices.subarray(i * 6, i * 6 + 6), fill, cval, interpolation);
}
