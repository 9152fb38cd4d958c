/**
 * Runs and experiments as the page lists them: read from the run directories (config.json,
 * history.jsonl, diagnosis.json, summary.json, knobs.jsonl) and experiments' experiment.json.
 * A directory that cannot be read is listed with its error instead of failing the list.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
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
  onsetEpoch: number | null;
  bestEpoch: number | null;
  final: { loss: number | null; accuracy: number | null; valLoss: number | null; valAccuracy: number | null } | null;
  test: { loss: number; accuracy: number } | null;
  report: boolean;
  error?: string;
}

function readJsonFile(file: string): Record<string, unknown> | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function history(dir: string): EpochLog[] {
  const file = join(dir, RUN_FILES.history);
  return existsSync(file) ? readHistoryFile(file) : [];
}

const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);

export function runRow(dir: string): RunRow {
  const id = basename(dir);
  try {
    const config = readJsonFile(join(dir, RUN_FILES.config));
    const diag = readJsonFile(join(dir, 'diagnosis.json'));
    const summary = readJsonFile(join(dir, 'summary.json'));
    const h = history(dir);
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
      onsetEpoch: numOrNull(diag?.onsetEpoch),
      bestEpoch: numOrNull(diag?.bestEpoch),
      final: last ? { loss: numOrNull(last.loss), accuracy: numOrNull(last.accuracy), valLoss: numOrNull(last.val_loss), valAccuracy: numOrNull(last.val_accuracy) } : null,
      test: (summary?.test as RunRow['test']) ?? null,
      report: existsSync(join(dir, 'report.html')),
    };
  } catch (err) {
    return { id, created: null, model: '?', dataset: '?', params: null, epochs: 0, epochsAsked: null, regime: null, onsetEpoch: null, bestEpoch: null, final: null, test: null, report: false, error: (err as Error).message };
  }
}

export function listRunRows(root: string): RunRow[] {
  return listRuns(root).map(runRow);
}

/** A run id is one directory name under the runs folder: nothing that could walk out of it. */
export function runDirOf(root: string, id: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id === '.' || id === '..') throw new HttpError(400, `bad run id ${JSON.stringify(id.slice(0, 80))}`);
  const dir = join(root, id);
  if (!existsSync(join(dir, RUN_FILES.config))) throw new HttpError(404, `no run ${JSON.stringify(id)} under the runs folder`);
  return dir;
}

export function readKnobEvents(dir: string): KnobEvent[] {
  const file = join(dir, 'knobs.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as KnobEvent);
}

/** One run for the page: its row, config, full history and knob events. */
export function runDetail(root: string, id: string): Record<string, unknown> {
  const dir = runDirOf(root, id);
  return {
    ...runRow(dir),
    config: readJsonFile(join(dir, RUN_FILES.config)),
    history: history(dir),
    diagnosis: readJsonFile(join(dir, 'diagnosis.json')),
    events: readKnobEvents(dir),
  };
}

export interface ExperimentRow {
  id: string;
  title: string;
  table: unknown;
  conclusions: unknown;
  report: boolean;
  error?: string;
}

/** Experiment directories (experiment.json + report.html), newest first. */
export function listExperiments(root: string): ExperimentRow[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'experiment.json')))
    .map((d) => d.name)
    .sort()
    .reverse()
    .map((id) => {
      try {
        const j = readJsonFile(join(root, id, 'experiment.json')) ?? {};
        return { id, title: str(j.title, id), table: j.table ?? null, conclusions: j.conclusions ?? [], report: existsSync(join(root, id, 'report.html')) };
      } catch (err) {
        return { id, title: id, table: null, conclusions: [], report: false, error: (err as Error).message };
      }
    });
}
