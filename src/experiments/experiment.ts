/**
 * The machinery every experiment shares: an experiment directory (its runs as ordinary run
 * directories under runs/, experiment.json, report.html, charts as SVG and PNG), arms trained
 * over --repeats seeds with mean ± std, a table printed at the end, and the scale statement
 * printed at the start.
 */
import { join, resolve } from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import { type Diagnosis } from '../diagnose/diagnose.js';
import { writePngCopy } from '../diagnose/run-report.js';
import { ArgumentError, FitlabError } from '../errors.js';
import { sweepAllStaleTemps, writeFileAtomic } from '../io/atomic.js';
import { createRunDir, hasCheckpoint, toJson } from '../io/run-dir.js';
import { lockRun } from '../io/run-lock.js';
import { type RunExecutor, localExecutor } from '../run/executor.js';
import { type LiveRun, type TrainRunConfig, type TrainedRun, loadTrainedRun } from '../run/train-run.js';
import type { EpochLog } from '../train/history.js';
import { textTable } from '../util/table.js';
import { type Ledger, type LedgerEntry, finishedSummary, readLedger, readPlan, relativeRun, runHistory, runPath, writeLedger, writePlan } from './ledger.js';
import { type Chart, type Section, renderExperiment } from './report.js';

export type Scale = 'small' | 'full';

/** The options every `fitlab experiment <name>` takes. */
export interface ExperimentOptions {
  /** parent folder of experiment directories (default experiments/) */
  out: string;
  scale: Scale;
  seed: number;
  /** runs per arm with seeds seed, seed+1, … (default 1) */
  repeats: number;
  epochs?: number;
  dataset?: string;
  model?: string;
  dataDir?: string;
  threads?: number;
  /** N training examples per class, overriding the scale's */
  subset?: number;
  /** a line of progress output */
  log: (line: string) => void;
  /** trains or resumes each planned run (src/run/executor.ts); default: in this process */
  executor?: RunExecutor;
  /** every CLI option as given (defaults and the resolved thread count included): plan.json,
   *  from which `--resume` rebuilds the same experiment */
  plan?: Record<string, unknown>;
  /** continue the experiment in this directory instead of starting a new one */
  resume?: string;
  /** polled during training: true checkpoints the current run and stops the experiment (Ctrl-C) */
  shouldInterrupt?: () => boolean;
  /** a line of progress for the whole experiment: run i of n, overall ETA (stderr in the CLI) */
  progress?: (line: string) => void;
}

/**
 * The experiment stopped on request (Ctrl-C) during run `index`, whose checkpoint is saved in
 * `runDir` (null: it stopped between runs). `fitlab experiment <name> --resume <dir>` continues.
 */
export class ExperimentInterrupted extends Error {
  constructor(readonly dir: string, readonly experiment: string, readonly index: number, readonly planned: number, readonly label: string, readonly runDir: string | null) {
    super(`the experiment was interrupted at run ${index} of ${planned} (${label})`);
    this.name = 'ExperimentInterrupted';
  }
}

export interface Stat {
  mean: number;
  std: number;
  n: number;
  values: number[];
}

export function stat(values: number[]): Stat {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : Number.NaN;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n, values };
}

/** "84.1%" or "84.1 ± 0.6%" (accuracies as fractions). */
export function pctStat(s: Stat, digits = 1): string {
  if (!Number.isFinite(s.mean)) return '—';
  return s.n > 1 ? `${(100 * s.mean).toFixed(digits)} ± ${(100 * s.std).toFixed(digits)}%` : `${(100 * s.mean).toFixed(digits)}%`;
}

export function numStat(s: Stat, digits = 3): string {
  if (!Number.isFinite(s.mean)) return '—';
  const f = (x: number): string => (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(digits));
  return s.n > 1 ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean);
}

/** Is the difference of two means larger than their noise (two standard errors)? null: no noise estimate. */
export function differs(a: Stat, b: Stat): boolean | null {
  if (a.n < 2 || b.n < 2) return null;
  const se = Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n);
  return Math.abs(a.mean - b.mean) > 2 * se;
}

