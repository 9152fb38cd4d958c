/**
 * Losses with Keras names and reductions: the mean over the batch of per-example losses
 * (sample weights multiply each example's loss; the divisor stays the batch size, Keras'
 * "sum_over_batch_size"). Cross-entropy is fused with the model's final softmax: the model
 * hands over logits, the kernel computes probabilities, loss and dlogits in one pass.
 */
import type { F32 } from '../backend/backend.js';
import { ArgumentError, ShapeError, describe } from '../errors.js';
import { BatchBuffer } from './layer.js';
import type { Model } from './model.js';

export type LossName = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'mean_squared_error';
export const LOSSES: readonly LossName[] = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error'];

export interface LossSpec {
  name: LossName;
  /** the model outputs logits (no final softmax) */
  fromLogits: boolean;
}

const ALIASES: Record<string, LossName> = {
  mse: 'mean_squared_error', sparseCategoricalCrossentropy: 'sparse_categorical_crossentropy',
  categoricalCrossentropy: 'categorical_crossentropy', meanSquaredError: 'mean_squared_error',
};

export function parseLoss(value: unknown): LossSpec {
  if (typeof value === 'string') {
    const name = (LOSSES as readonly string[]).includes(value) ? (value as LossName) : ALIASES[value];
    if (name) return { name, fromLogits: false };
  } else if (value && typeof value === 'object') {
    const v = value as { name?: unknown; fromLogits?: unknown };
    const base = parseLoss(v.name);
    if (v.fromLogits !== undefined && typeof v.fromLogits !== 'boolean') {
      throw new ArgumentError(`loss.fromLogits must be true or false; received ${describe(v.fromLogits)}`);
    }
    return { ...base, fromLogits: v.fromLogits === true };
  }
  throw new ArgumentError(`loss must be one of ${LOSSES.join(', ')} (or mse); received ${describe(value)}`);
}

/** Targets: class labels (sparse) or dense rows (one-hot, soft labels, regression values). */
export type Targets = Int32Array | Float32Array;

export interface LossResult {
  /** Σ_i w_i·loss_i over the batch (divide by the batch size for Keras' mean) */
  sum: number;
  /** gradient w.r.t. what the model returned (logits when fused), scaled for the mean */
  grad: F32 | null;
  /** class scores for metrics: probabilities (or the raw output for MSE) */
  scores: F32;
}

/** A loss bound to a model: decides the fused path and owns the gradient buffers. */
export class LossHead {
  readonly spec: LossSpec;
  readonly model: Model;
  /** forward the model with { logits: true } and let this head apply the softmax */
  readonly wantsLogits: boolean;
  private grad: BatchBuffer | null = null;
  private probs: BatchBuffer | null = null;

  constructor(model: Model, spec: LossSpec) {
    this.model = model;
    this.spec = spec;
    const ce = spec.name !== 'mean_squared_error';
    if (ce && !model.finalSoftmax && !spec.fromLogits) {
      throw new ArgumentError(
        `${spec.name} needs class probabilities: the model's last layer must have activation 'softmax', or the loss must say fromLogits: true`,
      );
    }
    if (ce && model.finalSoftmax && spec.fromLogits) {
      throw new ArgumentError(`${spec.name} with fromLogits: true, but the model already ends in softmax; drop fromLogits or the softmax`);
    }
    this.wantsLogits = ce;
  }

  private buffers(): { grad: F32; probs: F32 } {
    const per = this.model.outputSize;
    const max = this.model.batchSize;
    if (!this.grad || this.grad.full.length !== max * per) {
      const backend = this.model.backend;
      this.grad = new BatchBuffer(backend.alloc(max * per), per);
      this.probs = new BatchBuffer(backend.alloc(max * per), per);
    }
    const b = this.model.currentBatch;
    this.grad.setBatch(b);
    (this.probs as BatchBuffer).setBatch(b);
    return { grad: this.grad.data, probs: (this.probs as BatchBuffer).data };
  }

  /** Loss of the model output for these targets; with wantGrad, the gradient for backward(). */
  compute(output: F32, targets: Targets, weights: F32 | null, wantGrad: boolean): LossResult {
    const backend = this.model.backend;
    const rows = this.model.currentBatch;
    const cols = this.model.outputSize;
    const { grad, probs } = this.buffers();
    const g = wantGrad ? grad : null;
    const scale = 1 / rows;
    switch (this.spec.name) {
      case 'sparse_categorical_crossentropy': {
        if (!(targets instanceof Int32Array) || targets.length !== rows) {
          throw new ShapeError(`sparse_categorical_crossentropy needs ${rows} integer labels (Int32Array); received ${describe(targets)}`);
        }
        const sum = backend.softmaxCrossEntropy(probs, g, output, targets, weights, rows, cols, scale);
        return { sum, grad: g, scores: probs };
      }
      case 'categorical_crossentropy': {
        if (!(targets instanceof Float32Array) || targets.length !== rows * cols) {
          throw new ShapeError(`categorical_crossentropy needs ${rows}×${cols} target values (Float32Array, one-hot); received ${describe(targets)}`);
        }
        const sum = backend.categoricalCrossEntropy(probs, g, output, targets, weights, rows, cols, scale);
        return { sum, grad: g, scores: probs };
      }
      case 'mean_squared_error': {
        if (!(targets instanceof Float32Array) || targets.length !== rows * cols) {
          throw new ShapeError(`mean_squared_error needs ${rows}×${cols} target values (Float32Array); received ${describe(targets)}`);
        }
        const sum = backend.meanSquaredError(g, output, targets, weights, rows, cols, scale);
        return { sum, grad: g, scores: output };
      }
    }
  }
}
