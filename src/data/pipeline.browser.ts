/**
 * ./pipeline.ts in a browser bundle (scripts/build-browser.cjs): the same batches, prepared on
 * the calling thread (a page that is not cross-origin isolated has no SharedArrayBuffer, and a
 * training Web Worker is already off the page's thread). Same per-example streams and kernel
 * as the Node pipeline's main-thread fallback, so the batches are the same.
 */
import type { Backend, F32 } from '../backend/backend.js';
import type { AugmentSpec } from './augment.js';
import { type Split, exampleSize } from './dataset.js';
import { prepareBatch } from './prepare-batch.js';
import type * as NodeSide from './pipeline.js';

export type { AugmentedBatch, BatchRequest } from './pipeline.js';

export class AugmentPipeline {
  private readonly slots: { x: Float32Array; y: Int32Array; raw: Float32Array; n: number }[];
  private readonly requested = new Set<number>();
  private readonly per: number;
  private readonly matrices: Float64Array;
  /** always false here: batches are prepared on the calling thread */
  offThread = false;

  constructor(
    private readonly backend: Backend,
    private readonly split: Split,
    private readonly shape: [number, number, number],
    private readonly scale: number,
    private readonly spec: AugmentSpec,
    private readonly seed: number,
    batchSize: number,
    useWorker = true,
  ) {
    void useWorker;
    this.per = exampleSize(shape);
    this.matrices = new Float64Array(batchSize * 6);
    this.slots = [0, 1].map(() => ({
      x: new Float32Array(batchSize * this.per),
      y: new Int32Array(batchSize),
      raw: new Float32Array(batchSize * this.per),
      n: 0,
    }));
  }

  /** Prepare a batch into `slot` now. */
  request(slot: number, req: NodeSide.BatchRequest): void {
    const n = req.indices.length;
    const s = this.slots[slot];
    const source = { backend: this.backend, split: this.split, shape: this.shape, scale: this.scale, spec: this.spec, seed: this.seed, matrices: this.matrices };
    prepareBatch(source, req, s.raw.subarray(0, n * this.per), s.x.subarray(0, n * this.per), s.y);
    s.n = n;
    this.requested.add(slot);
  }

  /** A slot's batch; the views are valid until the slot is requested again. */
  take(slot: number, n: number): Promise<NodeSide.AugmentedBatch> {
    if (!this.requested.has(slot)) return Promise.reject(new Error(`pipeline: slot ${slot} was never requested`));
    this.requested.delete(slot);
    const s = this.slots[slot];
    const x: F32 = s.x.subarray(0, n * this.per);
    return Promise.resolve({ x, y: s.y.subarray(0, n) });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

// this twin has ./pipeline.ts's constructor and public members, with the same types
type Public<T> = { [K in keyof T]: T[K] };
const sameShape: new (...args: ConstructorParameters<typeof NodeSide.AugmentPipeline>) => Public<NodeSide.AugmentPipeline> = AugmentPipeline;
void sameShape;