/** One training run of an arm. */
export interface ArmRun {
  seed: number;
  runDir: string;
  history: EpochLog[];
  diagnosis: Diagnosis;
  test: { loss: number; accuracy: number } | null;
  epochsRun: number;
  wallSeconds: number;
  stopReason: string | null;
  trainExamples: number;
  params: number;
  /** what the arm's `measure` returned for this run */
  measured: Record<string, unknown>;
  /** what the arm's `onEpoch` returned after each epoch ([] without one) */
  epochRecords: unknown[];
}

/** One planned run of an arm: its slot in the experiment, its seed and what it trains. */
interface RunSlot {
  /** position of its arm in an armsTogether() list */
  arm: number;
  index: number;
  seed: number;
  repeats: number;
  label: string;
  runLabel: string;
  config: Omit<TrainRunConfig, 'out' | 'name' | 'seed'>;
  opts: ArmOptions;
}

export interface ArmOptions {
  /** anything the experiment adds to the arm (a parameter value, a size, …) */
  extra?: Record<string, unknown>;
  repeats?: number;
  /** seed of the first repeat (default: the experiment's --seed) */
  seed?: number;
  /**
   * Measure more with the trained model. It is rebuilt from the run directory (model-final/,
   * with the run's data and split) after training — in the session that trained it or in a
   * later, resumed one — so side effects on the experiment's own variables are safe here.
   * Not called for a run that kept no model-final/ (non-finite weights).
   */
  measure?: (ctx: TrainedContext) => Record<string, unknown>;
  /**
   * After every epoch, with the live model and the epoch's log (per-example tracking, stopping
   * rules). What it returns is recorded per epoch (ArmRun.epochRecords, kept in progress.json);
   * it must keep no state of its own, which a resumed experiment would not have. An interrupted
   * run of an arm with this hook is trained again from its start on resume, so every epoch is
   * recorded.
   */
  onEpoch?: (ctx: LiveRun, log: EpochLog) => unknown;
  /**
   * The end of each run's progress line (default: the diagnosis' regime, its onset and the test
   * accuracy). An arm without validation or test data (overfit-batch) says what it measures instead.
   */
  describe?: (run: ArmRun) => string;
}

export type TrainedContext = TrainedRun;

/** An arm: one configuration trained over the repeats, with its summary statistics. */
export interface Arm {
  label: string;
  runs: ArmRun[];
  finalTrain: Stat;
  finalVal: Stat;
  bestVal: Stat;
  /** training − validation accuracy, mean of the last 3 epochs (one epoch is noisy) */
  gap: Stat;
  test: Stat;
  epochs: Stat;
  onsets: (number | null)[];
  regimes: string[];
  /** the most common regime over the repeats */
  regime: string;
  params: number;
  trainExamples: number;
  /** anything the experiment adds (a sweep's parameter value, a size, …) */
  extra: Record<string, unknown>;
}

const mode = (xs: string[]): string => {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '—';
};

/** Training − validation accuracy averaged over the last (up to) 3 epochs. */
export function lastGap(h: EpochLog[]): number {
  const tail = h.slice(-3).map((e) => (typeof e.accuracy === 'number' && typeof e.val_accuracy === 'number' ? e.accuracy - e.val_accuracy : Number.NaN)).filter(Number.isFinite);
  return tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : Number.NaN;
}

function summarize(label: string, runs: ArmRun[], extra: Record<string, unknown>): Arm {
  const fin = (f: (r: ArmRun) => number | null | undefined): Stat => stat(runs.map((r) => f(r) ?? Number.NaN));
  return {
    label, runs, extra,
    finalTrain: fin((r) => r.diagnosis.final.accuracy),
    finalVal: fin((r) => r.diagnosis.final.valAccuracy),
    bestVal: fin((r) => r.diagnosis.best.valAccuracy),
    gap: fin((r) => lastGap(r.history)),
    test: fin((r) => r.test?.accuracy),
    epochs: fin((r) => r.epochsRun),
    onsets: runs.map((r) => r.diagnosis.onsetEpoch),
    regimes: runs.map((r) => r.diagnosis.regime),
    regime: mode(runs.map((r) => r.diagnosis.regime)),
    params: runs[0]?.params ?? 0,
    trainExamples: runs[0]?.trainExamples ?? 0,
  };
}

