/**
 * A run job: what travels through the queue. The job carries data, never code — the run's
 * configuration as plain JSON (model spec, dataset name, optimizer, seed, threads, …), checked on
 * both sides — and its run directory comes back as one zip (fflate), through Redis or a shared
 * folder (--store). Checkpoints travel the same way after every epoch, so a worker killed with
 * kill -9 costs at most the epoch it was in.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { TEMP_PREFIX, writeFileAtomic } from '../io/atomic.js';
import { validateRunConfig } from '../io/run-config.js';
import { LOCK_FILE } from '../io/run-lock.js';
import type { TrainRunConfig } from '../run/train-run.js';
import type { StopCause } from '../train/callbacks.js';

/** The BullMQ queue every fitlab worker takes run jobs from, under the key prefix below. */
export const QUEUE_NAME = 'runs';
export const KEY_PREFIX = 'fitlab';

/** A run as the submitter describes it; `out`, `dataDir` and `download` are the worker's business. */
export type JobRunConfig = Omit<TrainRunConfig, 'out' | 'dataDir' | 'download'>;

export interface RunJobData {
  kind: 'fitlab-run';
  version: 1;
  /** the run's configuration, JSON only */
  config: JobRunConfig;
  /** a shared folder for checkpoints and the finished run (null: through Redis) */
  store: string | null;
  /** the submitter, for `fitlab queue status` ("host:pid") */
  submitter: string;
  /** a label to show (the experiment arm) */
  label: string;
}

/** What a worker reports after every epoch (job progress). */
export interface RunProgress {
  epoch: number;
  epochs: number;
  worker: string;
  pid: number;
  loss?: number;
  valAccuracy?: number;
  /** the store holds a checkpoint at the end of this epoch */
  checkpoint: boolean;
  /** where: a Redis key, or a file in the --store folder */
  stored?: string;
}

/** What a finished job returns; the run directory itself is the artifact at `artifact`. */
export interface RunJobResult {
  worker: string;
  /** the run directory's base name on the worker (kept when it is unpacked) */
  runName: string;
  /** where the zip is: a Redis key or a file in the store */
  artifact: { kind: 'redis' | 'file'; where: string; bytes: number };
  /** attempts that resumed from a checkpoint */
  resumed: number;
  /** why training stopped early (summary.json does not record it) */
  stopCause: StopCause | null;
}

/**
 * Check a job's data before anything runs: its envelope here, its run configuration with the
 * run contract's validation. What only the run can find out (a dataset missing on this machine)
 * is a FitlabError from the run, which fails the job once, with its message (see worker.ts).
 */
export function validateJobData(data: unknown): RunJobData {
  const d = data as Partial<RunJobData> | null;
  if (!d || typeof d !== 'object' || d.kind !== 'fitlab-run') throw new ArgumentError(`the job is not a fitlab run job (kind must be "fitlab-run"); received ${describe(d && typeof d === 'object' ? d.kind : d)}`);
  if (d.version !== 1) throw new ArgumentError(`the job's format version must be 1 (this fitlab reads version 1); received ${describe(d.version)}`, 'run the same fitlab version on the submitter and the workers');
  const c = checkedConfig(d.config);
  if (d.store !== null && typeof d.store !== 'string') throw new ArgumentError(`the job's store must be a folder path or null; received ${describe(d.store)}`);
  return {
    kind: 'fitlab-run', version: 1, config: c, store: d.store ?? null,
    submitter: typeof d.submitter === 'string' ? d.submitter : 'unknown', label: typeof d.label === 'string' ? d.label : String(c.name ?? c.model),
  };
}

/**
 * The run contract's one validation (src/io/run-config.ts), as every other way of starting a run
 * goes through it; the worker-side fields are refused in a job, since they would name paths on
 * the submitter's machine.
 */
function checkedConfig(raw: unknown): JobRunConfig {
  if (raw && typeof raw === 'object') {
    for (const k of ['out', 'dataDir', 'download']) {
      if (k in raw) throw new ArgumentError(`a run job's config must not carry ${k} (the worker decides it); received ${describe((raw as Record<string, unknown>)[k])}`);
    }
  }
  const v = validateRunConfig(raw);
  if ('error' in v) throw new ArgumentError(`the job's run configuration is invalid: ${v.error}`);
  return v.config;
}

