/**
 * The TensorFlow.js Layers format without a file system (ARCHITECTURE decision 7): model.json
 * with `format: "layers-model"`, a Keras-style `modelTopology` and a `weightsManifest`, plus
 * binary weight data (float32, little-endian). src/io/tfjs.ts writes and reads it on disk
 * (model.json + 4 MB shards); src/io/tfjs-artifacts.ts makes a browser download of it.
 *
 * Export makes what @tensorflow/tfjs' loadLayersModel reads; import reads models saved by
 * TF.js or converted from Keras 2 (tensorflowjs_converter --output_format tfjs_layers_model),
 * including Keras 3's topology spelling. Augmentation layers are identity at inference, so the
 * exported (inference) model leaves them out.
 */
import { ArgumentError, ShapeError, describe } from '../errors.js';
import type { InitializerConfig } from '../nn/initializers.js';
import type { Layer } from '../nn/layer.js';
import { MODEL_INPUT, type Model } from '../nn/model.js';
import type { Regularizer } from '../nn/regularizers.js';
import { type LayerSpec, type ModelSpec, modelFromSpec, modelToSpec } from '../nn/spec.js';
import type { Backend } from '../backend/backend.js';
import { TFJS_INTEGRITY_KEY } from './sha256.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

export interface TfjsArtifacts {
  modelTopology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

const SHARD_BYTES = 4 * 1024 * 1024;
const AUGMENT_TYPES = new Set(['randomFlip', 'randomRotation', 'randomZoom', 'randomTranslation']);

// ---- our spec ↔ Keras/TF.js config ------------------------------------------------------------

/** fitlab layer type → Keras class name (also used by the Keras importer and exporter). */
export const CLASS_OF: Record<string, string> = {
  dense: 'Dense', conv2d: 'Conv2D', maxPooling2d: 'MaxPooling2D', averagePooling2d: 'AveragePooling2D',
  globalMaxPooling2d: 'GlobalMaxPooling2D', globalAveragePooling2d: 'GlobalAveragePooling2D', flatten: 'Flatten',
  activation: 'Activation', dropout: 'Dropout', batchNormalization: 'BatchNormalization', rescaling: 'Rescaling', add: 'Add',
};
const TYPE_OF: Record<string, string> = Object.fromEntries(Object.entries(CLASS_OF).map(([t, c]) => [c, t]));
Object.assign(TYPE_OF, { MaxPool2D: 'maxPooling2d', AvgPool2D: 'averagePooling2d', GlobalMaxPool2D: 'globalMaxPooling2d', GlobalAvgPool2D: 'globalAveragePooling2d' });

const INIT_CLASS: Record<string, string> = {
  glorot_uniform: 'GlorotUniform', glorot_normal: 'GlorotNormal', he_normal: 'HeNormal', he_uniform: 'HeUniform',
  lecun_normal: 'LeCunNormal', lecun_uniform: 'LeCunUniform', zeros: 'Zeros', ones: 'Ones', constant: 'Constant',
  random_normal: 'RandomNormal', random_uniform: 'RandomUniform', truncated_normal: 'TruncatedNormal',
};

function initToKeras(value: unknown): Record<string, unknown> {
  const init: InitializerConfig = typeof value === 'string' ? { name: value as InitializerConfig['name'] } : (value as InitializerConfig);
  const { name, ...rest } = init;
  const config: Record<string, unknown> = { ...rest };
  if (!['zeros', 'ones', 'constant'].includes(name)) config.seed = null;
  return { class_name: INIT_CLASS[name], config };
}

function regToKeras(value: unknown): Record<string, unknown> | null {
  if (!value) return null;
  const r = value as Partial<Regularizer>;
  return { class_name: 'L1L2', config: { l1: r.l1 ?? 0, l2: r.l2 ?? 0 } };
}

function activationToKeras(name: unknown, where: string): string {
  if (name === 'leaky_relu') {
    throw new ArgumentError(`${where}: TF.js has no 'leaky_relu' activation function; it cannot be exported to the Layers format`);
  }
  return name as string;
}

/** One layer spec → a Keras/TF.js layer config (snake_case). */
export function layerToKeras(spec: LayerSpec): { class_name: string; config: Record<string, unknown> } {
  const s = spec as Record<string, unknown>;
  const where = `layer '${String(s.name)}'`;
  const common = { name: s.name, trainable: s.trainable ?? true };
  const pair = (v: unknown): unknown => (Array.isArray(v) ? v : [v, v]);
  switch (spec.type) {
    case 'dense':
      return {
        class_name: 'Dense',
        config: {
          ...common, units: s.units, activation: activationToKeras(s.activation, where), use_bias: s.useBias,
          kernel_initializer: initToKeras(s.kernelInitializer), bias_initializer: initToKeras(s.biasInitializer),
          kernel_regularizer: regToKeras(s.kernelRegularizer), bias_regularizer: regToKeras(s.biasRegularizer),
          activity_regularizer: regToKeras(s.activityRegularizer), kernel_constraint: null, bias_constraint: null,
        },
      };
    case 'conv2d':
      return {
        class_name: 'Conv2D',
        config: {
          ...common, filters: s.filters, kernel_size: pair(s.kernelSize), strides: pair(s.strides), padding: s.padding,
          data_format: 'channels_last', dilation_rate: [1, 1], activation: activationToKeras(s.activation, where), use_bias: s.useBias,
          kernel_initializer: initToKeras(s.kernelInitializer), bias_initializer: initToKeras(s.biasInitializer),
          kernel_regularizer: regToKeras(s.kernelRegularizer), bias_regularizer: regToKeras(s.biasRegularizer),
          activity_regularizer: regToKeras(s.activityRegularizer), kernel_constraint: null, bias_constraint: null,
        },
      };
    case 'maxPooling2d':
    case 'averagePooling2d':
      return {
        class_name: CLASS_OF[spec.type],
        config: { ...common, pool_size: pair(s.poolSize), strides: pair(s.strides), padding: s.padding, data_format: 'channels_last' },
      };
    case 'globalMaxPooling2d':
    case 'globalAveragePooling2d':
      return { class_name: CLASS_OF[spec.type], config: { ...common, data_format: 'channels_last', ...(s.keepdims ? { keepdims: true } : {}) } };
    case 'flatten':
      return { class_name: 'Flatten', config: { ...common } };
    case 'activation':
      return { class_name: 'Activation', config: { ...common, activation: activationToKeras(s.activation, where) } };
    case 'dropout':
      return { class_name: 'Dropout', config: { ...common, rate: s.rate, noise_shape: null, seed: s.seed ?? null } };
    case 'batchNormalization':
      return {
        class_name: 'BatchNormalization',
        config: {
          ...common, axis: -1, momentum: s.momentum, epsilon: s.epsilon, center: s.center, scale: s.scale,
          beta_initializer: initToKeras(s.betaInitializer), gamma_initializer: initToKeras(s.gammaInitializer),
          moving_mean_initializer: initToKeras(s.movingMeanInitializer),
          moving_variance_initializer: initToKeras(s.movingVarianceInitializer),
          beta_regularizer: regToKeras(s.betaRegularizer), gamma_regularizer: regToKeras(s.gammaRegularizer),
          beta_constraint: null, gamma_constraint: null,
        },
      };
    case 'rescaling':
      return { class_name: 'Rescaling', config: { ...common, scale: s.scale, offset: s.offset } };
    case 'add':
      return { class_name: 'Add', config: { ...common } };
    default:
      throw new ArgumentError(`${where}: layers of type ${describe(spec.type)} cannot be exported to TF.js`);
  }
}

/** The spec with augmentation layers removed (their consumers read their input instead). */
export function inferenceSpec(model: Model): ModelSpec {
  const spec = modelToSpec(model);
  const replaced = new Map<string, string>();
  const refsOf = (l: LayerSpec, i: number, all: LayerSpec[]): string[] =>
    l.inputs ?? [i === 0 ? MODEL_INPUT : (all[i - 1].name as string)];
  const kept: LayerSpec[] = [];
  spec.layers.forEach((l, i) => {
    const refs = refsOf(l, i, spec.layers).map((r) => replaced.get(r) ?? r);
    if (AUGMENT_TYPES.has(l.type)) {
      replaced.set(l.name as string, refs[0]);
      return;
    }
    kept.push({ ...l, inputs: refs });
  });
  return { ...spec, layers: kept };
}

function isChain(spec: ModelSpec): boolean {
  return spec.layers.every((l, i) => {
    const refs = l.inputs ?? [];
    return refs.length === 1 && refs[0] === (i === 0 ? MODEL_INPUT : spec.layers[i - 1].name);
  });
}

/**
 * The TF.js artifacts of a built model (topology, weight specs, one contiguous buffer);
 * `generatedBy` ("fitlab 0.1.0") goes into the topology's keras_version.
 */
export function modelToTfjsArtifacts(model: Model, generatedBy: string): TfjsArtifacts {
  const spec = inferenceSpec(model);
  let topology: Record<string, unknown>;
  if (isChain(spec)) {
    const layers = spec.layers.map((l, i) => {
      const k = layerToKeras(l);
      if (i === 0) Object.assign(k.config, { batch_input_shape: [null, ...spec.input], dtype: 'float32' });
      return k;
    });
    topology = { class_name: 'Sequential', config: { name: spec.name ?? 'sequential', layers } };
  } else {
    const inputLayer = { class_name: 'InputLayer', name: MODEL_INPUT, inbound_nodes: [], config: { batch_input_shape: [null, ...spec.input], dtype: 'float32', sparse: false, name: MODEL_INPUT } };
    const layers = spec.layers.map((l) => {
      const k = layerToKeras(l);
      return { ...k, name: l.name, inbound_nodes: [(l.inputs as string[]).map((r) => [r, 0, 0, {}])] };
    });
    const last = spec.layers[spec.layers.length - 1].name as string;
    topology = {
      class_name: 'Model',
      config: { name: spec.name ?? 'model', layers: [inputLayer, ...layers], input_layers: [[MODEL_INPUT, 0, 0]], output_layers: [[last, 0, 0]] },
    };
  }
  Object.assign(topology, { keras_version: generatedBy, backend: 'tensor_flow.js' });
  const params = model.params().filter((p) => !AUGMENT_TYPES.has(p.layer.type));
  const total = params.reduce((n, p) => n + p.value.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const p of params) {
    data.set(p.value, off);
    off += p.value.length;
  }
  return {
    modelTopology: topology,
    weightSpecs: params.map((p) => ({ name: p.name, shape: [...p.shape], dtype: 'float32' })),
    weightData: data.buffer,
  };
}


/** Byte ranges of one weight buffer as TF.js shards of at most `shardBytes` (4 MB by default). */
export function shardWeights(weightData: ArrayBuffer, shardBytes = SHARD_BYTES): Uint8Array[] {
  const bytes = new Uint8Array(weightData);
  const shards = Math.max(1, Math.ceil(bytes.length / shardBytes));
  return Array.from({ length: shards }, (_, i) => bytes.subarray(i * shardBytes, Math.min(bytes.length, (i + 1) * shardBytes)));
}

/**
 * The model.json object of some artifacts whose weight shards are `paths` (beside it), with
 * fitlab's shard checksums under TFJS_INTEGRITY_KEY (every fitlab load verifies them; TF.js
 * ignores the key) and any `extra` keys.
 */
export function tfjsModelJson(art: TfjsArtifacts, paths: string[], generatedBy: string, checksums: { sha256: Record<string, string> }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths, weights: art.weightSpecs }],
    [TFJS_INTEGRITY_KEY]: checksums,
    ...extra,
  };
}

