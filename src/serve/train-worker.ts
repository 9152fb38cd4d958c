/**
 * The dashboard's training worker (ARCHITECTURE decision 8): runs trainRun off the server's
 * event loop, posts metrics, and takes knob changes, pause/resume/stop/snapshot and probe
 * requests between batches. Started by session.ts with the run's TrainRunConfig.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type Diagnosis, diagnose } from '../diagnose/diagnose.js';
import { contextFromRunConfig } from '../diagnose/context.js';
import { FitlabError } from '../errors.js';
import { saveTfjs } from '../io/tfjs.js';
import { toJson } from '../io/run-dir.js';
import type { F32 } from '../backend/backend.js';
import { type LiveRun, type RunHooks, type TrainRunConfig, resumeRun, trainRun } from '../run/train-run.js';
import type { EpochLog } from '../train/history.js';
import { applyKnob, readKnobs } from './knobs.js';
import { featureMaps, layerViews, predictionsView } from './probe.js';
import type { Action, BatchPoint, DiagnosisMarks, KnobEvent, KnobName, RunStatus, WorkerCommand, WorkerMessage } from './protocol.js';
import { trainCommand } from './command.js';

export interface WorkerInput {
  config?: TrainRunConfig;
  /** continue this run directory from its checkpoint instead */
  resume?: { runDir: string; epochs?: number };
  /** share of the training time each of the network and predictions views may take (default 0.015) */
  probeBudget?: number;
}

const POST_EVERY_MS = 50;
/** no view is refreshed more often than this (pages cannot show more) */
const MIN_PROBE_MS = 250;
/** each view's share of the time: both together stay well under the 5% the issue allows */
const PROBE_BUDGET = 0.015;
export const KNOBS_FILE = 'knobs.jsonl';

if (!parentPort) throw new Error('train-worker.ts runs inside a worker thread');
const port = parentPort;
const post = (m: WorkerMessage): void => port.postMessage(m);
const input = workerData as WorkerInput;

let live: LiveRun | null = null;
let paused = false;
let stopRequested = false;
let wake: (() => void) | null = null;
const pending: WorkerCommand[] = [];
port.on('message', (m: WorkerCommand) => {
  pending.push(m);
  if (m.type === 'action' && m.action === 'resume' && wake) wake();
  if (m.type === 'action' && m.action === 'stop') {
    stopRequested = true;
    wake?.();
  }
});

// timing: the model's forward and backward are wrapped (training passes only)
const timing = { forward: 0, backward: 0 };
function timeModel(run: LiveRun): void {
  const model = run.model;
  const forward = model.forward.bind(model);
  const backward = model.backward.bind(model);
  model.forward = (x: F32, options) => {
    if (!options.training) return forward(x, options);
    const t = performance.now();
    const out = forward(x, options);
    timing.forward += performance.now() - t;
    return out;
  };
  model.backward = (dOut: F32, options) => {
    const t = performance.now();
    backward(dOut, options);
    timing.backward += performance.now() - t;
  };
}

// progress, for the batch points
const clock = { start: 0, pausedMs: 0, lastPost: 0, probeMs: 0, batchMark: 0 };
let examples = 0;
let epochExamples = 0;
let lastEpochLoss = { seen: 0, sum: 0 };
let steps = 0;
let point: Omit<BatchPoint, 'forwardMs' | 'backwardMs' | 'seconds' | 'eta' | 'penalty' | 'learningRate' | 'loss'> | null = null;
let window = { examples: 0, forward: 0, backward: 0 };
let secondsPerBatch = 0;
let netNext = 0;
let netStep = 0;
let predNext = 0;
let probeInput = 0;
let wantPredictions = false;
let wantNetwork = true;
const history: EpochLog[] = [];

function status(s: RunStatus): void {
  post({ type: 'status', status: s });
}

