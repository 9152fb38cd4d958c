/** Shape and elementwise layers: Flatten, Activation, Dropout, Rescaling, Add. */
import type { Backend, F32, RandomDraw } from '../../backend/backend.js';
import { ArgumentError, ShapeError, describe } from '../../errors.js';
import { splitU64 } from '../../tensor/prng.js';
import type { ActivationName } from '../activations.js';
import { LayerConfigReader } from '../config.js';
import { type BatchBuffer, type BuildContext, type CommonLayerConfig, Layer, layerStream } from '../layer.js';
import { type Shape, formatShape, sameShape, sizeOf } from '../shape.js';
import { ActivationStage } from './activation-stage.js';

function reader(type: string, config: CommonLayerConfig): LayerConfigReader {
  const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `${type}${config.name ? ` '${config.name}'` : ''}`);
  r.accept('name', 'trainable');
  return r;
}

/** Flatten: (h, w, c) → (h·w·c). No copy: the output is the input buffer. */
export class Flatten extends Layer {
  constructor(config: CommonLayerConfig = {}) {
    super('flatten', config);
    reader('flatten', config).done();
  }
  get className(): string {
    return 'Flatten';
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    return [sizeOf(inputs[0])];
  }
  forward([x]: F32[]): F32 {
    return x;
  }
  backward(dy: F32): (F32 | null)[] {
    return [this.needsInputGrad[0] ? dy : null];
  }
  getConfig(): Record<string, unknown> {
    return { type: 'flatten', name: this.name };
  }
}

export interface ActivationConfig extends CommonLayerConfig {
  activation: ActivationName;
}

/** Activation layer. After a BatchNormalization with relu it is fused away (passthrough). */
export class Activation extends Layer {
  readonly activation: ActivationName;
  readonly stage: ActivationStage;
  /** true when the previous layer applies this activation itself (BN+relu fusion, final softmax) */
  passthrough = false;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  private x: F32 | null = null;
  private cols = 1;
  constructor(config: ActivationConfig) {
    super('activation', config);
    const r = reader('activation', config);
    this.activation = r.activation('activation');
    this.stage = new ActivationStage(this.activation);
    r.done();
  }
  get className(): string {
    return 'Activation';
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    const s = inputs[0];
    this.cols = s.length ? s[s.length - 1] : 1;
    return [...s];
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    if (this.passthrough || this.stage.name === 'linear') return;
    this.y = this.floatBuffer(sizeOf(this.outputShape));
    this.dx = this.floatBuffer(sizeOf(this.outputShape));
  }
  private get rows(): number {
    return (this.batch * sizeOf(this.outputShape)) / this.cols;
  }
  forward([x]: F32[]): F32 {
    if (this.passthrough || this.stage.name === 'linear') return x;
    this.x = x;
    if (this.stage.name === 'relu') this.backend.activationForward('relu', this.y.data, x, 0);
    else this.stage.forward(this.backend, this.y.data, x, this.rows, this.cols);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    if (this.passthrough || this.stage.name === 'linear') return [dy];
    if (this.stage.name === 'relu') this.backend.activationBackward('relu', this.dx.data, dy, this.x as F32, this.y.data, 0);
    else this.stage.backward(this.backend, this.dx.data, dy, this.x as F32, this.y.data, this.rows, this.cols);
    return [this.dx.data];
  }
  getConfig(): Record<string, unknown> {
    return { type: 'activation', name: this.name, activation: this.activation };
  }
}

export interface DropoutConfig extends CommonLayerConfig {
  rate: number;
  /** seed of this layer's mask stream; default: derived from the model seed and layer index */
  seed?: number;
}

