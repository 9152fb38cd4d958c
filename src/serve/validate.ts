/**
 * Request bodies, checked field by field before anything acts on them (no eval, nothing
 * passed through unread): unknown keys, wrong types and out-of-range values are refused with
 * an ArgumentError naming the field, which the server turns into a 400.
 */
import { AUGMENT_PRESETS } from '../data/augment.js';
import { SYNTHETIC_2D, SYNTHETIC_IMAGES } from '../data/synthetic.js';
import { ArgumentError, describe } from '../errors.js';
import { PRESET_NAMES } from '../nn/presets.js';
import type { ModelSpec } from '../nn/spec.js';
import { RUN_FIELDS, type TrainRunConfig, checkField, fieldName, runField, setField } from '../io/run-config.js';
import { planRun } from '../run/train-run.js';
import { checkKnob } from './knobs.js';
import { ACTIONS, type Action, KNOB_NAMES, type Knobs } from './protocol.js';

export const DATASETS = ['mnist', 'fashion-mnist', 'cifar10', ...SYNTHETIC_2D, SYNTHETIC_IMAGES];
const optimizerType = runField('optimizer').type;
export const OPTIMIZERS = optimizerType.kind === 'named-or-object' ? [...optimizerType.names] : [];
export const AUGMENTS = ['none', 'auto', ...Object.keys(AUGMENT_PRESETS)];

type Body = Record<string, unknown>;

function object(value: unknown, what: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ArgumentError(`${what} must be a JSON object; received ${describe(value)}`);
  return value as Body;
}

function onlyKeys(body: Body, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new ArgumentError(`${what}: unknown field ${describe(key)}; allowed: ${allowed.join(', ')}`);
  }
}

function num(body: Body, key: string, o: { min: number; max: number; int?: boolean }): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < o.min || v > o.max || (o.int && !Number.isInteger(v))) {
    throw new ArgumentError(`${key} must be ${o.int ? 'an integer' : 'a number'} in [${o.min}, ${o.max}]; received ${describe(v)}`);
  }
  return v;
}

function choice(body: Body, key: string, allowed: readonly string[]): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new ArgumentError(`${key} must be one of ${allowed.join(', ')}; received ${describe(v)}`);
  return v;
}

/** What the page may set: the run fields the table marks as dashboard fields. */
const PAGE_FIELDS = RUN_FIELDS.filter((f) => f.dashboard);
/** Two optimizer options the form offers; the optimizer itself checks their ranges. */
const OPTIMIZER_OPTIONS = ['momentum', 'weightDecay'];
const START_KEYS = [...PAGE_FIELDS.map((f) => fieldName(f, 'key')), ...OPTIMIZER_OPTIONS];

function optimizerOption(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${key} must be a number; received ${describe(v)}`);
  return v;
}

/**
 * A "start a run" body → the TrainRunConfig the CLI would build (runs go under `out`): each
 * field checked by the run contract's table, then the run's own plan (the same checks
 * `fitlab train` makes before it loads anything). The page names built-in datasets and presets
 * only: a path sent by a web page is never opened.
 */
export function parseStartRun(raw: unknown, out: string): TrainRunConfig {
  const body = object(raw, 'the request body');
  onlyKeys(body, START_KEYS, 'start a run');
  const dataset = choice(body, 'dataset', DATASETS);
  if (!dataset) throw new ArgumentError(`dataset is required: one of ${DATASETS.join(', ')}`);
  let modelSpec: ModelSpec | undefined;
  let model = choice(body, 'model', PRESET_NAMES);
  if (body.modelSpec !== undefined && body.modelSpec !== null) {
    const spec = object(body.modelSpec, 'modelSpec');
    if (!Array.isArray(spec.layers)) throw new ArgumentError('modelSpec needs a "layers" list, as a --model spec file has');
    modelSpec = spec as unknown as ModelSpec;
    model = typeof spec.name === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(spec.name) ? spec.name : 'custom';
  }
  if (!model) throw new ArgumentError(`model is required: a preset (${PRESET_NAMES.join(', ')}) or a modelSpec`);
  const config = { model, ...(modelSpec ? { modelSpec } : {}), dataset } as TrainRunConfig;
  for (const f of PAGE_FIELDS) {
    if (f.key === 'model' || f.key === 'modelSpec' || f.key === 'dataset') continue;
    const v = body[fieldName(f, 'key')];
    if (v === undefined || v === null || v === '') {
      // the form's defaults are the run's (the equivalent command shows them)
      if (f.default !== undefined) setField(config, f.key, f.default);
      continue;
    }
    checkField(f, v, 'key');
    setField(config, f.key, v);
  }
  if (config.augment === 'none') config.augment = null;
  const momentum = optimizerOption(body, 'momentum');
  const weightDecay = optimizerOption(body, 'weightDecay');
  if (momentum !== undefined || weightDecay !== undefined) {
    const base = typeof config.optimizer === 'string' ? { name: config.optimizer } : { ...config.optimizer };
    const name = base.name;
    config.optimizer = { ...base, ...(momentum !== undefined ? { [name === 'sgd' || name === 'rmsprop' ? 'momentum' : 'beta1']: momentum } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) };
  }
  config.out = out;
  planRun(config, 'key');
  return config;
}

export type ControlRequest = { set: Partial<Knobs> } | { action: Action } | { probe: 'network' | 'predictions'; input?: number };

/** A control body: {"set": {"learningRate": 0.01}}, {"action": "pause"} or {"probe": "network", "input": 3}. */
export function parseControl(raw: unknown): ControlRequest {
  const body = object(raw, 'the request body');
  const keys = Object.keys(body);
  if (keys.includes('set')) {
    onlyKeys(body, ['set'], 'control');
    const set = object(body.set, 'set');
    if (!Object.keys(set).length) throw new ArgumentError(`set needs at least one knob: ${KNOB_NAMES.join(', ')}`);
    const knobs: Partial<Knobs> = {};
    for (const [k, v] of Object.entries(set)) (knobs as Record<string, number>)[k] = checkKnob(k, v);
    return { set: knobs };
  }
  if (keys.includes('action')) {
    onlyKeys(body, ['action'], 'control');
    return { action: choice(body, 'action', ACTIONS) as Action };
  }
  if (keys.includes('probe')) {
    onlyKeys(body, ['probe', 'input'], 'control');
    const probe = choice(body, 'probe', ['network', 'predictions']) as 'network' | 'predictions';
    const input = num(body, 'input', { min: 0, max: 1_000_000, int: true });
    return input === undefined ? { probe } : { probe, input };
  }
  throw new ArgumentError('a control body needs "set", "action" or "probe"', 'e.g. {"set": {"learningRate": 0.01}} or {"action": "pause"}');
}