/** The usual columns of an experiment's table, one row per arm. */
export function armTable(arms: Arm[]): { header: string[]; rows: string[][] } {
  const header = ['arm', 'final train acc', 'final val acc', 'best val acc', 'gap (train − val, last 3 epochs)', 'onset epoch', 'regime', 'test acc', 'epochs'];
  const rows = arms.map((a) => [
    a.label, pctStat(a.finalTrain), pctStat(a.finalVal), pctStat(a.bestVal), pctStat(a.gap),
    a.onsets.map((o) => (o === null ? '—' : String(o + 1))).join(', '), a.regimes.length > 1 ? `${a.regime} (${a.regimes.filter((r) => r === a.regime).length}/${a.regimes.length})` : a.regime,
    pctStat(a.test), a.epochs.n > 1 ? numStat(a.epochs, 3) : String(a.epochs.mean),
  ]);
  return { header, rows };
}

/** "1 h 05 min", "12 min", "40 s": a duration for progress lines. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 90 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

/**
 * An experiment in progress: trains arms into its directory and writes the report at the end.
 *
 * Resumable (issue 19): plan.json records the options before the first run; progress.json (the
 * ledger, src/experiments/ledger.ts) records each run slot as it starts and as it finishes. Given
 * `options.resume`, the same experiment function runs again over the same slots: finished runs
 * are read back from their directories (not retrained), the interrupted one resumes from its
 * checkpoint through the executor, the rest start. Every run's results — finished now or before —
 * are read from its run directory, and `measure` always runs on the model rebuilt from it, so the
 * experiment computes the same numbers whether or not it was interrupted.
 */
export class Experiment {
  readonly dir: string;
  readonly runsDir: string;
  readonly arms: Arm[] = [];
  readonly charts: Chart[] = [];
  readonly sections: Section[] = [];
  readonly notes: string[] = [];
  table: { header: string[]; rows: string[][] } | null = null;
  conclusions: string[] = [];
  readonly started = Date.now();
  private count = 0;
  private readonly ledger: Ledger;
  private readonly priorSeconds: number;
  private readonly unlock: () => void;
  /** wall seconds of each run finished in this experiment (for the overall ETA) */
  private readonly runSeconds: number[] = [];

  constructor(
    readonly name: string,
    readonly title: string,
    /** the scale statement: data, sizes, epochs, optimizer (printed at the start) */
    readonly setting: string,
    readonly options: ExperimentOptions,
    /** the number of training runs planned (for "[3/10]" progress) */
    readonly planned: number,
  ) {
    if (!Number.isInteger(options.repeats) || options.repeats < 1) throw new ArgumentError(`--repeats must be an integer ≥ 1; received ${options.repeats}`);
    if (options.resume) {
      this.dir = resolve(options.resume);
      const plan = readPlan(this.dir);
      if (plan.experiment !== name) throw new ArgumentError(`${this.dir} holds the experiment "${plan.experiment}", not "${name}"`, `resume it with: fitlab experiment ${plan.experiment} --resume ${options.resume}`);
      // one process per experiment directory; a dead holder's lock is taken over
      this.unlock = lockRun(this.dir);
      sweepAllStaleTemps(this.dir);
      this.ledger = readLedger(this.dir);
      if (this.ledger.finished) {
        this.unlock();
        throw new ArgumentError(`the experiment in ${this.dir} already finished`, `its report: ${join(this.dir, 'report.html')}`);
      }
    } else {
      this.dir = createRunDir(resolve(options.out), name);
      this.unlock = lockRun(this.dir);
      // before anything else: from here on a kill at any moment leaves a resumable directory
      writePlan(this.dir, name, options.plan ?? {});
      this.ledger = { planned, runs: [], finished: false, seconds: 0 };
    }
    this.priorSeconds = this.ledger.seconds;
    this.ledger.planned = planned;
    this.runsDir = join(this.dir, 'runs');
    mkdirSync(this.runsDir, { recursive: true });
    this.saveLedger();
    options.log(`${title} (${options.scale} scale): ${setting}`);
    const done = this.ledger.runs.filter((e) => e.status === 'done').length;
    options.log(`experiment directory: ${this.dir}${options.resume ? ` (resuming: ${done} of ${planned} runs finished)` : ''}`);
  }

