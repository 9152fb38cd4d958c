/**
 * A PNG grid to check augmentation by eye: one row per example, the original in the first
 * column (after a gap) followed by augmented copies, each image enlarged with nearest-neighbour
 * scaling. Written with pngjs.
 */
import { PNG } from 'pngjs';
import type { Backend } from '../backend/backend.js';
import { type AugmentSpec, augmentBatch } from './augment.js';
import { type Dataset, exampleSize, fillBatch } from './dataset.js';

export interface PreviewOptions {
  rows?: number;
  copies?: number;
  seed?: number;
  /** pixels per image pixel (default: enlarge to about 96 px) */
  zoom?: number;
}

export function previewGrid(backend: Backend, ds: Dataset, spec: AugmentSpec, options: PreviewOptions = {}): Buffer {
  const rows = Math.min(options.rows ?? 8, ds.train.y.length);
  const copies = options.copies ?? 6;
  const [h, w, c] = ds.shape;
  const per = exampleSize(ds.shape);
  const zoom = options.zoom ?? Math.max(1, Math.floor(96 / Math.max(h, w)));
  const gap = 4;
  // examples spread over the classes: the first of each class in turn
  const picks: number[] = [];
  for (let k = 0; picks.length < rows && k < ds.train.y.length; k++) {
    const want = picks.length % ds.classes;
    const idx = ds.train.y.findIndex((l, i) => l === want && !picks.includes(i));
    picks.push(idx >= 0 ? idx : k);
  }
  const originals = new Float32Array(rows * per);
  fillBatch(originals, ds.train, picks, 0, rows, per, ds.scale);
  const augmented: Float32Array[] = [];
  const matrices = new Float64Array(rows * 6);
  for (let k = 0; k < copies; k++) {
    const out = new Float32Array(rows * per);
    // one "epoch" per copy: different transforms of the same examples
    augmentBatch(backend, out, originals, rows, h, w, c, spec, options.seed ?? 1, k, picks, matrices);
    augmented.push(out);
  }
  const cellW = w * zoom;
  const cellH = h * zoom;
  const width = gap + (copies + 1) * (cellW + gap) + gap;
  const height = gap + rows * (cellH + gap);
  const png = new PNG({ width, height });
  png.data.fill(255);
  const draw = (src: Float32Array, img: number, left: number, top: number): void => {
    for (let yy = 0; yy < cellH; yy++) {
      for (let xx = 0; xx < cellW; xx++) {
        const sp = ((img * h + Math.floor(yy / zoom)) * w + Math.floor(xx / zoom)) * c;
        const o = ((top + yy) * width + left + xx) * 4;
        const v = (k: number): number => Math.max(0, Math.min(255, Math.round(src[sp + (c === 1 ? 0 : k)] * 255)));
        png.data[o] = v(0);
        png.data[o + 1] = v(1);
        png.data[o + 2] = v(2);
        png.data[o + 3] = 255;
      }
    }
  };
  for (let r = 0; r < rows; r++) {
    const top = gap + r * (cellH + gap);
    draw(originals, r, gap, top);
    augmented.forEach((a, k) => draw(a, r, 2 * gap + (k + 1) * (cellW + gap), top));
  }
  return PNG.sync.write(png);
}
