/**
 * Validation of checkpoint/state.json as it is read back. Every field the trainer trusts on
 * resume is checked here first: an edited or damaged file (an `"epoch": -5` once produced a
 * 46-line history) must end in one line naming the file, the field and the value, never in a
 * run that silently continues from nonsense or an exception deep inside the trainer.
 */
import { FitlabError, describe } from '../errors.js';
import { OPTIMIZERS } from '../optim/optimizers.js';

/** One entry of the arrays.bin index: `length` float32 values under `key`. */
export interface ArrayIndex {
  key: string;
  length: number;
}

type Obj = Record<string, unknown>;

/** Checks fields of one JSON object, naming the file and the field path on failure. */
class Fields {
  constructor(readonly file: string) {}

  fail(field: string, value: unknown, allowed: string): never {
    throw new FitlabError(`${this.file}: ${field} must be ${allowed}; received ${describe(value)} (the checkpoint was damaged or edited)`);
  }

  object(v: unknown, field: string): Obj {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(field, v, 'an object');
    return v as Obj;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, v, 'a list');
    return v;
  }

  int(v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, v, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`);
    }
    return v;
  }

  finite(v: unknown, field: string, min = -Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) this.fail(field, v, min === -Infinity ? 'a finite number' : `a finite number ≥ ${min}`);
    return v;
  }

  /** A number that JSON wrote as null because it was NaN or infinite. */
  finiteOrNull(v: unknown, field: string): void {
    if (v !== null) this.finite(v, field);
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, v, 'a string');
    return v;
  }
}

/** A PRNG stream state: {seed, stream, position, pending: 0–3 unsigned 32-bit lanes}. */
function checkStream(f: Fields, v: unknown, field: string): void {
  const s = f.object(v, field);
  f.int(s.seed, `${field}.seed`);
  f.int(s.stream, `${field}.stream`);
  f.int(s.position, `${field}.position`);
  const pending = f.array(s.pending, `${field}.pending`);
  if (pending.length > 3) f.fail(`${field}.pending`, pending, 'a list of at most 3 values');
  pending.forEach((p, i) => f.int(p, `${field}.pending[${i}]`, 0, 0xffffffff));
}

function checkHistory(f: Fields, v: unknown, epoch: number): void {
  const history = f.array(v, 'history');
  if (history.length !== epoch) f.fail('history', `a list of ${history.length} epochs`, `a list of ${epoch} epochs (one per finished epoch, "epoch" is ${epoch})`);
  history.forEach((e, i) => {
    const o = f.object(e, `history[${i}]`);
    if (o.epoch !== i) f.fail(`history[${i}].epoch`, o.epoch, String(i));
    if (!('loss' in o)) f.fail(`history[${i}].loss`, undefined, 'a number (or null)');
    for (const [k, x] of Object.entries(o)) f.finiteOrNull(x, `history[${i}].${k}`);
  });
}

/** The callbacks fitlab itself checkpoints, and the fields their setState reads. */
const CALLBACK_FIELDS: Record<string, Record<string, 'int' | 'finiteOrNull' | 'log' | 'edges'>> = {
  TerminateOnNaN: { epoch: 'int' },
  EarlyStopping: { wait: 'int', stoppedEpoch: 'int', best: 'finiteOrNull', bestEpoch: 'int' },
  ModelCheckpoint: { best: 'finiteOrNull' },
  ReduceLROnPlateau: { best: 'finiteOrNull', wait: 'int', cooldownCounter: 'int' },
  WeightTracker: { log: 'log', edges: 'edges' },
};

/** One WeightTracker log entry (it is written to weights.jsonl and charted, so all of it counts). */
function checkWeightEpoch(f: Fields, v: unknown, at: string): void {
  const e = f.object(v, at);
  f.int(e.epoch, `${at}.epoch`);
  f.finiteOrNull(e.norm, `${at}.norm`);
  f.finiteOrNull(e.distance, `${at}.distance`);
  f.array(e.layers, `${at}.layers`).forEach((l, i) => {
    const o = f.object(l, `${at}.layers[${i}]`);
    f.string(o.name, `${at}.layers[${i}].name`);
    f.finiteOrNull(o.norm, `${at}.layers[${i}].norm`);
    f.finiteOrNull(o.distance, `${at}.layers[${i}].distance`);
  });
  if (e.deadRelu !== undefined) {
    f.array(e.deadRelu, `${at}.deadRelu`).forEach((d, i) => {
      const o = f.object(d, `${at}.deadRelu[${i}]`);
      f.string(o.layer, `${at}.deadRelu[${i}].layer`);
      f.finite(o.fraction, `${at}.deadRelu[${i}].fraction`);
    });
  }
  if (e.histogram !== undefined) {
    const h = f.object(e.histogram, `${at}.histogram`);
    const edges = f.array(h.edges, `${at}.histogram.edges`);
    edges.forEach((x, i) => f.finite(x, `${at}.histogram.edges[${i}]`));
    const counts = f.array(h.counts, `${at}.histogram.counts`);
    counts.forEach((x, i) => f.int(x, `${at}.histogram.counts[${i}]`));
    if (counts.length + 1 !== edges.length) f.fail(`${at}.histogram.counts`, `a list of ${counts.length}`, `a list of ${edges.length - 1} (one per bin)`);
  }
}

function checkCallbacks(f: Fields, v: unknown): void {
  const callbacks = f.object(v, 'callbacks');
  for (const [name, raw] of Object.entries(callbacks)) {
    const at = `callbacks.${name}`;
    const cs = f.object(raw, at);
    if (cs.weightCount !== null) f.int(cs.weightCount, `${at}.weightCount`);
    for (const [key, kind] of Object.entries(CALLBACK_FIELDS[name] ?? {})) {
      const x = cs[key];
      if (kind === 'int') f.int(x, `${at}.${key}`);
      else if (kind === 'finiteOrNull') f.finiteOrNull(x, `${at}.${key}`);
      else if (kind === 'edges') f.array(x, `${at}.${key}`).forEach((e, i) => f.finite(e, `${at}.${key}[${i}]`));
      else f.array(x, `${at}.${key}`).forEach((e, i) => checkWeightEpoch(f, e, `${at}.${key}[${i}]`));
    }
  }
}

function checkOptimizer(f: Fields, v: unknown): void {
  const o = f.object(v, 'optimizer');
  if (!OPTIMIZERS.includes(o.name as (typeof OPTIMIZERS)[number])) f.fail('optimizer.name', o.name, `one of ${OPTIMIZERS.join(', ')}`);
  f.int(o.iterations, 'optimizer.iterations');
  f.finite(o.learningRate, 'optimizer.learningRate', 0);
  if (o.uProduct !== undefined) f.finite(o.uProduct, 'optimizer.uProduct');
  f.array(o.slots, 'optimizer.slots').forEach((s, i) => f.string(s, `optimizer.slots[${i}]`));
}

/**
 * The arrays.bin index: unique keys with non-negative integer lengths whose float32 bytes add
 * up to the file's size, and every array the other fields promise (weights/0..n-1, callback
 * weights, optimizer slots) present.
 */
function checkIndex(f: Fields, meta: Obj, fileBytes: number, arraysFile: string): void {
  const index = f.array(meta.arrays, 'arrays');
  const keys = new Set<string>();
  let total = 0;
  index.forEach((e, i) => {
    const o = f.object(e, `arrays[${i}]`);
    const key = f.string(o.key, `arrays[${i}].key`);
    if (keys.has(key)) f.fail(`arrays[${i}].key`, key, 'a key not listed before');
    keys.add(key);
    total += f.int(o.length, `arrays[${i}].length`);
  });
  if (total * 4 !== fileBytes) {
    throw new FitlabError(`${f.file}: the arrays index lists ${total} float32 values (${total * 4} bytes) but ${arraysFile} has ${fileBytes} bytes (truncated or damaged)`);
  }
  const need = (key: string, why: string): void => {
    if (!keys.has(key)) f.fail('arrays', `an index without ${key}`, `an index listing ${key} (${why})`);
  };
  const weightCount = f.int(meta.weightCount, 'weightCount');
  for (let i = 0; i < weightCount; i++) need(`weights/${i}`, `weightCount is ${weightCount}`);
  for (const [name, cs] of Object.entries(meta.callbacks as Record<string, Obj>)) {
    for (let i = 0; i < ((cs.weightCount as number | null) ?? 0); i++) need(`callbacks/${name}/${i}`, `callbacks.${name}.weightCount is ${String(cs.weightCount)}`);
  }
  const slots = new Set((meta.optimizer as { slots: string[] }).slots);
  for (const key of keys) {
    const m = /^optimizer\/([^/]+)\//.exec(key);
    if (m && !slots.has(m[1])) f.fail('optimizer.slots', [...slots], `a list that includes ${JSON.stringify(m[1])} (the index has ${key})`);
  }
}

/**
 * Validate a parsed state.json. `fileBytes` is the size of arrays.bin; `configuredEpochs` the
 * run's epochs from config.json (null when unknown). Throws a one-line
 * FitlabError naming `file`, the field and the value.
 */
export function validateCheckpointMeta(raw: unknown, file: string, fileBytes: number, arraysFile: string, configuredEpochs: number | null): void {
  const f = new Fields(file);
  const meta = f.object(raw, 'the top level');
  if (meta.format !== 'fitlab-checkpoint-1') f.fail('format', meta.format, '"fitlab-checkpoint-1"');
  const epochs = f.int(meta.epochs, 'epochs', 1);
  // the run's config.json is rewritten with the new total before a resume trains, so a
  // checkpoint's epoch never exceeds it
  const epoch = f.int(meta.epoch, 'epoch', 0, Math.min(epochs, configuredEpochs ?? epochs));
  f.int(meta.batchInEpoch, 'batchInEpoch');
  checkStream(f, meta.epochShuffle, 'epochShuffle');
  const partial = f.object(meta.partial, 'partial');
  for (const k of ['seen', 'correct', 'scored']) f.int(partial[k], `partial.${k}`);
  for (const k of ['lossSum', 'penaltySum']) f.finite(partial[k], `partial.${k}`);
  f.finite(meta.epochSeconds, 'epochSeconds', 0);
  // a schedule may reach Infinity at the next epoch (saved as null); fit stops there on resume
  if (meta.epochLr !== null) f.finite(meta.epochLr, 'epochLr', 0);
  for (const [name, s] of Object.entries(f.object(meta.layerStreams, 'layerStreams'))) checkStream(f, s, `layerStreams.${name}`);
  checkCallbacks(f, meta.callbacks);
  checkOptimizer(f, meta.optimizer);
  checkHistory(f, meta.history, epoch);
  checkIndex(f, meta, fileBytes, arraysFile);
}

/**
 * Checks that need the rebuilt model and data: array lengths match the parameters, optimizer
 * slots belong to known parameters, and the batch position lies inside an epoch. Index lengths
 * can be edited while still adding up to the file size; without this a slot of the wrong
 * length would reach a native kernel.
 */
export function checkStateFitsModel(
  state: { weights: Float32Array[]; batchInEpoch: number; optimizer: { slots: Record<string, Record<string, Float32Array>> }; callbacks: Record<string, { weights?: Float32Array[] | null }> },
  params: { name: string; length: number }[],
  batches: number,
  file: string,
): void {
  const f = new Fields(file);
  if (state.weights.length !== params.length) f.fail('weightCount', state.weights.length, `${params.length} (the model's weight tensors)`);
  const sizes = new Map(params.map((p) => [p.name, p.length]));
  state.weights.forEach((w, i) => {
    if (w.length !== params[i].length) f.fail(`arrays weights/${i}.length`, w.length, `${params[i].length} (${params[i].name})`);
  });
  for (const [kind, byParam] of Object.entries(state.optimizer.slots)) {
    for (const [name, values] of Object.entries(byParam)) {
      const want = sizes.get(name);
      if (want === undefined) f.fail(`arrays optimizer/${kind}/${name}`, name, 'the name of a model weight');
      if (values.length !== want) f.fail(`arrays optimizer/${kind}/${name}.length`, values.length, String(want));
    }
  }
  for (const [name, cs] of Object.entries(state.callbacks)) {
    const ws = cs.weights ?? [];
    if (ws.length && ws.length !== params.length) f.fail(`callbacks.${name}.weightCount`, ws.length, `${params.length} or null`);
    ws.forEach((w, i) => {
      if (w.length !== params[i].length) f.fail(`arrays callbacks/${name}/${i}.length`, w.length, String(params[i].length));
    });
  }
  if (state.batchInEpoch >= batches) f.fail('batchInEpoch', state.batchInEpoch, `an integer in [0, ${batches - 1}] (${batches} batches per epoch)`);
}
