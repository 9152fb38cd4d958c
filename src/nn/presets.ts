/**
 * Reference architectures from SPEC.md §1 as JSON specs (so `fitlab summary --model lecture-cnn`
 * and a spec file go through the same parser). Input shape and class count are adjustable.
 * Parameter counts for the defaults are facts the tests check against Keras:
 * lecture-cnn 295,914; lecture-cnn-bn 297,706 (296,810 trainable, 896 non-trainable).
 */
import { ArgumentError, describe } from '../errors.js';
import type { LayerSpec, ModelSpec } from './spec.js';

export interface PresetOptions {
  input?: number[];
  classes?: number;
}

interface Preset {
  description: string;
  defaultInput: number[];
  build(input: number[], classes: number): LayerSpec[];
}

const conv = (filters: number, kernelSize: number, extra: Record<string, unknown> = {}): LayerSpec => ({
  type: 'conv2d', filters, kernelSize, padding: 'same', activation: 'relu', ...extra,
});
const pool = (): LayerSpec => ({ type: 'maxPooling2d', poolSize: 2 });
const bn = (): LayerSpec => ({ type: 'batchNormalization' });
const dropout = (rate: number): LayerSpec => ({ type: 'dropout', rate });
const dense = (units: number, activation = 'linear', extra: Record<string, unknown> = {}): LayerSpec => ({ type: 'dense', units, activation, ...extra });
const out = (classes: number): LayerSpec => dense(classes, 'softmax');
const HE_L2 = { kernelInitializer: 'he_normal', kernelRegularizer: { l2: 0.01 } };

/** A conv block of the BN variant: Conv2D (linear) → BN → ReLU. */
const convBnRelu = (filters: number): LayerSpec[] => [conv(filters, 3, { activation: 'linear' }), bn(), { type: 'activation', activation: 'relu' }];

/** Residual block: conv-BN-relu-conv-BN, + shortcut (1×1 stride-s projection when shapes change), relu. */
function residualBlock(prefix: string, from: string, filters: number, stride: number, project: boolean): LayerSpec[] {
  const layers: LayerSpec[] = [
    { type: 'conv2d', name: `${prefix}_conv1`, inputs: [from], filters, kernelSize: 3, strides: stride, padding: 'same', useBias: false },
    { type: 'batchNormalization', name: `${prefix}_bn1` },
    { type: 'activation', name: `${prefix}_relu1`, activation: 'relu' },
    { type: 'conv2d', name: `${prefix}_conv2`, filters, kernelSize: 3, padding: 'same', useBias: false },
    { type: 'batchNormalization', name: `${prefix}_bn2` },
  ];
  let shortcut = from;
  if (project) {
    layers.push(
      { type: 'conv2d', name: `${prefix}_proj`, inputs: [from], filters, kernelSize: 1, strides: stride, padding: 'same', useBias: false },
      { type: 'batchNormalization', name: `${prefix}_proj_bn` },
    );
    shortcut = `${prefix}_proj_bn`;
  }
  layers.push(
    { type: 'add', name: `${prefix}_add`, inputs: [`${prefix}_bn2`, shortcut] },
    { type: 'activation', name: `${prefix}_out`, activation: 'relu' },
  );
  return layers;
}

