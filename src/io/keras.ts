/**
 * Keras model files in: Keras 3 `.keras` archives, Keras 2 full-model `.h5` files and weights-only
 * `.h5` / `.weights.h5` files. The layouts, as Keras' own saving code defines them:
 *
 *   .keras (saving_lib)     a zip of config.json (the model's serialized config), metadata.json
 *                           ({keras_version, date_saved}) and model.weights.h5, where each layer's
 *                           variables are datasets "0", "1", … in the group
 *                           `layers/<name>/vars`; <name> is the layer's class in snake_case made
 *                           unique by a counter (dense, dense_1, …), counted over model.layers
 *                           (Sequential leaves its InputLayer out, Functional counts it). Keras
 *                           2.13–2.15 wrote `_layer_checkpoint_dependencies/` instead of `layers/`.
 *   .h5 (legacy_h5_format)  root attribute `model_config` (the same JSON as TF.js' modelTopology)
 *                           and group `model_weights` with attribute `layer_names`; each layer is a
 *                           group with attribute `weight_names`, and each weight the dataset
 *                           `<layer>/<weight name>` inside it, in the layer's weight order.
 *   .weights.h5             the weights part alone: the Keras 3 layout above without the zip, or
 *                           the legacy layout at the file's root (Keras 2 `save_weights`).
 *
 * Keras configs are the Keras JSON that TF.js' Layers format carries too, so the mapping onto
 * fitlab's spec is tfjs.ts' `topologyToSpec` (one mapping, not two). Variables come in Keras'
 * order, which is fitlab's: kernel, bias; BatchNormalization gamma, beta, moving_mean,
 * moving_variance; Conv2D kernels HWIO [kh, kw, in, out], Dense kernels [in, out].
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { ArgumentError, FitlabError, ShapeError, describe } from '../errors.js';
import { checkSpecDepth } from '../util/config-reader.js';
import { type ModelSpec, modelFromSpec } from '../nn/spec.js';
import { type H5File, type H5Group, groupAt, h5ErrorSummary, isHdf5Bytes, openH5, readFloatDataset, stringAttr, stringListAttr } from './h5.js';
import { CLASS_OF, type LoadedTfjs, type WeightSpec, topologyToSpec } from './tfjs.js';

export type KerasFileKind = 'keras-zip' | 'hdf5';

/** What a file is by its first bytes (not its name: people rename files). */
export function kerasFileKind(path: string): KerasFileKind | null {
  const head = new Uint8Array(8);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, 8, 0);
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (isHdf5Bytes(head)) return 'hdf5';
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'keras-zip';
  return null;
}

/**
 * A file named like a Keras file whose bytes are neither HDF5 nor zip (truncated, a Git LFS
 * pointer, an HTML error page saved as .h5): say so, instead of trying it as JSON.
 */
export function refuseMisnamedKeras(path: string): void {
  if (!/\.(keras|h5|hdf5)$/i.test(path) || kerasFileKind(path)) return;
  let head = '';
  try {
    head = readFileSync(path).subarray(0, 64).toString('latin1');
  } catch {
    return; // the caller reports a file it cannot read
  }
  const lfs = head.startsWith('version https://git-lfs') ? ' (it is a Git LFS pointer: fetch the real file with git lfs pull)' : '';
  throw new ArgumentError(`${path} is named like a Keras file but is neither an HDF5 file nor a .keras zip archive by its first bytes${lfs}`);
}

interface RawLayer { class_name?: unknown; config?: { name?: unknown } }

/** Keras' naming.to_snake_case: 'Conv2D' → 'conv2d', 'MaxPooling2D' → 'max_pooling2d'. */
export function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The config's layer list and whether it is a Sequential model. */
function configLayers(config: Record<string, unknown>): { layers: RawLayer[]; sequential: boolean } {
  const inner = config.config as Record<string, unknown> | unknown[] | undefined;
  const layers = (Array.isArray(inner) ? inner : inner?.layers) as RawLayer[] | undefined;
  return { layers: Array.isArray(layers) ? layers : [], sequential: config.class_name === 'Sequential' };
}

/** Layer name → the group name saving_lib gives its variables (see the file comment). */
export function kerasVarPaths(config: Record<string, unknown>): Map<string, string> {
  const { layers, sequential } = configLayers(config);
  const used = new Map<string, number>();
  const paths = new Map<string, string>();
  layers.forEach((l, i) => {
    const cls = String(l.class_name);
    if (sequential && cls === 'InputLayer' && i === 0) return;
    const base = snakeCase(cls);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    paths.set(String(l.config?.name), n === undefined ? base : `${base}_${n + 1}`);
  });
  return paths;
}

