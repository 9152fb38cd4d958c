/**
 * `fitlab experiment status <dir>`: where an experiment stands, from its plan.json, its ledger
 * (progress.json) and the run directories — which runs are done, which one is training now (its
 * run lock is held by a live process) or was interrupted, how many are left — and the time left
 * estimated from the epoch times the runs measured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRunLock, runInUse } from '../io/run-lock.js';
import { finishedSummary, readLedger, readPlan, runHistory, runPath, strayRuns } from './ledger.js';

export interface RunStatus {
  index: number;
  label: string;
  seed: number;
  runDir: string;
  state: 'done' | 'running' | 'interrupted';
  epochsDone: number;
  epochs: number | null;
  /** median seconds per epoch it measured (null: no epoch yet) */
  epochSeconds: number | null;
}

export interface ExperimentStatus {
  dir: string;
  experiment: string;
  flags: Record<string, unknown>;
  planned: number;
  finished: boolean;
  /** a live process works in the experiment directory now */
  active: { pid: number; host: string; since: string } | null;
  runs: RunStatus[];
  done: number;
  /** planned runs not started yet */
  left: number;
  /** folders under runs/ that no slot names (killed before their first checkpoint; not part of the results) */
  stray: string[];
  /** estimated seconds to finish (null: nothing measured yet) */
  secondsLeft: number | null;
  /** how secondsLeft was estimated */
  estimate: string;
}

const median = (v: number[]): number | null => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};

function plannedEpochs(runDir: string): number | null {
  try {
    const c = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { command?: { epochs?: unknown }; training?: { epochs?: unknown } };
    const e = c.command?.epochs ?? c.training?.epochs;
    return typeof e === 'number' ? e : null;
  } catch {
    return null;
  }
}

export function experimentStatus(dir: string): ExperimentStatus {
  const plan = readPlan(dir);
  const ledger = readLedger(dir);
  const runs: RunStatus[] = ledger.runs.map((e) => {
    const runDir = runPath(dir, e);
    const history = existsSync(runDir) ? runHistory(runDir) : [];
    const done = e.status === 'done' || finishedSummary(runDir) !== null;
    return {
      index: e.index, label: e.label, seed: e.seed, runDir,
      state: done ? 'done' : runInUse(runDir) ? 'running' : 'interrupted',
      epochsDone: history.length, epochs: plannedEpochs(runDir), epochSeconds: median(history.map((h) => h.seconds)),
    };
  });
  const done = runs.filter((r) => r.state === 'done');
  const left = Math.max(0, ledger.planned - runs.length);
  // the time left: each unfinished run's epochs at its own epoch time, each run not started as
  // long as the finished runs took on average (or, before any finished, as the unfinished one will)
  const perEpoch = median(runs.map((r) => r.epochSeconds ?? Number.NaN));
  const runTime = (r: RunStatus): number | null => {
    const s = r.epochSeconds ?? perEpoch;
    return s === null || r.epochs === null ? null : s * r.epochs;
  };
  const doneTimes = done.map(runTime).filter((t): t is number => t !== null);
  const open = runs.filter((r) => r.state !== 'done');
  const openTimes = open.map((r) => (r.epochs === null || (r.epochSeconds ?? perEpoch) === null ? null : (r.epochSeconds ?? (perEpoch as number)) * Math.max(0, r.epochs - r.epochsDone)));
  const perRun = doneTimes.length ? doneTimes.reduce((a, b) => a + b, 0) / doneTimes.length : median(open.map((r) => runTime(r) ?? Number.NaN));
  let secondsLeft: number | null = null;
  if (!ledger.finished && perEpoch !== null && perRun !== null && openTimes.every((t) => t !== null)) {
    secondsLeft = (openTimes).reduce((a, b) => a + b, 0) + left * perRun;
  }
  const estimate = ledger.finished ? 'finished'
    : secondsLeft === null ? 'no epoch measured yet'
      : `from measured epoch times: ${open.length ? 'the unfinished run\'s epochs left at its epoch time, ' : ''}${left} run${left === 1 ? '' : 's'} not started at ${doneTimes.length ? 'the finished runs\' mean' : 'the current run\'s length'} (early stopping can make it shorter)`;
  const lock = runInUse(dir) ? readRunLock(dir) : null;
  return {
    dir, experiment: plan.experiment, flags: plan.flags, planned: ledger.planned, finished: ledger.finished,
    active: lock ? { pid: lock.pid, host: lock.host, since: lock.started } : null,
    runs, done: done.length, left, stray: strayRuns(dir, ledger), secondsLeft, estimate,
  };
}
