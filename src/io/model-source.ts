/**
 * What `--model` accepts: a preset name, a JSON model spec file, a TF.js / Keras model.json, or a
 * Keras model file (.keras, full-model .h5) (weights come along: that is how a pretrained model is
 * fine-tuned). Keras files need HDF5 started: await `prepareModelSource(arg)` first.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArgumentError, FitlabError } from '../errors.js';
import { PRESET_NAMES, isPreset, presetSpec } from '../nn/presets.js';
import type { ModelSpec } from '../nn/spec.js';
import { h5Ready } from './h5.js';
import { kerasFileKind, readKeras, refuseMisnamedKeras } from './keras.js';
import { type LoadedTfjs, readTfjs, tfjsModelFile } from './tfjs.js';

export interface ModelSource {
  kind: 'preset' | 'spec' | 'tfjs' | 'keras';
  /** short name for run directories */
  label: string;
  spec: ModelSpec;
  /** weights to load after building (TF.js and Keras models) */
  tfjs?: LoadedTfjs;
}

export function resolveModelSource(arg: string, options: { input?: number[]; classes?: number } = {}): ModelSource {
  if (isPreset(arg)) return { kind: 'preset', label: arg, spec: presetSpec(arg, options) };
  const isDir = existsSync(arg) && statSync(arg).isDirectory();
  // a folder's model.json, or its one TF.js model .json (a browser download: <name>.json)
  const path = isDir ? (tfjsModelFile(arg) ?? join(arg, 'model.json')) : arg;
  if (isDir && !existsSync(path)) {
    throw new ArgumentError(`--model ${JSON.stringify(arg)} is a directory without a model.json`, 'give a TF.js model directory (model.json + weight shards), a spec .json file, or a preset');
  }
  if (!existsSync(path)) {
    throw new ArgumentError(
      `--model ${JSON.stringify(arg)} is neither a preset nor an existing file`,
      `presets: ${PRESET_NAMES.join(', ')}; or a spec .json file, a TF.js model.json, or a Keras .keras / .h5 file`,
    );
  }
  refuseMisnamedKeras(path);
  if (kerasFileKind(path)) {
    const keras = readKeras(path);
    return { kind: 'keras', label: basename(path).replace(/(\.weights)?\.(keras|h5|hdf5)$/i, '') || 'model', spec: keras.spec, tfjs: keras };
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    // V8 quotes the text around the fault, newlines included: keep the message one line
    throw new FitlabError(`${path} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  const o = json as Record<string, unknown>;
  if (o && typeof o === 'object' && ('modelTopology' in o || 'class_name' in o)) {
    const tfjs = readTfjs(path);
    // model-best/model.json is named by its folder; a download spirals-mlp.json by its own name
    const label = (/^model\.json$/i.test(basename(path)) ? basename(dirname(path)) : basename(path).replace(/\.json$/i, '')) || 'model';
    return { kind: 'tfjs', label, spec: tfjs.spec, tfjs };
  }
  const spec = json as ModelSpec;
  return { kind: 'spec', label: basename(path).replace(/\.json$/i, ''), spec };
}

/** Start what reading `arg` needs (HDF5 for Keras files); cheap for everything else. */
export async function prepareModelSource(arg: string): Promise<void> {
  if (existsSync(arg) && statSync(arg).isFile() && kerasFileKind(arg)) await h5Ready();
}