function record(event: Omit<KnobEvent, 'time' | 'epoch' | 'batch' | 'examples'>): void {
  if (!live) return;
  const full: KnobEvent = { time: new Date().toISOString(), epoch: point?.epoch ?? 0, batch: point?.batch ?? -1, examples, ...event };
  appendFileSync(join(live.runDir, KNOBS_FILE), toJson(full) + '\n');
  post({ type: 'knob', event: full, knobs: readKnobs(live.model, live.trainer) });
}

function elapsedMs(): number {
  return performance.now() - clock.start - clock.pausedMs;
}

function postPoint(force: boolean): void {
  if (!live || !point) return;
  const now = performance.now();
  if (!force && now - clock.lastPost < POST_EVERY_MS) return;
  clock.lastPost = now;
  const n = Math.max(1, window.examples);
  const seen = epochExamples;
  const groupLoss = seen > lastEpochLoss.seen ? (point.epochLoss * seen - lastEpochLoss.sum) / (seen - lastEpochLoss.seen) : point.epochLoss;
  lastEpochLoss = { seen, sum: point.epochLoss * seen };
  const remaining = (point.epochs - point.epoch - 1) * point.batches + (point.batches - point.batch - 1);
  post({
    type: 'batch',
    point: {
      ...point, loss: groupLoss, penalty: live.model.penalty(), learningRate: live.trainer.optimizer.currentLearningRate(),
      forwardMs: window.forward / n, backwardMs: window.backward / n, seconds: elapsedMs() / 1000,
      eta: secondsPerBatch > 0 ? remaining * secondsPerBatch : null,
    },
  });
  window = { examples: 0, forward: 0, backward: 0 };
}

function probeNetwork(): void {
  if (!live) return;
  const t = performance.now();
  const split = live.val ?? live.train;
  const index = Math.min(probeInput, split.y.length - 1);
  const layers = layerViews(live.model);
  const maps = featureMaps(live.model, live.trainer, split, index, live.dataset);
  const spent = performance.now() - t;
  clock.probeMs += spent;
  // next probe once training has run spent/budget ms: probing stays under `budget` of the time
  netNext = performance.now() + Math.max(MIN_PROBE_MS, spent / (input.probeBudget ?? PROBE_BUDGET));
  const every = steps - netStep;
  netStep = steps;
  post({
    type: 'network',
    view: { step: steps, epoch: point?.epoch ?? 0, every, probeMs: spent, stepMs: secondsPerBatch * 1000, overhead: clock.probeMs / Math.max(1, elapsedMs() - clock.probeMs), layers, input: index, ...maps },
  });
}

function probePredictions(): void {
  if (!live) return;
  const t = performance.now();
  const split = live.val ?? live.dataset.test ?? live.train;
  post({ type: 'predictions', view: predictionsView(live.trainer, live.dataset, live.train, split, point?.epoch ?? 0) });
  const spent = performance.now() - t;
  clock.probeMs += spent;
  predNext = performance.now() + Math.max(MIN_PROBE_MS, spent / (input.probeBudget ?? PROBE_BUDGET));
}

function snapshot(): void {
  if (!live) return;
  const dir = join(live.runDir, 'snapshots', `epoch${(point?.epoch ?? 0) + 1}-batch${(point?.batch ?? -1) + 1}`);
  saveTfjs(live.model, dir);
  record({ action: 'snapshot', note: dir });
}

function handle(m: WorkerCommand): void {
  if (!live) return;
  try {
    if (m.type === 'set') {
      for (const [name, value] of Object.entries(m.knobs)) {
        const before = readKnobs(live.model, live.trainer)[name as KnobName];
        const when = applyKnob(live.model, live.trainer, name as KnobName, value);
        record({ knob: name as KnobName, from: before, to: value as number, note: when });
      }
    } else if (m.type === 'action') {
      act(m.action);
    } else if (m.what === 'network') {
      if (m.input !== undefined) probeInput = m.input;
      wantNetwork = true;
    } else {
      wantPredictions = true;
    }
  } catch (err) {
    post({ type: 'reject', message: (err as Error).message });
  }
}