// ---- import --------------------------------------------------------------------------------

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Keras/TF.js initializer config → ours. */
function initFromKeras(v: unknown, where: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  const o = v as { class_name?: string; config?: Record<string, unknown> };
  const cls = o.class_name;
  const cfg = o.config ?? {};
  if (cls === 'VarianceScaling') {
    const key = `${String(cfg.scale)}|${String(cfg.mode)}|${String(cfg.distribution)}`;
    const map: Record<string, string> = {
      '1|fan_avg|uniform': 'glorot_uniform', '1|fan_avg|normal': 'glorot_normal', '1|fan_avg|truncated_normal': 'glorot_normal',
      '2|fan_in|normal': 'he_normal', '2|fan_in|truncated_normal': 'he_normal', '2|fan_in|uniform': 'he_uniform',
      '1|fan_in|normal': 'lecun_normal', '1|fan_in|truncated_normal': 'lecun_normal', '1|fan_in|uniform': 'lecun_uniform',
    };
    if (map[key]) return map[key];
    throw new ArgumentError(`${where}: VarianceScaling(scale=${String(cfg.scale)}, mode=${String(cfg.mode)}, distribution=${String(cfg.distribution)}) has no fitlab equivalent`);
  }
  const out: Record<string, unknown> = { name: cls };
  for (const k of ['mean', 'stddev', 'minval', 'maxval', 'value']) if (typeof cfg[k] === 'number') out[k] = cfg[k];
  return Object.keys(out).length === 1 ? cls : out;
}