/** The names of each layer's weights, in order, as a built fitlab model has them. */
function plannedWeights(spec: ModelSpec, where: string): { layer: string; names: string[]; shapes: number[][] }[] {
  const model = modelFromSpec(spec, where);
  model.build({ batchSize: 1 });
  return model.layers
    .filter((l) => l.params.length > 0)
    .map((l) => ({ layer: l.name, names: l.params.map((p) => p.name), shapes: l.params.map((p) => [...p.shape]) }));
}

type ArraysOf = (layer: string) => { shape: number[]; values: Float32Array }[] | null;

/** Keras 3 H5IOStore layout: `layers/<path>/vars/<i>`. */
function keras3Arrays(file: H5File, config: Record<string, unknown> | null): ArraysOf | null {
  const top = groupAt(file, 'layers') ?? groupAt(file, '_layer_checkpoint_dependencies');
  if (!top) return null;
  const paths = config ? kerasVarPaths(config) : new Map<string, string>();
  // Keras ≥ 3.10 also records each layer's name on its vars group: a second way to find it
  const byAttr = new Map<string, H5Group>();
  for (const key of top.keys()) {
    const vars = groupAt(top, `${key}/vars`);
    const n = vars ? stringAttr(vars, 'name') : null;
    if (vars && n) byAttr.set(n, vars);
  }
  return (layer) => {
    const p = paths.get(layer);
    const vars = (p ? groupAt(top, `${p}/vars`) : null) ?? byAttr.get(layer) ?? null;
    if (!vars) return null;
    const keys = vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    return keys.map((k) => readFloatDataset(vars, k, `${file.filename}: layer '${layer}'`));
  };
}

/** Keras 2 legacy layout: `<layer>` groups with a weight_names attribute. */
function legacyArrays(root: H5Group, file: string): ArraysOf | null {
  if (!stringListAttr(root, 'layer_names')) return null;
  return (layer) => {
    const g = groupAt(root, layer);
    if (!g) return null;
    const names = stringListAttr(g, 'weight_names') ?? [];
    return names.map((n) => readFloatDataset(g, n, `${file}: layer '${layer}'`));
  };
}

