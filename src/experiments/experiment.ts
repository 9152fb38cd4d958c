/**
 * The machinery every experiment shares: an experiment directory (its runs as ordinary run
 * directories under runs/, experiment.json, report.html, charts as SVG and PNG), arms trained
 * over --repeats seeds with mean ± std, a table printed at the end, and the scale statement
 * printed at the start.
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { type Diagnosis } from '../diagnose/diagnose.js';
import { writePngCopy } from '../diagnose/run-report.js';
import { ArgumentError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { createRunDir, toJson } from '../io/run-dir.js';
import { type RunExecutor, localExecutor } from '../run/executor.js';
import type { LiveRun, RunHooks, TrainRunConfig } from '../run/train-run.js';
import type { EpochLog } from '../train/history.js';
import { textTable } from '../util/table.js';
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
}

export interface ArmOptions {
  /** anything the experiment adds to the arm (a parameter value, a size, …) */
  extra?: Record<string, unknown>;
  repeats?: number;
  /** seed of the first repeat (default: the experiment's --seed) */
  seed?: number;
  /** measure more with the trained model (after the test evaluation) */
  measure?: (ctx: TrainedContext) => Record<string, unknown>;
  /** after every epoch, with the live model and the epoch's log (per-example tracking, stopping rules) */
  onEpoch?: (ctx: LiveRun, log: EpochLog) => void;
}

export type TrainedContext = Parameters<NonNullable<RunHooks['afterTraining']>>[0];

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

/** An experiment in progress: trains arms into its directory and writes the report at the end. */
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
    this.dir = createRunDir(resolve(options.out), name);
    this.runsDir = join(this.dir, 'runs');
    mkdirSync(this.runsDir, { recursive: true });
    options.log(`${title} (${options.scale} scale): ${setting}`);
    options.log(`experiment directory: ${this.dir}`);
  }

  get log(): (line: string) => void {
    return this.options.log;
  }

  /** Train one configuration over the repeats (seeds seed, seed+1, …) and summarize it. */
  async arm(label: string, config: Omit<TrainRunConfig, 'out' | 'name' | 'seed'>, opts: ArmOptions = {}): Promise<Arm> {
    const repeats = opts.repeats ?? this.options.repeats;
    const runs: ArmRun[] = [];
    for (let r = 0; r < repeats; r++) {
      const seed = (opts.seed ?? this.options.seed) + r;
      this.count++;
      let measured: Record<string, unknown> = {};
      let live: LiveRun | null = null;
      const slug = label.replace(/[^A-Za-z0-9.=+-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'arm';
      const execute = this.options.executor ?? localExecutor;
      const result = await execute({
        index: this.count, label: repeats > 1 ? `${label} (seed ${seed})` : label, resumeDir: null,
        config: {
          ...config, threads: config.threads ?? this.options.threads, dataDir: config.dataDir ?? this.options.dataDir,
          seed, out: this.runsDir, name: repeats > 1 ? `${slug}-seed${seed}` : slug,
        },
      }, {
        afterTraining: opts.measure ? (ctx) => { measured = opts.measure!(ctx); } : undefined,
        onStart: (run) => { live = run; },
        onEpoch: opts.onEpoch ? (log) => { if (live) opts.onEpoch!(live, log); } : undefined,
      });
      if (!result.diagnosis) throw new Error(`run ${result.runDir} ended without a diagnosis`);
      const run: ArmRun = {
        seed, runDir: result.runDir, history: result.history, diagnosis: result.diagnosis, test: result.test,
        epochsRun: result.epochsRun, wallSeconds: result.wallSeconds, stopReason: result.stopReason,
        trainExamples: result.trainExamples, params: result.params, measured,
      };
      runs.push(run);
      const d = run.diagnosis;
      const p = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(1)}%`);
      this.log(
        `[${this.count}/${this.planned}] ${label}${repeats > 1 ? ` (seed ${seed})` : ''}: ${run.epochsRun} epochs in ${run.wallSeconds.toFixed(0)} s; ` +
        `train ${p(d.final.accuracy)}, val ${p(d.final.valAccuracy)} (best ${p(d.best.valAccuracy)}), gap ${p(d.gaps.final.accuracy)}; ${d.regime}` +
        `${d.onsetEpoch !== null ? ` (onset epoch ${d.onsetEpoch})` : ''}${run.test ? `; test ${p(run.test.accuracy)}` : ''}`,
      );
    }
    const arm = summarize(label, runs, opts.extra ?? {});
    this.arms.push(arm);
    return arm;
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
    const seconds = (Date.now() - this.started) / 1000;
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
    return json;
  }
}

/** Charts shared by the experiments: each arm's validation accuracy and loss over epochs (first repeat). */
export { compareChart } from '../diagnose/plots.js';