function regFromKeras(v: unknown): unknown {
  if (!v) return undefined;
  const o = v as { class_name?: string; config?: Record<string, unknown> };
  const cfg = o.config ?? {};
  const r: Record<string, number> = {};
  if (typeof cfg.l1 === 'number' && cfg.l1) r.l1 = cfg.l1;
  if (typeof cfg.l2 === 'number' && cfg.l2) r.l2 = cfg.l2;
  return Object.keys(r).length ? r : undefined;
}

/** Keys that carry no meaning for fitlab when they hold their default. */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  data_format: (v) => v === 'channels_last' || v === null,
  dilation_rate: (v) => v === 1 || (Array.isArray(v) && v.every((d) => d === 1)),
  dtype: (v) => v === 'float32' || v === null || (typeof v === 'object' && (v as { config?: { name?: string } }).config?.name === 'float32'),
  kernel_constraint: (v) => v === null, bias_constraint: (v) => v === null,
  beta_constraint: (v) => v === null, gamma_constraint: (v) => v === null,
  noise_shape: (v) => v === null, groups: (v) => v === 1, synchronized: (v) => v === false,
  batch_input_shape: () => true, batch_shape: () => true, input_shape: () => true, sparse: () => true, ragged: () => true,
  renorm: (v) => v === false || v === undefined, renorm_clipping: (v) => v === null, renorm_momentum: () => true,
  fused: () => true, virtual_batch_size: (v) => v === null, adjustment: (v) => v === null,
  lora_rank: (v) => v === null, lora_alpha: () => true, quantization_config: (v) => v === null,
};

