/**
 * The layer contract (Keras, ConvNetJS; STYLE.md §5):
 *   constructor  validates and stores the config
 *   configure    checks the input shapes, computes the output shape
 *   build        creates the weights (initializers draw from the model's init stream)
 *   allocate     sizes every buffer for the largest batch; training then allocates nothing
 *   setBatch     switches buffers to a (smaller) batch by taking views
 *   forward      inputs → output buffer (owned by the layer, or an input buffer it passes on)
 *   backward     gradient of the output → gradients of the inputs (null where not needed)
 *   getConfig    plain JSON that round-trips through the spec parser
 */
import type { Backend, F32 } from '../backend/backend.js';
import { ArgumentError, ShapeError, describe } from '../errors.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS, layerStreamId } from '../tensor/streams.js';
import { type InitializerConfig, initialize } from './initializers.js';
import type { Regularizer } from './regularizers.js';
import { type Shape, formatShape, sizeOf } from './shape.js';

/** One weight tensor of a layer. */
export interface Param {
  /** Keras-style full name: '<layer>/<weight>', e.g. 'conv2d/kernel' */
  readonly name: string;
  /** weight name inside the layer: 'kernel', 'bias', 'gamma', 'moving_mean', ... */
  readonly weightName: string;
  readonly shape: readonly number[];
  readonly value: F32;
  /** gradient buffer; null for weights that are never trained (moving statistics) */
  readonly grad: F32 | null;
  readonly regularizer: Regularizer | null;
  readonly layer: Layer;
  /** trainable now: the weight is trainable by nature and its layer is not frozen */
  readonly trainable: boolean;
}

/** What build() needs: the backend (for aligned buffers) and the initializer stream. */
export interface BuildContext {
  backend: Backend;
  init: RandomStream;
  seed: number;
}

/** A buffer sized for the largest batch with a view for the current one. */
export class BatchBuffer<T extends Float32Array | Int32Array | Uint8Array = F32> {
  readonly full: T;
  readonly perExample: number;
  private current: T;
  constructor(full: T, perExample: number) {
    this.full = full;
    this.perExample = perExample;
    this.current = full;
  }
  setBatch(batch: number): void {
    const n = batch * this.perExample;
    this.current = (n === this.full.length ? this.full : this.full.subarray(0, n)) as T;
  }
  get data(): T {
    return this.current;
  }
}

export interface CommonLayerConfig {
  name?: string;
  trainable?: boolean;
}

export abstract class Layer {
  /** Spec type name (TF.js camelCase): 'dense', 'conv2d', ... */
  readonly type: string;
  name: string;
  /** Frozen layers (false) get no weight updates and no weight gradients. */
  trainable: boolean;
  inputShapes: Shape[] = [];
  outputShape: Shape = [];
  readonly params: Param[] = [];
  /** each weight's regularizer, read live by its Param (setRegularizer replaces one) */
  private readonly regularizers = new Map<string, Regularizer | null>();
  /** Set by the model: which inputs need a gradient (false for data inputs). */
  needsInputGrad: boolean[] = [];
  /** Activity regularizer on the output (Keras activity_regularizer). */
  activityRegularizer: Regularizer | null = null;
  /** Position in the model (set by the model; seeds per-layer random streams). */
  index = -1;
  /** The layer's own random stream (dropout masks, augmentation), saved in checkpoints. */
  rng: RandomStream | null = null;
  protected backend!: Backend;
  protected maxBatch = 0;
  protected batch = 0;
  private buffers: BatchBuffer<Float32Array | Int32Array | Uint8Array>[] = [];

  constructor(type: string, config: CommonLayerConfig) {
    this.type = type;
    this.name = config.name ?? '';
    if (config.trainable !== undefined && typeof config.trainable !== 'boolean') {
      throw new ArgumentError(`${type}.trainable must be true or false; received ${describe(config.trainable)}`);
    }
    this.trainable = config.trainable ?? true;
  }

  /** Keras class name, for summaries and model.json: 'Dense', 'Conv2D', ... */
  abstract get className(): string;

  /** How many inputs the layer takes (Add: 2 or more). */
  get arity(): number {
    return 1;
  }

  /** Validate input shapes and return the output shape. */
  protected abstract computeOutputShape(inputs: Shape[]): Shape;

  configure(inputs: Shape[]): Shape {
    if (this.arity === 1 && inputs.length !== 1) {
      throw new ShapeError(`${this.describe()} takes one input; received ${inputs.length}`);
    }
    this.inputShapes = inputs.map((s) => [...s]);
    this.outputShape = this.computeOutputShape(inputs);
    return this.outputShape;
  }

  /** Create weights. Default: none. */
  build(_ctx: BuildContext): void {}

  /** Size buffers for `maxBatch` examples; subclasses call super then make their buffers. */
  allocate(maxBatch: number, backend: Backend): void {
    this.backend = backend;
    this.maxBatch = maxBatch;
    this.batch = maxBatch;
    this.buffers = [];
  }

