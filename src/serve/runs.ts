/**
 * Runs and experiments as the page lists them: read from the run directories (config.json,
 * history.jsonl, diagnosis.json, summary.json, knobs.jsonl) and experiments' experiment.json.
 * A directory that cannot be read is listed with its error instead of failing the list.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { RUN_FILES, listRuns, readHistoryFile } from '../io/run-dir.js';
import type { EpochLog } from '../train/history.js';
import { HttpError } from './http.js';
import type { KnobEvent } from './protocol.js';

export interface RunRow {
  id: string;
  created: string | null;
  model: string;
  dataset: string;
  params: number | null;
  epochs: number;
  epochsAsked: number | null;
  regime: string | null;
  /** epochs counted from 1 (older diagnosis.json files counted from 0: see oneBased) */
  onsetEpoch: number | null;
  bestEpoch: number | null;
  final: { loss: number | null; accuracy: number | null; valLoss: number | null; valAccuracy: number | null } | null;
  test: { loss: number; accuracy: number } | null;
  report: boolean;
  error?: string;
}

/**
 * The real path of `path` if it exists and, after every symlink is followed, is still inside
 * `root` (the runs or experiments folder); otherwise null. Every file the API reads goes
 * through this: a config.json linked to ~/.ssh/id_rsa or /etc/passwd is simply absent.
 */
export function realInside(root: string, path: string, kind: 'file' | 'dir' = 'file'): string | null {
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(path);
    if (!real.startsWith(realRoot + sep)) return null;
    const st = statSync(real);
    return (kind === 'file' ? st.isFile() : st.isDirectory()) ? real : null;
  } catch {
    return null;
  }
}

/**
 * A file that a run's or experiment's JSON is read from. Errors name the file, never quote it:
 * JSON.parse's message carries the text it choked on, which the API must not hand out.
 */
class Unreadable extends Error {}

function readText(root: string, file: string): string | null {
  const real = realInside(root, file);
  if (!real) return null;
  try {
    return readFileSync(real, 'utf8');
  } catch {
    throw new Unreadable(`${basename(file)} cannot be read`);
  }
}

function readJsonFile(root: string, file: string): Record<string, unknown> | null {
  const text = readText(root, file);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Unreadable(`${basename(file)} is not valid JSON`);
  }
}

function history(root: string, dir: string): EpochLog[] {
  const real = realInside(root, join(dir, RUN_FILES.history));
  if (!real) return [];
  try {
    return readHistoryFile(real);
  } catch {
    throw new Unreadable(`${RUN_FILES.history} is not valid JSON lines`);
  }
}

/** What a row shows of a failure: our own message, or nothing from the file. */
const reason = (err: unknown): string => (err instanceof Unreadable ? err.message : 'cannot be read');

const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/**
 * An epoch number from a diagnosis.json, counted from 1. Files written before `epochBase: 1`
 * was added counted from 0: those get 1 added, so old and new runs read alike.
 */
const oneBased = (diag: unknown, key: string): number | null => {
  const v = numOrNull(at(diag, key));
  return v === null ? null : at(diag, 'epochBase') === 1 ? v : v + 1;
};
const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);

export function runRow(root: string, dir: string): RunRow {
  const id = basename(dir);
  try {
    const config = readJsonFile(root, join(dir, RUN_FILES.config));
    const diag = readJsonFile(root, join(dir, 'diagnosis.json'));
    const summary = readJsonFile(root, join(dir, 'summary.json'));
    const h = history(root, dir);
    const last = h[h.length - 1];
    return {
      id,
      created: typeof config?.created === 'string' ? config.created : null,
      model: str(at(config, 'model', 'label'), '?'),
      dataset: str(at(config, 'dataset', 'name'), '?'),
      params: numOrNull(at(config, 'model', 'params', 'total')),
      epochs: h.length,
      epochsAsked: numOrNull(at(config, 'training', 'epochs')),
      regime: typeof diag?.regime === 'string' ? diag.regime : null,
      onsetEpoch: oneBased(diag, 'onsetEpoch'),
      bestEpoch: oneBased(diag, 'bestEpoch'),
      final: last ? { loss: numOrNull(last.loss), accuracy: numOrNull(last.accuracy), valLoss: numOrNull(last.val_loss), valAccuracy: numOrNull(last.val_accuracy) } : null,
      test: testResult(summary?.test),
      report: realInside(root, join(dir, 'report.html')) !== null,
    };
  } catch (err) {
    return { id, created: null, model: '?', dataset: '?', params: null, epochs: 0, epochsAsked: null, regime: null, onsetEpoch: null, bestEpoch: null, final: null, test: null, report: false, error: reason(err) };
  }
}

/** summary.json's test result, numbers only (whatever else the file holds stays on disk). */
function testResult(v: unknown): RunRow['test'] {
  const loss = numOrNull(at(v, 'loss'));
  const accuracy = numOrNull(at(v, 'accuracy'));
  return loss !== null && accuracy !== null ? { loss, accuracy } : null;
}

/** Run directories whose real path is inside the runs folder (listRuns already skips links). */
export function listRunRows(root: string): RunRow[] {
  return listRuns(root).filter((dir) => realInside(root, dir, 'dir')).map((dir) => runRow(root, dir));
}

/** A run id is one directory name under the runs folder: nothing that could walk out of it. */
export function runDirOf(root: string, id: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id === '.' || id === '..') throw new HttpError(400, `bad run id ${JSON.stringify(id.slice(0, 80))}`);
  const dir = join(root, id);
  // a run directory that is itself a link out of the folder is no run of ours
  if (!realInside(root, dir, 'dir') || !realInside(root, join(dir, RUN_FILES.config))) throw new HttpError(404, `no run ${JSON.stringify(id)} under the runs folder`);
  return dir;
}

export function readKnobEvents(root: string, dir: string): KnobEvent[] {
  const text = readText(root, join(dir, 'knobs.jsonl'));
  if (text === null) return [];
  try {
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as KnobEvent);
  } catch {
    throw new Unreadable('knobs.jsonl is not valid JSON lines');
  }
}

/** One run for the page: its row, config, full history and knob events. */
export function runDetail(root: string, id: string): Record<string, unknown> {
  const dir = runDirOf(root, id);
  const row = runRow(root, dir);
  if (row.error) return { ...row, config: null, history: [], diagnosis: null, events: [] };
  try {
    return {
      ...row,
      config: readJsonFile(root, join(dir, RUN_FILES.config)),
      history: history(root, dir),
      diagnosis: readJsonFile(root, join(dir, 'diagnosis.json')),
      events: readKnobEvents(root, dir),
    };
  } catch (err) {
    return { ...row, config: null, history: [], diagnosis: null, events: [], error: reason(err) };
  }
}

export interface ExperimentRow {
  id: string;
  title: string;
  table: unknown;
  conclusions: unknown;
  report: boolean;
  error?: string;
}

/** Experiment directories (experiment.json + report.html), newest first; links out of the folder are skipped. */
export function listExperiments(root: string): ExperimentRow[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && realInside(root, join(root, d.name, 'experiment.json')))
    .map((d) => d.name)
    .sort()
    .reverse()
    .map((id) => {
      try {
        const j = readJsonFile(root, join(root, id, 'experiment.json')) ?? {};
        return { id, title: str(j.title, id), table: j.table ?? null, conclusions: j.conclusions ?? [], report: realInside(root, join(root, id, 'report.html')) !== null };
      } catch (err) {
        return { id, title: id, table: null, conclusions: [], report: false, error: reason(err) };
      }
    });
}
