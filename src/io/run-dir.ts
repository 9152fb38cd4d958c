/**
 * Run directories (ARCHITECTURE decision 6): runs/<time>-<name>/ holding
 *   config.json      the fully resolved configuration (model spec, data, optimizer, seed, versions)
 *   history.jsonl    one JSON line per epoch, rewritten atomically after every epoch
 *   model-initial/   model-best/   model-final/   (TF.js Layers format)
 *   checkpoint/      weights + optimizer state + PRNG streams + callbacks + position: resume exactly
 * Every write is atomic (temp + rename); a reader never trusts a half-written file.
 */
import type { RunConfigFile } from './run-config.js';
import { readRunConfigFile } from './run-config-file.js';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgumentError, FitlabError } from '../errors.js';
import type { OptimizerState } from '../optim/optimizers.js';
import type { CallbackState } from '../train/callbacks.js';
import type { TrainingState } from '../train/fit.js';
import type { EpochLog } from '../train/history.js';
import { writeDirAtomic, writeFileAtomic } from './atomic.js';
import { type ArrayIndex, validateCheckpointMeta } from './checkpoint-check.js';
import { checksumRecord, readChecksums, tfjsDirVerifies, verifyChecksum } from './integrity.js';

export const RUN_FILES = {
  config: 'config.json',
  history: 'history.jsonl',
  checkpoint: 'checkpoint',
  modelInitial: 'model-initial',
  modelBest: 'model-best',
  modelFinal: 'model-final',
} as const;

function stamp(d = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Create runs/<timestamp>-<name>/ (made unique with a suffix when needed). */
export function createRunDir(root: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new ArgumentError(`--out ${JSON.stringify(root)} is a file, not a directory`, 'runs go into a directory (default: runs/)');
  }
  try {
    mkdirSync(root, { recursive: true });
  } catch (err) {
    throw new FitlabError(`cannot create the runs directory ${JSON.stringify(root)}: ${(err as Error).message}`);
  }
  const base = join(resolve(root), `${stamp()}-${safe}`);
  // mkdir (not an existence check) claims the name: two runs started in the same second never
  // share a directory, and nothing already there is ever reused
  for (let k = 2; ; k++) {
    const dir = k === 2 ? base : `${base}-${k - 1}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FitlabError(`cannot create the run directory ${dir}: ${(err as Error).message}`);
    }
  }
}

/** JSON with non-finite numbers written as null (JSON has no NaN). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}

export function writeRunConfig(dir: string, config: RunConfigFile): void {
  writeFileAtomic(join(dir, RUN_FILES.config), toJson(config, 2) + '\n');
}

/**
 * A run directory's config.json, typed (src/io/run-config.ts owns its schema; the record type
 * keeps callers that pass the whole file on as JSON compiling).
 */
export function readRunConfig(dir: string): RunConfigFile & Record<string, unknown> {
  return readRunConfigFile(dir) as RunConfigFile & Record<string, unknown>;
}

export function writeHistory(dir: string, logs: EpochLog[]): void {
  writeFileAtomic(join(dir, RUN_FILES.history), logs.map((l) => toJson(l)).join('\n') + (logs.length ? '\n' : ''));
}

/** Read history.jsonl (null values become NaN: they were non-finite numbers). */
export function readHistoryFile(file: string): EpochLog[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  return lines.map((l, i) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) if (v === null) o[k] = Number.NaN;
      return o as unknown as EpochLog;
    } catch {
      throw new FitlabError(`${file}: line ${i + 1} is not valid JSON`);
    }
  });
}

// ---- checkpoints ----------------------------------------------------------------------------

/** Pack named float arrays into one buffer + an index. */
function packArrays(arrays: [string, Float32Array][]): { index: ArrayIndex[]; bytes: Uint8Array } {
  const total = arrays.reduce((n, [, a]) => n + a.length, 0);
  const all = new Float32Array(total);
  const index: ArrayIndex[] = [];
  let off = 0;
  for (const [key, a] of arrays) {
    all.set(a, off);
    off += a.length;
    index.push({ key, length: a.length });
  }
  return { index, bytes: new Uint8Array(all.buffer) };
}

/** Split arrays.bin by its index (validateCheckpointMeta has checked the sizes add up). */
function unpackArrays(index: ArrayIndex[], bytes: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const total = index.reduce((n, e) => n + e.length, 0);
  const all = new Float32Array(total);
  new Uint8Array(all.buffer).set(bytes);
  let off = 0;
  for (const e of index) {
    out.set(e.key, all.subarray(off, off + e.length));
    off += e.length;
  }
  return out;
}

/** True when every weight is finite (a NaN checkpoint is never written over a good one). */
export function weightsFinite(weights: Float32Array[]): boolean {
  for (const w of weights) for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i])) return false;
  return true;
}

/** Write checkpoint/ atomically: state.json + arrays.bin. */
export function saveCheckpoint(dir: string, state: TrainingState, extra: Record<string, unknown> = {}): void {
  const arrays: [string, Float32Array][] = [];
  state.weights.forEach((w, i) => arrays.push([`weights/${i}`, w]));
  for (const [kind, byParam] of Object.entries(state.optimizer.slots)) {
    for (const [name, values] of Object.entries(byParam)) arrays.push([`optimizer/${kind}/${name}`, values]);
  }
  const callbacks: Record<string, unknown> = {};
  for (const [name, cs] of Object.entries(state.callbacks)) {
    const { weights, ...rest } = cs;
    callbacks[name] = { ...rest, weightCount: weights ? weights.length : null };
    weights?.forEach((w, i) => arrays.push([`callbacks/${name}/${i}`, w]));
  }
  const { index, bytes } = packArrays(arrays);
  const { weights: _w, optimizer, ...rest } = state;
  const meta = {
    format: 'fitlab-checkpoint-1',
    ...rest,
    callbacks,
    optimizer: { name: optimizer.name, iterations: optimizer.iterations, learningRate: optimizer.learningRate, uProduct: optimizer.uProduct, slots: Object.keys(optimizer.slots) },
    weightCount: state.weights.length,
    arrays: index,
    // loadCheckpoint verifies arrays.bin against this before trusting a single value
    integrity: checksumRecord([['arrays.bin', bytes]]),
    ...extra,
  };
  writeDirAtomic(join(dir, RUN_FILES.checkpoint), (tmp) => {
    writeFileAtomic(join(tmp, 'arrays.bin'), bytes);
    writeFileAtomic(join(tmp, 'state.json'), toJson(meta, 1) + '\n');
  }, { kind: 'checkpoint', own: true });
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.checkpoint, 'state.json'));
}

type CheckpointMeta = Record<string, unknown> & {
  arrays: ArrayIndex[]; weightCount: number; callbacks: Record<string, { weightCount: number | null }>;
  optimizer: { name: OptimizerState['name']; iterations: number; learningRate: number; uProduct?: number; slots: string[] };
  history: EpochLog[];
};

/** The run's configured epochs (config.json), or null when it cannot be read. */
function configuredEpochs(dir: string): number | null {
  try {
    const epochs: unknown = readRunConfig(dir).training?.epochs;
    return typeof epochs === 'number' ? epochs : null;
  } catch {
    return null;
  }
}

/** What to fall back on when the checkpoint is damaged: a saved model of the run that verifies. */
function checkpointFallback(dir: string): string {
  for (const sub of [RUN_FILES.modelBest, RUN_FILES.modelFinal]) {
    const other = join(dir, sub);
    if (tfjsDirVerifies(other)) return `the run's ${other} verifies: start a new run from it with --model ${other}`;
  }
  return 'there is no other copy of the training state (no model-best/ or model-final/ that verifies)';
}

