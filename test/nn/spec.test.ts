/**
 * The JSON model spec: the issue's example parses and builds with the numbers worked out by
 * hand, every preset round-trips through modelToSpec → JSON → modelFromSpec, and every error is
 * a FitlabError whose message names the layer (index and name or type), the field, the value
 * received and what is allowed (STYLE.md §6).
 */
import { describe, expect, it } from 'vitest';
import { FitlabError, ShapeError } from '../../src/errors.js';
import { Conv2D } from '../../src/nn/layers/conv2d.js';
import { LossHead } from '../../src/nn/losses.js';
import { PRESET_NAMES, presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec, modelToSpec } from '../../src/nn/spec.js';
import { summary } from '../../src/nn/summary.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { trainBatch } from '../../src/train/step.js';
import { backendUnderTest, labels, uniform } from './check.js';

const backend = backendUnderTest();

const ISSUE_EXAMPLE = {
  input: [32, 32, 3],
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'he_normal', kernelRegularizer: { l2: 0.01 } },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'dropout', rate: 0.4 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

describe('the issue example', () => {
  it('parses and builds: shapes, and parameters counted by hand', () => {
    const model = modelFromSpec(JSON.parse(JSON.stringify(ISSUE_EXAMPLE))).build({ batchSize: 4, backend, seed: 1 });
    expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense']);
    expect(model.layers.map((l) => l.outputShape)).toEqual([[32, 32, 32], [32, 32, 32], [16, 16, 32], [16, 16, 32], [8192], [10]]);
    // conv 3·3·3·32 + 32 = 896; BN 4·32 = 128 (64 moving statistics); Dense 8192·10 + 10 = 81,930
    expect(model.countParams()).toEqual({ total: 896 + 128 + 81_930, trainable: 896 + 64 + 81_930, nonTrainable: 64 });
  });

  it('applies he_normal and the l2(0.01) penalty, which trainBatch reports with the loss', () => {
    const model = modelFromSpec(ISSUE_EXAMPLE).build({ batchSize: 4, backend, seed: 2 });
    const conv = model.layers[0] as Conv2D;
    expect(conv.kernelInitializer).toEqual({ name: 'he_normal' });
    expect(conv.kernelRegularizer).toEqual({ l1: 0, l2: 0.01 });
    // he_normal: a normal truncated at 2σ, σ = sqrt(2 / fan_in) with fan_in = 3·3·3 = 27
    const sigma = Math.sqrt(2 / 27);
    const w = Array.from(conv.kernel.value);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(2 * sigma * (1 + 1e-6));
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    // the std of a normal truncated at ±2σ is 0.880σ; with 864 draws the sample std is within ±5%
    expect(std / sigma).toBeGreaterThan(0.88 * 0.95);
    expect(std / sigma).toBeLessThan(0.88 * 1.05);
    const penalty = 0.01 * w.reduce((s, v) => s + v * v, 0);
    expect(model.penalty()).toBeCloseTo(penalty, 6);
    const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
    const result = trainBatch(model, loss, createOptimizer('adam'), uniform(1, 4 * 3072, 0, 1), labels(2, 4, 10), null);
    expect(result.penalty).toBeCloseTo(penalty, 6);
  });
});

describe('modelToSpec → JSON → modelFromSpec', () => {
  for (const name of PRESET_NAMES) {
    it(`${name}: the same spec and the same summary`, () => {
      const original = modelFromSpec(presetSpec(name)).build({ batchSize: 1, backend, seed: 1 });
      const spec = modelToSpec(original);
      const text = JSON.stringify(spec);
      const again = modelFromSpec(JSON.parse(text)).build({ batchSize: 1, backend, seed: 2 });
      expect(summary(again)).toBe(summary(original));
      expect(JSON.stringify(modelToSpec(again))).toBe(text);
      expect(again.countParams()).toEqual(original.countParams());
    });
  }
});

