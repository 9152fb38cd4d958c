/**
 * Augmentation off the training thread: a worker assembles and augments the next batch into
 * shared memory while the main thread trains on the current one (two slots, prefetch depth 1).
 * The worker computes exactly what the main thread would (same per-example streams, same
 * kernel), so results do not depend on whether the pipeline runs — it falls back to the main
 * thread when a worker cannot start.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Backend, F32 } from '../backend/backend.js';
import type { AugmentSpec } from './augment.js';
import { type Split, exampleSize } from './dataset.js';
import { prepareBatch } from './prepare-batch.js';

export interface BatchRequest {
  epoch: number;
  /** dataset indices of the batch's examples */
  indices: Int32Array;
  /** positions of those examples in the epoch (their augmentation streams) */
  positions: Int32Array;
}

export interface AugmentedBatch {
  x: F32;
  y: Int32Array;
}

function toShared(a: Uint8Array | Float32Array | Int32Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(sab).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return sab;
}

/**
 * Start the worker module: the compiled .js beside this file, or — when fitlab runs from its
 * TypeScript sources (tests) — the .ts through tsx's loader API in a small bootstrap.
 */
function spawnWorker(): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(new URL('./pipeline-worker.js', import.meta.url));
  const target = new URL('./pipeline-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((api) => api.register()).then(() => import(${JSON.stringify(target)}));`;
  return new Worker(boot, { eval: true, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
}

export class AugmentPipeline {
  private worker: Worker | null = null;
  private readonly slots: { x: SharedArrayBuffer; y: SharedArrayBuffer; raw: SharedArrayBuffer }[];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> }>();
  private readonly per: number;
  private readonly matrices: Float64Array;
  private ready: Promise<void> | null = null;
  private failed: Error | null = null;
  /** true when batches are prepared by the worker (false: on the main thread) */
  offThread = false;

  constructor(
    private readonly backend: Backend,
    private readonly split: Split,
    private readonly shape: [number, number, number],
    private readonly scale: number,
    private readonly spec: AugmentSpec,
    private readonly seed: number,
    private readonly batchSize: number,
    useWorker = true,
  ) {
    this.per = exampleSize(shape);
    this.matrices = new Float64Array(batchSize * 6);
    this.slots = [0, 1].map(() => ({
      x: new SharedArrayBuffer(batchSize * this.per * 4),
      y: new SharedArrayBuffer(batchSize * 4),
      raw: new SharedArrayBuffer(batchSize * this.per * 4),
    }));
    if (useWorker) this.startWorker();
  }

  private startWorker(): void {
    try {
      const worker = spawnWorker();
      this.worker = worker;
      this.ready = new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { type: string }) => (m.type === 'ready' ? resolve() : reject(new Error('pipeline worker did not start'))));
        worker.once('error', reject);
      });
      worker.on('message', (m: { type: string; slot?: number; message?: string }) => {
        if (m.type === 'done' && m.slot !== undefined) this.pending.get(m.slot)?.resolve();
        if (m.type === 'error') {
          this.failed = new Error(`augmentation worker: ${m.message ?? 'failed'}`);
          for (const p of this.pending.values()) p.reject(this.failed);
        }
      });
      worker.on('error', (e) => {
        this.failed = e;
        for (const p of this.pending.values()) p.reject(e);
      });
      const dtype = this.split.x instanceof Uint8Array ? 'uint8' : 'float32';
      worker.postMessage({
        type: 'init', x: toShared(this.split.x), dtype, y: toShared(this.split.y), shape: this.shape,
        scale: this.scale, spec: this.spec, seed: this.seed, slots: this.slots,
      });
      this.offThread = true;
    } catch {
      this.worker = null;
      this.offThread = false;
    }
  }

  /** Start preparing a batch into `slot` (returns at once when a worker runs). */
  request(slot: number, req: BatchRequest): void {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending.set(slot, { resolve, reject, promise });
    if (this.worker && !this.failed) {
      const ready = this.ready ?? Promise.resolve();
      ready.then(() => this.worker?.postMessage({ type: 'batch', slot, ...req }), (e: Error) => {
        // the worker could not start: prepare this batch (and the rest) here instead
        this.worker = null;
        this.offThread = false;
        void e;
        this.prepareHere(slot, req);
        resolve();
      });
      return;
    }
    this.prepareHere(slot, req);
    resolve();
  }

  private prepareHere(slot: number, req: BatchRequest): void {
    const n = req.indices.length;
    const s = this.slots[slot];
    const source = { backend: this.backend, split: this.split, shape: this.shape, scale: this.scale, spec: this.spec, seed: this.seed, matrices: this.matrices };
    prepareBatch(source, req, new Float32Array(s.raw, 0, n * this.per), new Float32Array(s.x, 0, n * this.per), new Int32Array(s.y, 0, n));
  }

  private views = new Map<string, AugmentedBatch>();

  /** Wait for a slot's batch; the views are valid until the slot is requested again. */
  async take(slot: number, n: number): Promise<AugmentedBatch> {
    const p = this.pending.get(slot);
    if (!p) throw new Error(`pipeline: slot ${slot} was never requested`);
    await p.promise;
    this.pending.delete(slot);
    if (this.failed) throw this.failed;
    const key = `${slot}:${n}`;
    let v = this.views.get(key);
    if (!v) {
      const s = this.slots[slot];
      v = { x: new Float32Array(s.x, 0, n * this.per), y: new Int32Array(s.y, 0, n) };
      this.views.set(key, v);
    }
    return v;
  }

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}
