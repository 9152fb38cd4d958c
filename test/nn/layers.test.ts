/**
 * Every layer type of the registry through the one harness (layer-harness.ts), with several
 * configurations each. Expected shapes and parameter counts are worked out by hand in the
 * comments: Keras' 'valid' output is ⌊(W − K)/S⌋ + 1, 'same' is ⌈W/S⌉; a Conv2D has
 * kh·kw·cin·filters + filters weights, a Dense in·units + units, a BatchNormalization 2c
 * trainable (gamma, beta) + 2c non-trainable (moving mean and variance).
 */
import { describe, expect, it } from 'vitest';
import type { ActivationName } from '../../src/nn/activations.js';
import { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from '../../src/nn/layers/augment.js';
import { Activation, Add, Dropout, Flatten, Rescaling } from '../../src/nn/layers/basic.js';
import { BatchNormalization } from '../../src/nn/layers/batch-norm.js';
import { Conv2D, type Conv2DConfig } from '../../src/nn/layers/conv2d.js';
import { Dense } from '../../src/nn/layers/dense.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, type Pooling2DConfig } from '../../src/nn/layers/pooling.js';
import { LAYER_TYPE_NAMES } from '../../src/nn/registry.js';
import { backendUnderTest, distinct } from './check.js';
import { runLayerTest } from './layer-harness.js';

const backend = backendUnderTest();
const ACTIVATIONS: ActivationName[] = ['linear', 'relu', 'elu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax'];

/** Layer types given to the harness below; the last test checks that none is missing. */
const covered = new Set<string>();
function cover(type: string): void {
  covered.add(type);
}

describe('Dense', () => {
  cover('dense');
  for (const activation of ACTIVATIONS) {
    // 5 inputs → 3 units: 5·3 + 3 = 18
    runLayerTest({
      name: `dense(3, ${activation}) on (5)`, make: () => new Dense({ units: 3, activation }),
      inputShape: [5], expectedOutputShape: [3], expectedParams: { trainable: 18, nonTrainable: 0 },
      expectedWeightShapes: { kernel: [5, 3], bias: [3] }, backend,
    });
  }
  // softmax as the last layer is taken over by the model (fused with the loss); in the middle of
  // a model it is the layer's own forward and backward
  runLayerTest({
    name: 'dense(3, softmax) in the middle of a model', make: () => new Dense({ units: 3, activation: 'softmax' }),
    after: () => [new Dense({ units: 2, activation: 'tanh' })],
    inputShape: [5], expectedOutputShape: [3], expectedParams: { trainable: 18, nonTrainable: 0 }, backend,
  });
  // no bias: 5·3 = 15
  runLayerTest({
    name: 'dense(3, relu) without bias', make: () => new Dense({ units: 3, activation: 'relu', useBias: false }),
    inputShape: [5], expectedOutputShape: [3], expectedParams: { trainable: 15, nonTrainable: 0 },
    expectedWeightShapes: { kernel: [5, 3] }, backend,
  });
  runLayerTest({
    name: 'dense(4, tanh) without bias', make: () => new Dense({ units: 4, activation: 'tanh', useBias: false }),
    inputShape: [6], expectedOutputShape: [4], expectedParams: { trainable: 24, nonTrainable: 0 }, backend,
  });
  // on the last axis of a rank-2 input (3 rows of 4 features): 4·3 + 3 = 15
  runLayerTest({
    name: 'dense(3, elu) on (3, 4): applied to the last axis', make: () => new Dense({ units: 3, activation: 'elu' }),
    inputShape: [3, 4], expectedOutputShape: [3, 3], expectedParams: { trainable: 15, nonTrainable: 0 }, backend,
  });
  runLayerTest({
    name: 'dense(2, softmax) on (3, 4): softmax over the last axis', make: () => new Dense({ units: 2, activation: 'softmax' }),
    after: () => [new Flatten()],
    inputShape: [3, 4], expectedOutputShape: [3, 2], expectedParams: { trainable: 10, nonTrainable: 0 }, backend,
  });
  // with a weight regularizer: the gradient includes 2λw (the check's loss does not include the
  // penalty, so the regularizer gradient would be an error here) — checked in model.test.ts instead
});

describe('Conv2D', () => {
  cover('conv2d');
  interface ConvCase { cfg: Partial<Conv2DConfig>; input: number[]; out: number[]; params: number }
  // input (6, 6, 2) and 3 filters unless stated: params = kh·kw·2·3 + 3
  const cases: ConvCase[] = [
    { cfg: { kernelSize: 1 }, input: [6, 6, 2], out: [6, 6, 3], params: 9 },
    { cfg: { kernelSize: 2 }, input: [6, 6, 2], out: [5, 5, 3], params: 27 },
    { cfg: { kernelSize: 2, padding: 'same' }, input: [6, 6, 2], out: [6, 6, 3], params: 27 },
    { cfg: { kernelSize: 2, strides: 2, padding: 'same' }, input: [7, 7, 2], out: [4, 4, 3], params: 27 },
    { cfg: { kernelSize: 3, padding: 'same' }, input: [6, 6, 2], out: [6, 6, 3], params: 57 },
    { cfg: { kernelSize: 3 }, input: [6, 6, 2], out: [4, 4, 3], params: 57 },
    { cfg: { kernelSize: 3, strides: 2 }, input: [6, 6, 2], out: [2, 2, 3], params: 57 }, // ⌊3/2⌋+1
    { cfg: { kernelSize: 3, strides: 2, padding: 'same' }, input: [6, 6, 2], out: [3, 3, 3], params: 57 },
    { cfg: { kernelSize: 3, strides: 2, padding: 'same' }, input: [7, 7, 2], out: [4, 4, 3], params: 57 }, // ⌈7/2⌉
    { cfg: { kernelSize: 5 }, input: [6, 6, 2], out: [2, 2, 3], params: 153 },
    { cfg: { kernelSize: 5, padding: 'same' }, input: [6, 6, 2], out: [6, 6, 3], params: 153 },
    { cfg: { kernelSize: 5, strides: 2, padding: 'same' }, input: [7, 7, 2], out: [4, 4, 3], params: 153 },
    { cfg: { kernelSize: [2, 3], strides: [1, 2] }, input: [5, 7, 2], out: [4, 3, 3], params: 39 }, // 2·3·2·3+3
    { cfg: { kernelSize: 3, padding: 'same', useBias: false }, input: [5, 5, 2], out: [5, 5, 3], params: 54 },
  ];
  for (const c of cases) {
    const cfg = { filters: 3, activation: 'relu' as const, ...c.cfg } as Conv2DConfig;
    runLayerTest({
      name: `conv2d ${JSON.stringify(c.cfg)} on (${c.input.join(', ')})`, make: () => new Conv2D(cfg),
      inputShape: c.input, expectedOutputShape: c.out, expectedParams: { trainable: c.params, nonTrainable: 0 }, backend,
    });
  }
  for (const activation of ACTIVATIONS.filter((a) => a !== 'relu')) {
    runLayerTest({
      name: `conv2d(3, 3×3, same, ${activation})`, make: () => new Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation }),
      inputShape: [5, 5, 2], expectedOutputShape: [5, 5, 3], expectedParams: { trainable: 57, nonTrainable: 0 },
      expectedWeightShapes: { kernel: [3, 3, 2, 3], bias: [3] }, backend,
    });
  }
  runLayerTest({
    name: 'conv2d(3, 3×3, softmax over channels) in the middle of a model',
    make: () => new Conv2D({ filters: 3, kernelSize: 3, activation: 'softmax' }), after: () => [new Flatten(), new Dense({ units: 2 })],
    inputShape: [5, 5, 2], expectedOutputShape: [3, 3, 3], expectedParams: { trainable: 57, nonTrainable: 0 }, backend,
  });
});

