/**
 * Optimizers with Keras names, defaults and update formulas: SGD (momentum, nesterov), Adam
 * (epsilon 1e-7, amsgrad), AdamW (decoupled weight decay, default 0.004), Nadam, RMSprop.
 * The update itself is one fused kernel per weight tensor (src/backend). Shared by all:
 * weightDecay (decoupled, w −= lr·wd·w before the update), clipnorm (per tensor), clipvalue,
 * globalClipnorm, and a learning rate that is a number or a schedule of the iteration count.
 *
 * Slot buffers (moments) are allocated at the first step and reused; getState()/setState()
 * carry them, with the iteration count, through checkpoints for an exact resume.
 */
import type { Backend, F32 } from '../backend/backend.js';
import { ArgumentError, describe } from '../errors.js';
import { ConfigReader } from '../util/config-reader.js';
import { type LearningRateSchedule, parseSchedule, scheduleValue } from './schedules.js';

/**
 * What an optimizer reads and updates: a layer's Param (src/nn/layer.ts) is one. Declared here
 * with only the fields an update uses, because optim sits on a floor below nn.
 */
export interface TrainableParam {
  /** unique key of the optimizer's slots (moments, velocities) for this weight */
  readonly name: string;
  readonly value: F32;
  /** null for weights that are never trained */
  readonly grad: F32 | null;
  readonly trainable: boolean;
}

/** A momentum coefficient set live: a number in [0, 1], or [0, 1) where the config says so. */
function coefficient(owner: string, key: string, value: number, maxOpen: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (maxOpen ? value >= 1 : value > 1)) {
    throw new ArgumentError(`${owner}: ${key} must be a number in [0, 1${maxOpen ? ')' : ']'}; received ${describe(value)}`);
  }
  return value;
}

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'nadam' | 'rmsprop';
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'nadam', 'rmsprop'];

export interface OptimizerState {
  name: OptimizerName;
  iterations: number;
  learningRate: number;
  /** slot name → param name → values */
  slots: Record<string, Record<string, Float32Array>>;
  /** Nadam's running product of momentum coefficients */
  uProduct?: number;
}

export abstract class Optimizer {
  abstract readonly name: OptimizerName;
  /** Keras class name for configs */
  abstract readonly className: string;
  /** A fixed learning rate; callbacks (ReduceLROnPlateau, schedulers) change it. */
  learningRate: number;
  readonly schedule: LearningRateSchedule | null;
  iterations = 0;
  weightDecay: number;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  protected slots = new Map<string, Map<string, F32>>();

  /**
   * The momentum coefficient a live knob turns: `momentum` for SGD and RMSprop, `beta1` for
   * Adam, AdamW and Nadam; null for an optimizer without one.
   */
  get momentumCoefficient(): number | null {
    return null;
  }

  /** Change the momentum coefficient between two steps, within the range its config allows. */
  setMomentumCoefficient(value: number): void {
    void value;
    throw new ArgumentError(`the ${this.className} optimizer has no momentum to change`);
  }

  constructor(r: ConfigReader, defaults: { learningRate: number; weightDecay?: number }) {
    r.accept('name');
    const lr = r.peek('learningRate');
    if (lr !== null && typeof lr === 'object') {
      r.accept('learningRate');
      this.schedule = parseSchedule(lr, `${r.where}: learningRate`);
      this.learningRate = scheduleValue(this.schedule, 0);
    } else {
      this.schedule = null;
      this.learningRate = r.number('learningRate', { min: 0, default: defaults.learningRate });
    }
    this.weightDecay = r.number('weightDecay', { min: 0, default: defaults.weightDecay ?? 0 });
    this.clipnorm = r.has('clipnorm') ? r.number('clipnorm', { min: 0, minOpen: true }) : (r.accept('clipnorm'), null);
    this.clipvalue = r.has('clipvalue') ? r.number('clipvalue', { min: 0, minOpen: true }) : (r.accept('clipvalue'), null);
    this.globalClipnorm = r.has('globalClipnorm') ? r.number('globalClipnorm', { min: 0, minOpen: true }) : (r.accept('globalClipnorm'), null);
    const set = [['clipnorm', this.clipnorm], ['clipvalue', this.clipvalue], ['globalClipnorm', this.globalClipnorm]].filter(([, v]) => v !== null);
    if (set.length > 1) {
      throw new ArgumentError(`${r.where}: only one of clipnorm, clipvalue and globalClipnorm can be set (as in Keras); received ${set.map(([k]) => k).join(' and ')}`);
    }
  }

