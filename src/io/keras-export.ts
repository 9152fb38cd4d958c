/**
 * Keras out: a Keras 3 `.keras` archive, laid out as keras/src/saving/saving_lib.py writes one:
 *
 *   config.json        the serialized model: {module, class_name, config, registered_name,
 *                      build_config}; Sequential (a chain) or Functional (a graph: each layer
 *                      with inbound_nodes of {args: [__keras_tensor__ …], kwargs: {}})
 *   metadata.json      {keras_version, date_saved}
 *   model.weights.h5   H5IOStore: a root `vars` group, then `layers/<name>/vars` per layer of
 *                      model.layers, <name> the class in snake_case made unique by a counter
 *                      (Sequential leaves its InputLayer out, Functional counts it), each with
 *                      attribute `name` (the layer's name) and its variables as datasets "0", "1",
 *                      … in Keras' order (kernel, bias; gamma, beta, moving_mean, moving_variance).
 *
 * The layer configs are tfjs.ts' layerToKeras (one mapping), with Keras 3's module/
 * registered_name wrapping added to initializers and regularizers. The archive is written by
 * writeUserFile: an existing file is replaced only with --force.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { MODEL_INPUT, type Model } from '../nn/model.js';
import type { LayerSpec } from '../nn/spec.js';
import { writeUserFile } from './atomic.js';
import { h5 } from './h5.js';
import { kerasVarPaths } from './keras.js';
import { inferenceSpec, layerToKeras } from './tfjs.js';

/** The Keras version whose .keras layout this writes (metadata.json's keras_version). */
export const KERAS_LAYOUT_VERSION = '3.6.0';

const MODULE_OF: Record<string, string> = { _initializer: 'keras.initializers', _regularizer: 'keras.regularizers' };

/** Keras 3 serializes nested objects with their module and registered_name. */
function keras3Config(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const suffix = Object.keys(MODULE_OF).find((s) => k.endsWith(s));
    out[k] = suffix && v && typeof v === 'object' ? { module: MODULE_OF[suffix], ...v, registered_name: null } : v;
  }
  return out;
}

function layerConfig(l: LayerSpec): { class_name: string; config: Record<string, unknown> } {
  // Keras 3 has leaky_relu as an activation function (TF.js has not, so layerToKeras refuses it)
  const leaky = (l as { activation?: unknown }).activation === 'leaky_relu';
  const k = layerToKeras(leaky ? { ...l, activation: 'relu' } : l);
  if (leaky) k.config.activation = 'leaky_relu';
  return { class_name: k.class_name, config: keras3Config(k.config) };
}


/** The config.json object of a model. */
export function modelToKerasConfig(model: Model): Record<string, unknown> {
  const spec = inferenceSpec(model);
  const batchShape = [null, ...spec.input];
  const chain = spec.layers.every((l, i) => (l.inputs ?? []).length === 1 && l.inputs![0] === (i === 0 ? MODEL_INPUT : spec.layers[i - 1].name));
  const inputLayer = { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batchShape, dtype: 'float32', sparse: false, name: MODEL_INPUT }, registered_name: null };
  const shapes = new Map<string, unknown[]>([[MODEL_INPUT, batchShape], ...model.layers.map((l): [string, unknown[]] => [l.name, [null, ...l.outputShape]])]);
  const tensor = (name: string): Record<string, unknown> => ({ class_name: '__keras_tensor__', config: { shape: shapes.get(name) ?? null, dtype: 'float32', keras_history: [name, 0, 0] } });
  const layers = spec.layers.map((l) => {
    const k = layerConfig(l);
    const entry: Record<string, unknown> = { module: 'keras.layers', class_name: k.class_name, config: k.config, registered_name: null };
    if (!chain) {
      const refs = l.inputs ?? [];
      const args = refs.length === 1 ? [tensor(refs[0])] : [refs.map(tensor)];
      Object.assign(entry, { name: l.name, inbound_nodes: [{ args, kwargs: {} }] });
    }
    return entry;
  });
  const name = spec.name ?? (chain ? 'sequential' : 'functional');
  if (chain) {
    return { module: 'keras', class_name: 'Sequential', config: { name, trainable: true, layers: [inputLayer, ...layers], build_input_shape: batchShape }, registered_name: null, build_config: { input_shape: batchShape } };
  }
  const last = spec.layers[spec.layers.length - 1].name;
  return {
    module: 'keras.src.models.functional', class_name: 'Functional', registered_name: 'Functional',
    config: { name, trainable: true, layers: [{ ...inputLayer, name: MODEL_INPUT, inbound_nodes: [] }, ...layers], input_layers: [[MODEL_INPUT, 0, 0]], output_layers: [[last, 0, 0]] },
    build_config: { input_shape: batchShape },
  };
}

/** Write model.weights.h5 (H5IOStore layout) to `path`. Await h5Ready() first. */
export function writeKerasWeights(model: Model, config: Record<string, unknown>, path: string): void {
  const { File } = h5();
  const f = new File(path, 'w');
  try {
    f.create_group('vars').create_attribute('name', String((config.config as { name: string }).name));
    const layersGroup = f.create_group('layers');
    const byLayer = new Map(model.layers.map((l) => [l.name, l]));
    for (const [layerName, groupName] of kerasVarPaths(config)) {
      const vars = layersGroup.create_group(groupName).create_group('vars');
      vars.create_attribute('name', layerName);
      (byLayer.get(layerName)?.params ?? []).forEach((p, i) => {
        vars.create_dataset({ name: String(i), data: Float32Array.from(p.value), shape: [...p.shape], dtype: '<f' });
      });
    }
  } finally {
    f.close();
  }
}

/** The .keras archive bytes. */
export function kerasArchive(model: Model): Uint8Array {
  const config = modelToKerasConfig(model);
  const dir = mkdtempSync(join(tmpdir(), 'fitlab-keras-out-'));
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    writeKerasWeights(model, config, weightsPath);
    const now = new Date();
    const pad = (n: number): string => String(n).padStart(2, '0');
    const dateSaved = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}@${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
    const enc = new TextEncoder();
    return zipSync({
      'metadata.json': enc.encode(JSON.stringify({ keras_version: KERAS_LAYOUT_VERSION, date_saved: dateSaved })),
      'config.json': enc.encode(JSON.stringify(config)),
      'model.weights.h5': readFileSync(weightsPath),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write a .keras file the user named. Await h5Ready() first. */
export function saveKeras(model: Model, path: string, opts: { force?: boolean } = {}): number {
  const bytes = kerasArchive(model);
  writeUserFile(path, bytes, { force: opts.force, label: '--out' });
  return bytes.length;
}
