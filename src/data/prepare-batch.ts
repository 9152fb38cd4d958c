/**
 * One augmented batch prepared on the calling thread: gather the examples (scaled), their labels,
 * then augment. The main-thread path of the Node pipeline and the browser pipeline share it.
 */
import type { Backend, F32 } from '../backend/backend.js';
import { type AugmentSpec, augmentBatch } from './augment.js';
import { type Split, exampleSize, fillBatch } from './dataset.js';

export interface BatchSource {
  backend: Backend;
  split: Split;
  shape: [number, number, number];
  scale: number;
  spec: AugmentSpec;
  seed: number;
  /** scratch for the per-example affine matrices (6 per example) */
  matrices: Float64Array;
}

/** Fill `raw`, `x` and `y` (each at least indices.length examples long) for one batch request. */
export function prepareBatch(src: BatchSource, req: { indices: ArrayLike<number>; epoch: number; positions: ArrayLike<number> }, raw: F32, x: F32, y: Int32Array): void {
  const n = req.indices.length;
  const [h, w, c] = src.shape;
  fillBatch(raw, src.split, req.indices, 0, n, exampleSize(src.shape), src.scale);
  for (let i = 0; i < n; i++) y[i] = src.split.y[req.indices[i]];
  augmentBatch(src.backend, x, raw, n, h, w, c, src.spec, src.seed, req.epoch, req.positions, src.matrices);
}
