/** `fitlab experiment <name>`: the seeds' lessons as one command each, with a report. */
import { Command, Option } from 'commander';
import { relative } from 'node:path';
import { getBackend } from '../backend/index.js';
import { type ExperimentOptions, ExperimentInterrupted, duration } from '../experiments/experiment.js';
import { readPlan } from '../experiments/ledger.js';
import { experimentStatus } from '../experiments/status.js';
import { ArgumentError } from '../errors.js';
import { DEFAULT_SEED } from '../tensor/streams.js';
import { biasVariance } from '../experiments/bias-variance.js';
import { ladder } from '../experiments/ladder.js';
import { extreme, memorization, randomLabelsExperiment } from '../experiments/memorize.js';
import { OVERFIT_BATCH_FAILED, overfitBatch, simplify } from '../experiments/simplify.js';
import { SWEEP_PARAMS, type SweepParam, capacity, dataSize, earlyStoppingStudy, sweep } from '../experiments/sweeps.js';
import { intOption, makeOutput, numberOption, setupBackend } from './common.js';
import { type QueueFlags, queueOptions, withQueueExecutor } from './queue.js';

function numberList(flag: string, integer = false) {
  return (text: string): number[] => {
    const v = text.split(',').map((t) => Number(t.trim()));
    if (!text.trim() || v.some((x) => !Number.isFinite(x) || (integer && !(Number.isInteger(x) && x >= 1)))) {
      throw new ArgumentError(`${flag} takes comma-separated ${integer ? 'positive whole numbers' : 'numbers'}; received ${JSON.stringify(text)}`);
    }
    return v;
  };
}

interface CommonFlags {
  out: string;
  scale: 'small' | 'full';
  seed: number;
  repeats: number;
  epochs?: number;
  dataset?: string;
  model?: string;
  dataDir?: string;
  threads?: number;
  subset?: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
  resume?: string;
}

/** Options that say how to run or show an experiment, not what it computes: not in plan.json, free on --resume. */
const NOT_PLANNED = ['resume', 'quiet', 'json', 'queue', 'store', 'tlsCa', 'tlsCert', 'tlsKey'];

/**
 * The flags of `--resume <dir>`: the plan's, with the run-only ones given now. An option given
 * on the command line that differs from the plan is refused (one line): the experiment must
 * continue as it started, or its numbers would mix two settings.
 */
function resumeFlags<F extends CommonFlags>(name: string, c: Command, flags: F, dir: string): F {
  const plan = readPlan(dir);
  if (plan.experiment !== name) throw new ArgumentError(`${dir} holds the experiment "${plan.experiment}", not "${name}"`, `resume it with: fitlab experiment ${plan.experiment} --resume ${dir}`);
  const given = flags as unknown as Record<string, unknown>;
  for (const opt of c.options) {
    const key = opt.attributeName();
    if (NOT_PLANNED.includes(key) || c.getOptionValueSource(key) !== 'cli') continue;
    if (JSON.stringify(given[key]) !== JSON.stringify(plan.flags[key])) {
      const was = plan.flags[key] === undefined ? 'not set' : JSON.stringify(plan.flags[key]);
      throw new ArgumentError(`${opt.long ?? key} ${JSON.stringify(given[key])} conflicts with the experiment's plan (${was}) in ${dir}/plan.json`, '--resume continues with the options the experiment started with; drop the option');
    }
  }
  const now = Object.fromEntries(NOT_PLANNED.map((k) => [k, given[k]]));
  return { ...(plan.flags as unknown as F), ...now };
}

