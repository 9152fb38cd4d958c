/** Conv2D, NHWC, kernel (kh, kw, cin, filters) — Keras semantics ('valid' padding by default). */
import type { Backend, F32 } from '../../backend/backend.js';
import { type ConvGeometry, type Padding, convGeometry, windowAxis } from '../../backend/geometry.js';
import { ShapeError } from '../../errors.js';
import type { ActivationName } from '../activations.js';
import { LayerConfigReader } from '../config.js';
import { type InitializerConfig, initializerToJson } from '../initializers.js';
import { type BatchBuffer, type BuildContext, type CommonLayerConfig, Layer, type Param } from '../layer.js';
import { type Regularizer, regularizerToJson } from '../regularizers.js';
import { type Shape, formatShape } from '../shape.js';
import { ActivationStage } from './activation-stage.js';

export interface Conv2DConfig extends CommonLayerConfig {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: unknown;
  biasInitializer?: unknown;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
}

export class Conv2D extends Layer {
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly activation: ActivationName;
  readonly stage: ActivationStage;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerConfig;
  readonly biasInitializer: InitializerConfig;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  kernel!: Param;
  bias: Param | null = null;
  private geom!: ConvGeometry;
  private geomMax!: ConvGeometry;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  private z: BatchBuffer | null = null;
  private dz: BatchBuffer | null = null;
  private x: F32 | null = null;

  constructor(config: Conv2DConfig) {
    super('conv2d', config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `conv2d${config.name ? ` '${config.name}'` : ''}`);
    r.accept('name', 'trainable');
    this.filters = r.int('filters', { min: 1 });
    this.kernelSize = r.pair('kernelSize');
    this.strides = r.pair('strides', { default: [1, 1] });
    this.padding = r.oneOf('padding', ['valid', 'same'] as const, 'valid');
    this.activation = r.activation('activation');
    this.stage = new ActivationStage(this.activation);
    this.useBias = r.bool('useBias', true);
    this.kernelInitializer = r.initializer('kernelInitializer', 'glorot_uniform');
    this.biasInitializer = r.initializer('biasInitializer', 'zeros');
    this.kernelRegularizer = r.regularizer('kernelRegularizer');
    this.biasRegularizer = r.regularizer('biasRegularizer');
    this.activityRegularizer = r.regularizer('activityRegularizer');
    r.done();
  }

  get className(): string {
    return 'Conv2D';
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    const [h, w, c] = this.singleInput(inputs, 3, 'images (height, width, channels)');
    const [kh, kw] = this.kernelSize;
    const y = windowAxis(h, kh, this.strides[0], this.padding);
    const x = windowAxis(w, kw, this.strides[1], this.padding);
    if (y.out < 1 || x.out < 1) {
      throw new ShapeError(
        `${this.describe()}: kernelSize [${kh}, ${kw}] does not fit the input ${formatShape(inputs[0])} with padding '${this.padding}'; allowed: at most [${inputs[0][0]}, ${inputs[0][1]}], or padding 'same'`,
      );
    }
    void c;
    return [y.out, x.out, this.filters];
  }

  override plannedWeights(): { shape: number[]; trainable: boolean }[] {
    const c = this.inputShapes[0][2];
    return [
      { shape: [this.kernelSize[0], this.kernelSize[1], c, this.filters], trainable: true },
      ...(this.useBias ? [{ shape: [this.filters], trainable: true }] : []),
    ];
  }

  override build(ctx: BuildContext): void {
    const c = this.inputShapes[0][2];
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight(ctx, 'kernel', [kh, kw, c, this.filters], this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight(ctx, 'bias', [this.filters], this.biasInitializer, this.biasRegularizer);
  }

  private geometry(n: number): ConvGeometry {
    const [h, w, c] = this.inputShapes[0];
    return convGeometry({
      n, h, w, c, kh: this.kernelSize[0], kw: this.kernelSize[1], sh: this.strides[0], sw: this.strides[1],
      padding: this.padding, f: this.filters,
    });
  }

  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.geomMax = this.geometry(maxBatch);
    this.geom = this.geomMax;
    const [oh, ow, f] = this.outputShape;
    const [h, w, c] = this.inputShapes[0];
    this.y = this.floatBuffer(oh * ow * f);
    this.dx = this.floatBuffer(h * w * c);
    if (this.stage.separate) {
      this.z = this.floatBuffer(oh * ow * f);
      this.dz = this.floatBuffer(oh * ow * f);
    }
  }

  protected override onBatchChange(batch: number): void {
    this.geom = batch === this.maxBatch ? this.geomMax : this.geometry(batch);
  }

  forward([x]: F32[], _training: boolean): F32 {
    this.x = x;
    const b = this.bias ? this.bias.value : null;
    if (this.z) {
      this.backend.conv2dForward(this.z.data, x, this.kernel.value, b, this.geom, 'linear');
      const [oh, ow, f] = this.outputShape;
      this.stage.forward(this.backend, this.y.data, this.z.data, this.batch * oh * ow, f);
    } else {
      this.backend.conv2dForward(this.y.data, x, this.kernel.value, b, this.geom, this.stage.fused);
    }
    return this.y.data;
  }

  backward(dy: F32): (F32 | null)[] {
    let grad = dy;
    if (this.z && this.dz) {
      const [oh, ow, f] = this.outputShape;
      this.stage.backward(this.backend, this.dz.data, dy, this.z.data, this.y.data, this.batch * oh * ow, f);
      grad = this.dz.data;
    }
    const dx = this.needsInputGrad[0] ? this.dx.data : null;
    const train = this.trainable;
    this.backend.conv2dBackward(
      dx, train ? this.kernel.grad : null, train && this.bias ? this.bias.grad : null, grad,
      this.stage.fused === 'relu' && !this.z ? this.y.data : null, this.x as F32, this.kernel.value, this.geom,
      this.z ? 'linear' : this.stage.fused,
    );
    return [dx];
  }

  getConfig(): Record<string, unknown> {
    return {
      type: 'conv2d', name: this.name, filters: this.filters, kernelSize: [...this.kernelSize], strides: [...this.strides],
      padding: this.padding, activation: this.activation, useBias: this.useBias,
      kernelInitializer: initializerToJson(this.kernelInitializer), biasInitializer: initializerToJson(this.biasInitializer),
      kernelRegularizer: regularizerToJson(this.kernelRegularizer), biasRegularizer: regularizerToJson(this.biasRegularizer),
      activityRegularizer: regularizerToJson(this.activityRegularizer), trainable: this.trainable,
    };
  }
}
