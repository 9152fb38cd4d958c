/**
 * The run contract: what a training run is asked to do (TrainRunConfig), one declarative table
 * of its fields (type, range, default, CLI flag, help, dashboard knob), and what a run
 * directory's config.json holds (RunConfigFile, with a schema version and one typed parser;
 * the file reading lives in run-config-file.ts, so this table has no Node import and the
 * browser's site worker bundles it as it is).
 *
 * Everything that builds or shows a run configuration derives from RUN_FIELDS: the options and
 * help of `fitlab train` (src/cli/train.ts), the dashboard's "start a run" validation
 * (src/serve/validate.ts), the "equivalent command" (src/serve/command.ts), the queue's jobs
 * (validateRunConfig) and the checks a run makes before it loads anything (src/run/). A value
 * is checked once, by checkField, with the field's one range; an error names the field as the
 * front door spells it (`--lr` on the command line, `lr` in a JSON body), both from the table.
 *
 * @example
 *   const r = validateRunConfig({ model: 'paper-mlp', dataset: 'spirals', epochs: 3, lr: 0.01 });
 *   if ('error' in r) console.error(r.error); else await trainRun(r.config);
 */
import { type AugmentSpec, parseAugment } from '../data/augment.js';
import { parseVal } from '../data/splits.js';
import type { SyntheticOptions } from '../data/synthetic.js';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { DEFAULT_SEED } from '../tensor/streams.js';
import type { ModelSpec } from '../nn/spec.js';
import { OPTIMIZERS } from '../optim/optimizers.js';
import type { DataFingerprint } from './integrity.js';

/** The experiments' dataset tools, applied in this order to the training part of the data. */
export interface DataTools {
  /** keep N examples per class (seeded) */
  subset?: number;
  /** keep a fraction ratios[k] of class k */
  imbalance?: number[];
  /** replace this fraction of labels by a different class */
  labelNoise?: number;
  /** draw this fraction of labels uniformly at random (1: Zhang et al.'s random labels) */
  randomLabels?: number;
  /** "extreme overfitting": the test set with every label wrong, this many copies appended
   *  ('auto': about the training set's size) */
  corruptTest?: number | 'auto';
}

/** What a run is asked to do; every front door builds one, checked by RUN_FIELDS. */
export interface TrainRunConfig {
  /** preset name, spec file or TF.js model.json (a label when modelSpec is given) */
  model: string;
  /** an inline model spec (used instead of resolving `model`) */
  modelSpec?: ModelSpec;
  /** input shape and class count for presets (default: the dataset's) */
  input?: number[];
  classes?: number;
  dataset: string;
  dataDir?: string;
  synthetic?: SyntheticOptions;
  /** --val: fraction (stratified), first:N, last:F, fold:I/K or 0 */
  val?: string;
  epochs: number;
  batchSize?: number;
  optimizer?: string | Record<string, unknown>;
  /** overrides the optimizer's learning rate */
  lr?: number;
  loss?: string;
  seed?: number;
  threads?: number;
  /** EarlyStopping patience (restores the best weights), or null */
  earlyStopping?: number | null;
  /** with earlyStopping: put back the best epoch's weights at the end (default true, unlike Keras) */
  restoreBestWeights?: boolean;
  monitor?: string;
  /** 'best' keeps model-best/ (ModelCheckpoint saveBestOnly) */
  checkpoint?: 'best' | 'none';
  reduceLrOnPlateau?: { factor?: number; patience?: number } | null;
  shuffle?: boolean;
  /** parent of run directories */
  out?: string;
  name?: string;
  classWeight?: 'balanced' | Record<number, number> | null;
  /** augmentation: a preset name, 'auto' (by dataset), 'none', or an ImageDataGenerator-style object */
  augment?: string | Record<string, unknown> | null;
  /** CIFAR-100 label set */
  labels?: 'fine' | 'coarse';
  /** download the dataset from its canonical source when it is not found locally */
  download?: boolean;
  /** dataset tools, applied to the training part only (validation and test stay clean) */
  tools?: DataTools;
  /** draw N examples per class from the training data before the validation split (the pool
   *  that k-fold cross-validation, --val fold:I/K, divides) */
  poolPerClass?: number;
}

// ---------------------------------------------------------------------------------------------
// The field table