/**
 * The job's data for a run, built from what the experiment would train locally: the fields that
 * are the worker's own (where runs go, where data lives) are left out, and the rest must be JSON
 * — anything that is not (a function, NaN) is refused here, on the submitter, naming the field.
 */
export function jobDataFor(run: TrainRunConfig, o: { store: string | null; submitter: string; label: string }): RunJobData {
  const { out: _out, dataDir: _dataDir, download: _download, ...rest } = run;
  checkJson(rest, 'config');
  const config = checkedConfig(JSON.parse(JSON.stringify(rest)));
  return { kind: 'fitlab-run', version: 1, config, store: o.store, submitter: o.submitter, label: o.label };
}

function checkJson(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || v === undefined) return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ArgumentError(`a queued run's ${path} must be a finite number; received ${String(v)}`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJson(x, `${path}[${i}]`));
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) checkJson(x, `${path}.${k}`);
    return;
  }
  throw new ArgumentError(`a queued run carries data, not code: ${path} is a ${typeof v}`, 'runs that need code on the worker (a measure or per-epoch hook) train locally');
}

/** Redis keys of a job's artifacts (under the queue's prefix; removed when the job is collected). */
export const artifactKey = (jobId: string, what: 'checkpoint' | 'run'): string => `${KEY_PREFIX}:${QUEUE_NAME}:artifact:${jobId}:${what}`;

/** A file name for a job's artifact in a --store folder. */
export const artifactFile = (store: string, jobId: string, what: 'checkpoint' | 'run'): string => join(store, `${jobId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${what}.zip`);

/** Files a run directory holds that must not travel: its lock and writers' temporaries. */
function travels(name: string): boolean {
  return name !== LOCK_FILE && !name.startsWith(TEMP_PREFIX);
}

/** The run directory as one zip: every file under `<its base name>/`, '/'-separated. */
export function packRunDir(runDir: string): Uint8Array {
  // weights (.bin) barely compress and deflating them costs seconds per epoch: stored as they are
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {};
  const name = basename(runDir);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      if (!travels(entry)) continue;
      const path = join(dir, entry);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        const bytes = readFileSync(path);
        files[`${name}/${relative(runDir, path).split(sep).join('/')}`] = entry.endsWith('.bin') ? [bytes, { level: 0 }] : bytes;
      }
    }
  };
  walk(runDir);
  // level 6 for JSON, SVG and PNG; one mtime so equal runs zip equally
  return zipSync(files, { level: 6, mtime: new Date('2020-01-01T00:00:00Z') });
}

/**
 * Unpack a run directory zip (see packRunDir) into a new folder under `parent`, named as the run
 * was (with -2, -3, … when that name is taken: nothing already there is ever overwritten).
 * Every entry is checked to stay inside the run. Returns the run directory.
 */
export function unpackRunDir(zip: Uint8Array, parent: string): string {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (err) {
    throw new FitlabError(`the run directory that came back through the queue is not a valid zip (${(err as Error).message})`);
  }
  const names = Object.keys(entries).filter((n) => !n.endsWith('/'));
  const top = new Set(names.map((n) => n.split('/')[0]));
  const runName = [...top][0];
  if (top.size !== 1 || !runName || runName === '.' || runName === '..') throw new FitlabError(`the queued run's zip must hold one run directory; it holds ${top.size} top-level entries`);
  mkdirSync(parent, { recursive: true });
  let dir = '';
  for (let k = 1; ; k++) {
    dir = join(parent, k === 1 ? runName : `${runName}-${k}`);
    try {
      mkdirSync(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FitlabError(`cannot create ${dir}: ${(err as Error).message}`);
    }
  }
  for (const name of names) {
    const parts = name.split('/').slice(1);
    if (!parts.length || parts.some((p) => p === '..' || p === '' || p === '.')) {
      throw new FitlabError(`the queued run's zip holds an unsafe path ${JSON.stringify(name)}; refusing to unpack it`);
    }
    const target = join(dir, ...parts);
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, entries[name]);
  }
  return dir;
}
