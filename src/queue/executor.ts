/**
 * The queue as an experiment's executor (src/run/executor.ts): each planned run becomes a job,
 * a worker trains it, and its run directory comes back under the experiment's runs/ folder,
 * where the experiment reads its results exactly as it reads a local run's.
 *
 * Job ids are derived from the submitting host, the experiment directory and the run's slot, so
 * `fitlab experiment … --resume <dir> --queue <url>` after a crash of the submitter collects the
 * jobs the workers kept training (or finished) instead of training them again.
 *
 * The hooks are replayed once the run directory is here: onStart with the directory, then onEpoch
 * for each epoch of its history. A run that needs the live model every epoch (an experiment's
 * per-example tracking) cannot be trained on another machine; reaching for the model says so.
 */
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { FitlabError } from '../errors.js';
import type { PlannedRun, RunExecutor } from '../run/executor.js';
import type { LiveRun, TrainRunResult } from '../run/train-run.js';
import type { QueueClient } from './submit.js';

/** A job id BullMQ accepts (no ':'), stable for one experiment slot. */
export function jobIdFor(run: PlannedRun): string {
  const experiment = basename(dirname(resolve(run.config.out ?? 'runs')));
  return `${hostname()}.${experiment}.${run.index}`.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** A LiveRun that has only its run directory: the model stayed on the worker. */
function remoteRun(runDir: string, label: string): LiveRun {
  const absent = (): never => {
    throw new FitlabError(`run ${JSON.stringify(label)} reads the live model after every epoch, which stays on the worker that trains it; this experiment cannot run through --queue`, 'run it without --queue (locally)');
  };
  return {
    runDir,
    get model() { return absent(); },
    get trainer() { return absent(); },
    get dataset() { return absent(); },
    get train() { return absent(); },
    get val() { return absent(); },
    get resolved() { return absent(); },
  };
}

/** An interrupted result for a run the submitter stopped waiting for: nothing of it is here. */
function stillRemote(run: PlannedRun): TrainRunResult {
  return {
    runDir: '', epochsRun: 0, bestEpoch: null, final: null, best: null, test: null, wallSeconds: 0, epochSeconds: null,
    stopReason: 'interrupted', stopCause: 'interrupted', interrupted: true, history: [], dataset: run.config.dataset, model: run.config.model, diagnosis: null,
    lastGoodEpoch: null, checkpointAt: { epochs: 0, batch: 0 }, trainExamples: 0, params: 0,
  };
}

export function queueExecutor(client: QueueClient): RunExecutor {
  const execute = async (run: PlannedRun, hooks: Parameters<RunExecutor>[1]): Promise<TrainRunResult> => {
    const result = await client.run(run.config, { jobId: jobIdFor(run), label: run.label, shouldStop: hooks.shouldInterrupt });
    if (!result) {
      hooks.log?.(`fitlab: ${run.label} keeps training on its worker; --resume collects it`);
      return stillRemote(run);
    }
    hooks.onStart?.(remoteRun(result.runDir, run.label));
    for (const log of result.history) hooks.onEpoch?.(log, run.config.epochs);
    return result;
  };
  // the workers train side by side: an experiment hands over all the runs it can at once
  return Object.assign(execute, { concurrent: true });
}
