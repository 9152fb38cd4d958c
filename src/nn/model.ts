/**
 * A model is a small DAG of layers in declaration order (Sequential is the chain; Add joins
 * residual branches). Explicit forward/backward with buffers preallocated for a batch size
 * (ARCHITECTURE decision 3): a training step allocates nothing.
 *
 * Fusions decided when buffers are allocated:
 * - a final softmax (Dense(…, 'softmax') or Activation('softmax')) is taken out of the layer and
 *   applied by the model (or fused into the cross-entropy loss, which wants logits);
 * - BatchNormalization followed by Activation('relu') runs as one pass (the activation layer
 *   becomes a passthrough).
 *
 * Gradients flow backward node by node. A node's output gradient aliases its consumer's input
 * gradient when it has one consumer; nodes with several consumers (residual branches) or an
 * activity regularizer (which adds to the gradient in place) get their own accumulator.
 */
import type { Backend, F32 } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { ArgumentError, ShapeError, describe } from '../errors.js';
import { RandomStream } from '../tensor/prng.js';
import { DEFAULT_SEED, STREAMS } from '../tensor/streams.js';
import { BatchBuffer, type BuildContext, type Layer, type Param } from './layer.js';
import { Activation } from './layers/basic.js';
import { BatchNormalization } from './layers/batch-norm.js';
import { Conv2D } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { checkMemory } from './memory.js';
import { type Shape, formatShape, sizeOf } from './shape.js';

/** The id of the model input in a layer's `inputs` list. */
export const MODEL_INPUT = 'input';

/** Keras' automatic layer names: the class name in snake_case, numbered from the second. */
const BASE_NAMES: Record<string, string> = {
  Dense: 'dense', Conv2D: 'conv2d', MaxPooling2D: 'max_pooling2d', AveragePooling2D: 'average_pooling2d',
  GlobalMaxPooling2D: 'global_max_pooling2d', GlobalAveragePooling2D: 'global_average_pooling2d',
  Flatten: 'flatten', Activation: 'activation', Dropout: 'dropout', BatchNormalization: 'batch_normalization',
  Rescaling: 'rescaling', Add: 'add', RandomFlip: 'random_flip', RandomRotation: 'random_rotation',
  RandomZoom: 'random_zoom', RandomTranslation: 'random_translation',
};

export interface ModelLayer {
  layer: Layer;
  /** names of earlier layers (or 'input'); default: the previous layer */
  inputs?: string[];
}

export interface ForwardOptions {
  training: boolean;
  /** return logits instead of applying the model's final softmax */
  logits?: boolean;
}

export class Model {
  readonly inputShape: Shape;
  readonly layers: Layer[];
  /** per layer: indices of input layers; -1 is the model input */
  readonly inputIndex: number[][];
  readonly consumers: number[][];
  readonly outputShape: Shape;
  name: string;
  /** true when the last layer's softmax is applied by the model (set at allocate) */
  finalSoftmax = false;
  private backendRef: Backend | null = null;
  private seedValue = 0;
  private built = false;
  private maxBatch = 0;
  private batch = 0;
  private outputs: (F32 | null)[] = [];
  private grads: (F32 | null)[] = [];
  private arrivals: number[] = [];
  private accumulators: (BatchBuffer | null)[] = [];
  private probs: BatchBuffer | null = null;
  private activityPenalty = 0;