describe('pooling', () => {
  cover('maxPooling2d');
  cover('averagePooling2d');
  interface PoolCase { cfg: Pooling2DConfig; input: number[]; out: number[] }
  const cases: PoolCase[] = [
    { cfg: {}, input: [6, 6, 2], out: [3, 3, 2] }, // default 2×2, strides = poolSize
    { cfg: { poolSize: 2 }, input: [5, 5, 2], out: [2, 2, 2] }, // ⌊3/2⌋+1: the odd row is dropped
    { cfg: { poolSize: 3, strides: 2 }, input: [7, 7, 2], out: [3, 3, 2] }, // ⌊4/2⌋+1
    { cfg: { poolSize: 2, strides: 3 }, input: [7, 7, 2], out: [2, 2, 2] }, // stride > pool: ⌊5/3⌋+1
    { cfg: { poolSize: 2, strides: 1, padding: 'same' }, input: [5, 5, 2], out: [5, 5, 2] },
    { cfg: { poolSize: 3, strides: 2, padding: 'same' }, input: [5, 5, 2], out: [3, 3, 2] }, // ⌈5/2⌉
    { cfg: { poolSize: 2, padding: 'same' }, input: [5, 5, 2], out: [3, 3, 2] },
    { cfg: { poolSize: [2, 3] }, input: [4, 6, 2], out: [2, 2, 2] },
  ];
  for (const [label, Ctor] of [['maxPooling2d', MaxPooling2D], ['averagePooling2d', AveragePooling2D]] as const) {
    for (const c of cases) {
      runLayerTest({
        name: `${label} ${JSON.stringify(c.cfg)} on (${c.input.join(', ')})`, make: () => new Ctor(c.cfg),
        inputShape: c.input, expectedOutputShape: c.out, expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
        // max pooling: values ≥ 0.02 apart, so no window has a near-tie a step of 1e-3 could flip
        input: (seed, n) => distinct(seed, n), batch: 2,
      });
    }
  }

  cover('globalMaxPooling2d');
  cover('globalAveragePooling2d');
  for (const [label, Ctor] of [['globalMaxPooling2d', GlobalMaxPooling2D], ['globalAveragePooling2d', GlobalAveragePooling2D]] as const) {
    for (const keepdims of [false, true]) {
      runLayerTest({
        name: `${label} keepdims=${keepdims} on (4, 4, 3)`, make: () => new Ctor({ keepdims }),
        inputShape: [4, 4, 3], expectedOutputShape: keepdims ? [1, 1, 3] : [3], expectedParams: { trainable: 0, nonTrainable: 0 },
        backend, input: (seed, n) => distinct(seed, n),
        // the training data is uniform in [−1, 1): the max of 16 such values is ≈ 0.9 for every
        // example, so the examples are almost indistinguishable and the loss can only creep
        // toward the label prior; the drop must still be monotonic and real
        trainStep: label === 'globalMaxPooling2d' ? { maxRatio: 0.999 } : {},
      });
    }
  }
});

