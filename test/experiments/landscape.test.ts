/**
 * The loss-surface tools of the extreme experiment: interpolation between weight vectors
 * (checked against the closed-form loss of a linear softmax), perturbations of an exact
 * relative size, and sharpness (zero at ε = 0, growing with ε at a trained minimum).
 */
import { describe, expect, it } from 'vitest';
import { type Split, exampleSize, take } from '../../src/data/dataset.js';
import { synthetic2d } from '../../src/data/synthetic.js';
import { WeightProbe, distance, lerpWeights, norm, perturbWeights, scanLine, sharpness } from '../../src/experiments/landscape.js';
import { LossHead } from '../../src/nn/losses.js';
import { type ModelSpec, modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { Trainer } from '../../src/train/fit.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { backendUnderTest } from '../nn/check.js';

const backend = backendUnderTest();
const SCE = { name: 'sparse_categorical_crossentropy', fromLogits: false } as const;

function trainerFor(spec: ModelSpec, batchSize = 16, optimizer: unknown = 'adam'): Trainer {
  const model = modelFromSpec(spec).build({ batchSize, seed: 3, backend });
  return new Trainer(model, new LossHead(model, SCE), createOptimizer(optimizer), batchSize);
}

describe('lerpWeights and perturbWeights', () => {
  const a = [Float32Array.of(1, 2, 3), Float32Array.of(-1)];
  const b = [Float32Array.of(3, 2, -1), Float32Array.of(1)];

  it('interpolates and extrapolates tensor by tensor', () => {
    expect(lerpWeights(a, b, 0)).toEqual(a);
    expect(lerpWeights(a, b, 1)).toEqual(b);
    expect([...lerpWeights(a, b, 0.5)[0]]).toEqual([2, 2, 1]);
    expect([...lerpWeights(a, b, -0.5)[1]]).toEqual([-2]);
    expect(distance(a, b)).toBeCloseTo(Math.sqrt(4 + 0 + 16 + 4), 6);
    expect(() => lerpWeights(a, [b[0]], 0.5)).toThrow(/2 tensors against 1/);
  });

  it('moves every tensor by exactly ε times its norm, seeded, and leaves zero tensors alone', () => {
    const w = [Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i)), new Float32Array(10), Float32Array.of(5)];
    for (const eps of [0.01, 0.1, 0.5]) {
      const p = perturbWeights(w, eps, new RandomStream(7, 1));
      w.forEach((t, i) => {
        const d = Float32Array.from(t, (v, j) => p[i][j] - v);
        expect(norm(d)).toBeCloseTo(eps * norm(t), 4);
      });
      expect([...p[1]]).toEqual(new Array(10).fill(0));
    }
    expect(perturbWeights(w, 0.1, new RandomStream(7, 1))).toEqual(perturbWeights(w, 0.1, new RandomStream(7, 1)));
    expect(perturbWeights(w, 0.1, new RandomStream(8, 1))[0]).not.toEqual(perturbWeights(w, 0.1, new RandomStream(7, 1))[0]);
  });
});

describe('scanLine', () => {
  it('matches the closed-form loss of a linear softmax along the line, and restores the weights', () => {
    // Dense(2 → 2, softmax), kernel [[k, −k], [0, 0]], zero bias: logits of (s, 0) are (k·s, −k·s)
    const trainer = trainerFor({ input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] }, 4, { name: 'sgd', learningRate: 0 });
    const kernel = (k: number): Float32Array[] => [Float32Array.of(k, -k, 0, 0), Float32Array.of(0, 0)];
    const data: Split = { x: Float32Array.of(1, 0, -2, 0, 0.5, 0), y: Int32Array.of(0, 1, 1) };
    const own = kernel(0.3);
    trainer.model.setWeights(own);
    const probe = new WeightProbe(trainer, { d: data }, 1);
    const alphas = [-0.2, 0, 0.25, 0.5, 1, 1.2];
    const scan = scanLine(probe, kernel(1), kernel(-1), alphas);
    alphas.forEach((alpha, i) => {
      const k = 1 - 2 * alpha; // (1 − α)·1 + α·(−1)
      // label 0: −log σ(2ks); label 1: −log σ(−2ks)
      const losses = [0, 1, 2].map((n) => {
        const s = data.x[2 * n];
        const z = data.y[n] === 0 ? 2 * k * s : -2 * k * s;
        return Math.log1p(Math.exp(-z));
      });
      // the predicted class is the first of the largest probabilities: a tie (k = 0) predicts class 0
      const correct = [0, 1, 2].filter((n) => (k * data.x[2 * n] >= 0 ? 0 : 1) === data.y[n]).length;
      expect(scan.points.d[i].loss).toBeCloseTo(losses.reduce((s, v) => s + v, 0) / 3, 5);
      expect(scan.points.d[i].accuracy).toBeCloseTo(correct / 3, 10);
    });
    expect(trainer.model.params().map((p) => [...p.value])).toEqual(own.map((t) => [...t]));
  });
});

describe('sharpness', () => {
  it('is zero at ε = 0, grows with ε at a trained minimum, and restores the weights', async () => {
    // (w + δ and w − δ cancel the slope: what is measured is curvature, positive near a minimum)
    const ds = synthetic2d('blobs', { n: 300, seed: 2 });
    const trainer = trainerFor({ input: [2], layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] });
    await trainer.fit(ds.train, { epochs: 40 });
    const trained = trainer.model.params().map((p) => Float32Array.from(p.value));
    const probe = new WeightProbe(trainer, { train: take(ds.train, [...Array(200).keys()], exampleSize(ds.shape)) }, ds.scale);
    const s = sharpness(probe, probe.weights, 'train', [0, 0.01, 0.1, 0.5], 4, 11);
    expect(s.increase[0]).toBe(0);
    expect(s.spread[0]).toBe(0);
    expect(s.increase[1]).toBeGreaterThan(0);
    expect(s.increase[2]).toBeGreaterThan(s.increase[1]);
    expect(s.increase[3]).toBeGreaterThan(s.increase[2]);
    expect(s.accuracy[3]).toBeLessThanOrEqual(s.accuracy[0]);
    // the same seed gives the same directions
    expect(sharpness(probe, probe.weights, 'train', [0.1], 4, 11).increase[0]).toBe(s.increase[2]);
    expect(trainer.model.params().map((p) => [...p.value])).toEqual(trained.map((t) => [...t]));
  });
});