  get log(): (line: string) => void {
    return this.options.log;
  }

  private saveLedger(): void {
    this.ledger.seconds = this.priorSeconds + (Date.now() - this.started) / 1000;
    writeLedger(this.dir, this.ledger);
  }

  /** The overall time left: the current run's epochs left at its median epoch time, then the runs not started. */
  private eta(index: number, epochTimes: number[], epochsLeft: number, epochs: number): number {
    const perEpoch = median(epochTimes);
    const perRun = this.runSeconds.length ? this.runSeconds.reduce((a, b) => a + b, 0) / this.runSeconds.length : perEpoch * epochs;
    return epochsLeft * perEpoch + Math.max(0, this.planned - index) * perRun;
  }

  /** A finished run as its directory records it (the same whether it finished now or in an earlier session). */
  private readRun(runDir: string, seed: number, epochRecords: unknown[]): ArmRun {
    const summary = finishedSummary(runDir);
    if (!summary) throw new FitlabError(`run ${runDir} ended without a diagnosis`);
    const diagnosis = JSON.parse(readFileSync(join(runDir, 'diagnosis.json'), 'utf8')) as Diagnosis;
    const num = (k: string): number => (typeof summary[k] === 'number' ? summary[k] : Number.NaN);
    return {
      seed, runDir, history: runHistory(runDir), diagnosis, test: (summary.test as ArmRun['test'] | undefined) ?? null,
      epochsRun: num('epochsRun'), wallSeconds: num('wallSeconds'), stopReason: (summary.stopReason as string | null | undefined) ?? null,
      trainExamples: num('trainExamples'), params: num('params'), measured: {}, epochRecords,
    };
  }

  /** Train one configuration over the repeats (seeds seed, seed+1, …) and summarize it. */
  async arm(label: string, config: Omit<TrainRunConfig, 'out' | 'name' | 'seed'>, opts: ArmOptions = {}): Promise<Arm> {
    const [arm] = await this.armsTogether([{ label, config, opts }]);
    return arm;
  }

  /**
   * Several arms whose runs do not depend on one another. With an executor that trains runs
   * elsewhere at the same time (the queue: `RunExecutor.concurrent`) all their runs are handed
   * over at once, so every worker gets one; in this process they train one after another. Either
   * way the slots, seeds, run directories and the arms returned are the same, in the order given.
   */
  async armsTogether(list: { label: string; config: Omit<TrainRunConfig, 'out' | 'name' | 'seed'>; opts?: ArmOptions }[]): Promise<Arm[]> {
    const slots: RunSlot[] = [];
    list.forEach(({ label, config, opts = {} }, arm) => {
      const repeats = opts.repeats ?? this.options.repeats;
      for (let r = 0; r < repeats; r++) {
        const seed = (opts.seed ?? this.options.seed) + r;
        slots.push({ arm, index: ++this.count, seed, repeats, label, config, opts, runLabel: repeats > 1 ? `${label} (seed ${seed})` : label });
      }
    });
    const execute = this.options.executor ?? localExecutor;
    let runs: ArmRun[];
    if (execute.concurrent && slots.length > 1) {
      const settled = await Promise.allSettled(slots.map((slot) => this.runSlot(slot)));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      runs = settled.map((r) => (r as PromiseFulfilledResult<ArmRun>).value);
    } else {
      runs = [];
      for (const slot of slots) runs.push(await this.runSlot(slot));
    }
    return list.map(({ label, opts = {} }, k) => {
      const arm = summarize(label, runs.filter((_, i) => slots[i].arm === k), opts.extra ?? {});
      this.arms.push(arm);
      return arm;
    });
  }

