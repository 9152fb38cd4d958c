/**
 * The dashboard's knobs, applied to a live model and optimizer between two batches. Each
 * setter validates (ArgumentError naming the knob, the value and what is allowed) and says
 * when the change takes effect.
 */
import { ArgumentError, describe } from '../errors.js';
import { fieldRange } from '../io/run-config.js';
import { Dropout } from '../nn/layers/basic.js';
import type { Param } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import type { Trainer } from '../train/fit.js';
import type { KnobName, Knobs } from './protocol.js';

/** Allowed range of each knob: [min, max], integer or not. */
export const KNOB_RANGES: Record<KnobName, { min: number; max: number; int?: boolean }> = {
  // the run's learning rate, live: the same range as --lr and the start form (one rule)
  learningRate: fieldRange('lr'),
  momentum: { min: 0, max: 0.999 },
  batchSize: { min: 1, max: 4096, int: true },
  weightDecay: { min: 0, max: 1 },
  l2: { min: 0, max: 1 },
  dropout: { min: 0, max: 0.95 },
};

/** Check a knob value: a finite number in its range (an integer for the batch size). */
export function checkKnob(name: string, value: unknown): number {
  const range = KNOB_RANGES[name as KnobName];
  if (!range) throw new ArgumentError(`unknown knob ${describe(name)}; allowed: ${Object.keys(KNOB_RANGES).join(', ')}`);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max || (range.int && !Number.isInteger(value))) {
    throw new ArgumentError(`${name} must be ${range.int ? 'an integer' : 'a number'} in [${range.min}, ${range.max}]; received ${describe(value)}`);
  }
  return value;
}

function kernels(model: Model): Param[] {
  return model.params().filter((p) => p.weightName === 'kernel' && p.trainable);
}

function dropouts(model: Model): Dropout[] {
  return model.layers.filter((l): l is Dropout => l instanceof Dropout);
}

/** The knobs' current values. */
export function readKnobs(model: Model, trainer: Trainer): Knobs {
  const opt = trainer.optimizer;
  const k = kernels(model);
  const d = dropouts(model);
  return {
    learningRate: opt.currentLearningRate(),
    momentum: opt.momentumCoefficient,
    batchSize: trainer.batchSize,
    weightDecay: opt.weightDecay,
    l2: k.length ? Math.max(...k.map((p) => p.regularizer?.l2 ?? 0)) : 0,
    dropout: d.length ? d[0].rate : null,
  };
}

/** Apply one knob; returns when it takes effect ('next batch' or 'next epoch'). */
export function applyKnob(model: Model, trainer: Trainer, name: KnobName, raw: unknown): string {
  const value = checkKnob(name, raw);
  const opt = trainer.optimizer;
  switch (name) {
    case 'learningRate':
      if (opt.schedule) throw new ArgumentError('the learning rate follows a schedule; it cannot be set by hand', 'start a run with a constant learning rate to turn this knob');
      opt.learningRate = value;
      return 'next batch';
    case 'momentum':
      // SGD/RMSprop `momentum`, Adam/AdamW/Nadam `beta1`; an optimizer without one refuses
      opt.setMomentumCoefficient(value);
      return 'next batch';
    case 'batchSize':
      trainer.setBatchSize(value);
      return 'next epoch';
    case 'weightDecay':
      opt.weightDecay = value;
      return 'next batch';
    case 'l2': {
      const k = kernels(model);
      if (!k.length) throw new ArgumentError('the model has no trainable kernels to regularize');
      // replace, never mutate: regularizer objects may be shared between weights
      for (const p of k) p.layer.setRegularizer(p.weightName, value > 0 || p.regularizer?.l1 ? { l1: p.regularizer?.l1 ?? 0, l2: value } : null);
      return 'next batch';
    }
    case 'dropout': {
      const d = dropouts(model);
      if (!d.length) throw new ArgumentError('the model has no Dropout layer', 'add {"type": "dropout", "rate": 0.3} to the model spec to use this knob');
      for (const layer of d) layer.setRate(value);
      return 'next batch';
    }
  }
}