describe('Flatten, Activation, Rescaling', () => {
  cover('flatten');
  runLayerTest({
    name: 'flatten (3, 4, 2) → 24', make: () => new Flatten(), inputShape: [3, 4, 2], expectedOutputShape: [24],
    expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });
  runLayerTest({
    name: 'flatten of a vector is the identity', make: () => new Flatten(), inputShape: [5], expectedOutputShape: [5],
    expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });

  cover('activation');
  for (const activation of ACTIVATIONS) {
    runLayerTest({
      name: `activation(${activation}) on (2, 3, 4)`, make: () => new Activation({ activation }), inputShape: [2, 3, 4],
      expectedOutputShape: [2, 3, 4], expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
      // keep relu/leaky_relu inputs away from the kink at 0 most of the time (the check skips the rest)
      input: (seed, n) => distinct(seed, n, 0.05),
    });
  }
  runLayerTest({
    name: 'activation(softmax) in the middle of a model', make: () => new Activation({ activation: 'softmax' }),
    after: () => [new Dense({ units: 2 })], inputShape: [4], expectedOutputShape: [4], expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });

  cover('rescaling');
  for (const [scale, offset] of [[2, -1], [0.5, 0.25], [1 / 255, 0]]) {
    runLayerTest({
      name: `rescaling(scale ${scale.toPrecision(3)}, offset ${offset})`, make: () => new Rescaling({ scale, offset }),
      inputShape: [3, 3, 2], expectedOutputShape: [3, 3, 2], expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
    });
  }
});

describe('Dropout', () => {
  cover('dropout');
  // gradients are checked in training mode with one fixed mask (the harness restores the
  // layer's stream before every pass); train/inference semantics are in layer-modes.test.ts
  for (const [rate, shape] of [[0.5, [4, 4, 2]], [0.25, [10]], [0, [6]]] as const) {
    runLayerTest({
      name: `dropout(${rate}) on (${shape.join(', ')})`, make: () => new Dropout({ rate }), inputShape: shape,
      expectedOutputShape: shape, expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
    });
  }
  runLayerTest({
    name: 'dropout(0.3) with its own seed', make: () => new Dropout({ rate: 0.3, seed: 42 }), inputShape: [8],
    expectedOutputShape: [8], expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });
});