  /** The learning rate the next step will use. */
  currentLearningRate(): number {
    return this.schedule ? scheduleValue(this.schedule, this.iterations) : this.learningRate;
  }

  protected slot(kind: string, p: TrainableParam, backend: Backend): F32 {
    let bySlot = this.slots.get(kind);
    if (!bySlot) {
      bySlot = new Map();
      this.slots.set(kind, bySlot);
    }
    let buf = bySlot.get(p.name);
    if (!buf) {
      buf = backend.alloc(p.value.length);
      bySlot.set(p.name, buf);
    }
    return buf;
  }

  /** One update of every trainable weight from its gradient. */
  step(params: TrainableParam[], backend: Backend): void {
    const lr = this.currentLearningRate();
    if (!Number.isFinite(lr)) throw new ArgumentError(`${this.className}: the learning rate is ${lr}; it must be a finite number`);
    const live = params.filter((p) => p.trainable && p.grad);
    this.clip(live, backend);
    this.beforeUpdates();
    for (const p of live) this.update(p, p.grad as F32, lr, backend);
    this.iterations++;
  }

  protected beforeUpdates(): void {}

  protected abstract update(p: TrainableParam, g: F32, lr: number, backend: Backend): void;

  private clip(params: TrainableParam[], backend: Backend): void {
    if (this.clipvalue !== null) {
      const v = this.clipvalue;
      for (const p of params) {
        const g = p.grad as F32;
        for (let i = 0; i < g.length; i++) g[i] = g[i] > v ? v : g[i] < -v ? -v : g[i];
      }
    }
    if (this.clipnorm !== null) {
      for (const p of params) {
        const norm = Math.sqrt(backend.sumSquares(p.grad as F32));
        if (norm > this.clipnorm) backend.scale(p.grad as F32, this.clipnorm / norm);
      }
    }
    if (this.globalClipnorm !== null) {
      let total = 0;
      for (const p of params) total += backend.sumSquares(p.grad as F32);
      const norm = Math.sqrt(total);
      if (norm > this.globalClipnorm) for (const p of params) backend.scale(p.grad as F32, this.globalClipnorm / norm);
    }
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [kind, byParam] of this.slots) {
      slots[kind] = {};
      for (const [name, buf] of byParam) slots[kind][name] = Float32Array.from(buf);
    }
    return { name: this.name, iterations: this.iterations, learningRate: this.learningRate, slots };
  }

  setState(state: OptimizerState, backend: Backend): void {
    if (state.name !== this.name) {
      throw new ArgumentError(`optimizer state is for ${state.name}; this optimizer is ${this.name}`);
    }
    this.iterations = state.iterations;
    this.learningRate = state.learningRate;
    this.slots.clear();
    for (const [kind, byParam] of Object.entries(state.slots)) {
      const m = new Map<string, F32>();
      for (const [name, values] of Object.entries(byParam)) {
        const buf = backend.alloc(values.length);
        buf.set(values);
        m.set(name, buf);
      }
      this.slots.set(kind, m);
    }
  }

  /** Keras-like config (camelCase), enough to rebuild the optimizer. */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      learningRate: this.schedule ?? this.learningRate,
      ...(this.weightDecay ? { weightDecay: this.weightDecay } : {}),
      ...(this.clipnorm !== null ? { clipnorm: this.clipnorm } : {}),
      ...(this.clipvalue !== null ? { clipvalue: this.clipvalue } : {}),
      ...(this.globalClipnorm !== null ? { globalClipnorm: this.globalClipnorm } : {}),
      ...this.hyper(),
    };
  }

  protected abstract hyper(): Record<string, unknown>;
}

