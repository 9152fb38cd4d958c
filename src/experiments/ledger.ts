/**
 * What makes an experiment resumable: plan.json (the experiment's name and every option it was
 * started with, written atomically before its first run) and progress.json (the ledger: for each
 * run slot, in the order the experiment trains them, its label, seed, run directory and whether
 * it finished). Both live in the experiment directory; both are rewritten whole and atomically,
 * so a kill at any moment leaves the previous or the next version, never half of one.
 *
 * A run's results are not copied here: they are read back from its run directory (history.jsonl,
 * diagnosis.json, summary.json) whether it finished in this session or an earlier one, so a
 * resumed experiment sees exactly what an uninterrupted one sees.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { FitlabError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { RUN_FILES, readHistoryFile } from '../io/run-dir.js';
import type { EpochLog } from '../train/history.js';
import { packageVersion } from '../util/paths.js';

export const PLAN_FILE = 'plan.json';
export const LEDGER_FILE = 'progress.json';

/** plan.json */
export interface ExperimentPlan {
  fitlab: string;
  experiment: string;
  created: string;
  /** every CLI option the experiment was started with, defaults and resolved thread count included */
  flags: Record<string, unknown>;
}

/** One run slot of the ledger. */
export interface LedgerEntry {
  /** 1-based position in the experiment */
  index: number;
  label: string;
  seed: number;
  /** the run directory, relative to the experiment directory */
  runDir: string;
  status: 'started' | 'done';
  /** what the arm's per-epoch hook returned, one value per epoch (only for arms that have one) */
  epochRecords?: unknown[];
}

/** progress.json */
export interface Ledger {
  /** runs the experiment planned (for "run i of n") */
  planned: number;
  runs: LedgerEntry[];
  /** experiment.json and report.html are written */
  finished: boolean;
  /** seconds the experiment has been working, over all its sessions */
  seconds: number;
}

/**
 * JSON that keeps NaN and ±Infinity (JSON has none): they become {"$num": "NaN"} and come back
 * as numbers, so a value stored here reads back identical.
 */
export function encodeExact(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v), 2);
}

export function decodeExact(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const n = (v as { $num?: unknown }).$num;
      if (keys.length === 1 && typeof n === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(n)) return Number(n);
    }
    return v;
  });
}

export function writePlan(dir: string, experiment: string, flags: Record<string, unknown>): void {
  const plan: ExperimentPlan = { fitlab: packageVersion(), experiment, created: new Date().toISOString(), flags };
  writeFileAtomic(join(dir, PLAN_FILE), encodeExact(plan) + '\n');
}

function readJson(file: string, what: string): unknown {
  try {
    return decodeExact(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FitlabError(`${file} (${what}) cannot be read: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/** plan.json of an experiment directory; a clear error when it is not one. */
export function readPlan(dir: string): ExperimentPlan {
  if (!existsSync(dir)) throw new FitlabError(`no experiment directory at ${dir}`);
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file)) {
    const hint = existsSync(join(dir, 'experiment.json'))
      ? 'it was written by a fitlab without resumable experiments; start the experiment again'
      : 'an experiment directory gets plan.json before its first run; if this one stopped earlier, start the experiment again';
    throw new FitlabError(`${dir} has no ${PLAN_FILE}, so it cannot be resumed`, hint);
  }
  const plan = readJson(file, 'the experiment\'s plan') as Partial<ExperimentPlan>;
  if (typeof plan.experiment !== 'string' || !plan.flags || typeof plan.flags !== 'object') throw new FitlabError(`${file} is not an experiment plan (no experiment name or flags)`);
  return plan as ExperimentPlan;
}

export function writeLedger(dir: string, ledger: Ledger): void {
  writeFileAtomic(join(dir, LEDGER_FILE), encodeExact(ledger) + '\n');
}

/** progress.json, or an empty ledger when the experiment stopped before writing one. */
export function readLedger(dir: string): Ledger {
  const file = join(dir, LEDGER_FILE);
  if (!existsSync(file)) return { planned: 0, runs: [], finished: false, seconds: 0 };
  const l = readJson(file, 'the experiment\'s progress') as Partial<Ledger>;
  if (!Array.isArray(l.runs)) throw new FitlabError(`${file} is not an experiment ledger (no runs list)`);
  return { planned: l.planned ?? 0, runs: l.runs, finished: l.finished === true, seconds: l.seconds ?? 0 };
}

export function runPath(dir: string, entry: { runDir: string }): string {
  return isAbsolute(entry.runDir) ? entry.runDir : join(dir, entry.runDir);
}

export function relativeRun(dir: string, runDir: string): string {
  return relative(dir, runDir).split('\\').join('/');
}

/** A run's summary.json when the run finished (not interrupted, diagnosis written); else null. */
export function finishedSummary(runDir: string): Record<string, unknown> | null {
  const file = join(runDir, 'summary.json');
  if (!existsSync(file) || !existsSync(join(runDir, 'diagnosis.json'))) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return s.interrupted === false ? s : null;
  } catch {
    return null;
  }
}

/** history.jsonl of a run ([] when it has none yet). */
export function runHistory(runDir: string): EpochLog[] {
  const file = join(runDir, RUN_FILES.history);
  return existsSync(file) ? readHistoryFile(file) : [];
}

/** Folders under the experiment's runs/ that no ledger slot names (a kill before their first checkpoint). */
export function strayRuns(dir: string, ledger: Ledger): string[] {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) return [];
  const known = new Set(ledger.runs.map((e) => relativeRun(dir, runPath(dir, e))));
  return readdirSync(runs, { withFileTypes: true }).filter((d) => d.isDirectory() && !known.has(`runs/${d.name}`)).map((d) => `runs/${d.name}`);
}
