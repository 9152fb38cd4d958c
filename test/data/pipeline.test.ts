/**
 * The augmentation pipeline: batches prepared off the training thread by the worker equal,
 * bit for bit, the ones computed directly on the main thread (fillBatch scaling uint8 pixels to
 * [0, 1], then augmentBatch with the same seed, epoch and positions), labels included — for
 * both slots, several epochs, a short last batch, and the main-thread fallback; the worker
 * really ran (offThread).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { AUGMENT_PRESETS, augmentBatch } from '../../src/data/augment.js';
import { type Split, fillBatch } from '../../src/data/dataset.js';
import { AugmentPipeline } from '../../src/data/pipeline.js';

const [h, w, c] = [8, 8, 3];
const per = h * w * c;
const n = 50;
const data: Split = {
  x: Uint8Array.from({ length: n * per }, (_, i) => (i * 37 + (i >> 5)) % 256),
  y: Int32Array.from({ length: n }, (_, i) => (i * 7) % 10),
};
const spec = AUGMENT_PRESETS.cifar10.spec;
const seed = 11;

/** What the worker must produce, computed here. */
function direct(epoch: number, indices: Int32Array, positions: Int32Array): { x: Float32Array; y: number[] } {
  const k = indices.length;
  const raw = new Float32Array(k * per);
  fillBatch(raw, data, indices, 0, k, per, 1 / 255);
  const x = new Float32Array(k * per);
  augmentBatch(getBackend(), x, raw, k, h, w, c, spec, seed, epoch, positions, new Float64Array(k * 6));
  return { x, y: Array.from(indices, (i) => data.y[i]) };
}

let pipeline: AugmentPipeline | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
});

describe('AugmentPipeline', () => {
  for (const useWorker of [true, false]) {
    it(`${useWorker ? 'in the worker' : 'on the main thread (fallback)'}: every batch equals the directly computed one`, async () => {
      const batch = 16;
      pipeline = new AugmentPipeline(getBackend(), data, [h, w, c], 1 / 255, spec, seed, batch, useWorker);
      let checked = 0;
      for (let epoch = 0; epoch < 2; epoch++) {
        // a seeded-looking permutation per epoch
        const order = Int32Array.from({ length: n }, (_, i) => (i * 17 + epoch * 5) % n);
        for (let b = 0; b * batch < n; b++) {
          const from = b * batch;
          const to = Math.min(n, from + batch);
          const indices = order.slice(from, to);
          const positions = Int32Array.from({ length: to - from }, (_, i) => from + i);
          pipeline.request(b % 2, { epoch, indices, positions });
          const got = await pipeline.take(b % 2, to - from);
          const want = direct(epoch, indices, positions);
          expect(got.x.length).toBe((to - from) * per);
          expect(Buffer.from(got.x.buffer, got.x.byteOffset, got.x.byteLength).equals(Buffer.from(want.x.buffer))).toBe(true);
          expect(Array.from(got.y)).toEqual(want.y);
          checked++;
        }
      }
      expect(checked).toBe(8); // 4 batches (16, 16, 16, 2) × 2 epochs
      expect(pipeline.offThread).toBe(useWorker);
    });
  }

  it('prefetch: the next batch can be requested before the current one is taken, each slot keeps its own', async () => {
    pipeline = new AugmentPipeline(getBackend(), data, [h, w, c], 1 / 255, spec, seed, 8, true);
    const a = { epoch: 3, indices: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), positions: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) };
    const b = { epoch: 3, indices: Int32Array.from([40, 41, 42]), positions: Int32Array.from([8, 9, 10]) };
    pipeline.request(0, a);
    pipeline.request(1, b);
    const gotB = await pipeline.take(1, 3);
    const gotA = await pipeline.take(0, 8);
    expect(Array.from(gotA.x)).toEqual(Array.from(direct(3, a.indices, a.positions).x));
    expect(Array.from(gotB.x)).toEqual(Array.from(direct(3, b.indices, b.positions).x));
    // augmentation changed the images: not just the scaled pixels
    const plain = new Float32Array(8 * per);
    fillBatch(plain, data, a.indices, 0, 8, per, 1 / 255);
    expect(Array.from(gotA.x)).not.toEqual(Array.from(plain));
    expect(pipeline.offThread).toBe(true);
  });
});