  constructor(inputShape: Shape, layers: ModelLayer[], name = 'model') {
    if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ShapeError(`model input shape must be a list of positive integers such as [32, 32, 3]; received ${describe(inputShape)}`);
    }
    if (layers.length === 0) throw new ArgumentError('a model needs at least one layer; received none');
    this.name = name;
    this.inputShape = [...(inputShape as number[])];
    this.layers = layers.map((l) => l.layer);
    assignNames(this.layers);
    const byName = new Map<string, number>();
    this.inputIndex = [];
    this.consumers = this.layers.map(() => []);
    const shapes: Shape[] = [];
    layers.forEach((entry, i) => {
      const layer = entry.layer;
      layer.index = i;
      if (byName.has(layer.name)) throw new ArgumentError(`layer ${i} ('${layer.name}'): name '${layer.name}' is already used by layer ${byName.get(layer.name)}; layer names must be unique`);
      const refs = entry.inputs ?? [i === 0 ? MODEL_INPUT : this.layers[i - 1].name];
      const idx = refs.map((ref) => {
        if (ref === MODEL_INPUT) return -1;
        const j = byName.get(ref);
        if (j === undefined) {
          throw new ArgumentError(
            `layer ${i} ('${layer.name}'): inputs: '${ref}' is not an earlier layer; allowed: '${MODEL_INPUT}' or one of ${[...byName.keys()].map((k) => `'${k}'`).join(', ') || '(none yet)'}`,
          );
        }
        return j;
      });
      if (layer.arity === 1 && idx.length !== 1) {
        throw new ArgumentError(`layer ${i} ('${layer.name}', ${layer.className}) takes exactly one input; received ${idx.length}`);
      }
      try {
        shapes.push(layer.configure(idx.map((j) => (j < 0 ? this.inputShape : shapes[j]))));
      } catch (err) {
        if (err instanceof Error) err.message = `layer ${i} ('${layer.name}'): ${err.message}`;
        throw err;
      }
      for (const j of idx) if (j >= 0) this.consumers[j].push(i);
      this.inputIndex.push(idx);
      byName.set(layer.name, i);
    });
    const dangling = this.layers.slice(0, -1).filter((_, i) => this.consumers[i].length === 0);
    if (dangling.length) {
      throw new ArgumentError(`layer '${dangling[0].name}' feeds nothing; every layer except the last must be an input of a later one`);
    }
    this.outputShape = shapes[shapes.length - 1];
  }

  get backend(): Backend {
    if (!this.backendRef) throw new ArgumentError('the model is not built yet; call build() first');
    return this.backendRef;
  }

  get isBuilt(): boolean {
    return this.built;
  }

  get seed(): number {
    return this.seedValue;
  }

  get batchSize(): number {
    return this.maxBatch;
  }

  /** Number of classes / output units. */
  get outputSize(): number {
    return sizeOf(this.outputShape);
  }

  /**
   * Create the weights (seeded by `seed`, DEFAULT_SEED when absent) and size every buffer for
   * `batchSize` examples.
   * Calling it again with another batch size re-allocates buffers and keeps the weights.
   */
  build(options: { batchSize: number; seed?: number; backend?: Backend; optimizerSlots?: number }): this {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ArgumentError(`batch size must be a positive integer; received ${describe(batchSize)}`);
    }
    // every path that makes a model (train, evaluate, predict, summary, the dashboard,
    // experiments) comes through here: refuse what cannot fit before allocating any of it
    checkMemory(this, batchSize, options.optimizerSlots);
    if (!this.built) {
      this.backendRef = options.backend ?? getBackend();
      this.seedValue = options.seed ?? DEFAULT_SEED;
      const ctx: BuildContext = {
        backend: this.backendRef,
        init: new RandomStream(this.seedValue, STREAMS.init),
        seed: this.seedValue,
      };
      for (const layer of this.layers) layer.build(ctx);
      this.built = true;
    }
    this.allocate(batchSize);
    return this;
  }

  private allocate(maxBatch: number): void {
    const backend = this.backend;
    this.fuse();
    for (const layer of this.layers) layer.allocate(maxBatch, backend);
    this.maxBatch = maxBatch;
    this.batch = maxBatch;
    const n = this.layers.length;
    this.outputs = new Array<F32 | null>(n).fill(null);
    this.grads = new Array<F32 | null>(n).fill(null);
    this.arrivals = new Array<number>(n).fill(0);
    this.accumulators = this.layers.map((layer, i) =>
      this.consumers[i].length > 1 || layer.activityRegularizer
        ? new BatchBuffer(backend.alloc(maxBatch * sizeOf(layer.outputShape)), sizeOf(layer.outputShape))
        : null,
    );
    this.probs = this.finalSoftmax ? new BatchBuffer(backend.alloc(maxBatch * this.outputSize), this.outputSize) : null;
  }

  /** Decide the fusions (idempotent). */
  private fuse(): void {
    const last = this.layers[this.layers.length - 1];
    if ((last instanceof Dense || last instanceof Conv2D) && last.activation === 'softmax') {
      last.stage.name = 'linear';
      this.finalSoftmax = true;
    } else if (last instanceof Activation && last.activation === 'softmax') {
      last.passthrough = true;
      this.finalSoftmax = true;
    }
    this.layers.forEach((layer, i) => {
      if (!(layer instanceof BatchNormalization) || layer.activityRegularizer || this.consumers[i].length !== 1) return;
      const next = this.layers[this.consumers[i][0]];
      if (next instanceof Activation && next.activation === 'relu' && this.inputIndex[next.index].length === 1) {
        layer.fusedRelu = true;
        next.passthrough = true;
      }
    });
  }

  /** Switch buffers to a batch of `batch` examples (≤ the built size). */
  setBatch(batch: number): void {
    if (batch === this.batch) return;
    if (!Number.isInteger(batch) || batch < 1 || batch > this.maxBatch) {
      throw new ShapeError(`batch of ${describe(batch)} examples does not fit a model built for ${this.maxBatch}; rebuild with a larger batch size`);
    }
    for (const layer of this.layers) layer.setBatch(batch);
    for (const acc of this.accumulators) acc?.setBatch(batch);
    this.probs?.setBatch(batch);
    this.batch = batch;
  }

  get currentBatch(): number {
    return this.batch;
  }

  /**
   * Run the model on x (batch × input size). Returns the output buffer (owned by the model;
   * valid until the next call): probabilities when the model ends in softmax, unless `logits`.
   */
  forward(x: F32, options: ForwardOptions): F32 {
    const per = sizeOf(this.inputShape);
    if (x.length % per !== 0 || x.length === 0) {
      throw new ShapeError(`model input must hold a whole number of ${formatShape(this.inputShape)} examples (${per} values each); received ${x.length} values`);
    }
    this.setBatch(x.length / per);
    this.activityPenalty = 0;
    const backend = this.backend;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const inputs = this.inputIndex[i].map((j) => (j < 0 ? x : (this.outputs[j] as F32)));
      const out = layer.forward(inputs, options.training);
      this.outputs[i] = out;
      const reg = layer.activityRegularizer;
      if (reg) this.activityPenalty += backend.penalty(out, reg.l1, reg.l2);
    }
    const logits = this.outputs[this.layers.length - 1] as F32;
    if (!this.finalSoftmax || options.logits) return logits;
    const probs = (this.probs as BatchBuffer).data;
    backend.softmaxForward(probs, logits, this.batch, this.outputSize);
    return probs;
  }

  /** Output of layer i from the last forward pass (for analytics and the dashboard). */
  layerOutput(i: number): F32 | null {
    return this.outputs[i] ?? null;
  }

  /** Does layer i (or anything before it) have weights being trained? */
  private requiresGrad(): boolean[] {
    const req = this.layers.map(() => false);
    this.layers.forEach((layer, i) => {
      req[i] = layer.params.some((p) => p.trainable) || this.inputIndex[i].some((j) => j >= 0 && req[j]);
    });
    return req;
  }

  /**
   * Backpropagate `dOut`, the gradient w.r.t. the model output: the logits when the model ends
   * in softmax and `throughSoftmax` is false (the fused-loss case), else the output itself.
   * Fills every trainable weight's grad (overwritten), including regularizer gradients.
   */
  backward(dOut: F32, options: { throughSoftmax?: boolean } = {}): void {
    const backend = this.backend;
    const req = this.requiresGrad();
    this.layers.forEach((layer, i) => {
      layer.needsInputGrad = this.inputIndex[i].map((j) => j >= 0 && req[j]);
    });
    const last = this.layers.length - 1;
    let top = dOut;
    if (this.finalSoftmax && options.throughSoftmax) {
      const acc = this.ensureTopBuffer();
      backend.softmaxBackward(acc, dOut, (this.probs as BatchBuffer).data, this.batch, this.outputSize);
      top = acc;
    }
    this.grads.fill(null);
    this.arrivals.fill(0);
    this.route(last, top);
    for (let i = last; i >= 0; i--) {
      const layer = this.layers[i];
      const g = this.grads[i];
      if (!req[i] || !g) continue;
      const reg = layer.activityRegularizer;
      if (reg) backend.penaltyGrad(g, this.outputs[i] as F32, reg.l1, reg.l2);
      const dxs = layer.backward(g);
      this.inputIndex[i].forEach((j, k) => {
        const dx = dxs[k];
        if (j >= 0 && dx) this.route(j, dx);
      });
    }
    for (const layer of this.layers) if (layer.trainable) layer.addPenaltyGradients();
  }

  private topBuffer: BatchBuffer | null = null;
  private ensureTopBuffer(): F32 {
    if (!this.topBuffer || this.topBuffer.full.length < this.maxBatch * this.outputSize) {
      this.topBuffer = new BatchBuffer(this.backend.alloc(this.maxBatch * this.outputSize), this.outputSize);
    }
    this.topBuffer.setBatch(this.batch);
    return this.topBuffer.data;
  }

  /** Deliver a gradient contribution to node j's output. */
  private route(j: number, g: F32): void {
    const acc = this.accumulators[j];
    if (!acc) {
      this.grads[j] = g;
      return;
    }
    if (this.arrivals[j]++ === 0) this.backend.copy(acc.data, g);
    else this.backend.axpy(acc.data, 1, g);
    this.grads[j] = acc.data;
  }

  /** Regularization penalty: weight regularizers + activity regularizers of the last forward. */
  penalty(): number {
    let total = this.activityPenalty;
    for (const layer of this.layers) total += layer.penalty();
    return total;
  }

  /** All weights in layer order (trainable and not). */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params);
  }

  trainableParams(): Param[] {
    return this.params().filter((p) => p.trainable);
  }

  countParams(): { total: number; trainable: number; nonTrainable: number } {
    // counts depend only on shapes: an unbuilt model reports them from the planned weights
    let trainable = 0;
    let nonTrainable = 0;
    for (const layer of this.layers) {
      const c = layer.countParams();
      trainable += c.trainable;
      nonTrainable += c.nonTrainable;
    }
    return { total: trainable + nonTrainable, trainable, nonTrainable };
  }

  /** Copies of every weight, in params() order. */
  getWeights(): { name: string; shape: readonly number[]; values: Float32Array }[] {
    return this.params().map((p) => ({ name: p.name, shape: p.shape, values: Float32Array.from(p.value) }));
  }

  /** Set weights in params() order (or by name when given objects with names). */
  setWeights(weights: (Float32Array | { name?: string; values: Float32Array })[]): void {
    const params = this.params();
    if (weights.length !== params.length) {
      throw new ShapeError(`setWeights: the model has ${params.length} weight tensors; received ${weights.length}`);
    }
    weights.forEach((w, i) => {
      const values = w instanceof Float32Array ? w : w.values;
      const p = params[i];
      if (values.length !== p.value.length) {
        throw new ShapeError(`setWeights: ${p.name} has shape [${p.shape.join(', ')}] (${p.value.length} values); received ${values.length}`);
      }
      p.value.set(values);
    });
  }
}

function assignNames(layers: Layer[]): void {
  const taken = new Set(layers.map((l) => l.name).filter(Boolean));
  const counters = new Map<string, number>();
  for (const layer of layers) {
    if (layer.name) continue;
    const base = BASE_NAMES[layer.className] ?? layer.className.toLowerCase();
    let k = counters.get(base) ?? 0;
    let name = k === 0 ? base : `${base}_${k}`;
    while (taken.has(name)) {
      k++;
      name = `${base}_${k}`;
    }
    counters.set(base, k + 1);
    taken.add(name);
    layer.name = name;
  }
}

/** A Sequential model: each layer feeds the next. */
export function sequential(inputShape: Shape, layers: Layer[], name = 'sequential'): Model {
  return new Model(inputShape, layers.map((layer) => ({ layer })), name);
}