/** Inverted dropout: kept units are scaled by 1/(1 − rate) in training; identity at inference. */
export class Dropout extends Layer {
  private rateValue: number;
  readonly seed: number | undefined;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  private mask!: BatchBuffer<Uint8Array>;
  private readonly draw: RandomDraw = new Uint32Array(6);
  private active = false;
  constructor(config: DropoutConfig) {
    super('dropout', config);
    const r = reader('dropout', config);
    this.rateValue = r.number('rate', { min: 0, max: 1, maxOpen: true });
    this.seed = r.has('seed') ? r.int('seed', { min: 0 }) : (r.accept('seed'), undefined);
    r.done();
  }
  get className(): string {
    return 'Dropout';
  }
  /** fraction of units dropped in training, in [0, 1) */
  get rate(): number {
    return this.rateValue;
  }
  /** Change the rate between two batches (the dashboard's dropout knob); the same range as the config's. */
  setRate(rate: number): void {
    if (!Number.isFinite(rate) || rate < 0 || rate >= 1) throw new ArgumentError(`${this.describe()}: rate must be a number in [0, 1); received ${describe(rate)}`);
    this.rateValue = rate;
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    return [...inputs[0]];
  }
  override build(ctx: BuildContext): void {
    this.rng = layerStream(this.seed ?? ctx.seed, 'dropout', this.index);
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    const n = sizeOf(this.outputShape);
    this.y = this.floatBuffer(n);
    this.dx = this.floatBuffer(n);
    this.mask = this.byteBuffer(n);
  }
  forward([x]: F32[], training: boolean): F32 {
    this.active = training && this.rate > 0;
    if (!this.active) return x;
    const rng = this.rng as NonNullable<typeof this.rng>;
    const [k0, k1] = rng.key;
    const [s0, s1] = rng.streamWords;
    const [lo, hi] = splitU64(rng.reserveBlocks(Math.ceil(x.length / 4)));
    this.draw[0] = k0; this.draw[1] = k1; this.draw[2] = s0; this.draw[3] = s1; this.draw[4] = lo; this.draw[5] = hi;
    this.backend.dropoutForward(this.y.data, this.mask.data, x, this.rate, this.draw);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    if (!this.active) return [dy];
    this.backend.dropoutBackward(this.dx.data, dy, this.mask.data, this.rate);
    return [this.dx.data];
  }
  getConfig(): Record<string, unknown> {
    return { type: 'dropout', name: this.name, rate: this.rate, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

export interface RescalingConfig extends CommonLayerConfig {
  scale: number;
  offset?: number;
}

/** y = x·scale + offset (e.g. scale 1/255 for raw pixels). */
export class Rescaling extends Layer {
  readonly scale: number;
  readonly offset: number;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  constructor(config: RescalingConfig) {
    super('rescaling', config);
    const r = reader('rescaling', config);
    this.scale = r.number('scale');
    this.offset = r.number('offset', { default: 0 });
    r.done();
  }
  get className(): string {
    return 'Rescaling';
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    return [...inputs[0]];
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    const n = sizeOf(this.outputShape);
    this.y = this.floatBuffer(n);
    this.dx = this.floatBuffer(n);
  }
  forward([x]: F32[]): F32 {
    this.backend.fill(this.y.data, this.offset);
    this.backend.axpy(this.y.data, this.scale, x);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    this.backend.copy(this.dx.data, dy);
    this.backend.scale(this.dx.data, this.scale);
    return [this.dx.data];
  }
  getConfig(): Record<string, unknown> {
    return { type: 'rescaling', name: this.name, scale: this.scale, offset: this.offset };
  }
}

/** Add: the elementwise sum of two or more inputs of the same shape (residual connections). */
export class Add extends Layer {
  private y!: BatchBuffer;
  constructor(config: CommonLayerConfig = {}) {
    super('add', config);
    reader('add', config).done();
  }
  get className(): string {
    return 'Add';
  }
  override get arity(): number {
    return 2;
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    if (inputs.length < 2) throw new ShapeError(`${this.describe()} needs at least two inputs; received ${inputs.length}`, 'list them in "inputs": ["a", "b"]');
    for (const s of inputs.slice(1)) {
      if (!sameShape(s, inputs[0])) {
        throw new ShapeError(`${this.describe()}: inputs must have the same shape; received ${inputs.map(formatShape).join(' and ')}`);
      }
    }
    return [...inputs[0]];
  }
  override configure(inputs: Shape[]): Shape {
    this.inputShapes = inputs.map((s) => [...s]);
    this.outputShape = this.computeOutputShape(inputs);
    return this.outputShape;
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.y = this.floatBuffer(sizeOf(this.outputShape));
  }
  forward(inputs: F32[]): F32 {
    this.backend.add(this.y.data, inputs[0], inputs[1]);
    for (const extra of inputs.slice(2)) this.backend.add(this.y.data, this.y.data, extra);
    return this.y.data;
  }
  /** The gradient of a sum reaches every input unchanged (the same buffer, read-only). */
  backward(dy: F32): (F32 | null)[] {
    return this.inputShapes.map((_, i) => (this.needsInputGrad[i] ? dy : null));
  }
  getConfig(): Record<string, unknown> {
    return { type: 'add', name: this.name };
  }
}
