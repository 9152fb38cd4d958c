/**
 * The JSON model spec (the file format of --model):
 *   {"input": [32, 32, 3], "layers": [{"type": "conv2d", "filters": 32, "kernelSize": 3, ...}, ...]}
 * Type names as in TF.js (camelCase), options in camelCase, optional "name" and "inputs" per
 * layer (inputs name earlier layers or "input"; default: the previous layer). Every error names
 * the layer (index and name), the field, the value received and what is allowed; unknown
 * fields are errors.
 */
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { checkSpecDepth } from '../util/config-reader.js';
import { createLayer } from './registry.js';
import { MODEL_INPUT, Model, type ModelLayer } from './model.js';

export interface LayerSpec {
  type: string;
  name?: string;
  inputs?: string[];
  [option: string]: unknown;
}

export interface ModelSpec {
  name?: string;
  input: number[];
  layers: LayerSpec[];
}

function layerLabel(i: number, spec: Record<string, unknown>): string {
  const name = typeof spec.name === 'string' ? `'${spec.name}'` : typeof spec.type === 'string' ? spec.type : '?';
  return `layer ${i} (${name})`;
}

/** Parse and validate a spec object into an (unbuilt) model. */
export function modelFromSpec(spec: unknown, where = 'model spec'): Model {
  // first: every message below may describe() a value, which recurses into it
  checkSpecDepth(spec, `${where}: model spec`);
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new ArgumentError(`${where} must be an object {"input": [h, w, c], "layers": [...]}; received ${describe(spec)}`);
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!['input', 'layers', 'name'].includes(key)) {
      throw new ArgumentError(`${where}: unknown field ${describe(key)}; allowed fields: input, layers, name`);
    }
  }
  const input = s.input;
  if (!Array.isArray(input) || input.length === 0 || !input.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    throw new ArgumentError(`${where}: input must be a list of positive integers such as [32, 32, 3]; received ${describe(input)}`);
  }
  if (!Array.isArray(s.layers) || s.layers.length === 0) {
    throw new ArgumentError(`${where}: layers must be a non-empty list; received ${describe(s.layers)}`);
  }
  if (s.name !== undefined && typeof s.name !== 'string') {
    throw new ArgumentError(`${where}: name must be a string; received ${describe(s.name)}`);
  }
  const entries: ModelLayer[] = s.layers.map((raw: unknown, i: number) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ArgumentError(`${where}: layer ${i} must be an object with a "type"; received ${describe(raw)}`);
    }
    const { type, inputs, ...config } = raw as Record<string, unknown>;
    const label = layerLabel(i, raw as Record<string, unknown>);
    if (inputs !== undefined && (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string'))) {
      throw new ArgumentError(`${where}: ${label}: inputs must be a list of layer names (or "${MODEL_INPUT}"); received ${describe(inputs)}`);
    }
    try {
      return { layer: createLayer(type, config), inputs: inputs };
    } catch (err) {
      if (err instanceof FitlabError) err.message = `${where}: ${label}: ${err.message}`;
      throw err;
    }
  });
  try {
    return new Model(input as number[], entries, (s.name) ?? 'sequential');
  } catch (err) {
    if (err instanceof FitlabError) err.message = `${where}: ${err.message}`;
    throw err;
  }
}

/** The spec of a model (round-trips through modelFromSpec). */
export function modelToSpec(model: Model): ModelSpec {
  return {
    name: model.name,
    input: [...model.inputShape],
    layers: model.layers.map((layer, i) => {
      const config = layer.getConfig() as LayerSpec;
      const refs = model.inputIndex[i].map((j) => (j < 0 ? MODEL_INPUT : model.layers[j].name));
      const isChain = refs.length === 1 && refs[0] === (i === 0 ? MODEL_INPUT : model.layers[i - 1].name);
      return isChain ? config : { ...config, inputs: refs };
    }),
  };
}
