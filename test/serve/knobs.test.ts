import { describe, expect, it } from 'vitest';
import { synthetic2d } from '../../src/data/synthetic.js';
import { LossHead, parseLoss } from '../../src/nn/losses.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { Trainer } from '../../src/train/fit.js';
import { applyKnob, readKnobs } from '../../src/serve/knobs.js';

function setup(optimizer: string | Record<string, unknown> = 'adam'): Trainer {
  const model = modelFromSpec({ input: [2], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 2, activation: 'softmax' }] }, 'test');
  model.build({ batchSize: 16, seed: 3 });
  return new Trainer(model, new LossHead(model, parseLoss('sparse_categorical_crossentropy')), createOptimizer(optimizer), 16);
}

describe('dashboard knobs', () => {
  it('reads and sets every knob, with the penalty following L2', () => {
    const t = setup({ name: 'sgd', learningRate: 0.1, momentum: 0.9 });
    expect(readKnobs(t.model, t)).toEqual({ learningRate: 0.1, momentum: 0.9, batchSize: 16, weightDecay: 0, l2: 0, dropout: 0.2 });
    expect(t.model.penalty()).toBe(0);
    expect(applyKnob(t.model, t, 'l2', 0.01)).toBe('next batch');
    const kernels = t.model.params().filter((p) => p.weightName === 'kernel');
    const sumSq = kernels.reduce((a, p) => a + p.value.reduce((b, w) => b + w * w, 0), 0);
    expect(t.model.penalty()).toBeCloseTo(0.01 * sumSq, 5);
    applyKnob(t.model, t, 'learningRate', 0.05);
    applyKnob(t.model, t, 'momentum', 0.5);
    applyKnob(t.model, t, 'dropout', 0.4);
    applyKnob(t.model, t, 'weightDecay', 0.001);
    expect(applyKnob(t.model, t, 'batchSize', 4)).toBe('next epoch');
    expect(readKnobs(t.model, t)).toMatchObject({ learningRate: 0.05, momentum: 0.5, weightDecay: 0.001, l2: 0.01, dropout: 0.4 });
    expect(() => applyKnob(t.model, t, 'dropout', 1)).toThrow(/dropout must be a number in \[0, 0.95\]; received 1/);
    expect(() => applyKnob(t.model, t, 'batchSize', 2.5)).toThrow(/batchSize must be an integer/);
  });

  it('refuses a learning rate under a schedule, and momentum where there is none', () => {
    const t = setup({ name: 'sgd', learningRate: { kind: 'exponential', initial: 0.1, decaySteps: 10, decayRate: 0.5 } });
    expect(() => applyKnob(t.model, t, 'learningRate', 0.01)).toThrow(/follows a schedule/);
  });

  it('changes the batch size from the next epoch, and the learning rate at the next batch', async () => {
    const data = synthetic2d('moons', { n: 200, seed: 1 }).train;
    const t = setup({ name: 'sgd', learningRate: 0.1 });
    const batchesSeen: number[] = [];
    const result = await t.fit(data, {
      epochs: 3,
      onBatch: (i) => {
        if (i.batch === 0) batchesSeen.push(i.batches);
      },
      afterBatch: ({ epoch, batch }) => {
        if (epoch === 0 && batch === 1) {
          applyKnob(t.model, t, 'batchSize', 40);
          applyKnob(t.model, t, 'learningRate', 0.02);
        }
      },
    });
    // 100 training examples: 7 batches of 16, then 3 of 40 (a larger buffer was allocated)
    expect(batchesSeen).toEqual([7, 3, 3]);
    expect(result.history.epochs.map((e) => e.learning_rate)).toEqual([0.1, 0.02, 0.02]);
    expect(result.history.epochs.map((e) => e.examples)).toEqual([100, 200, 300]);
  });
});