/** How a field's value is checked (and, on the command line, read from its text). */
export type FieldType =
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'string'; maxLength?: number }
  /** one folder name: no / or \, no control characters, not . or .. (a run's name) */
  | { kind: 'segment'; maxLength: number }
  | { kind: 'choice'; choices: readonly string[] }
  | { kind: 'boolean' }
  /** positive integers, "28,28,1" on the command line */
  | { kind: 'shape' }
  /** fractions in [0, 1], "1,1,0.1" on the command line */
  | { kind: 'fractions' }
  /** a whole number ≥ 1, or 'auto' */
  | { kind: 'copies' }
  /** a name (one of `names`) or a JSON object with a "name" (its fields are the owner's to check) */
  | { kind: 'named-or-object'; names: readonly string[] }
  /** a string or a JSON object, checked by `check` (a lower floor's parser) */
  | { kind: 'string-or-object' }
  /** a JSON object, passed on to its owner (model specs, synthetic options, ...) */
  | { kind: 'object' };

export interface RunField {
  /** where the value lives in TrainRunConfig: 'lr', or 'tools.subset' for a nested one */
  key: string;
  type: FieldType;
  help: string;
  /** the command-line flag ('--lr'); absent: no flag (set by experiments and the page only) */
  flag?: string;
  /** the flag's argument in help ('<rate>'); absent with a flag: a switch */
  arg?: string;
  /** the value a run uses when the field is absent (undefined: decided where it is used) */
  default?: unknown;
  /** shown in the dashboard's "start a run" form (and accepted in its body, under bodyKey) */
  dashboard?: boolean;
  /** the name in a dashboard body, when it is not the key's last part */
  bodyKey?: string;
  /** a further check by the value's owner on a lower floor (a parser that throws) */
  check?: (value: unknown) => void;
}

export const MAX_NAME_LENGTH = 200;

/**
 * Every field of TrainRunConfig, in the order `fitlab train --help` lists them. The order is
 * also the equivalent command's; keep a new field near its kin.
 */