export const PRESETS: Record<string, Preset> = {
  'lecture-cnn': {
    description: 'the CIFAR-10 case-study CNN (295,914 params): 3×[2×Conv2D+MaxPool], GlobalMaxPool, Dropout, Dense(64)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      conv(32, 3), conv(32, 3), pool(), conv(64, 3), conv(64, 3), pool(), conv(128, 3), conv(128, 3), pool(),
      { type: 'globalMaxPooling2d' }, dropout(0.3), dense(64, 'relu'), dropout(0.3), out(k),
    ],
  },
  'lecture-cnn-bn': {
    description: 'lecture-cnn with BatchNormalization between each Conv2D and its ReLU (297,706 params)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      ...convBnRelu(32), ...convBnRelu(32), pool(), ...convBnRelu(64), ...convBnRelu(64), pool(),
      ...convBnRelu(128), ...convBnRelu(128), pool(),
      { type: 'globalMaxPooling2d' }, dropout(0.3), dense(64, 'relu'), dropout(0.3), out(k),
    ],
  },
  'mlp-cifar': {
    description: 'the underfitting MLP: Flatten, BN, Dense(75), Dense(50, elu)+BN+Dropout ×2 (train with Nadam 1e-4)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      { type: 'flatten' }, bn(), dense(75), dense(50, 'elu'), bn(), dropout(0.1), dense(50, 'elu'), bn(), dropout(0.1), out(k),
    ],
  },
  'overfit-cnn': {
    description: 'a CNN meant to overfit CIFAR-10: 10 same-padded ReLU convs, 5 max-pools, Dense(32)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      conv(64, 3, HE_L2), conv(64, 3), pool(),
      conv(128, 2), conv(128, 2), pool(),
      conv(256, 3), bn(), conv(256, 3), pool(),
      conv(128, 3), bn(), conv(128, 3), pool(),
      conv(64, 3), bn(), conv(64, 3), pool(),
      { type: 'flatten' }, dense(32, 'relu'), out(k),
    ],
  },
  'simplified-cnn': {
    description: 'the simplified, regularized CNN: 3 conv blocks with BN and Dropout(0.4-0.5), Dense(32)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      conv(32, 3, HE_L2), bn(), conv(32, 3), bn(), pool(), dropout(0.4),
      conv(64, 2), bn(), conv(64, 2), bn(), pool(), dropout(0.4),
      conv(128, 3), bn(), conv(128, 3), bn(), pool(), dropout(0.5),
      { type: 'flatten' }, dense(32, 'relu'), bn(), dropout(0.3), out(k),
    ],
  },
  'paper-mlp': {
    description: 'the extreme-overfitting study MLP: one Dense(512) hidden layer',
    defaultInput: [28, 28, 1],
    build: (_i, k) => [{ type: 'flatten' }, dense(512, 'relu'), out(k)],
  },
  'paper-cnn': {
    description: 'the study\'s LeNet-like CNN: Conv2D 16/32/64 (pooling after the first two), Dense(84)',
    defaultInput: [28, 28, 1],
    build: (_i, k) => [
      conv(16, 3, { padding: 'valid' }), pool(), conv(32, 3, { padding: 'valid' }), pool(), conv(64, 3, { padding: 'valid' }),
      { type: 'flatten' }, dense(84, 'relu'), out(k),
    ],
  },
  resnet: {
    description: 'a small classical ResNet: stem + 3 stages of 2 residual blocks (16/32/64 filters), GAP, Dense(64)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [
      { type: 'conv2d', name: 'stem_conv', filters: 16, kernelSize: 3, padding: 'same', useBias: false },
      { type: 'batchNormalization', name: 'stem_bn' },
      { type: 'activation', name: 'stem_relu', activation: 'relu' },
      ...residualBlock('s1b1', 'stem_relu', 16, 1, false),
      ...residualBlock('s1b2', 's1b1_out', 16, 1, false),
      ...residualBlock('s2b1', 's1b2_out', 32, 2, true),
      ...residualBlock('s2b2', 's2b1_out', 32, 1, false),
      ...residualBlock('s3b1', 's2b2_out', 64, 2, true),
      ...residualBlock('s3b2', 's3b1_out', 64, 1, false),
      { type: 'globalAveragePooling2d', name: 'gap' },
      { type: 'dense', name: 'fc', units: 64, activation: 'relu' },
      { type: 'dense', name: 'predictions', units: k, activation: 'softmax' },
    ],
  },
  tiny: {
    description: 'GlobalAveragePooling2D then Dense: a deliberately underpowered model (it fails the overfit-one-batch check)',
    defaultInput: [32, 32, 3],
    build: (_i, k) => [{ type: 'globalAveragePooling2d' }, out(k)],
  },
  'small-cnn': {
    description: 'Conv2D(32, 3), MaxPool, Flatten, Dense(128): the smallest useful CNN',
    defaultInput: [28, 28, 1],
    build: (_i, k) => [conv(32, 3, { padding: 'valid' }), pool(), { type: 'flatten' }, dense(128, 'relu'), out(k)],
  },
  'small-cnn-dropout': {
    description: 'small-cnn with Dropout(0.25) after pooling and Dropout(0.5) before the output',
    defaultInput: [28, 28, 1],
    build: (_i, k) => [
      conv(32, 3, { padding: 'valid' }), pool(), dropout(0.25), { type: 'flatten' }, dense(128, 'relu'), dropout(0.5), out(k),
    ],
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);

export function isPreset(name: string): boolean {
  return Object.hasOwn(PRESETS, name); // not `in`: "toString" is no preset
}

/** The spec of a preset, with the input shape and class count as asked. */
export function presetSpec(name: string, options: PresetOptions = {}): ModelSpec {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) throw new ArgumentError(`unknown preset ${describe(name)}; presets: ${PRESET_NAMES.join(', ')}`);
  const input = options.input ?? preset.defaultInput;
  const classes = options.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 2) throw new ArgumentError(`classes must be an integer ≥ 2; received ${describe(classes)}`);
  const dense = preset.build(preset.defaultInput, classes)[0].type === 'flatten';
  if (!Array.isArray(input) || input.length === 0 || !input.every((d) => Number.isInteger(d) && d > 0) || (!dense && input.length !== 3)) {
    throw new ArgumentError(
      `input of preset '${name}' must be ${dense ? 'a list of positive sizes' : '[height, width, channels] (e.g. 28,28,1)'}; received ${describe(input)}`,
    );
  }
  return { name, input: [...input], layers: preset.build(input, classes) };
}