/** Renamed or converted keys: Keras snake_case → our option. */
function convertOption(type: string, key: string, value: unknown, where: string): [string, unknown] | null {
  switch (key) {
    case 'kernel_initializer': case 'bias_initializer': case 'beta_initializer': case 'gamma_initializer':
    case 'moving_mean_initializer': case 'moving_variance_initializer':
      return [camel(key), initFromKeras(value, `${where}: ${key}`)];
    case 'kernel_regularizer': case 'bias_regularizer': case 'activity_regularizer':
    case 'beta_regularizer': case 'gamma_regularizer':
      return [camel(key), regFromKeras(value)];
    case 'axis': {
      const a: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
      if (a !== -1 && a !== 3 && a !== 1) throw new ArgumentError(`${where}: axis ${describe(value)} is not the channels axis (-1)`);
      return null;
    }
    case 'seed':
      return type === 'dropout' && typeof value === 'number' ? ['seed', value] : null;
    default:
      return [camel(key), value];
  }
}

interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown[];
}

function inputShapeOf(cfg: Record<string, unknown>): number[] | null {
  const shape = (cfg.batch_input_shape ?? cfg.batch_shape) as unknown[] | undefined;
  if (Array.isArray(shape)) return shape.slice(1) as number[];
  if (Array.isArray(cfg.input_shape)) return cfg.input_shape as number[];
  return null;
}

