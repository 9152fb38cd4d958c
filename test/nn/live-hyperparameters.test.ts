/**
 * Live hyperparameters: the setters the dashboard's knobs use between two batches (Dropout's
 * rate, a weight's regularizer, an optimizer's momentum coefficient). Each checks its range like
 * the config does and changes what the next batch computes.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { Dropout } from '../../src/nn/layers/basic.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { Adam, AdamW, Nadam, RMSprop, SGD } from '../../src/optim/optimizers.js';

const net = () => {
  const model = modelFromSpec({ input: [4], layers: [{ type: 'dense', units: 3 }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 2 }] }, 'live');
  return model.build({ batchSize: 64, seed: 5 });
};

describe('Dropout.setRate', () => {
  it('changes the fraction dropped at the next forward pass, within [0, 1)', () => {
    const model = net();
    const d = model.layers.find((l): l is Dropout => l instanceof Dropout) as Dropout;
    expect(d.rate).toBe(0.2);
    d.setRate(0.75);
    expect(d.rate).toBe(0.75);
    expect(d.getConfig()).toMatchObject({ rate: 0.75 });
    const x = new Float32Array(64 * 3).fill(1);
    d.setBatch(64);
    const y = d.forward([x], true);
    const kept = y.filter((v) => v !== 0).length;
    // 192 units, keep probability 0.25: 48 expected; 5σ ≈ 30 either way
    expect(kept).toBeGreaterThan(18);
    expect(kept).toBeLessThan(78);
    for (const v of y) if (v !== 0) expect(v).toBeCloseTo(4, 5);
    expect(() => d.setRate(1)).toThrow(/rate must be a number in \[0, 1\); received 1/);
    expect(() => d.setRate(Number.NaN)).toThrow(/rate must be a number in \[0, 1\)/);
    expect(d.rate).toBe(0.75);
  });
});

describe('Layer.setRegularizer', () => {
  it('replaces one weight’s regularizer, and the penalty follows', () => {
    const model = net();
    const dense = model.layers[0];
    const kernel = dense.params.find((p) => p.weightName === 'kernel');
    if (!kernel) throw new Error('dense has no kernel');
    expect(kernel.regularizer).toBeNull();
    expect(model.penalty()).toBe(0);
    dense.setRegularizer('kernel', { l1: 0, l2: 0.5 });
    const sumSq = kernel.value.reduce((a, w) => a + w * w, 0);
    expect(kernel.regularizer).toEqual({ l1: 0, l2: 0.5 });
    expect(model.penalty()).toBeCloseTo(0.5 * sumSq, 5);
    dense.setRegularizer('kernel', null);
    expect(model.penalty()).toBe(0);
    expect(() => dense.setRegularizer('gamma', null)).toThrow(/layer 'dense' \(Dense\) has no weight "gamma"; it has kernel, bias/);
  });
});

describe('Optimizer.setMomentumCoefficient', () => {
  it('turns momentum (SGD, RMSprop) or beta1 (Adam, AdamW, Nadam), in the config’s range', () => {
    const sgd = new SGD({ momentum: 0.9 });
    sgd.setMomentumCoefficient(1);
    expect([sgd.momentum, sgd.momentumCoefficient, sgd.getConfig().momentum]).toEqual([1, 1, 1]);
    const rms = new RMSprop();
    rms.setMomentumCoefficient(0.3);
    expect(rms.momentum).toBe(0.3);
    for (const opt of [new Adam(), new AdamW(), new Nadam()]) {
      expect(opt.momentumCoefficient).toBe(0.9);
      opt.setMomentumCoefficient(0.5);
      expect(opt.beta1).toBe(0.5);
      expect(() => opt.setMomentumCoefficient(1)).toThrow(new RegExp(`${opt.className}: beta1 must be a number in \\[0, 1\\); received 1`));
    }
    expect(() => sgd.setMomentumCoefficient(-0.1)).toThrow(/SGD: momentum must be a number in \[0, 1\]; received -0.1/);
    expect(sgd.momentum).toBe(1);
  });

  it('gives the same steps as an optimizer configured with that momentum from the start', () => {
    const backend = getBackend();
    const run = (opt: SGD): Float32Array => {
      const value = backend.alloc(6);
      value.set([1, -2, 3, 0.5, -0.25, 2]);
      const grad = backend.alloc(6);
      const param = { name: 'w', value, grad, trainable: true };
      for (let step = 0; step < 3; step++) {
        grad.set([0.1, 0.2, -0.3, 0.4, -0.5, 0.6].map((g) => g * (step + 1)));
        opt.step([param], backend);
      }
      return Float32Array.from(value);
    };
    const live = new SGD({ learningRate: 0.1 });
    live.setMomentumCoefficient(0.9);
    const configured = run(new SGD({ learningRate: 0.1, momentum: 0.9 }));
    expect(run(live)).toEqual(configured);
    expect(configured).not.toEqual(run(new SGD({ learningRate: 0.1 })));
  });
});