  setBatch(batch: number): void {
    if (batch < 1 || batch > this.maxBatch) {
      throw new ShapeError(`${this.describe()}: batch ${batch} is outside [1, ${this.maxBatch}] (the model was built for ${this.maxBatch})`);
    }
    this.batch = batch;
    for (const b of this.buffers) b.setBatch(batch);
    this.onBatchChange(batch);
  }

  /** Hook for layers whose geometry depends on the batch (conv, pooling). */
  protected onBatchChange(_batch: number): void {}

  abstract forward(inputs: F32[], training: boolean): F32;

  /** Gradients of the inputs from the gradient of the output; null where not needed. */
  abstract backward(dy: F32): (F32 | null)[];

  abstract getConfig(): Record<string, unknown>;

  /** Sum of the kernel/bias regularizer penalties of this layer's weights. */
  penalty(): number {
    let total = 0;
    for (const p of this.params) if (p.regularizer && p.trainable) total += this.backend.penalty(p.value, p.regularizer.l1, p.regularizer.l2);
    return total;
  }

  /** Add the regularizers' gradients into the weight gradients. */
  addPenaltyGradients(): void {
    for (const p of this.params) {
      if (p.regularizer && p.trainable && p.grad) this.backend.penaltyGrad(p.grad, p.value, p.regularizer.l1, p.regularizer.l2);
    }
  }

  /**
   * The weights build() will create, from the configured shapes (so an unbuilt model can report
   * its parameter counts). Layers with weights override this.
   */
  plannedWeights(): { shape: number[]; trainable: boolean }[] {
    return [];
  }

  countParams(): { trainable: number; nonTrainable: number } {
    const weights = this.params.length
      ? this.params.map((p) => ({ shape: [...p.shape], trainable: p.trainable }))
      : this.plannedWeights().map((w) => ({ shape: w.shape, trainable: w.trainable && this.trainable }));
    let trainable = 0;
    let nonTrainable = 0;
    for (const w of weights) {
      const n = sizeOf(w.shape);
      if (w.trainable) trainable += n;
      else nonTrainable += n;
    }
    return { trainable, nonTrainable };
  }

  describe(): string {
    return `layer ${this.name ? `'${this.name}' ` : ''}(${this.className})`;
  }

  // ---- helpers for subclasses ----------------------------------------------------------------

  /** A float buffer of perExample values per example, registered for setBatch. */
  protected floatBuffer(perExample: number): BatchBuffer<F32> {
    const b = new BatchBuffer(this.backend.alloc(this.maxBatch * perExample), perExample);
    this.buffers.push(b);
    return b;
  }

  protected intBuffer(perExample: number): BatchBuffer<Int32Array> {
    const b = new BatchBuffer(new Int32Array(this.maxBatch * perExample), perExample);
    this.buffers.push(b);
    return b;
  }

  protected byteBuffer(perExample: number): BatchBuffer<Uint8Array> {
    const b = new BatchBuffer(new Uint8Array(this.maxBatch * perExample), perExample);
    this.buffers.push(b);
    return b;
  }

  /** Create and initialize a weight. trainableWeight=false for moving statistics. */
  protected addWeight(
    ctx: BuildContext, weightName: string, shape: number[], init: InitializerConfig,
    regularizer: Regularizer | null, trainableWeight = true,
  ): Param {
    const value = ctx.backend.alloc(sizeOf(shape));
    initialize(value, shape, init, ctx.init);
    // getters (not copies): renaming or freezing the layer later is reflected in its params
    const fullName = (): string => `${this.name}/${weightName}`;
    const isTrainable = (): boolean => trainableWeight && this.trainable;
    const regularizers = this.regularizers;
    regularizers.set(weightName, regularizer);
    const param: Param = {
      get name() { return fullName(); },
      weightName,
      shape,
      value,
      grad: trainableWeight ? ctx.backend.alloc(value.length) : null,
      get regularizer() { return regularizers.get(weightName) ?? null; },
      layer: this,
      get trainable() { return isTrainable(); },
    };
    this.params.push(param);
    return param;
  }

  /** Replace a weight's regularizer between two batches (the dashboard's l2 knob). */
  setRegularizer(weightName: string, regularizer: Regularizer | null): void {
    if (!this.regularizers.has(weightName)) {
      throw new ArgumentError(`${this.describe()} has no weight ${describe(weightName)}; it has ${[...this.regularizers.keys()].join(', ') || 'none'}`);
    }
    this.regularizers.set(weightName, regularizer);
  }

  /** The one input shape, checked to have the given rank. */
  protected singleInput(inputs: Shape[], rank: number | null, what: string): Shape {
    const s = inputs[0];
    if (rank !== null && s.length !== rank) {
      throw new ShapeError(`${this.describe()} expects ${what} (rank ${rank + 1} with the batch); received input shape ${formatShape(s)}`);
    }
    return s;
  }
}

/** A layer's own stream for a per-layer purpose (dropout, augmentation), from its position. */
export function layerStream(seed: number, purpose: 'dropout' | 'augmentLayer', index: number): RandomStream {
  return new RandomStream(seed, layerStreamId(STREAMS[purpose], index));
}
