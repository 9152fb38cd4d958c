/**
 * Worker side of the augmentation pipeline: assembles a batch (uint8 → float, scaled) from the
 * shared dataset and augments it with the native warp kernel (one thread: the training kernels
 * own the cores), then reports the slot as ready. Pure function of the request, so the result
 * equals what the main thread would compute.
 */
import { parentPort } from 'node:worker_threads';
import { createBackend } from '../backend/index.js';
import { type AugmentSpec, augmentBatch } from './augment.js';
import { fillBatch } from './dataset.js';

interface Init {
  type: 'init';
  x: SharedArrayBuffer;
  dtype: 'uint8' | 'float32';
  y: SharedArrayBuffer;
  shape: [number, number, number];
  scale: number;
  spec: AugmentSpec;
  seed: number;
  slots: { x: SharedArrayBuffer; y: SharedArrayBuffer; raw: SharedArrayBuffer }[];
}

interface Request {
  type: 'batch';
  slot: number;
  epoch: number;
  indices: Int32Array;
  positions: Int32Array;
}

let state: { init: Init; xs: Uint8Array | Float32Array; ys: Int32Array; matrices: Float64Array } | null = null;
const backend = createBackend({ threads: 1, warn: () => undefined });

parentPort?.on('message', (msg: Init | Request) => {
  try {
    if (msg.type === 'init') {
      const xs = msg.dtype === 'uint8' ? new Uint8Array(msg.x) : new Float32Array(msg.x);
      state = { init: msg, xs, ys: new Int32Array(msg.y), matrices: new Float64Array(6 * (msg.slots[0].y.byteLength / 4)) };
      parentPort?.postMessage({ type: 'ready' });
      return;
    }
    const s = state;
    if (!s) throw new Error('pipeline worker: batch before init');
    const [h, w, c] = s.init.shape;
    const per = h * w * c;
    const n = msg.indices.length;
    const slot = s.init.slots[msg.slot];
    const raw = new Float32Array(slot.raw, 0, n * per);
    const out = new Float32Array(slot.x, 0, n * per);
    const y = new Int32Array(slot.y, 0, n);
    fillBatch(raw, { x: s.xs, y: s.ys }, msg.indices, 0, n, per, s.init.scale);
    for (let i = 0; i < n; i++) y[i] = s.ys[msg.indices[i]];
    augmentBatch(backend, out, raw, n, h, w, c, s.init.spec, s.init.seed, msg.epoch, msg.positions, s.matrices);
    parentPort?.postMessage({ type: 'done', slot: msg.slot });
  } catch (err) {
    parentPort?.postMessage({ type: 'error', message: (err as Error).message });
  }
});
