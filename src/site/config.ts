/**
 * The static site's "start a run" body → a checked TrainRunConfig, by the run contract's field
 * table (io/run-config: the same fields, ranges and messages as `fitlab train` and the
 * dashboard server), for the datasets a page has: the built-in sets, the user's files, and the
 * sets beside the page (data/index.json). The server's parser (serve/validate) plans the run
 * with Node's help; this one checks the fields and leaves the rest to the run's own objects.
 */
import { SYNTHETIC_2D, SYNTHETIC_IMAGES } from '../data/synthetic.js';
import { ArgumentError, describe } from '../errors.js';
import { RUN_FIELDS, type TrainRunConfig, checkField, checkRunConfig, fieldName, runField, setField } from '../io/run-config.js';
import { PRESET_NAMES } from '../nn/presets.js';
import type { ModelSpec } from '../nn/spec.js';

/** The dataset name the New run form gives files the user picked. */
export const FILES_DATASET = 'your files';

/** Built-in datasets: the 2-D sets and shapes. */
export const BUILTIN_DATASETS: readonly string[] = [...SYNTHETIC_2D, SYNTHETIC_IMAGES];

/** What the page may set: the run fields the table marks as dashboard fields. */
const PAGE_FIELDS = RUN_FIELDS.filter((f) => f.dashboard);
const OPTIMIZER_OPTIONS = ['momentum', 'weightDecay'];
const START_KEYS = [...PAGE_FIELDS.map((f) => fieldName(f, 'key')), ...OPTIMIZER_OPTIONS];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Check a start body against the datasets this page has (`datasets`); throws one ArgumentError line. */
export function parseSiteRun(raw: unknown, datasets: readonly string[]): TrainRunConfig {
  if (!isObject(raw)) throw new ArgumentError(`the start request must be a JSON object; received ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!START_KEYS.includes(key)) throw new ArgumentError(`start a run: unknown field ${describe(key)}; allowed: ${START_KEYS.join(', ')}`);
  }
  const dataset = raw.dataset;
  if (typeof dataset !== 'string' || !datasets.includes(dataset)) throw new ArgumentError(`dataset must be one of ${datasets.join(', ')}; received ${describe(dataset)}`);
  let model = raw.model;
  let modelSpec: ModelSpec | undefined;
  if (raw.modelSpec !== undefined && raw.modelSpec !== null) {
    if (!isObject(raw.modelSpec) || !Array.isArray(raw.modelSpec.layers)) throw new ArgumentError('modelSpec needs a "layers" list, as a --model spec file has');
    modelSpec = raw.modelSpec as unknown as ModelSpec;
    const name = raw.modelSpec.name;
    model = typeof name === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : 'custom';
  } else if (typeof model !== 'string' || !PRESET_NAMES.includes(model)) {
    throw new ArgumentError(`model must be a preset (${PRESET_NAMES.join(', ')}) or a modelSpec; received ${describe(model)}`);
  }
  const config = { model, ...(modelSpec ? { modelSpec } : {}), dataset } as TrainRunConfig;
  for (const f of PAGE_FIELDS) {
    if (f.key === 'model' || f.key === 'modelSpec' || f.key === 'dataset') continue;
    const v = raw[fieldName(f, 'key')];
    if (v === undefined || v === null || v === '') {
      if (f.default !== undefined) setField(config, f.key, f.default);
      continue;
    }
    checkField(f, v, 'key');
    setField(config, f.key, v);
  }
  if (config.augment === 'none') config.augment = null;
  const option = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${key} must be a number; received ${describe(v)}`);
    return v;
  };
  const momentum = option('momentum');
  const weightDecay = option('weightDecay');
  if (momentum !== undefined || weightDecay !== undefined) {
    const base = typeof config.optimizer === 'string' ? { name: config.optimizer } : { ...(config.optimizer as Record<string, unknown>) };
    const name = base.name;
    config.optimizer = { ...base, ...(momentum !== undefined ? { [name === 'sgd' || name === 'rmsprop' ? 'momentum' : 'beta1']: momentum } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) };
  }
  return checkRunConfig(config, 'key');
}

/** The table's default of a field. */
export const defaultOf = <T>(key: string): T => runField(key).default as T;