export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly className = 'SGD';
  private momentumValue: number;
  readonly nesterov: boolean;
  constructor(config: Record<string, unknown> = {}) {
    const r = new ConfigReader(config, 'SGD');
    super(r, { learningRate: 0.01 });
    this.momentumValue = r.number('momentum', { min: 0, max: 1, default: 0 });
    this.nesterov = r.bool('nesterov', false);
    r.done();
  }
  get momentum(): number {
    return this.momentumValue;
  }
  override get momentumCoefficient(): number {
    return this.momentumValue;
  }
  override setMomentumCoefficient(value: number): void {
    this.momentumValue = coefficient(this.className, 'momentum', value, false);
  }
  protected update(p: TrainableParam, g: F32, lr: number, backend: Backend): void {
    const v = this.momentum > 0 ? this.slot('momentum', p, backend) : null;
    backend.sgdUpdate(p.value, g, v, lr, this.momentum, this.nesterov, this.weightDecay);
  }
  protected hyper(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

export class Adam extends Optimizer {
  readonly name: OptimizerName = 'adam';
  readonly className: string = 'Adam';
  private beta1Value: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  constructor(config: Record<string, unknown> = {}, label = 'Adam', defaultDecay = 0) {
    const r = new ConfigReader(config, label);
    super(r, { learningRate: 0.001, weightDecay: defaultDecay });
    this.beta1Value = r.number('beta1', { min: 0, max: 1, maxOpen: true, default: 0.9 });
    this.beta2 = r.number('beta2', { min: 0, max: 1, maxOpen: true, default: 0.999 });
    this.epsilon = r.number('epsilon', { min: 0, default: 1e-7 });
    this.amsgrad = r.bool('amsgrad', false);
    r.done();
  }
  get beta1(): number {
    return this.beta1Value;
  }
  override get momentumCoefficient(): number {
    return this.beta1Value;
  }
  override setMomentumCoefficient(value: number): void {
    this.beta1Value = coefficient(this.className, 'beta1', value, true);
  }
  protected update(p: TrainableParam, g: F32, lr: number, backend: Backend): void {
    backend.adamUpdate(
      p.value, g, this.slot('momentum', p, backend), this.slot('velocity', p, backend),
      this.amsgrad ? this.slot('velocity_hat', p, backend) : null, lr, this.beta1, this.beta2, this.epsilon,
      this.iterations + 1, this.weightDecay,
    );
  }
  protected hyper(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

/** AdamW: Adam with decoupled weight decay, Keras default weight_decay 0.004. */
export class AdamW extends Adam {
  override readonly name = 'adamw';
  override readonly className = 'AdamW';
  constructor(config: Record<string, unknown> = {}) {
    super(config, 'AdamW', 0.004);
  }
}

export class Nadam extends Optimizer {
  readonly name = 'nadam';
  readonly className = 'Nadam';
  private beta1Value: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Π of the momentum schedule u_t (Keras' _u_product) */
  private uProduct = 1;
  private coefM = 0;
  private coefG = 0;
  private vCorrection = 1;
  constructor(config: Record<string, unknown> = {}) {
    const r = new ConfigReader(config, 'Nadam');
    super(r, { learningRate: 0.001 });
    this.beta1Value = r.number('beta1', { min: 0, max: 1, maxOpen: true, default: 0.9 });
    this.beta2 = r.number('beta2', { min: 0, max: 1, maxOpen: true, default: 0.999 });
    this.epsilon = r.number('epsilon', { min: 0, default: 1e-7 });
    r.done();
  }
  get beta1(): number {
    return this.beta1Value;
  }
  override get momentumCoefficient(): number {
    return this.beta1Value;
  }
  override setMomentumCoefficient(value: number): void {
    this.beta1Value = coefficient(this.className, 'beta1', value, true);
  }
  /** Keras' momentum schedule: u_t = β1(1 − ½·0.96^t); the step uses u_t and u_{t+1}. */
  protected override beforeUpdates(): void {
    const t = this.iterations + 1;
    const uT = this.beta1 * (1 - 0.5 * 0.96 ** t);
    const uNext = this.beta1 * (1 - 0.5 * 0.96 ** (t + 1));
    this.uProduct *= uT;
    const uProductNext = this.uProduct * uNext;
    this.coefM = uNext / (1 - uProductNext);
    this.coefG = (1 - uT) / (1 - this.uProduct);
    this.vCorrection = 1 / (1 - this.beta2 ** t);
  }
  protected update(p: TrainableParam, g: F32, lr: number, backend: Backend): void {
    backend.nadamUpdate(
      p.value, g, this.slot('momentum', p, backend), this.slot('velocity', p, backend), lr, this.beta1, this.beta2,
      this.epsilon, this.coefM, this.coefG, this.vCorrection, this.weightDecay,
    );
  }
  override getState(): OptimizerState {
    return { ...super.getState(), uProduct: this.uProduct };
  }
  override setState(state: OptimizerState, backend: Backend): void {
    super.setState(state, backend);
    this.uProduct = state.uProduct ?? 1;
  }
  protected hyper(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export class RMSprop extends Optimizer {
  readonly name = 'rmsprop';
  readonly className = 'RMSprop';
  readonly rho: number;
  private momentumValue: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(config: Record<string, unknown> = {}) {
    const r = new ConfigReader(config, 'RMSprop');
    super(r, { learningRate: 0.001 });
    this.rho = r.number('rho', { min: 0, max: 1, maxOpen: true, default: 0.9 });
    this.momentumValue = r.number('momentum', { min: 0, max: 1, default: 0 });
    this.epsilon = r.number('epsilon', { min: 0, default: 1e-7 });
    this.centered = r.bool('centered', false);
    r.done();
  }
  get momentum(): number {
    return this.momentumValue;
  }
  override get momentumCoefficient(): number {
    return this.momentumValue;
  }
  override setMomentumCoefficient(value: number): void {
    this.momentumValue = coefficient(this.className, 'momentum', value, false);
  }
  protected update(p: TrainableParam, g: F32, lr: number, backend: Backend): void {
    backend.rmspropUpdate(
      p.value, g, this.slot('velocity', p, backend), this.centered ? this.slot('average_gradient', p, backend) : null,
      this.momentum > 0 ? this.slot('momentum', p, backend) : null, lr, this.rho, this.momentum, this.epsilon, this.weightDecay,
    );
  }
  protected hyper(): Record<string, unknown> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/** Build an optimizer from a name or {name, ...options}: 'adam', {name: 'sgd', momentum: 0.9}. */
export function createOptimizer(spec: unknown): Optimizer {
  const config: Record<string, unknown> = typeof spec === 'string' ? { name: spec } : (spec as Record<string, unknown>);
  if (!config || typeof config !== 'object' || typeof config.name !== 'string') {
    throw new ArgumentError(`optimizer must be a name (${OPTIMIZERS.join(', ')}) or {"name": ..., options}; received ${describe(spec)}`);
  }
  const name = config.name.toLowerCase();
  switch (name) {
    case 'sgd': return new SGD(config);
    case 'adam': return new Adam(config);
    case 'adamw': return new AdamW(config);
    case 'nadam': return new Nadam(config);
    case 'rmsprop': return new RMSprop(config);
    default:
      throw new ArgumentError(`optimizer name must be one of ${OPTIMIZERS.join(', ')}; received ${describe(config.name)}`);
  }
}
