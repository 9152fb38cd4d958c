/**
 * A New run form's body → the TrainRunConfig it asks for, field by field through the run
 * contract's table (io/run-config): unknown keys, wrong types and out-of-range values are refused
 * with an ArgumentError naming the field. Host-free, so the dashboard server (serve/validate,
 * which then plans the run under its runs folder) and the static site's worker (site/config)
 * read the same form the same way; each passes the datasets it can offer.
 */
import { ArgumentError, describe } from '../errors.js';
import { RUN_FIELDS, type TrainRunConfig, checkField, fieldName, setField } from '../io/run-config.js';
import { PRESET_NAMES } from '../nn/presets.js';
import type { ModelSpec } from '../nn/spec.js';

type Body = Record<string, unknown>;

/** What the page may set: the run fields the table marks as dashboard fields. */
const PAGE_FIELDS = RUN_FIELDS.filter((f) => f.dashboard);
/** Two optimizer options the form offers; the optimizer itself checks their ranges. */
const OPTIMIZER_OPTIONS = ['momentum', 'weightDecay'];
export const START_KEYS: readonly string[] = [...PAGE_FIELDS.map((f) => fieldName(f, 'key')), ...OPTIMIZER_OPTIONS];

export function bodyObject(value: unknown, what: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ArgumentError(`${what} must be a JSON object; received ${describe(value)}`);
  return value as Body;
}

export function onlyKeys(body: Body, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new ArgumentError(`${what}: unknown field ${describe(key)}; allowed: ${allowed.join(', ')}`);
  }
}

export function choice(body: Body, key: string, allowed: readonly string[]): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new ArgumentError(`${key} must be one of ${allowed.join(', ')}; received ${describe(v)}`);
  return v;
}

function optimizerOption(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${key} must be a number; received ${describe(v)}`);
  return v;
}

/**
 * The body's run: a built-in preset or a JSON modelSpec, one of `datasets` (names only: a path
 * sent by a web page is never opened), every dashboard field checked by the table (empty means
 * the table's default, as the equivalent command shows), and the form's momentum / weight decay
 * folded into the optimizer (momentum is β1 for the Adam family).
 */
export function startBodyToConfig(raw: unknown, datasets: readonly string[]): TrainRunConfig {
  const body = bodyObject(raw, 'the request body');
  onlyKeys(body, START_KEYS, 'start a run');
  const dataset = choice(body, 'dataset', datasets);
  if (!dataset) throw new ArgumentError(`dataset is required: one of ${datasets.join(', ')}`);
  let modelSpec: ModelSpec | undefined;
  let model = choice(body, 'model', PRESET_NAMES);
  if (body.modelSpec !== undefined && body.modelSpec !== null) {
    const spec = bodyObject(body.modelSpec, 'modelSpec');
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
    const base = typeof config.optimizer === 'string' ? { name: config.optimizer } : { ...(config.optimizer as Record<string, unknown>) };
    const name = base.name;
    config.optimizer = { ...base, ...(momentum !== undefined ? { [name === 'sgd' || name === 'rmsprop' ? 'momentum' : 'beta1']: momentum } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) };
  }
  return config;
}
