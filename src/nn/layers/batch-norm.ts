/**
 * BatchNormalization on the last axis, Keras conventions: momentum 0.99 ("keeps 99% of the old
 * moving mean"), epsilon 1e-3; gamma and beta trainable, moving mean and variance not (so 4
 * numbers per channel, 2 of them trainable). Training uses batch statistics and updates the
 * moving ones; inference — and a frozen layer even while training, as in Keras — uses the
 * moving statistics. A following Activation('relu') is fused into the same pass.
 */
import type { Backend, F32 } from '../../backend/backend.js';
import { ShapeError } from '../../errors.js';
import { LayerConfigReader } from '../config.js';
import { type InitializerConfig, initializerToJson } from '../initializers.js';
import { type BatchBuffer, type BuildContext, type CommonLayerConfig, Layer, type Param } from '../layer.js';
import { type Regularizer, regularizerToJson } from '../regularizers.js';
import { type Shape, formatShape, sizeOf } from '../shape.js';

export interface BatchNormalizationConfig extends CommonLayerConfig {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: unknown;
  gammaInitializer?: unknown;
  movingMeanInitializer?: unknown;
  movingVarianceInitializer?: unknown;
  betaRegularizer?: unknown;
  gammaRegularizer?: unknown;
}

export class BatchNormalization extends Layer {
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly inits: Record<'beta' | 'gamma' | 'movingMean' | 'movingVariance', InitializerConfig>;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  /** set by the model when an Activation('relu') follows and is fused in */
  fusedRelu = false;
  gamma: Param | null = null;
  beta: Param | null = null;
  movingMean!: Param;
  movingVariance!: Param;
  private c = 0;
  private y!: BatchBuffer;
  private dx!: BatchBuffer;
  private masked!: BatchBuffer;
  private mean!: F32;
  private invStd!: F32;
  private zeros!: F32;
  private x: F32 | null = null;
  private mode: 'train' | 'infer' = 'infer';

  constructor(config: BatchNormalizationConfig = {}) {
    super('batchNormalization', config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `batchNormalization${config.name ? ` '${config.name}'` : ''}`);
    r.accept('name', 'trainable');
    if (r.has('axis')) {
      const axis = r.int('axis');
      if (axis !== -1 && axis !== 3 && axis !== 1) {
        throw new ShapeError(`${r.where}: axis must be -1 (the channels axis, NHWC); received ${axis}`);
      }
    } else r.accept('axis');
    this.momentum = r.number('momentum', { min: 0, max: 1, default: 0.99 });
    this.epsilon = r.number('epsilon', { min: 0, minOpen: true, default: 1e-3 });
    this.center = r.bool('center', true);
    this.scale = r.bool('scale', true);
    this.inits = {
      beta: r.initializer('betaInitializer', 'zeros'),
      gamma: r.initializer('gammaInitializer', 'ones'),
      movingMean: r.initializer('movingMeanInitializer', 'zeros'),
      movingVariance: r.initializer('movingVarianceInitializer', 'ones'),
    };
    this.betaRegularizer = r.regularizer('betaRegularizer');
    this.gammaRegularizer = r.regularizer('gammaRegularizer');
    r.done();
  }

  get className(): string {
    return 'BatchNormalization';
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    const s = inputs[0];
    if (s.length < 1) throw new ShapeError(`${this.describe()} needs a channel axis; received ${formatShape(s)}`);
    this.c = s[s.length - 1];
    return [...s];
  }

  override plannedWeights(): { shape: number[]; trainable: boolean }[] {
    const shape = [this.c];
    return [
      ...(this.scale ? [{ shape, trainable: true }] : []),
      ...(this.center ? [{ shape, trainable: true }] : []),
      { shape, trainable: false },
      { shape, trainable: false },
    ];
  }

  override build(ctx: BuildContext): void {
    const shape = [this.c];
    if (this.scale) this.gamma = this.addWeight(ctx, 'gamma', shape, this.inits.gamma, this.gammaRegularizer);
    if (this.center) this.beta = this.addWeight(ctx, 'beta', shape, this.inits.beta, this.betaRegularizer);
    this.movingMean = this.addWeight(ctx, 'moving_mean', shape, this.inits.movingMean, null, false);
    this.movingVariance = this.addWeight(ctx, 'moving_variance', shape, this.inits.movingVariance, null, false);
  }

  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    const n = sizeOf(this.outputShape);
    this.y = this.floatBuffer(n);
    this.dx = this.floatBuffer(n);
    this.masked = this.floatBuffer(n);
    this.mean = backend.alloc(this.c);
    this.invStd = backend.alloc(this.c);
    this.zeros = backend.alloc(this.c);
  }

  private get rows(): number {
    return (this.batch * sizeOf(this.outputShape)) / this.c;
  }

  forward([x]: F32[], training: boolean): F32 {
    this.x = x;
    const act = this.fusedRelu ? 'relu' : 'linear';
    const gamma = this.gamma?.value ?? null;
    const beta = this.beta?.value ?? null;
    if (training && this.trainable) {
      this.mode = 'train';
      this.backend.batchNormTrainForward(
        this.y.data, this.mean, this.invStd, this.movingMean.value, this.movingVariance.value,
        x, gamma, beta, this.rows, this.c, this.momentum, this.epsilon, act,
      );
    } else {
      this.mode = 'infer';
      this.backend.batchNormInferForward(
        this.y.data, x, gamma, beta, this.movingMean.value, this.movingVariance.value,
        this.rows, this.c, this.epsilon, act,
      );
    }
    return this.y.data;
  }

  backward(dy: F32): (F32 | null)[] {
    const act = this.fusedRelu ? 'relu' : 'linear';
    if (this.mode === 'train') {
      this.backend.batchNormBackward(
        this.dx.data, this.gamma?.grad ?? null, this.beta?.grad ?? null, dy, this.fusedRelu ? this.y.data : null,
        this.x as F32, this.mean, this.invStd, this.gamma?.value ?? null, this.rows, this.c, act,
      );
      return [this.needsInputGrad[0] ? this.dx.data : null];
    }
    if (!this.needsInputGrad[0]) return [null];
    // Inference-mode backward (frozen BN while fine-tuning): dx = dy·gamma/sqrt(movingVar + ε),
    // the inference forward applied to dy with a zero mean and no beta.
    let g = dy;
    if (this.fusedRelu) {
      this.backend.activationBackward('relu', this.masked.data, dy, this.y.data, this.y.data, 0);
      g = this.masked.data;
    }
    this.backend.batchNormInferForward(
      this.dx.data, g, this.gamma?.value ?? null, null, this.zeros, this.movingVariance.value,
      this.rows, this.c, this.epsilon, 'linear',
    );
    return [this.dx.data];
  }

  getConfig(): Record<string, unknown> {
    return {
      type: 'batchNormalization', name: this.name, momentum: this.momentum, epsilon: this.epsilon,
      center: this.center, scale: this.scale,
      betaInitializer: initializerToJson(this.inits.beta), gammaInitializer: initializerToJson(this.inits.gamma),
      movingMeanInitializer: initializerToJson(this.inits.movingMean),
      movingVarianceInitializer: initializerToJson(this.inits.movingVariance),
      betaRegularizer: regularizerToJson(this.betaRegularizer), gammaRegularizer: regularizerToJson(this.gammaRegularizer),
      trainable: this.trainable,
    };
  }
}
