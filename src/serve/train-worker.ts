/**
 * The dashboard's training worker (ARCHITECTURE decision 8): runs trainRun off the server's
 * event loop and streams it to the page through serve/live-probe (batch points, views on a time
 * budget, knob changes, pause/resume/stop between batches — the same logic as the static site's
 * Web Worker). This file is the Node host around it: the worker_threads port, knobs.jsonl in
 * the run directory, snapshots saved as TF.js models, the run directory's start and end.
 * Started by session.ts with the run's TrainRunConfig.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { contextFromRunConfig } from '../diagnose/context.js';
import { FitlabError } from '../errors.js';
import { saveTfjs } from '../io/tfjs.js';
import { toJson } from '../io/run-dir.js';
import { type LiveRun, type RunHooks, type TrainRunConfig, resumeRun, trainRun } from '../run/train-run.js';
import { trainCommand } from './command.js';
import { readKnobs } from './knobs.js';
import { LiveProbe, diagnosisMarks } from './live-probe.js';
import type { WorkerCommand, WorkerMessage } from './protocol.js';

export interface WorkerInput {
  config?: TrainRunConfig;
  /** continue this run directory from its checkpoint instead */
  resume?: { runDir: string; epochs?: number };
  /** share of the training time each of the network and predictions views may take (default 0.015) */
  probeBudget?: number;
}

export const KNOBS_FILE = 'knobs.jsonl';

if (!parentPort) throw new Error('train-worker.ts runs inside a worker thread');
const port = parentPort;
const post = (m: WorkerMessage): void => port.postMessage(m);
const input = workerData as WorkerInput;

let live: LiveRun | null = null;
const probe = new LiveProbe({
  post,
  keep: (event) => {
    if (live) appendFileSync(join(live.runDir, KNOBS_FILE), toJson(event) + '\n');
  },
  snapshot: ({ epoch, batch }) => {
    if (!live) return 'no run yet';
    const dir = join(live.runDir, 'snapshots', `epoch${epoch + 1}-batch${batch + 1}`);
    saveTfjs(live.model, dir);
    return dir;
  },
  stopNote: 'checkpoint saved',
  timePasses: true,
  ...(input.probeBudget !== undefined ? { probeBudget: input.probeBudget } : {}),
});
port.on('message', (m: WorkerCommand) => probe.command(m));

const hooks: RunHooks = {
  log: (line) => post({ type: 'log', line }),
  onStart: (run) => {
    live = run;
    probe.attach(run, contextFromRunConfig(run.resolved));
    const r = run.resolved;
    const opt = r.training.optimizer as { name?: string };
    post({
      type: 'started',
      info: {
        id: run.runDir.split(/[\\/]/).pop() as string, runDir: run.runDir, model: r.model.label, dataset: r.dataset.name,
        classes: r.dataset.classes, classNames: r.dataset.classNames, shape: r.dataset.shape, params: r.model.params.total,
        epochs: r.training.epochs, optimizer: String(opt.name ?? '?'), knobs: readKnobs(run.model, run.trainer),
        command: trainCommand(input.config ?? {}),
      },
    });
    probe.status('running');
  },
  onBatch: (info) => probe.onBatch(info),
  afterBatch: () => probe.afterBatch(),
  onEpoch: (log) => probe.onEpoch(log),
  shouldInterrupt: () => probe.stopRequested,
};

async function main(): Promise<void> {
  try {
    const result = input.resume
      ? await resumeRun(input.resume.runDir, hooks, { epochs: input.resume.epochs })
      : await trainRun(input.config as TrainRunConfig, hooks);
    probe.finish(result.interrupted);
    const { history: _h, diagnosis, ...summary } = result;
    post({ type: 'done', status: result.interrupted ? 'stopped' : 'finished', summary: { ...summary, diagnosis: diagnosis ? diagnosisMarks(diagnosis) : null } });
  } catch (err) {
    const user = err instanceof FitlabError;
    post({ type: 'error', message: (err as Error).message, hint: user ? err.hint ?? null : null, user });
  }
  // the message listener would keep the thread alive; the server learns of the end by 'exit'
  port.close();
}

void main();