/** Names of the layers feeding a functional layer (Keras 2 lists or Keras 3 dicts). */
function inboundNames(layer: KerasLayer, where: string): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1) throw new ArgumentError(`${where}: shared layers (called more than once) are not supported`);
  const node = nodes[0];
  if (Array.isArray(node)) return node.map((entry) => String((entry as unknown[])[0]));
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.class_name === '__keras_tensor__') {
      const hist = (o.config as { keras_history?: unknown[] } | undefined)?.keras_history;
      if (Array.isArray(hist)) found.push(String(hist[0]));
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(o)) walk(child);
  };
  walk((node as { args?: unknown }).args);
  return found;
}

/** Convert a Keras/TF.js modelTopology (or a whole model.json) to a fitlab spec. */
export function topologyToSpec(raw: unknown, where = 'model.json'): ModelSpec {
  let topo = raw as Record<string, unknown>;
  if (topo && typeof topo === 'object' && 'modelTopology' in topo) {
    if (topo.format === 'graph-model') {
      throw new ArgumentError(`${where} is a TF.js graph model; only layers models are supported`, 'convert with tensorflowjs_converter --output_format tfjs_layers_model');
    }
    topo = topo.modelTopology as Record<string, unknown>;
  }
  if (topo && typeof topo === 'object' && 'model_config' in topo) topo = topo.model_config as Record<string, unknown>;
  const cls = topo?.class_name;
  if (cls !== 'Sequential' && cls !== 'Model' && cls !== 'Functional') {
    throw new ArgumentError(`${where}: modelTopology.class_name must be Sequential, Model or Functional; received ${describe(cls)}`);
  }
  const config = topo.config as Record<string, unknown> | unknown[];
  if (!config || typeof config !== 'object') {
    throw new ArgumentError(`${where}: modelTopology.config must be an object with a list of layers; received ${describe(config)}`);
  }
  const rawLayers = (Array.isArray(config) ? config : (config.layers as unknown[])) as KerasLayer[];
  if (!Array.isArray(rawLayers)) throw new ArgumentError(`${where}: modelTopology.config.layers must be a list; received ${describe(rawLayers)}`);
  const name = (!Array.isArray(config) && typeof config.name === 'string') ? config.name : 'model';
  let input: number[] | null = null;
  const layers: LayerSpec[] = [];
  const inputNames = new Set<string>();
  const functional = cls !== 'Sequential';
  rawLayers.forEach((kl, i) => {
    if (!kl || typeof kl !== 'object' || Array.isArray(kl)) {
      throw new ArgumentError(`${where}: layer ${i} must be an object {class_name, config}; received ${describe(kl)}`);
    }
    const cfg = kl.config ?? {};
    if (typeof cfg !== 'object' || Array.isArray(cfg)) throw new ArgumentError(`${where}: layer ${i}: config must be an object; received ${describe(cfg)}`);
    const lname = (kl.name ?? cfg.name) as string;
    const label = `${where}: layer ${i} ('${lname}', ${kl.class_name})`;
    if (kl.class_name === 'InputLayer') {
      input = inputShapeOf(cfg);
      inputNames.add(lname);
      return;
    }
    input ??= inputShapeOf(cfg);
    // own keys only: a class_name such as "constructor" must not find Object's members
    const type = typeof kl.class_name === 'string' && Object.hasOwn(TYPE_OF, kl.class_name) ? TYPE_OF[kl.class_name] : undefined;
    if (!type) {
      throw new ArgumentError(`${label}: layer class ${kl.class_name} is not supported; supported: ${Object.keys(CLASS_OF).map((t) => CLASS_OF[t]).join(', ')}`);
    }
    const spec: LayerSpec = { type, name: lname };
    for (const [key, value] of Object.entries(cfg)) {
      if (key === 'name') continue;
      if (key === 'trainable') {
        if (value === false) spec.trainable = false;
        continue;
      }
      const neutral = Object.hasOwn(NEUTRAL, key) ? NEUTRAL[key] : undefined;
      if (neutral) {
        if (!neutral(value)) throw new ArgumentError(`${label}: ${key} = ${describe(value)} is not supported (fitlab is NHWC float32 without dilation or constraints)`);
        continue;
      }
      const converted = convertOption(type, key, value, label);
      if (converted && converted[1] !== undefined) spec[converted[0]] = converted[1];
    }
    if (type === 'activation' && spec.activation === 'leakyRelu') spec.activation = 'leaky_relu';
    if (functional) {
      const refs = inboundNames(kl, label).map((r) => (inputNames.has(r) ? MODEL_INPUT : r));
      if (refs.length) spec.inputs = refs;
    }
    layers.push(spec);
  });
  if (!input) throw new ShapeError(`${where}: no input shape found (batch_input_shape / batch_shape on the first layer or an InputLayer)`);
  return { name, input, layers };
}