/** Ctrl-C: the first press stops after the current batch (its run checkpoints); a second quits at once. */
function interruptFlag(): { requested: () => boolean; dispose: () => void } {
  let requested = false;
  const handler = (): void => {
    if (requested) process.exit(130);
    requested = true;
    process.stderr.write('\nfitlab: stopping after this batch to save a checkpoint (press Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', handler);
  return { requested: () => requested, dispose: () => process.off('SIGINT', handler) };
}

type Runner<F> = (o: ExperimentOptions, flags: F) => Promise<Record<string, unknown>>;

/** The options every experiment takes, then its own; runs it and prints the table (or --json). */
export function experimentCommand<F extends CommonFlags>(parent: Command, name: string, description: string, run: Runner<F>, own: (c: Command) => Command = (c) => c, defaults: { repeats?: number } = {}): Command {
  const c = parent.command(name).description(description)
    .option('--out <dir>', 'parent folder of experiment directories', 'experiments')
    .addOption(new Option('--scale <scale>', "small: ≤ 10 minutes on 2 cores; full: the seed's setting").choices(['small', 'full']).default('small'))
    .option('--dataset <dataset>', 'dataset (default: the experiment\'s)')
    .option('--model <model>', 'model preset (default: the experiment\'s)')
    .option('--epochs <n>', 'epochs per run (default: by scale)', intOption('--epochs'))
    .option('--subset <n>', 'training examples per class (default: by scale)', intOption('--subset'))
    .option('--seed <n>', 'seed of the first repeat (repeat r uses seed + r)', intOption('--seed', 0), DEFAULT_SEED)
    .option('--repeats <n>', 'runs per configuration; tables show mean ± std', intOption('--repeats'), defaults.repeats ?? 1)
    .option('--data-dir <dir>', 'where to look for named datasets first')
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['native', 'reference', 'auto']))
    .option('--quiet', 'only the final table')
    .option('--json', 'print experiment.json (progress goes to stderr)')
    .option('--resume <dir>', 'continue an interrupted experiment in <dir> with the options it started with (its plan.json): finished runs are kept, the interrupted run resumes from its checkpoint, the rest start');
  queueOptions(c);
  own(c).action(async (given: F) => {
    const flags = given.resume ? resumeFlags(name, c, given, given.resume) : given;
    const out = makeOutput(flags);
    setupBackend(flags);
    const log = (line: string): void => {
      if (!flags.quiet) (out.jsonMode ? process.stderr : process.stdout).write(`${line}\n`);
    };
    // the thread count is part of the plan: a resumed experiment must train with the same one
    const threads = flags.threads ?? getBackend().threads;
    const plan = Object.fromEntries(Object.entries({ ...flags, threads }).filter(([k]) => !NOT_PLANNED.includes(k)));
    const interrupt = interruptFlag();
    const o: ExperimentOptions = {
      out: flags.out, scale: flags.scale, seed: flags.seed, repeats: flags.repeats, epochs: flags.epochs, dataset: flags.dataset,
      model: flags.model, dataDir: flags.dataDir, threads, subset: flags.subset, log,
      plan, resume: flags.resume, shouldInterrupt: interrupt.requested,
      progress: (line) => { if (!flags.quiet) process.stderr.write(`${line}\n`); },
    };
    try {
      const result = await withQueueExecutor(flags as QueueFlags, o, (q) => run(q, flags));
      if (out.jsonMode) out.json(result);
    } catch (err) {
      if (!(err instanceof ExperimentInterrupted)) throw err;
      const near = (p: string): string => {
        const r = relative(process.cwd(), p);
        return r && !r.startsWith('..') ? r : p;
      };
      out.always(`Interrupted at run ${err.index} of ${err.planned} (${err.label})${err.runDir ? `; its checkpoint is saved in ${near(err.runDir)}/checkpoint` : ', before it started'}`);
      out.always(`Resume with: fitlab experiment ${name} --resume ${near(err.dir)}`);
      process.exitCode = 130;
    } finally {
      interrupt.dispose();
    }
  });
  return c;
}

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description('the classic overfitting experiments, one command each, with a report (see `fitlab experiment <name> --help`)');
  exp.command('status').argument('<dir>', 'an experiment directory').description('which runs of an experiment are done, running, interrupted or left, and the time left estimated from measured epoch times')
    .option('--json', 'print the status as JSON')
    .action((dir: string, flags: { json?: boolean }) => printStatus(dir, Boolean(flags.json)));
  experimentCommand(exp, 'ladder', 'the regularization ladder on CIFAR-10: none → +max pooling → +dropout → +batch norm → +augmentation', (o) => ladder(o));
  experimentCommand(exp, 'simplify', 'overfit, then simplify: mlp-cifar underfits, overfit-cnn overfits, simplified-cnn generalizes; a harder task needs augmentation', (o) => simplify(o));
  experimentCommand<CommonFlags & { examples: number; steps: number; target: number; lr?: number }>(
    exp, 'overfit-batch', 'the capacity check: can the model memorize one batch? (pass/fail; exit code 4 on fail)',
    async (o, f) => {
      const result = await overfitBatch(o, { examples: f.examples, steps: f.steps, target: f.target, lr: f.lr });
      if (result.pass === false) process.exitCode = OVERFIT_BATCH_FAILED;
      return result;
    },
    (c) => c.option('--examples <n>', 'examples to memorize (rounded up to a whole number per class)', intOption('--examples'), 32)
      .option('--steps <n>', 'optimizer steps', intOption('--steps'), 200)
      .option('--target <fraction>', 'training accuracy that passes', numberOption('--target', 0, 1), 0.99)
      .option('--lr <rate>', 'Adam learning rate (default 1e-3)', numberOption('--lr', 0)),
  );
  experimentCommand<CommonFlags & { param: string; values?: number[]; folds: number }>(
    exp, 'sweep', 'grid search of a regularization hyperparameter with k-fold cross-validation: the validation curve and the best value; plus ridge regression closed form vs gradient descent vs Lasso',
    (o, f) => {
      if (!(SWEEP_PARAMS as readonly string[]).includes(f.param)) throw new ArgumentError(`--param must be one of ${SWEEP_PARAMS.join(', ')}; received ${JSON.stringify(f.param)}`);
      return sweep(o, { param: f.param as SweepParam, values: f.values, folds: f.folds });
    },
    (c) => c.option('--param <name>', `what to sweep: ${SWEEP_PARAMS.join(', ')}`, 'l2')
      .option('--values <list>', 'comma-separated values (default: a grid for the parameter)', numberList('--values'))
      .option('--folds <k>', 'k-fold cross-validation (0: a 20% hold-out)', intOption('--folds', 0), 3),
  );
  experimentCommand<CommonFlags & { sizes?: number[] }>(
    exp, 'data-size', 'learning curve: accuracy vs training-set size (log-spaced), where more data stops helping',
    (o, f) => dataSize(o, f.sizes),
    (c) => c.option('--sizes <list>', 'training examples per class, comma-separated', numberList('--sizes', true)),
  );
  experimentCommand<CommonFlags & { widths?: number[] }>(
    exp, 'capacity', 'capacity curve: training and test error vs MLP width (the bias-variance U; double descent if it shows)',
    (o, f) => capacity(o, f.widths),
    (c) => c.option('--widths <list>', 'hidden-layer widths, comma-separated', numberList('--widths', true)),
  );
  experimentCommand<CommonFlags & { fractions?: number[] }>(
    exp, 'random-labels', 'Zhang et al.: a fraction p of training labels random; training accuracy still reaches ~100%, test falls to chance',
    (o, f) => randomLabelsExperiment(o, f.fractions),
    (c) => c.option('--fractions <list>', 'fractions of random labels, comma-separated (default 0,0.2,0.5,1)', numberList('--fractions')),
  );
  experimentCommand<CommonFlags & { restartLr: number; restartBatch: number; restartEpochs?: number }>(
    exp, 'extreme', 'extreme overfitting points: memorize the test set with wrong labels; ~100% clean training, ~0% test, far from init; plain SGD restarts; the loss surface between a normal and an extreme solution',
    (o, f) => extreme(o, { lr: f.restartLr, batch: f.restartBatch, epochs: f.restartEpochs }),
    (c) => c.option('--restart-lr <rate>', 'learning rate of the plain SGD restarts from the extreme points', numberOption('--restart-lr', 0), 0.5)
      .option('--restart-batch <n>', 'batch size of the restarts (the gradient noise scale is lr / batch)', intOption('--restart-batch'), 32)
      .option('--restart-epochs <n>', 'epochs of each restart (default: 15 small, 40 full)', intOption('--restart-epochs')),
    { repeats: 3 },
  );
  experimentCommand<CommonFlags & { noise: number }>(
    exp, 'memorization', 'per-example tracking: forgetting events, never-learned examples, flagging injected label noise',
    (o, f) => memorization(o, f.noise),
    (c) => c.option('--noise <fraction>', 'fraction of training labels flipped', numberOption('--noise', 0, 1), 0.2),
  );
  experimentCommand(exp, 'bias-variance', 'bootstrap bias² + variance + noise vs polynomial degree on a known regression task, and the 0-1 loss decomposition (Domingos: bias, net variance, noise) for logistic regression on a known 2-class task: the U', (o) => biasVariance(o));
  experimentCommand(exp, 'early-stopping', 'the same run with EarlyStopping patience 0/3/10/∞ and restoreBestWeights on/off: epochs used vs final metric', (o) => earlyStoppingStudy(o));
}

