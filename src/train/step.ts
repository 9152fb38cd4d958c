/**
 * One training step and one evaluation batch: forward, loss (+ regularization penalty, as Keras
 * reports it), backward, optimizer update. Everything runs in preallocated buffers.
 */
import type { F32 } from '../backend/backend.js';
import type { LossHead, Targets } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import type { Optimizer } from '../optim/optimizers.js';

export interface BatchResult {
  /** examples in the batch */
  size: number;
  /** Σ w·loss over the batch (data loss only) */
  lossSum: number;
  /** regularization penalty at this step (weights before the update) */
  penalty: number;
  /** examples whose label was the top-1 prediction (sparse targets only; else -1) */
  correct: number;
}

function correctCount(model: Model, scores: F32, targets: Targets): number {
  if (!(targets instanceof Int32Array)) return -1;
  return model.backend.countCorrect(scores, targets, model.currentBatch, model.outputSize, 1);
}

/** Forward + backward + update on one batch. */
export function trainBatch(
  model: Model, loss: LossHead, optimizer: Optimizer, x: F32, targets: Targets, weights: F32 | null,
  params = model.trainableParams(),
): BatchResult {
  const out = model.forward(x, { training: true, logits: loss.wantsLogits });
  const res = loss.compute(out, targets, weights, true);
  const penalty = model.penalty();
  model.backward(res.grad as F32, { throughSoftmax: !loss.wantsLogits });
  optimizer.step(params, model.backend);
  return { size: model.currentBatch, lossSum: res.sum, penalty, correct: correctCount(model, res.scores, targets) };
}

/** Forward in inference mode and score one batch. */
export function evaluateBatch(model: Model, loss: LossHead, x: F32, targets: Targets, weights: F32 | null = null): BatchResult & { scores: F32 } {
  const out = model.forward(x, { training: false, logits: loss.wantsLogits });
  const res = loss.compute(out, targets, weights, false);
  return { size: model.currentBatch, lossSum: res.sum, penalty: model.penalty(), correct: correctCount(model, res.scores, targets), scores: res.scores };
}