/**
 * Read state.json and arrays.bin, verify arrays.bin against its recorded SHA-256 (checkpoints
 * written before checksums existed have none and are read as before) and validate every field.
 */
function readCheckpointFiles(dir: string, file: string, arraysFile: string): { meta: CheckpointMeta; bytes: Buffer } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FitlabError(`${file} is not valid JSON (${(err as Error).message}); the checkpoint was damaged or edited; ${checkpointFallback(dir)}`);
  }
  if (!existsSync(arraysFile)) throw new FitlabError(`${arraysFile} is missing; ${checkpointFallback(dir)}`);
  const bytes = readFileSync(arraysFile);
  const record = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).integrity : undefined;
  const expected = readChecksums(record, file)?.get('arrays.bin');
  if (record !== undefined && expected === undefined) throw new FitlabError(`${file}: integrity lists no checksum for arrays.bin (the file was edited)`);
  if (expected !== undefined) verifyChecksum(arraysFile, bytes, expected, checkpointFallback(dir));
  validateCheckpointMeta(raw, file, bytes.length, arraysFile, configuredEpochs(dir));
  return { meta: raw as CheckpointMeta, bytes };
}

/** Read checkpoint/ back into a TrainingState. */
export function loadCheckpoint(dir: string): TrainingState & Record<string, unknown> {
  const cdir = join(dir, RUN_FILES.checkpoint);
  const file = join(cdir, 'state.json');
  if (!existsSync(file)) {
    throw new FitlabError(`${dir} has no checkpoint to resume from (${file} is missing)`, 'the run may not have finished its first epoch');
  }
  const arraysFile = join(cdir, 'arrays.bin');
  const { meta, bytes } = readCheckpointFiles(dir, file, arraysFile);
  const arrays = unpackArrays(meta.arrays, bytes);
  const weights = Array.from({ length: meta.weightCount }, (_, i) => arrays.get(`weights/${i}`) as Float32Array);
  const slots: OptimizerState['slots'] = {};
  for (const [key, values] of arrays) {
    const m = /^optimizer\/([^/]+)\/(.+)$/.exec(key);
    if (m) (slots[m[1]] ??= {})[m[2]] = values;
  }
  const callbacks: Record<string, CallbackState> = {};
  for (const [name, cs] of Object.entries(meta.callbacks)) {
    const { weightCount, ...rest } = cs;
    callbacks[name] = {
      ...rest,
      weights: weightCount === null ? null : Array.from({ length: weightCount }, (_, i) => arrays.get(`callbacks/${name}/${i}`) as Float32Array),
    };
  }
  const history = meta.history.map((l) => {
    const o = { ...l } as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) if (v === null) o[k] = Number.NaN;
    return o as unknown as EpochLog;
  });
  const { arrays: _a, weightCount: _c, format: _f, integrity: _i, ...rest } = meta;
  return {
    ...(rest as unknown as TrainingState),
    history,
    weights,
    callbacks,
    optimizer: { name: meta.optimizer.name, iterations: meta.optimizer.iterations, learningRate: meta.optimizer.learningRate, uProduct: meta.optimizer.uProduct, slots },
  };
}

/** Run directories under a root, newest first. */
export function listRuns(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && existsSync(join(root, d.name, RUN_FILES.config)))
    .map((d) => join(root, d.name))
    .sort()
    .reverse();
}
