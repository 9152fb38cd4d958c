/**
 * Weight analytics (WeightTracker) on a 4-3-2 dense model small enough to check by hand: the
 * distance from the initial weights after moving two kernel entries by 3 and −4 is 5, in that
 * layer only; norms are the L2 norms of the current values; histograms cover every kernel weight
 * (not biases) at epochs 1, 2, 4, 8, … and the last; dead-ReLU fractions on a probe batch; and
 * a resumed tracker keeps its original starting point.
 */
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { WeightTracker, deadFraction } from '../../src/diagnose/weights.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import type { TrainingContext } from '../../src/train/callbacks.js';

function tinyModel(): ReturnType<typeof modelFromSpec> {
  const model = modelFromSpec({ input: [4], layers: [{ type: 'dense', units: 3, activation: 'relu', name: 'hidden' }, { type: 'dense', units: 2, activation: 'softmax', name: 'out' }] });
  model.build({ batchSize: 2, seed: 1, backend: createReferenceBackend() });
  return model;
}

function context(epochs: number): TrainingContext {
  return {
    stopTraining: false, stopReason: null, stopCause: null, epochs,
    getWeights: () => [], setWeights: () => undefined, getLearningRate: () => 0.001, setLearningRate: () => undefined,
  };
}

const l2 = (xs: Iterable<number>): number => Math.sqrt([...xs].reduce((a, v) => a + v * v, 0));

describe('deadFraction', () => {
  it('units that are zero for every row', () => {
    // 2 rows × 3 units: unit 0 never fires, unit 1 fires in row 1, unit 2 fires in row 2
    expect(deadFraction(new Float32Array([0, 1, 0, 0, 0, 2]), 3)).toBe(1 / 3);
    expect(deadFraction(new Float32Array([0, 0, 0, 0]), 2)).toBe(1);
  });
});

describe('WeightTracker', () => {
  it('distance from the start, per layer and in total; norms of the current weights', () => {
    const model = tinyModel();
    const tracker = new WeightTracker(model, null, 10);
    tracker.setContext(context(3));
    tracker.onTrainBegin();
    const kernel = model.params().find((p) => p.layer.name === 'hidden' && p.weightName === 'kernel');
    expect(kernel).toBeDefined();
    const k = kernel as NonNullable<typeof kernel>;
    k.value[0] += 3;
    k.value[5] -= 4;
    const e = tracker.record(0);
    expect(e.distance).toBeCloseTo(5, 5);
    expect(e.layers.map((l) => l.name)).toEqual(['hidden', 'out']);
    expect(e.layers[0].distance).toBeCloseTo(5, 5);
    expect(e.layers[1].distance).toBe(0);
    const all = model.params().flatMap((p) => [...p.value]);
    expect(e.norm).toBeCloseTo(l2(all), 5);
    const hidden = model.params().filter((p) => p.layer.name === 'hidden').flatMap((p) => [...p.value]);
    expect(e.layers[0].norm).toBeCloseTo(l2(hidden), 5);
  });

  it('histograms of the kernels (4·3 + 3·2 = 18 weights) at epochs 1, 2, 4, 8 and the last', () => {
    const model = tinyModel();
    const tracker = new WeightTracker(model, null, 10);
    tracker.setContext(context(10));
    tracker.onTrainBegin();
    for (let epoch = 0; epoch < 10; epoch++) tracker.onEpochEnd(epoch, { epoch, loss: 1, learning_rate: 0.001, penalty: 0, seconds: 0 });
    expect(tracker.log.filter((w) => w.histogram).map((w) => w.epoch)).toEqual([0, 1, 3, 7, 9]);
    const h = tracker.log[0].histogram as NonNullable<(typeof tracker.log)[0]['histogram']>;
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(18);
    expect(h.edges).toHaveLength(11);
    // the edges span ±2× the largest initial weight, symmetric
    expect(h.edges[0]).toBeCloseTo(-h.edges[10], 12);
  });

  it('dead ReLU units on the probe batch: a hidden layer with zero kernel and biases (−1, 0.5, −2) is 2/3 dead', () => {
    const model = tinyModel();
    for (const p of model.params()) {
      if (p.layer.name !== 'hidden') continue;
      if (p.weightName === 'kernel') p.value.fill(0);
      else p.value.set([-1, 0.5, -2]);
    }
    const tracker = new WeightTracker(model, () => new Float32Array([1, 2, 3, 4, -1, 0, 1, 0]), 10);
    tracker.setContext(context(1));
    tracker.onTrainBegin();
    expect(tracker.record(0).deadRelu).toEqual([{ layer: 'hidden', fraction: 2 / 3 }]);
  });

  it('a resumed tracker keeps the original starting point and its log', () => {
    const model = tinyModel();
    const a = new WeightTracker(model, null, 10);
    a.setContext(context(4));
    a.onTrainBegin();
    a.onEpochEnd(0, { epoch: 0, loss: 1, learning_rate: 0.001, penalty: 0, seconds: 0 });
    model.params()[0].value[0] += 2;
    const b = new WeightTracker(model, null, 10);
    b.setContext(context(4));
    b.setState(a.getState());
    b.onTrainBegin(); // must not take the moved weights as the new start
    b.onEpochEnd(1, { epoch: 1, loss: 1, learning_rate: 0.001, penalty: 0, seconds: 0 });
    expect(b.log.map((w) => w.epoch)).toEqual([0, 1]);
    expect(b.log[1].distance).toBeCloseTo(2, 5);
  });
});