/** Put weights (by name) into a built model. Every model weight must be present. */
export function applyWeights(model: Model, specs: WeightSpec[], data: ArrayBuffer | Uint8Array, where = 'weights'): void {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const byName = new Map<string, Float32Array>();
  let off = 0;
  for (const s of specs) {
    const okShape = Array.isArray(s?.shape) && s.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (!okShape || typeof s.name !== 'string') {
      throw new ArgumentError(`${where}: a weight entry must be {name, shape: [non-negative integers], dtype}; received ${describe(s)}`);
    }
    if (s.dtype !== 'float32') throw new ArgumentError(`${where}: weight ${s.name} has dtype ${s.dtype}; only float32 is supported (no quantized models)`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (off + n * 4 > bytes.length) throw new ShapeError(`${where}: the weight data is too short (${bytes.length} bytes) for the manifest (needs more than ${off + n * 4})`);
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(bytes.subarray(off, off + n * 4));
    byName.set(s.name, values);
    off += n * 4;
  }
  for (const p of model.params()) {
    const values = byName.get(p.name);
    if (!values) {
      throw new ShapeError(`${where}: no weight named '${p.name}' in the manifest (it has: ${[...byName.keys()].slice(0, 6).join(', ')}${byName.size > 6 ? ', …' : ''})`);
    }
    if (values.length !== p.value.length) {
      throw new ShapeError(`${where}: weight '${p.name}' has ${values.length} values; the model expects shape [${p.shape.join(', ')}]`);
    }
    p.value.set(values);
  }
}

export interface LoadedTfjs {
  spec: ModelSpec;
  weightSpecs: WeightSpec[];
  weightData: Uint8Array;
  modelJson: Record<string, unknown>;
}

/** Build a model from read TF.js files and load its weights. */
export function modelFromTfjs(loaded: LoadedTfjs, options: { batchSize: number; backend?: Backend; seed?: number }): Model {
  const model = modelFromSpec(loaded.spec, 'model.json');
  model.build(options);
  applyWeights(model, loaded.weightSpecs, loaded.weightData);
  return model;
}

/** Layers whose weights a TF.js export includes (used by tests and reports). */
export function exportedLayers(model: Model): Layer[] {
  return model.layers.filter((l) => !AUGMENT_TYPES.has(l.type));
}
