/**
 * The executor seam between an experiment and the training of its runs.
 *
 * An experiment (src/experiments/experiment.ts) decides WHAT to train — a sequence of planned
 * runs, each a validated TrainRunConfig plus, when the experiment is being resumed, the run
 * directory of an interrupted run to continue. A RunExecutor decides HOW: it trains the run (or
 * resumes it from its checkpoint) and returns the TrainRunResult. Nothing else crosses the seam:
 * the experiment measures the trained model afterwards from the run directory (model-final/),
 * so an executor that trains elsewhere (a queue worker, src/queue/) only has to leave a complete
 * run directory behind.
 *
 * The hooks are best effort across the seam: `log`, `onEpoch` (progress, per-epoch records),
 * `onStart` (the run directory, so the experiment's ledger can record it before training) and
 * `shouldInterrupt` (Ctrl-C: checkpoint and return with `interrupted: true`). An executor that
 * cannot honour `onStart`/`onEpoch` live must still call `onStart` once the run directory
 * exists with what it has.
 *
 * @example
 * const result = await localExecutor({ index: 1, label: 'baseline', config, resumeDir: null }, {});
 */
import { type RunHooks, type TrainRunConfig, type TrainRunResult, resumeRun, trainRun } from './train-run.js';

/** One run of an experiment, as planned. */
export interface PlannedRun {
  /** 1-based position of the run in its experiment */
  index: number;
  /** the arm's label (plus the seed when it has repeats) */
  label: string;
  /** the run's full configuration: out (the experiment's runs/ folder), name and seed are set */
  config: TrainRunConfig;
  /** an interrupted run of this slot to continue from its checkpoint; null: start a new run */
  resumeDir: string | null;
}

/** Trains (or resumes) one planned run and returns its result. */
export interface RunExecutor {
  (run: PlannedRun, hooks: RunHooks): Promise<TrainRunResult>;
  /** true when runs train elsewhere and several may be handed over at once (the queue) */
  readonly concurrent?: boolean;
}

/**
 * Train in this process: `trainRun` for a new run, `resumeRun` (same machinery as
 * `fitlab train --resume`, with the run's recorded thread count) for an interrupted one.
 */
export const localExecutor: RunExecutor = (run, hooks) =>
  run.resumeDir ? resumeRun(run.resumeDir, hooks, { threads: run.config.threads }) : trainRun(run.config, hooks);