  /** One run slot: kept when it finished before, resumed when interrupted, else trained; then read back. */
  private async runSlot(slot: RunSlot): Promise<ArmRun> {
    const { index, seed, repeats, label, config, opts, runLabel } = slot;
    const slug = label.replace(/[^A-Za-z0-9.=+-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'arm';
    let entry: LedgerEntry | undefined = this.ledger.runs.find((e) => e.index === index);
    if (entry && (entry.label !== runLabel || entry.seed !== seed)) {
      throw new FitlabError(`cannot resume ${this.dir}: its run ${index} is "${entry.label}" (seed ${entry.seed}) but the experiment now plans "${runLabel}" (seed ${seed}) there`, `resume with the fitlab version that started it (${join(this.dir, 'plan.json')})`);
    }
    const existing = entry ? runPath(this.dir, entry) : null;
    let runDir: string;
    let records: unknown[] = entry?.epochRecords ?? [];
    const kept = Boolean(entry && existing && (entry.status === 'done' || (!opts.onEpoch && finishedSummary(existing))));
    if (kept && entry && existing) {
      // finished in an earlier session (or finished just before a kill, before the ledger said so)
      runDir = existing;
      if (entry.status !== 'done') {
        entry.status = 'done';
        this.saveLedger();
      }
    } else {
      const stop = this.options.shouldInterrupt;
      if (stop?.()) throw new ExperimentInterrupted(this.dir, this.name, index, this.planned, runLabel, null);
      // an arm that records every epoch cannot continue half-way: its run starts again
      const resumeDir = existing && !opts.onEpoch && hasCheckpoint(existing) ? existing : null;
      if (existing && opts.onEpoch) this.log(`[${index}/${this.planned}] ${runLabel}: trained again from its start (its per-epoch records cannot be resumed half-way)`);
      this.options.progress?.(`run ${index} of ${this.planned}: ${runLabel}${resumeDir ? ' (resuming from its checkpoint)' : ''}`);
      records = [];
      const epochTimes: number[] = [];
      let live: LiveRun | null = null;
      const execute = this.options.executor ?? localExecutor;
      const result = await execute({
        index, label: runLabel, resumeDir,
        config: {
          ...config, threads: config.threads ?? this.options.threads, dataDir: config.dataDir ?? this.options.dataDir,
          seed, out: this.runsDir, name: repeats > 1 ? `${slug}-seed${seed}` : slug,
        },
      }, {
        onStart: (run) => {
          live = run;
          // the slot's run directory goes into the ledger before the first batch: from here on a kill resumes it
          const rel = relativeRun(this.dir, run.runDir);
          if (!entry) {
            entry = { index, label: runLabel, seed, runDir: rel, status: 'started' };
            this.ledger.runs.push(entry);
          } else {
            entry.runDir = rel;
            entry.status = 'started';
            delete entry.epochRecords;
          }
          this.saveLedger();
        },
        onEpoch: (log, epochs) => {
          if (opts.onEpoch && live) records.push(opts.onEpoch(live, log) ?? null);
          epochTimes.push(log.seconds);
          const left = epochs - (log.epoch + 1);
          this.options.progress?.(`run ${index} of ${this.planned} (${runLabel}): epoch ${log.epoch + 1}/${epochs}; experiment time left ≈ ${duration(this.eta(index, epochTimes, left, epochs))}`);
        },
        shouldInterrupt: stop,
      });
      if (result.interrupted) throw new ExperimentInterrupted(this.dir, this.name, index, this.planned, runLabel, result.runDir);
      runDir = result.runDir;
      const slot = entry;
      if (!slot) throw new FitlabError(`run ${runDir} never reported its start to the experiment`);
      slot.status = 'done';
      if (opts.onEpoch) slot.epochRecords = records;
      this.saveLedger();
    }
    const run = this.readRun(runDir, seed, opts.onEpoch ? records : []);
    this.runSeconds.push(run.wallSeconds);
    if (opts.measure) {
      const trained = await loadTrainedRun(runDir);
      if (trained) run.measured = opts.measure(trained);
    }
    const d = run.diagnosis;
    const p = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(1)}%`);
    this.log(
      `[${index}/${this.planned}] ${runLabel}: ${run.epochsRun} epochs${kept ? ' (finished before; kept)' : ` in ${run.wallSeconds.toFixed(0)} s`}; ` +
      (opts.describe ? opts.describe(run) : `train ${p(d.final.accuracy)}, val ${p(d.final.valAccuracy)} (best ${p(d.best.valAccuracy)}), gap ${p(d.gaps.final.accuracy)}; ${d.regime}` +
      `${d.onsetEpoch !== null ? ` (onset epoch ${d.onsetEpoch})` : ''}${run.test ? `; test ${p(run.test.accuracy)}` : ''}`),
    );
    return run;
  }

  chart(name: string, title: string, svg: string): void {
    writeFileAtomic(join(this.dir, `${name}.svg`), svg);
    writePngCopy(join(this.dir, `${name}.png`), svg);
    this.charts.push({ name, title, svg });
  }

  section(title: string, html: string): void {
    this.sections.push({ title, html });
  }

  /** experiment.json + report.html; prints the table and the conclusions. Returns the JSON object. */
  finish(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const table = this.table ?? armTable(this.arms);
    // over every session of a resumed experiment
    const seconds = this.priorSeconds + (Date.now() - this.started) / 1000;
    const json = {
      experiment: this.name,
      title: this.title,
      scale: this.options.scale,
      setting: this.setting,
      seed: this.options.seed,
      repeats: this.options.repeats,
      seconds,
      dir: this.dir,
      table,
      conclusions: this.conclusions,
      notes: this.notes,
      arms: this.arms.map((a) => ({
        label: a.label, params: a.params, trainExamples: a.trainExamples, regime: a.regime, regimes: a.regimes, onsets: a.onsets,
        finalTrain: a.finalTrain, finalVal: a.finalVal, bestVal: a.bestVal, gap: a.gap, test: a.test, epochs: a.epochs, extra: a.extra,
        runs: a.runs.map((r) => ({ seed: r.seed, runDir: r.runDir, epochsRun: r.epochsRun, wallSeconds: r.wallSeconds, regime: r.diagnosis.regime, onsetEpoch: r.diagnosis.onsetEpoch, bestEpoch: r.diagnosis.bestEpoch, test: r.test, stopReason: r.stopReason })),
      })),
      charts: this.charts.map((c) => `${c.name}.svg`),
      ...extra,
    };
    writeFileAtomic(join(this.dir, 'experiment.json'), toJson(json, 2));
    writeFileAtomic(join(this.dir, 'report.html'), renderExperiment({
      title: this.title, setting: `${this.options.scale} scale — ${this.setting}; seed ${this.options.seed}, ${this.options.repeats} repeat${this.options.repeats > 1 ? 's' : ''}; ${seconds.toFixed(0)} s`,
      table, conclusions: this.conclusions, charts: this.charts, sections: this.sections, notes: this.notes,
      runs: this.arms.flatMap((a) => a.runs.map((r) => ({ label: a.label, seed: r.seed, dir: r.runDir }))), base: this.dir,
    }));
    this.log('');
    this.log(textTable(table.header, table.rows));
    for (const c of this.conclusions) this.log(`• ${c}`);
    this.log(`\n${this.title}: ${seconds.toFixed(0)} s; report: ${join(this.dir, 'report.html')}`);
    this.ledger.finished = true;
    this.saveLedger();
    this.unlock();
    return json;
  }
}

/** Charts shared by the experiments: each arm's validation accuracy and loss over epochs (first repeat). */
export { compareChart } from '../diagnose/plots.js';