describe('spec errors', () => {
  const spec = (layers: unknown[], input: number[] = [8, 8, 3]): unknown => ({ input, layers });

  /** The error modelFromSpec throws, checked to be a FitlabError. */
  function errorOf(s: unknown): FitlabError {
    try {
      modelFromSpec(s);
    } catch (err) {
      expect(err).toBeInstanceOf(FitlabError);
      return err as FitlabError;
    }
    throw new Error('modelFromSpec accepted an invalid spec');
  }

  function expectMessage(err: FitlabError, patterns: RegExp[]): void {
    for (const p of patterns) expect(err.message).toMatch(p);
  }

  it('an unknown field names the layer, the field and the allowed fields', () => {
    const err = errorOf(spec([{ type: 'dense', units: 3, unitz: 4 }]));
    expectMessage(err, [/layer 0 \(dense\)/, /unknown field "unitz"/, /allowed fields: .*\bunits\b/]);
  });

  it('a wrongly cased type name gets a "did you mean" hint', () => {
    const err = errorOf(spec([{ type: 'MaxPooling2D' }]));
    expectMessage(err, [/layer 0 \(MaxPooling2D\)/, /type must be one of .*\bmaxPooling2d\b/, /received "MaxPooling2D"/]);
    expect(err.hint).toBe("did you mean 'maxPooling2d'?");
    expect(errorOf(spec([{ type: 'Dense', units: 3 }])).hint).toBe("did you mean 'dense'?");
    // a misspelling is not a case slip: the list of types, no guess
    const typo = errorOf(spec([{ type: 'densee', units: 3 }]));
    expectMessage(typo, [/layer 0 \(densee\)/, /received "densee"/, /one of dense, conv2d/]);
    expect(typo.hint).toBeUndefined();
  });

  it('a dropout rate of 1.5 names the layer, the field, the value and the allowed range', () => {
    const err = errorOf(spec([{ type: 'flatten' }, { type: 'dropout', name: 'drop', rate: 1.5 }]));
    expectMessage(err, [/layer 1 \('drop'\)/, /\brate must be a number in \[0, 1\)/, /received 1\.5/]);
  });

  it('negative filters', () => {
    const err = errorOf(spec([{ type: 'conv2d', filters: -3, kernelSize: 3 }]));
    expectMessage(err, [/layer 0 \(conv2d\)/, /filters must be an integer ≥ 1/, /received -3/]);
  });

  it("a kernel bigger than the input with 'valid' padding", () => {
    const err = errorOf(spec([{ type: 'conv2d', name: 'c1', filters: 4, kernelSize: 9 }]));
    expect(err).toBeInstanceOf(ShapeError);
    // field, value received and what is allowed
    expectMessage(err, [/layer 0 \('c1'\)/, /kernelSize \[9, 9\]/, /does not fit the input \(None, 8, 8, 3\)/, /padding 'valid'/, /allowed: at most \[8, 8\], or padding 'same'/]);
  });

  it('an input naming no earlier layer lists what inputs may name', () => {
    const err = errorOf(spec([{ type: 'conv2d', name: 'a', filters: 3, kernelSize: 3 }, { type: 'add', name: 'sum', inputs: ['a', 'b'] }]));
    expectMessage(err, [/layer 1 \('sum'\)/, /inputs: 'b' is not an earlier layer/, /allowed: 'input' or one of 'a'$/]);
  });

  it('duplicate names', () => {
    const err = errorOf(spec([{ type: 'conv2d', name: 'a', filters: 3, kernelSize: 3 }, { type: 'conv2d', name: 'a', filters: 3, kernelSize: 3 }]));
    expectMessage(err, [/layer 1 \('a'\)/, /name 'a' is already used by layer 0/, /names must be unique/]);
  });

  it('Add with inputs of different shapes names both shapes', () => {
    const err = errorOf(spec([{ type: 'conv2d', name: 'a', filters: 3, kernelSize: 3 }, { type: 'add', name: 'sum', inputs: ['a', 'input'] }]));
    expect(err).toBeInstanceOf(ShapeError);
    expectMessage(err, [/layer 1 \('sum'\)/, /\(Add\)/, /inputs must have the same shape/, /received \(None, 6, 6, 3\) and \(None, 8, 8, 3\)/]);
  });

  it('a bad activation, regularizer or initializer names the field and lists what is allowed', () => {
    expectMessage(errorOf(spec([{ type: 'dense', units: 3, activation: 'relu6' }], [4])), [
      /layer 0 \(dense\)/, /activation must be one of linear, relu, elu, leaky_relu, sigmoid, tanh, softmax/, /received "relu6"/,
    ]);
    expectMessage(errorOf(spec([{ type: 'dense', name: 'd', units: 3, kernelRegularizer: { l3: 1 } }], [4])), [
      /layer 0 \('d'\)/, /kernelRegularizer/, /unknown regularizer field "l3"/, /allowed: l1, l2/,
    ]);
    expectMessage(errorOf(spec([{ type: 'dense', units: 3, kernelInitializer: 'xavier' }], [4])), [
      /layer 0 \(dense\)/, /kernelInitializer must be one of glorot_uniform/, /received "xavier"/,
    ]);
  });

  it('the spec itself: unknown top-level fields, a bad input shape, no layers', () => {
    expectMessage(errorOf({ input: [4], layers: [{ type: 'dense', units: 2 }], optimizer: 'adam' }), [/unknown field "optimizer"/, /allowed fields: input, layers, name/]);
    expectMessage(errorOf({ input: [32, -1, 3], layers: [{ type: 'flatten' }] }), [/input must be a list of positive integers/, /received \[32, -1, 3\]/]);
    expectMessage(errorOf({ input: [4], layers: [] }), [/layers must be a non-empty list/, /received \[\]/]);
  });
});