function act(action: Action): void {
  if (action === 'pause' && !paused) {
    paused = true;
    record({ action });
    status('paused');
  } else if (action === 'resume' && paused) {
    paused = false;
    record({ action });
    status('running');
  } else if (action === 'stop') {
    record({ action, note: 'checkpoint saved' });
    status('stopping');
  } else if (action === 'snapshot') {
    snapshot();
  }
}

async function afterBatch(): Promise<void> {
  steps++;
  while (pending.length) handle(pending.shift() as WorkerCommand);
  if (wantNetwork || performance.now() >= netNext) {
    wantNetwork = false;
    probeNetwork();
  }
  if (wantPredictions) {
    wantPredictions = false;
    probePredictions();
  }
  postPoint(false);
  while (paused && !stopRequested) {
    postPoint(true);
    const t = performance.now();
    await new Promise<void>((resolve) => {
      wake = resolve;
      // look at the queue now and then (probe requests while paused)
      setTimeout(resolve, 200);
    });
    wake = null;
    clock.pausedMs += performance.now() - t;
    while (pending.length) handle(pending.shift() as WorkerCommand);
    if (wantPredictions) {
      wantPredictions = false;
      probePredictions();
    }
    if (wantNetwork) {
      wantNetwork = false;
      probeNetwork();
    }
  }
  clock.batchMark = performance.now();
}

function marks(d: Diagnosis): DiagnosisMarks {
  return { regime: d.regime, summary: d.summary, onsetEpoch: d.onsetEpoch, bestEpoch: d.bestEpoch };
}

const hooks: RunHooks = {
  log: (line) => post({ type: 'log', line }),
  onStart: (run) => {
    live = run;
    timeModel(run);
    clock.start = performance.now();
    clock.batchMark = clock.start;
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
    status('running');
  },
  onBatch: (info) => {
    const now = performance.now();
    const t = now - clock.batchMark;
    clock.batchMark = now;
    window.forward += timing.forward;
    window.backward += timing.backward;
    timing.forward = 0;
    timing.backward = 0;
    window.examples += info.logs.size;
    examples += info.logs.size;
    epochExamples = info.batch === 0 ? info.logs.size : epochExamples + info.logs.size;
    if (info.batch === 0) lastEpochLoss = { seen: 0, sum: 0 };
    // smoothed seconds per batch, for the ETA and the probe budget
    const s = Math.max(t, 0.001) / 1000;
    secondsPerBatch = secondsPerBatch ? 0.95 * secondsPerBatch + 0.05 * s : s;
    point = {
      epoch: info.epoch, batch: info.batch, batches: info.batches, epochs: info.epochs, examples,
      epochLoss: info.logs.loss, accuracy: info.logs.accuracy ?? null,
    };
    if (info.batch === info.batches - 1) postPoint(true);
  },
  afterBatch,
  onEpoch: (log) => {
    history.push(log);
    let d: DiagnosisMarks | null = null;
    try {
      if (live) d = marks(diagnose(history, contextFromRunConfig(live.resolved)));
    } catch {
      d = null; // too few epochs to read
    }
    post({ type: 'epoch', log: { ...log }, diagnosis: d });
    // refresh the predictions at an epoch's end when the time budget allows; a page may ask any time
    if (performance.now() >= predNext) wantPredictions = true;
  },
  shouldInterrupt: () => stopRequested,
};

async function main(): Promise<void> {
  try {
    const result = input.resume
      ? await resumeRun(input.resume.runDir, hooks, { epochs: input.resume.epochs })
      : await trainRun(input.config as TrainRunConfig, hooks);
    if (live && !result.interrupted) probePredictions();
    const { history: _h, diagnosis, ...summary } = result;
    post({ type: 'done', status: result.interrupted ? 'stopped' : 'finished', summary: { ...summary, diagnosis: diagnosis ? marks(diagnosis) : null } });
  } catch (err) {
    const user = err instanceof FitlabError;
    post({ type: 'error', message: (err as Error).message, hint: user ? err.hint ?? null : null, user });
  }
  // the message listener would keep the thread alive; the server learns of the end by 'exit'
  port.close();
}

void main();