/** Match Keras arrays to the fitlab model's weights, layer by layer, into TF.js-style specs + data. */
function collectWeights(spec: ModelSpec, arraysOf: ArraysOf, where: string): { weightSpecs: WeightSpec[]; weightData: Uint8Array } {
  const weightSpecs: WeightSpec[] = [];
  const chunks: Float32Array[] = [];
  for (const planned of plannedWeights(spec, where)) {
    const arrays = arraysOf(planned.layer);
    if (!arrays) throw new ShapeError(`${where}: no weights for layer '${planned.layer}' in the file`);
    if (arrays.length !== planned.names.length) {
      throw new ShapeError(`${where}: layer '${planned.layer}' has ${arrays.length} weight arrays in the file; fitlab's layer has ${planned.names.length} (${planned.names.map((n) => n.split('/').pop()).join(', ')})`);
    }
    arrays.forEach((a, i) => {
      const want = planned.shapes[i];
      if (a.shape.length !== want.length || a.shape.some((d, j) => d !== want[j])) {
        throw new ShapeError(`${where}: weight '${planned.names[i]}' has shape [${a.shape.join(', ')}] in the file; the model expects [${want.join(', ')}]`);
      }
      weightSpecs.push({ name: planned.names[i], shape: want, dtype: 'float32' });
      chunks.push(a.values);
    });
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  return { weightSpecs, weightData: new Uint8Array(data.buffer) };
}

function parseConfig(text: string, where: string): Record<string, unknown> {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new FitlabError(`${where} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new ArgumentError(`${where} must hold a model config object; received ${describe(config)}`);
  checkSpecDepth(config, where);
  return config as Record<string, unknown>;
}

/** Read a Keras 3 `.keras` archive. */
function readKerasZip(path: string): LoadedTfjs {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(path));
  } catch (err) {
    throw new FitlabError(`${path} is not a readable zip archive (a .keras file is one): ${(err as Error).message}`);
  }
  const configBytes = entries['config.json'];
  if (!configBytes) throw new FitlabError(`${path} has no config.json; it is not a Keras 3 .keras file`);
  const config = parseConfig(new TextDecoder().decode(configBytes), `${path}: config.json`);
  const spec = topologyToSpec(config, `${path}: config.json`);
  const weights = entries['model.weights.h5'];
  if (!weights) {
    const other = entries['model.weights.npz'] ? ' (it holds model.weights.npz; only the default h5 weights format is supported)' : '';
    throw new FitlabError(`${path} has no model.weights.h5${other}`);
  }
  let meta: Record<string, unknown> = {};
  try {
    meta = entries['metadata.json'] ? (JSON.parse(new TextDecoder().decode(entries['metadata.json'])) as Record<string, unknown>) : {};
  } catch {
    meta = {}; // metadata is informative only
  }
  const dir = mkdtempSync(join(tmpdir(), 'fitlab-keras-'));
  try {
    const h5path = join(dir, 'model.weights.h5');
    writeFileSync(h5path, weights);
    const file = openH5(h5path);
    try {
      const arrays = keras3Arrays(file, config);
      if (!arrays) throw new FitlabError(`${path}: model.weights.h5 has no layers/ group (not the layout Keras' saving_lib writes)`);
      const w = collectWeights(spec, arrays, path);
      return { spec, ...w, modelJson: { format: 'keras', kerasVersion: meta.keras_version ?? null } };
    } finally {
      file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Read a Keras 2 full-model `.h5` (model_config + model_weights). */
function readKerasH5(path: string): LoadedTfjs {
  const file = openH5(path);
  try {
    const configText = stringAttr(file, 'model_config');
    if (!configText) {
      throw new ArgumentError(`${path} holds weights only (no model_config attribute): it needs an architecture`, 'pass a full model saved by model.save(), or a .keras file');
    }
    const config = parseConfig(configText, `${path}: model_config`);
    const spec = topologyToSpec(config, path);
    const weightsRoot = groupAt(file, 'model_weights');
    const arrays = weightsRoot ? legacyArrays(weightsRoot, path) : keras3Arrays(file, config);
    if (!arrays) throw new FitlabError(`${path}: no model_weights group with layer_names (not the layout Keras writes)`);
    const w = collectWeights(spec, arrays, path);
    return { spec, ...w, modelJson: { format: 'keras-h5', kerasVersion: stringAttr(file, 'keras_version') } };
  } finally {
    file.close();
  }
}

/** Read a Keras model file (.keras or full-model .h5). Await `h5Ready()` first. */
export function readKeras(path: string): LoadedTfjs {
  const kind = kerasFileKind(path);
  if (kind === 'keras-zip') return oneLine(path, () => readKerasZip(path));
  if (kind === 'hdf5') return oneLine(path, () => readKerasH5(path));
  throw new ArgumentError(`${path} is neither a Keras .keras archive (zip) nor an HDF5 .h5 file`);
}

/** An HDF5 failure inside a file that opened (a damaged object) as one line naming the file. */
function oneLine<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FitlabError) throw err;
    throw new FitlabError(`${path} cannot be read (corrupt or truncated Keras file): ${h5ErrorSummary(err)}`);
  }
}

/**
 * Weights-only files (`model.save_weights(...)`: Keras 3 `.weights.h5` or a Keras 2 `.h5`)
 * applied onto `spec`: the result is what `modelFromTfjs` / `applyWeights` take. The Keras 3
 * layout is matched by layer class order, so the spec must list the layers as the Keras model
 * did; the Keras 2 layout is matched by layer name.
 */
export function readKerasWeights(path: string, spec: ModelSpec, kerasConfig: Record<string, unknown> | null = null): LoadedTfjs {
  if (kerasFileKind(path) !== 'hdf5') throw new ArgumentError(`${path} is not an HDF5 weights file`);
  return oneLine(path, () => readWeightsFile(path, spec, kerasConfig));
}

function readWeightsFile(path: string, spec: ModelSpec, kerasConfig: Record<string, unknown> | null): LoadedTfjs {
  const file = openH5(path);
  try {
    const root = groupAt(file, 'model_weights') ?? file;
    const config = kerasConfig ?? specAsKerasLayers(spec);
    const arrays = legacyArrays(root, path) ?? keras3Arrays(file, config);
    if (!arrays) throw new FitlabError(`${path} holds no Keras weights (neither layer_names nor a layers/ group)`);
    return { spec, ...collectWeights(spec, arrays, path), modelJson: { format: 'keras-weights', file: basename(path) } };
  } finally {
    file.close();
  }
}

/** A minimal Sequential Keras config of a fitlab spec: enough to derive saving_lib's names. */
function specAsKerasLayers(spec: ModelSpec): Record<string, unknown> {
  const layers = spec.layers.map((l) => ({ class_name: CLASS_OF[l.type] ?? l.type, config: { name: l.name } }));
  return { class_name: 'Sequential', config: { layers } };
}
