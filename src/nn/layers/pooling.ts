/** MaxPooling2D, AveragePooling2D (any pool, stride, padding) and the global poolings. */
import type { Backend, F32 } from '../../backend/backend.js';
import { type Padding, type PoolGeometry, poolGeometry, windowAxis } from '../../backend/geometry.js';
import { ShapeError } from '../../errors.js';
import { LayerConfigReader } from '../config.js';
import { type BatchBuffer, type CommonLayerConfig, Layer } from '../layer.js';
import { type Shape, formatShape } from '../shape.js';

export interface Pooling2DConfig extends CommonLayerConfig {
  poolSize?: number | [number, number];
  /** default: poolSize (Keras) */
  strides?: number | [number, number] | null;
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  protected geom!: PoolGeometry;
  protected geomMax!: PoolGeometry;
  protected y!: BatchBuffer;
  protected dx!: BatchBuffer;

  constructor(type: string, config: Pooling2DConfig) {
    super(type, config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `${type}${config.name ? ` '${config.name}'` : ''}`);
    r.accept('name', 'trainable');
    this.poolSize = r.pair('poolSize', { default: [2, 2] });
    this.strides = r.pair('strides', { default: this.poolSize });
    this.padding = r.oneOf('padding', ['valid', 'same'] as const, 'valid');
    r.done();
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    const [h, w, c] = this.singleInput(inputs, 3, 'images (height, width, channels)');
    const y = windowAxis(h, this.poolSize[0], this.strides[0], this.padding);
    const x = windowAxis(w, this.poolSize[1], this.strides[1], this.padding);
    if (y.out < 1 || x.out < 1) {
      throw new ShapeError(
        `${this.describe()}: poolSize [${this.poolSize.join(', ')}] does not fit the input ${formatShape(inputs[0])} with padding '${this.padding}'; allowed: at most [${inputs[0][0]}, ${inputs[0][1]}], or padding 'same'`,
        'a preset built for larger images (e.g. overfit-cnn needs 32×32) cannot take smaller ones',
      );
    }
    return [y.out, x.out, c];
  }

  private geometry(n: number): PoolGeometry {
    const [h, w, c] = this.inputShapes[0];
    return poolGeometry({ n, h, w, c, kh: this.poolSize[0], kw: this.poolSize[1], sh: this.strides[0], sw: this.strides[1], padding: this.padding });
  }

  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.geomMax = this.geometry(maxBatch);
    this.geom = this.geomMax;
    const [oh, ow, c] = this.outputShape;
    const [h, w] = this.inputShapes[0];
    this.y = this.floatBuffer(oh * ow * c);
    this.dx = this.floatBuffer(h * w * c);
  }

  protected override onBatchChange(batch: number): void {
    this.geom = batch === this.maxBatch ? this.geomMax : this.geometry(batch);
  }

  getConfig(): Record<string, unknown> {
    return { type: this.type, name: this.name, poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}

export class MaxPooling2D extends Pooling2D {
  private argmax!: BatchBuffer<Int32Array>;
  constructor(config: Pooling2DConfig = {}) {
    super('maxPooling2d', config);
  }
  get className(): string {
    return 'MaxPooling2D';
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    const [oh, ow, c] = this.outputShape;
    this.argmax = this.intBuffer(oh * ow * c);
  }
  forward([x]: F32[]): F32 {
    this.backend.maxPoolForward(this.y.data, this.argmax.data, x, this.geom);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    this.backend.maxPoolBackward(this.dx.data, dy, this.argmax.data, this.geom);
    return [this.dx.data];
  }
}

export class AveragePooling2D extends Pooling2D {
  constructor(config: Pooling2DConfig = {}) {
    super('averagePooling2d', config);
  }
  get className(): string {
    return 'AveragePooling2D';
  }
  forward([x]: F32[]): F32 {
    this.backend.avgPoolForward(this.y.data, x, this.geom);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    this.backend.avgPoolBackward(this.dx.data, dy, this.geom);
    return [this.dx.data];
  }
}

export interface GlobalPooling2DConfig extends CommonLayerConfig {
  keepdims?: boolean;
}

abstract class GlobalPooling2D extends Layer {
  readonly keepdims: boolean;
  protected y!: BatchBuffer;
  protected dx!: BatchBuffer;
  protected hw = 0;
  protected c = 0;
  constructor(type: string, config: GlobalPooling2DConfig) {
    super(type, config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `${type}${config.name ? ` '${config.name}'` : ''}`);
    r.accept('name', 'trainable');
    this.keepdims = r.bool('keepdims', false);
    r.done();
  }
  protected computeOutputShape(inputs: Shape[]): Shape {
    const [h, w, c] = this.singleInput(inputs, 3, 'images (height, width, channels)');
    this.hw = h * w;
    this.c = c;
    return this.keepdims ? [1, 1, c] : [c];
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.y = this.floatBuffer(this.c);
    this.dx = this.floatBuffer(this.hw * this.c);
  }
  getConfig(): Record<string, unknown> {
    return { type: this.type, name: this.name, keepdims: this.keepdims };
  }
}

export class GlobalMaxPooling2D extends GlobalPooling2D {
  private argmax!: BatchBuffer<Int32Array>;
  constructor(config: GlobalPooling2DConfig = {}) {
    super('globalMaxPooling2d', config);
  }
  get className(): string {
    return 'GlobalMaxPooling2D';
  }
  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.argmax = this.intBuffer(this.c);
  }
  forward([x]: F32[]): F32 {
    this.backend.globalMaxPoolForward(this.y.data, this.argmax.data, x, this.batch, this.hw, this.c);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    this.backend.globalMaxPoolBackward(this.dx.data, dy, this.argmax.data, this.batch, this.hw, this.c);
    return [this.dx.data];
  }
}

export class GlobalAveragePooling2D extends GlobalPooling2D {
  constructor(config: GlobalPooling2DConfig = {}) {
    super('globalAveragePooling2d', config);
  }
  get className(): string {
    return 'GlobalAveragePooling2D';
  }
  forward([x]: F32[]): F32 {
    this.backend.globalAvgPoolForward(this.y.data, x, this.batch, this.hw, this.c);
    return this.y.data;
  }
  backward(dy: F32): (F32 | null)[] {
    if (!this.needsInputGrad[0]) return [null];
    this.backend.globalAvgPoolBackward(this.dx.data, dy, this.batch, this.hw, this.c);
    return [this.dx.data];
  }
}