export const RUN_FIELDS: readonly RunField[] = [
  { key: 'model', flag: '--model', arg: '<model>', type: { kind: 'string' }, dashboard: true, help: 'preset name, JSON spec file, or TF.js/Keras model.json' },
  { key: 'modelSpec', type: { kind: 'object' }, dashboard: true, help: 'an inline model spec (as a --model spec file holds)' },
  { key: 'dataset', flag: '--dataset', arg: '<dataset>', type: { kind: 'string' }, dashboard: true, help: 'mnist, fashion-mnist, a synthetic set (spirals, moons, circles, xor, blobs, shapes) or a folder' },
  { key: 'dataDir', flag: '--data-dir', arg: '<dir>', type: { kind: 'string' }, help: 'where to look for named datasets first (also FITLAB_DATA)' },
  { key: 'synthetic', type: { kind: 'object' }, help: 'options of a synthetic dataset (size, noise, label noise)' },
  { key: 'epochs', flag: '--epochs', arg: '<n>', type: { kind: 'int', min: 1 }, default: 10, dashboard: true, help: 'epochs to train (default 10; with --resume: the new total)' },
  { key: 'batchSize', flag: '--batch-size', arg: '<n>', type: { kind: 'int', min: 1 }, default: 32, dashboard: true, help: 'examples per batch' },
  {
    key: 'optimizer', flag: '--optimizer', arg: '<name|json>', type: { kind: 'named-or-object', names: OPTIMIZERS }, default: 'adam', dashboard: true,
    help: 'sgd, adam, adamw, nadam or rmsprop (Keras defaults), or a JSON config such as \'{"name":"sgd","momentum":0.9,"learningRate":{"kind":"cosine","initial":0.1,"decaySteps":5000}}\'',
  },
  { key: 'lr', flag: '--lr', arg: '<rate>', type: { kind: 'number', min: 0, max: Infinity }, dashboard: true, help: 'learning rate (default: the optimizer\'s)' },
  { key: 'loss', flag: '--loss', arg: '<name>', type: { kind: 'choice', choices: ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error', 'mse'] }, default: 'sparse_categorical_crossentropy', help: 'sparse_categorical_crossentropy, categorical_crossentropy or mse' },
  { key: 'val', flag: '--val', arg: '<split>', type: { kind: 'string' }, default: '0.1', dashboard: true, check: (v) => parseVal(v as string), help: 'validation: a fraction (stratified, seeded), first:N, last:F (Keras validation_split), fold:I/K, or 0' },
  { key: 'seed', flag: '--seed', arg: '<n>', type: { kind: 'int', min: 0 }, default: DEFAULT_SEED, dashboard: true, help: 'seed of initialization, shuffling, dropout and splits' },
  { key: 'threads', flag: '--threads', arg: '<n>', type: { kind: 'int', min: 1 }, help: 'kernel threads (default FITLAB_THREADS or all cores)' },
  { key: 'earlyStopping', flag: '--early-stopping', arg: '<patience>', type: { kind: 'int', min: 0 }, default: null, dashboard: true, help: 'stop after this many epochs without improvement; restores the best weights' },
  { key: 'restoreBestWeights', type: { kind: 'boolean' }, default: true, help: 'with early stopping: put back the best epoch\'s weights at the end' },
  { key: 'monitor', flag: '--monitor', arg: '<metric>', type: { kind: 'string' }, help: 'metric for early stopping and --checkpoint best (default val_loss, or loss without validation)' },
  { key: 'checkpoint', flag: '--checkpoint', arg: '<which>', type: { kind: 'choice', choices: ['best', 'none'] }, default: 'best', help: 'keep model-best/ (the best epoch by the monitored metric)' },
  { key: 'reduceLrOnPlateau', type: { kind: 'object' }, default: null, help: 'ReduceLROnPlateau options ({factor, patience})' },
  { key: 'shuffle', flag: '--no-shuffle', type: { kind: 'boolean' }, default: true, help: 'visit training examples in order every epoch' },
  { key: 'out', flag: '--out', arg: '<dir>', type: { kind: 'string' }, default: 'runs', help: 'parent folder of run directories' },
  { key: 'name', flag: '--name', arg: '<name>', type: { kind: 'segment', maxLength: MAX_NAME_LENGTH }, dashboard: true, help: 'run name (default <model>-<dataset>)' },
  { key: 'input', flag: '--input', arg: '<shape>', type: { kind: 'shape' }, help: 'input shape for presets, e.g. 28,28,1 (default: the dataset\'s)' },
  { key: 'classes', flag: '--classes', arg: '<n>', type: { kind: 'int', min: 2 }, help: 'output classes for presets (default: the dataset\'s)' },
  { key: 'classWeight', flag: '--class-weight', arg: '<mode>', type: { kind: 'choice', choices: ['balanced'] }, default: null, help: "'balanced': weight each class by n / (classes × count)" },
  { key: 'augment', flag: '--augment', arg: '<preset|json>', type: { kind: 'string-or-object' }, default: null, dashboard: true, check: (v) => parseAugment(v), help: 'augment training images: digits, fashion, cifar10, crop-flip, auto (by dataset), or an ImageDataGenerator-style JSON object' },
  { key: 'labels', flag: '--labels', arg: '<which>', type: { kind: 'choice', choices: ['fine', 'coarse'] }, help: 'CIFAR-100 label set' },
  { key: 'download', flag: '--download', type: { kind: 'boolean' }, help: 'download the dataset from its canonical source if it is not found locally (checksums verified)' },
  { key: 'tools.subset', flag: '--subset', arg: '<n>', type: { kind: 'int', min: 1 }, dashboard: true, help: 'keep N training examples per class (seeded; validation and test stay whole)' },
  { key: 'tools.imbalance', flag: '--imbalance', arg: '<ratios>', type: { kind: 'fractions' }, help: 'keep a fraction of each class\'s training examples, e.g. 1,1,0.1,... (one per class)' },
  { key: 'tools.labelNoise', flag: '--label-noise', arg: '<fraction>', type: { kind: 'number', min: 0, max: 1 }, dashboard: true, help: 'give this fraction of training labels a different, wrong class' },
  { key: 'tools.randomLabels', flag: '--random-labels', arg: '<fraction>', type: { kind: 'number', min: 0, max: 1 }, help: 'draw this fraction of training labels uniformly at random (1: all)' },
  { key: 'tools.corruptTest', flag: '--corrupt-test', arg: '<copies>', type: { kind: 'copies' }, help: "append the test set with every label wrong, N times or 'auto' (about the training size): extreme overfitting points" },
  { key: 'poolPerClass', type: { kind: 'int', min: 1 }, help: 'draw N examples per class before the validation split (the pool k-fold divides)' },
];

/** The field of a key ('lr', 'tools.subset'). */
export function runField(key: string): RunField {
  const f = RUN_FIELDS.find((x) => x.key === key);
  if (!f) throw new Error(`no run field ${key}`);
  return f;
}

/** A numeric field's one range (the dashboard's live knob of the same quantity uses it too). */
export function fieldRange(key: string): { min: number; max: number; int?: boolean } {
  const t = runField(key).type;
  if (t.kind === 'number') return { min: t.min, max: t.max };
  if (t.kind === 'int') return { min: t.min, max: t.max ?? Number.MAX_SAFE_INTEGER, int: true };
  throw new Error(`run field ${key} is not numeric`);
}

/** How an error spells a field: as the command line does (--lr) or as a JSON body does (lr). */
export type Naming = 'flag' | 'key';

export function fieldName(f: RunField, naming: Naming): string {
  if (naming === 'flag' && f.flag) return f.flag === '--no-shuffle' ? '--shuffle' : f.flag;
  return f.bodyKey ?? f.key.slice(f.key.lastIndexOf('.') + 1);
}

/** What is allowed, in words ("an integer ≥ 1", "a number in [0, 1]"). */
export function allowedText(t: FieldType): string {
  switch (t.kind) {
    case 'int': return t.max === undefined ? `an integer ≥ ${t.min}` : `an integer in [${t.min}, ${t.max}]`;
    case 'number': return `a number in [${t.min}, ${t.max}]`;
    case 'string': return t.maxLength ? `a non-empty string of at most ${t.maxLength} characters` : 'a non-empty string';
    case 'segment': return `a name of 1 to ${t.maxLength} characters without / or \\ (one folder name)`;
    case 'choice': return t.choices.length === 1 ? `'${t.choices[0]}'` : `one of ${t.choices.join(', ')}`;
    case 'boolean': return 'true or false';
    case 'shape': return 'positive integers separated by commas, e.g. 28,28,1';
    case 'fractions': return 'comma-separated fractions in [0, 1], one per class';
    case 'copies': return "a whole number of copies >= 1 or 'auto'";
    case 'named-or-object': return `one of ${t.names.join(', ')} or a JSON object with a "name"`;
    case 'string-or-object': return 'a name or a JSON object';
    case 'object': return 'a JSON object';
  }
}

/** "--lr must be a number in [0, Infinity]", "--imbalance takes comma-separated fractions ...". */
function mustBe(name: string, t: FieldType): string {
  return t.kind === 'fractions' || t.kind === 'copies' ? `${name} takes ${allowedText(t)}` : `${name} must be ${allowedText(t)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOk(t: FieldType, v: unknown): boolean {
  switch (t.kind) {
    case 'int': return typeof v === 'number' && Number.isSafeInteger(v) && v >= t.min && (t.max === undefined || v <= t.max);
    case 'number': return typeof v === 'number' && Number.isFinite(v) && v >= t.min && v <= t.max;
    case 'string': return typeof v === 'string' && v.trim() !== '' && (t.maxLength === undefined || v.length <= t.maxLength);
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    case 'segment': return typeof v === 'string' && v.length >= 1 && v.length <= t.maxLength && !/[/\\\u0000-\u001f]/.test(v) && v !== '.' && v !== '..';
    case 'choice': return typeof v === 'string' && t.choices.includes(v);
    case 'boolean': return typeof v === 'boolean';
    case 'shape': return Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && (d as number) >= 1);
    case 'fractions': return Array.isArray(v) && v.length > 0 && v.every((r) => typeof r === 'number' && Number.isFinite(r) && r >= 0 && r <= 1);
    case 'copies': return v === 'auto' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);
    case 'named-or-object': return (typeof v === 'string' && t.names.includes(v)) || isObject(v);
    case 'string-or-object': return (typeof v === 'string' && v.trim() !== '') || isObject(v);
    case 'object': return isObject(v);
  }
}

/**
 * Check one field's value: the one place a run's value is judged. `shown` is what the user
 * typed, when it differs from the value (the command line's text).
 */
export function checkField(f: RunField, value: unknown, naming: Naming, shown?: string): void {
  const name = fieldName(f, naming);
  const received = shown !== undefined ? JSON.stringify(shown) : describe(value);
  if (!typeOk(f.type, value)) {
    // the optimizer's name is the optimizer's word, as createOptimizer says it
    if (f.type.kind === 'named-or-object' && typeof value === 'string') throw new ArgumentError(`${name} name must be one of ${f.type.names.join(', ')}; received ${received}`);
    throw new ArgumentError(`${mustBe(name, f.type)}; received ${received}`);
  }
  try {
    f.check?.(value);
  } catch (err) {
    // an owner below says the flag (parseVal: "--val must be ..."); a JSON body says the key
    if (err instanceof ArgumentError && f.flag && name !== f.flag && err.message.startsWith(f.flag)) throw new ArgumentError(name + err.message.slice(f.flag.length), err.hint);
    throw err;
  }
}

/** A field's value in a config (undefined where absent). */
export function getField(config: object, key: string): unknown {
  let v: unknown = config;
  for (const part of key.split('.')) v = isObject(v) ? v[part] : undefined;
  return v;
}

/** Set a field's value in a config, creating the section of a nested key. */
export function setField(config: object, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = config as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(o[part])) o[part] = {};
    o = o[part] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

// ---------------------------------------------------------------------------------------------
// Command-line text → value, and config → flags

/** Read a flag's text as its field's value, checked; the error names the flag. */
export function parseFieldText(f: RunField, text: string): unknown {
  const t = f.type;
  const fail = (): never => {
    throw new ArgumentError(`${mustBe(fieldName(f, 'flag'), t)}; received ${JSON.stringify(text)}`);
  };
  let value: unknown = text;
  switch (t.kind) {
    case 'int':
      if (!/^-?\d+$/.test(text.trim())) fail();
      value = Number(text);
      break;
    case 'number':
      if (text.trim() === '') fail();
      value = Number(text);
      break;
    case 'shape':
      value = text.split(/[,x×]/).map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
      break;
    case 'fractions':
      value = text.split(',').map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
      break;
    case 'copies':
      value = text.trim() === 'auto' ? 'auto' : /^\d+$/.test(text.trim()) ? Number(text) : fail();
      break;
    case 'named-or-object':
      if (text.trim().startsWith('{')) {
        try {
          value = JSON.parse(text) as unknown;
        } catch (err) {
          throw new ArgumentError(`${fieldName(f, 'flag')} looks like JSON but does not parse: ${(err as Error).message}`);
        }
      }
      break;
    default:
      break;
  }
  checkField(f, value, 'flag', text);
  return value;
}

const quote = (s: string): string => (/^[A-Za-z0-9._:/,=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** A value as its flag's text (the inverse of parseFieldText). */
function fieldText(f: RunField, v: unknown): string {
  if (f.type.kind === 'shape' || f.type.kind === 'fractions') return (v as number[]).join(',');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The `fitlab train` arguments that ask for `config` (each field with a flag, in table order;
 * unset fields are left out). An inline model spec is named `<model>.json`: the page says so.
 */
export function runConfigArgs(c: Partial<TrainRunConfig>): string[] {
  const args: string[] = [];
  for (const f of RUN_FIELDS) {
    if (!f.flag) continue;
    let v = getField(c, f.key);
    if (f.key === 'model' && c.modelSpec) v = `${c.model ?? 'model'}.json`;
    if (f.key === 'augment' && v === 'none') v = undefined;
    if (v === undefined || v === null) continue;
    if (f.type.kind === 'boolean') {
      // a switch says the non-default: --download turns it on, --no-shuffle off
      if (v !== f.default && v !== (f.default ?? false)) args.push(f.flag);
      continue;
    }
    args.push(f.flag, fieldText(f, v));
  }
  return args;
}

/** The shell command line of runConfigArgs. */
export function runCommandLine(c: Partial<TrainRunConfig>): string {
  return ['fitlab', 'train', ...runConfigArgs(c).map(quote)].join(' ');
}

/** The commander attribute of a flag ('--batch-size' → batchSize, '--no-shuffle' → shuffle). */
export function flagAttribute(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

// ---------------------------------------------------------------------------------------------
// A whole config

/**
 * Check every field of a config (unknown keys refused); errors name fields as `naming` spells
 * them. Returns the config as given: defaults are applied where the run plans, not here, so an
 * equivalent command shows what was asked.
 */
export function checkRunConfig(raw: unknown, naming: Naming = 'flag'): TrainRunConfig {
  if (!isObject(raw)) throw new ArgumentError(`a run configuration must be a JSON object; received ${describe(raw)}`);
  const known = new Set(RUN_FIELDS.map((f) => f.key.split('.')[0]));
  for (const k of Object.keys(raw)) {
    if (!known.has(k)) throw new ArgumentError(`run configuration: unknown field ${describe(k)}; allowed: ${[...known].join(', ')}`);
  }
  if (raw.tools !== undefined && raw.tools !== null) {
    if (!isObject(raw.tools)) throw new ArgumentError(`tools must be a JSON object; received ${describe(raw.tools)}`);
    const tools = RUN_FIELDS.filter((f) => f.key.startsWith('tools.')).map((f) => f.key.slice(6));
    for (const k of Object.keys(raw.tools)) {
      if (!tools.includes(k)) throw new ArgumentError(`tools: unknown field ${describe(k)}; allowed: ${tools.join(', ')}`);
    }
  }
  for (const f of RUN_FIELDS) {
    const v = getField(raw, f.key);
    if (v === undefined || (v === null && f.default === null)) continue;
    // a programmatic config may carry what the command line cannot say (class weights by class)
    if (f.key === 'classWeight' && isObject(v)) continue;
    checkField(f, v, naming);
  }
  for (const key of ['model', 'dataset', 'epochs'] as const) {
    if (raw[key] === undefined) throw new ArgumentError(`${fieldName(runField(key), naming)} is required`);
  }
  return raw as unknown as TrainRunConfig;
}

/**
 * A run configuration from JSON (a queue job, a saved request), checked as a run checks it:
 * the config, or one line saying what is wrong. Field names in errors are the JSON keys.
 */
export function validateRunConfig(json: unknown): { config: TrainRunConfig } | { error: string } {
  try {
    return { config: checkRunConfig(json, 'key') };
  } catch (err) {
    if (err instanceof ArgumentError) return { error: err.message };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// config.json

/**
 * config.json's schema version. 1: the first versioned file (the layout of runs written before
 * the version existed, which read as version 1). A reader refuses a newer version than it knows.
 */
export const RUN_CONFIG_SCHEMA = 1;

/** The resolved configuration written to config.json (enough to rebuild and resume). */
export interface ResolvedConfig {
  fitlab: string;
  node: string;
  created: string;
  backend: { name: string; isa: string; threads: number };
  model: { source: string; label: string; spec: ModelSpec; params: { total: number; trainable: number; nonTrainable: number } };
  dataset: {
    spec: string; dataDir: string | null; synthetic: SyntheticOptions | null; name: string; source: string; shape: number[]; classes: number;
    classNames: string[]; inputScale?: number; train: number; val: number; test: number; valSplit: string; trainClassCounts: number[];
    augment: AugmentSpec | null; labels: string | null; tools: DataTools | null; poolPerClass?: number | null; fingerprint?: DataFingerprint;
  };
  training: {
    epochs: number; batchSize: number; seed: number; shuffle: boolean; loss: string;
    optimizer: Record<string, unknown>; earlyStopping: number | null; restoreBestWeights?: boolean; monitor: string; checkpoint: 'best' | 'none';
    reduceLrOnPlateau: { factor?: number; patience?: number } | null; classWeight: Record<number, number> | null;
  };
}

/** config.json as a run directory holds it: the resolved config, what was asked, and when it resumed. */
export interface RunConfigFile extends ResolvedConfig {
  schema: number;
  command: TrainRunConfig;
  resumed?: string;
}

/** A run's config.json, checked enough that its readers may trust the sections they use. */
export function parseRunConfigFile(raw: unknown, where: string): RunConfigFile {
  const bad = (what: string): never => {
    throw new FitlabError(`${where}: ${what}`, 'config.json is written by fitlab train; a damaged one cannot be trusted');
  };
  if (!isObject(raw)) return bad(`must be a JSON object; received ${describe(raw)}`);
  const schema = raw.schema ?? 1;
  if (!(typeof schema === 'number' && Number.isInteger(schema) && schema >= 1)) return bad(`schema must be an integer ≥ 1; received ${describe(raw.schema)}`);
  if (schema > RUN_CONFIG_SCHEMA) bad(`schema ${schema} is newer than this fitlab reads (${RUN_CONFIG_SCHEMA})`);
  for (const section of ['backend', 'model', 'dataset', 'training', 'command']) {
    if (raw[section] !== undefined && !isObject(raw[section])) bad(`${section} must be a JSON object; received ${describe(raw[section])}`);
  }
  return { ...raw, schema } as unknown as RunConfigFile;
}

export const RUN_CONFIG_FILE = 'config.json';