function printStatus(dir: string, json: boolean): void {
  const s = experimentStatus(dir);
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const lines = [`${s.experiment} experiment in ${s.dir}: ${s.done} of ${s.planned} runs done${s.finished ? '; finished (report.html)' : ''}`];
  for (const r of s.runs) {
    const epochs = `${r.epochsDone}${r.epochs !== null ? `/${r.epochs}` : ''} epochs${r.epochSeconds !== null ? `, ${r.epochSeconds.toFixed(1)} s each` : ''}`;
    lines.push(`  run ${r.index} ${r.state.padEnd(11)} ${r.label} (seed ${r.seed}): ${epochs}  ${r.runDir}`);
  }
  if (s.left) lines.push(`  ${s.left} run${s.left === 1 ? '' : 's'} not started`);
  for (const d of s.stray) lines.push(`  ${d}: not part of the experiment (stopped before its first checkpoint)`);
  if (s.active) lines.push(`process ${s.active.pid} on ${s.active.host} is working on it (since ${s.active.since})`);
  else if (!s.finished) lines.push(`no process is working on it; continue with: fitlab experiment ${s.experiment} --resume ${dir}`);
  if (!s.finished) lines.push(`estimated time left: ${s.secondsLeft === null ? 'unknown' : `≈ ${duration(s.secondsLeft)}`} (${s.estimate})`);
  process.stdout.write(lines.join('\n') + '\n');
}
