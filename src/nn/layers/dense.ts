/** Dense: y = act(x·W + b), W of shape (in, units), applied on the last axis (Keras). */
import type { Backend, F32 } from '../../backend/backend.js';
import { ShapeError } from '../../errors.js';
import type { ActivationName } from '../activations.js';
import { LayerConfigReader } from '../config.js';
import { type InitializerConfig, initializerToJson } from '../initializers.js';
import { type BatchBuffer, type BuildContext, type CommonLayerConfig, Layer, type Param } from '../layer.js';
import { type Regularizer, regularizerToJson } from '../regularizers.js';
import { type Shape, formatShape, sizeOf } from '../shape.js';
import { ActivationStage } from './activation-stage.js';

export interface DenseConfig extends CommonLayerConfig {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: unknown;
  biasInitializer?: unknown;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
}

export class Dense extends Layer {
  readonly units: number;
  /** the declared activation (the model may strip a final softmax from the stage) */
  readonly activation: ActivationName;
  readonly stage: ActivationStage;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerConfig;
  readonly biasInitializer: InitializerConfig;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  kernel!: Param;
  bias: Param | null = null;
  private inF = 0;
  private rowsPerExample = 1;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  private z: BatchBuffer | null = null;
  private dz: BatchBuffer | null = null;
  private x: F32 | null = null;

  constructor(config: DenseConfig) {
    super('dense', config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `dense${config.name ? ` '${config.name}'` : ''}`);
    r.accept('name', 'trainable');
    this.units = r.int('units', { min: 1 });
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
    return 'Dense';
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    const s = inputs[0];
    if (s.length < 1) throw new ShapeError(`${this.describe()} needs an input with a feature axis; received ${formatShape(s)}`);
    this.inF = s[s.length - 1];
    this.rowsPerExample = sizeOf(s.slice(0, -1));
    return [...s.slice(0, -1), this.units];
  }

  override plannedWeights(): { shape: number[]; trainable: boolean }[] {
    return [{ shape: [this.inF, this.units], trainable: true }, ...(this.useBias ? [{ shape: [this.units], trainable: true }] : [])];
  }

  override build(ctx: BuildContext): void {
    this.kernel = this.addWeight(ctx, 'kernel', [this.inF, this.units], this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight(ctx, 'bias', [this.units], this.biasInitializer, this.biasRegularizer);
  }

  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    const out = this.rowsPerExample * this.units;
    this.y = this.floatBuffer(out);
    this.dx = this.floatBuffer(this.rowsPerExample * this.inF);
    if (this.stage.separate) {
      this.z = this.floatBuffer(out);
      this.dz = this.floatBuffer(out);
    }
  }

  private get rows(): number {
    return this.batch * this.rowsPerExample;
  }

  forward([x]: F32[], _training: boolean): F32 {
    this.x = x;
    const b = this.bias ? this.bias.value : null;
    if (this.z) {
      this.backend.denseForward(this.z.data, x, this.kernel.value, b, this.rows, this.inF, this.units, 'linear');
      this.stage.forward(this.backend, this.y.data, this.z.data, this.rows, this.units);
    } else {
      this.backend.denseForward(this.y.data, x, this.kernel.value, b, this.rows, this.inF, this.units, this.stage.fused);
    }
    return this.y.data;
  }

  backward(dy: F32): (F32 | null)[] {
    let grad = dy;
    if (this.z && this.dz) {
      this.stage.backward(this.backend, this.dz.data, dy, this.z.data, this.y.data, this.rows, this.units);
      grad = this.dz.data;
    }
    const dx = this.needsInputGrad[0] ? this.dx.data : null;
    const train = this.trainable;
    this.backend.denseBackward(
      dx, train ? this.kernel.grad : null, train && this.bias ? this.bias.grad : null, grad,
      this.stage.fused === 'relu' ? this.y.data : null, this.x as F32, this.kernel.value,
      this.rows, this.inF, this.units, this.z ? 'linear' : this.stage.fused,
    );
    return [dx];
  }

  getConfig(): Record<string, unknown> {
    return {
      type: 'dense', name: this.name, units: this.units, activation: this.activation, useBias: this.useBias,
      kernelInitializer: initializerToJson(this.kernelInitializer), biasInitializer: initializerToJson(this.biasInitializer),
      kernelRegularizer: regularizerToJson(this.kernelRegularizer), biasRegularizer: regularizerToJson(this.biasRegularizer),
      activityRegularizer: regularizerToJson(this.activityRegularizer), trainable: this.trainable,
    };
  }
}