describe('BatchNormalization', () => {
  cover('batchNormalization');
  // c = 3 channels: gamma, beta trainable (6), moving mean and variance not (6)
  runLayerTest({
    name: 'batchNormalization on (4, 4, 3)', make: () => new BatchNormalization(), inputShape: [4, 4, 3],
    expectedOutputShape: [4, 4, 3], expectedParams: { trainable: 6, nonTrainable: 6 },
    expectedWeightShapes: { gamma: [3], beta: [3], moving_mean: [3], moving_variance: [3] }, backend,
  });
  runLayerTest({
    name: 'batchNormalization center=false', make: () => new BatchNormalization({ center: false }), inputShape: [4, 4, 3],
    expectedOutputShape: [4, 4, 3], expectedParams: { trainable: 3, nonTrainable: 6 },
    expectedWeightShapes: { gamma: [3], moving_mean: [3], moving_variance: [3] }, backend,
  });
  runLayerTest({
    name: 'batchNormalization scale=false', make: () => new BatchNormalization({ scale: false }), inputShape: [4, 4, 3],
    expectedOutputShape: [4, 4, 3], expectedParams: { trainable: 3, nonTrainable: 6 },
    expectedWeightShapes: { beta: [3], moving_mean: [3], moving_variance: [3] }, backend,
  });
  runLayerTest({
    name: 'batchNormalization center=false scale=false', make: () => new BatchNormalization({ center: false, scale: false }),
    inputShape: [4, 4, 3], expectedOutputShape: [4, 4, 3], expectedParams: { trainable: 0, nonTrainable: 6 },
    // nothing trainable in the layer: the taps still train, so the loss still falls
    backend,
  });
  runLayerTest({
    name: 'batchNormalization momentum 0.9, epsilon 0.01 on features (5), batch 4',
    make: () => new BatchNormalization({ momentum: 0.9, epsilon: 0.01 }), inputShape: [5], batch: 4,
    expectedOutputShape: [5], expectedParams: { trainable: 10, nonTrainable: 10 }, backend,
  });
  // frozen (Keras semantics): inference mode even while training, all 4c weights non-trainable;
  // the gradient check then covers the inference-mode backward
  runLayerTest({
    name: 'batchNormalization frozen (trainable=false)', make: () => new BatchNormalization({ trainable: false }),
    inputShape: [3, 3, 2], expectedOutputShape: [3, 3, 2], expectedParams: { trainable: 0, nonTrainable: 8 }, backend,
  });
});

describe('Add', () => {
  cover('add');
  runLayerTest({
    name: 'add of two (4, 3) inputs', make: () => new Add(), inputShapes: [[4, 3], [4, 3]], expectedOutputShape: [4, 3],
    expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });
  runLayerTest({
    name: 'add of three (2, 2, 2) inputs', make: () => new Add(), inputShapes: [[2, 2, 2], [2, 2, 2], [2, 2, 2]],
    expectedOutputShape: [2, 2, 2], expectedParams: { trainable: 0, nonTrainable: 0 }, backend,
  });
});

describe('augmentation layers', () => {
  const noGradient = { skip: 'augmentation has no gradient by design: it transforms the data (backward returns null)' };
  const zero = { trainable: 0, nonTrainable: 0 };
  cover('randomFlip');
  for (const mode of ['horizontal', 'vertical', 'horizontal_and_vertical'] as const) {
    runLayerTest({
      name: `randomFlip(${mode})`, make: () => new RandomFlip({ mode, seed: 5 }), inputShape: [5, 4, 2],
      expectedOutputShape: [5, 4, 2], expectedParams: zero, backend, gradCheck: noGradient,
    });
  }
  cover('randomRotation');
  runLayerTest({
    name: 'randomRotation(0.1, nearest fill)', make: () => new RandomRotation({ factor: 0.1, fillMode: 'nearest', seed: 5 }),
    inputShape: [5, 5, 2], expectedOutputShape: [5, 5, 2], expectedParams: zero, backend, gradCheck: noGradient,
  });
  cover('randomZoom');
  runLayerTest({
    name: 'randomZoom(0.2, [-0.1, 0.3])', make: () => new RandomZoom({ heightFactor: 0.2, widthFactor: [-0.1, 0.3], seed: 5 }),
    inputShape: [5, 5, 2], expectedOutputShape: [5, 5, 2], expectedParams: zero, backend, gradCheck: noGradient,
  });
  cover('randomTranslation');
  runLayerTest({
    name: 'randomTranslation(0.2, 0.2, constant fill)',
    make: () => new RandomTranslation({ heightFactor: 0.2, widthFactor: 0.2, fillMode: 'constant', fillValue: 0.5, seed: 5 }),
    inputShape: [5, 5, 2], expectedOutputShape: [5, 5, 2], expectedParams: zero, backend, gradCheck: noGradient,
  });
});

describe('coverage', () => {
  it('every layer type of the registry goes through the harness', () => {
    expect([...covered].sort()).toEqual([...LAYER_TYPE_NAMES].sort());
  });
});
