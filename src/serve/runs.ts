/**
 * Runs and experiments as the page lists them: read from the run directories (config.json,
 * history.jsonl, diagnosis.json, summary.json, knobs.jsonl) and experiments' experiment.json.
 * A directory that cannot be read is listed with its error instead of failing the list.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { type RunConfigFile, parseRunConfigFile } from '../io/run-config.js';
import { RUN_FILES, listRuns, readHistoryFile } from '../io/run-dir.js';
import type { EpochLog } from '../train/history.js';
import { HttpError } from './http.js';
import type { ExperimentRow, KnobEvent, RunDetail, RunRow, SavedModel } from './protocol.js';

export type { ExperimentRow, RunRow } from './protocol.js';

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

/** config.json through its typed reader (src/io/run-config.ts), read only inside the runs folder. */
function runConfig(root: string, dir: string): RunConfigFile | null {
  const raw = readJsonFile(root, join(dir, RUN_FILES.config));
  if (raw === null) return null;
  try {
    return parseRunConfigFile(raw, RUN_FILES.config);
  } catch (err) {
    throw new Unreadable((err as Error).message);
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
const str = <T extends string | null>(v: unknown, fallback: T): string | T => (typeof v === 'string' ? v : fallback);

export function runRow(root: string, dir: string): RunRow {
  const id = basename(dir);
  try {
    const config = runConfig(root, dir);
    const diag = readJsonFile(root, join(dir, 'diagnosis.json'));
    const summary = readJsonFile(root, join(dir, 'summary.json'));
    const h = history(root, dir);
    const last = h[h.length - 1];
    return {
      id,
      // typed, yet a hand-edited file may hold anything: each value is still checked
      created: str(config?.created, null),
      model: str(config?.model?.label, '?'),
      dataset: str(config?.dataset?.name, '?'),
      params: numOrNull(config?.model?.params?.total),
      epochs: h.length,
      epochsAsked: numOrNull(config?.training?.epochs),
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

/** history.jsonl's epochs as the page gets them: a non-finite number (NaN read back) is null. */
const historyRows = (h: EpochLog[]): RunDetail['history'] =>
  h.map((log) => Object.fromEntries(Object.entries(log).map(([k, v]) => [k, typeof v === 'number' && Number.isFinite(v) ? v : null])));

const SAVED: { id: string; folder: string; label: string }[] = [
  { id: 'best', folder: RUN_FILES.modelBest, label: 'best epoch (model-best)' },
  { id: 'final', folder: RUN_FILES.modelFinal, label: 'final (model-final)' },
  { id: 'initial', folder: RUN_FILES.modelInitial, label: 'initial weights (model-initial)' },
];
const SNAPSHOTS = 'snapshots';

/**
 * The saved models of a run that views can be computed from: model-best/, model-final/,
 * model-initial/ and each snapshots/<name>/ holding a model.json (inside the runs folder).
 */
export function savedModels(root: string, dir: string): SavedModel[] {
  const out: SavedModel[] = SAVED.filter((m) => realInside(root, join(dir, m.folder, 'model.json'))).map(({ id, label }) => ({ id, label }));
  const snaps = realInside(root, join(dir, SNAPSHOTS), 'dir');
  if (snaps) {
    for (const name of readdirSync(snaps).sort()) {
      if (/^[A-Za-z0-9._-]{1,200}$/.test(name) && realInside(root, join(dir, SNAPSHOTS, name, 'model.json'))) out.push({ id: `snapshot:${name}`, label: `snapshot ${name}` });
    }
  }
  return out;
}

/** The folder of saved model `id` (one savedModels lists), or a 404 naming what the run has. */
export function savedModelDir(root: string, dir: string, id: string): string {
  const models = savedModels(root, dir);
  if (!models.some((m) => m.id === id)) {
    throw new HttpError(404, `run ${JSON.stringify(basename(dir))} has no saved model ${JSON.stringify(id.slice(0, 80))}; it has: ${models.map((m) => m.id).join(', ') || 'none'}`);
  }
  const folder = id.startsWith('snapshot:') ? join(SNAPSHOTS, id.slice('snapshot:'.length)) : (SAVED.find((m) => m.id === id) as (typeof SAVED)[number]).folder;
  return realInside(root, join(dir, folder), 'dir') as string;
}

/** One run for the page: its row, config, full history, knob events and saved models (live: the server adds it). */
export function runDetail(root: string, id: string): Omit<RunDetail, 'live'> {
  const dir = runDirOf(root, id);
  const row = runRow(root, dir);
  const empty = { config: null, history: [], diagnosis: null, events: [], models: [] };
  if (row.error) return { ...row, ...empty };
  try {
    return {
      ...row,
      config: readJsonFile(root, join(dir, RUN_FILES.config)),
      history: historyRows(history(root, dir)),
      diagnosis: readJsonFile(root, join(dir, 'diagnosis.json')),
      events: readKnobEvents(root, dir),
      models: savedModels(root, dir),
    };
  } catch (err) {
    return { ...row, ...empty, error: reason(err) };
  }
}

/** A run's history as CSV (GET /api/runs/<id>/history.csv). */
export function runHistory(root: string, id: string): EpochLog[] {
  const dir = runDirOf(root, id);
  try {
    return history(root, dir);
  } catch (err) {
    throw new HttpError(422, `run ${JSON.stringify(id)}: ${reason(err)}`);
  }
}

/** experiment.json's table when it is { header: string[], rows: [][] }; anything else is not shown. */
function tableOf(v: unknown): ExperimentRow['table'] {
  const header = at(v, 'header');
  const rows = at(v, 'rows');
  if (!Array.isArray(header) || !header.every((h) => typeof h === 'string') || !Array.isArray(rows) || !rows.every((r) => Array.isArray(r))) return null;
  return { header: header, rows: rows as unknown[][] };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))) : []);

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
        return { id, title: str(j.title, id), table: tableOf(j.table), conclusions: strings(j.conclusions), report: realInside(root, join(root, id, 'report.html')) !== null };
      } catch (err) {
        return { id, title: id, table: null, conclusions: [], report: false, error: reason(err) };
      }
    });
}
