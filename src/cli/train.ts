/** `fitlab train`: train a model on a dataset into a run directory (or resume one). */
import { Command, InvalidArgumentError, Option } from 'commander';
import { relative } from 'node:path';
import { diagnosisText } from '../diagnose/text.js';
import { ArgumentError } from '../errors.js';
import { RUN_FIELDS, type RunField, type TrainRunConfig, flagAttribute, parseFieldText, setField } from '../io/run-config.js';
import { type RunHooks, type TrainRunResult, describeCheckpointAt, resumeRun, trainRun } from '../run/train-run.js';
import { stopFailed } from '../train/callbacks.js';
import { type Output, fmt, intOption, makeOutput, pct, setupBackend } from './common.js';
import { TrainingProgress } from './progress.js';
import { reportLine } from './open-report.js';
import { trainWithDashboard } from './serve.js';

/** How to run (the run's own fields are RUN_FIELDS, read into a TrainRunConfig by trainConfig). */
interface TrainFlags extends Record<string, unknown> {
  model?: string;
  dataset?: string;
  epochs?: number;
  threads?: number;
  out: string;
  backend?: string;
  resume?: string;
  allowDataChange?: boolean;
  quiet?: boolean;
  json?: boolean;
  serve?: boolean;
  port: number;
  host: string;
  token: boolean;
  maxRuns: number;
}

/** The commander option of a run field: its flag, help, default and parser, all from the table. */
function runOption(f: RunField & { flag: string }): Option {
  // a choice the help text does not already list is listed, as commander's choices() would
  const t = f.type;
  const listed = t.kind !== 'choice' || t.choices.length < 2 || t.choices.every((c) => f.help.includes(c));
  const o = new Option(f.arg ? `${f.flag} ${f.arg}` : f.flag, listed ? f.help : `${f.help} (choices: ${t.choices.join(', ')})`);
  if (!f.arg) return o;
  o.argParser((text: string) => {
    try {
      return parseFieldText(f, text);
    } catch (err) {
      if (err instanceof ArgumentError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  });
  // epochs stays unset: with --resume it means "the new total", without it the table's default
  if (f.default !== undefined && f.default !== null && f.key !== 'epochs') o.default(f.default);
  return o;
}

/** Every run field that has a flag, as commander options (in the table's order). */
export function addRunOptions(command: Command): Command {
  for (const f of RUN_FIELDS) if (f.flag) command.addOption(runOption(f as RunField & { flag: string }));
  return command;
}

/** The TrainRunConfig the flags describe (a new run): each run field's flag, in the table's shape. */
function trainConfig(flags: TrainFlags): TrainRunConfig {
  if (!flags.model) throw new ArgumentError('--model is required', 'e.g. --model paper-mlp (see `fitlab summary --help` for presets)');
  if (!flags.dataset) throw new ArgumentError('--dataset is required', 'e.g. --dataset fashion-mnist, --dataset spirals or --dataset path/to/folder');
  const config = {} as TrainRunConfig;
  for (const f of RUN_FIELDS) {
    if (!f.flag) continue;
    const v = flags[flagAttribute(f.flag)];
    if (v !== undefined) setField(config, f.key, v);
    else if (f.default !== undefined) setField(config, f.key, f.default);
  }
  return config;
}

/**
 * The TrainRunConfig that `fitlab train <args>` would train (a new run; no side effects): the
 * same options, parsers and defaults as the command. The round-trip test reads commands with it.
 */
export function trainConfigFromArgs(args: string[]): TrainRunConfig {
  const command = addRunOptions(new Command('train')).exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  command.parse(args, { from: 'user' });
  return trainConfig(command.opts<TrainFlags>());
}

/** Ctrl-C: the first press stops after the current batch and saves a checkpoint. */
function interruptFlag(out: Output): { requested: () => boolean; dispose: () => void } {
  let requested = false;
  const handler = (): void => {
    if (requested) process.exit(130);
    requested = true;
    out.info('\nfitlab: stopping after this batch to save a checkpoint (press Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', handler);
  return { requested: () => requested, dispose: () => process.off('SIGINT', handler) };
}

export function reportRun(out: Output, r: TrainRunResult): void {
  const near = relative(process.cwd(), r.runDir);
  const rel = near && !near.startsWith('..') ? near : r.runDir;
  if (r.interrupted) {
    out.always(`Interrupted at epoch ${r.epochsRun + 1}. Checkpoint saved in ${rel}/checkpoint`);
    out.always(`Resume with: fitlab train --resume ${rel}`);
    return;
  }
  const failed = stopFailed(r.stopCause);
  if (r.stopReason) out.always(`${failed ? 'Training stopped' : 'Stopped'}: ${r.stopReason}`);
  if (failed) {
    // what checkpoint/ really holds (a NaN never overwrites it; a resumed run starts from its own)
    out.always(`The last good checkpoint is ${describeCheckpointAt(r.checkpointAt)} (${rel}/checkpoint); model-final/ was not written.`);
    out.always('Try a smaller learning rate; see `fitlab diagnose ' + rel + '`.');
  }
  const f = r.final;
  out.always('');
  out.always(`${r.model} on ${r.dataset}: ${r.epochsRun} epochs in ${r.wallSeconds.toFixed(1)}s (median ${fmt(r.epochSeconds, 2)}s per epoch)`);
  if (f) out.always(`  final: loss ${fmt(f.loss)}, accuracy ${pct(f.accuracy)}${f.val_loss !== undefined ? `, val_loss ${fmt(f.val_loss)}, val_accuracy ${pct(f.val_accuracy)}` : ''}`);
  if (r.best && r.best.val_loss !== undefined) out.always(`  best epoch ${r.best.epoch + 1}: val_loss ${fmt(r.best.val_loss)}, val_accuracy ${pct(r.best.val_accuracy)}`);
  if (r.test) out.always(`  test: loss ${fmt(r.test.loss)}, accuracy ${pct(r.test.accuracy)}`);
  if (r.diagnosis) out.always(diagnosisText(r.diagnosis, { advice: 2, counterfactuals: false }));
  out.always(`  run directory: ${rel}   (fitlab diagnose ${rel} for the full report)`);
  const report = reportLine(r.runDir);
  if (report) out.always(report);
}

export function runJson(r: TrainRunResult): Record<string, unknown> {
  return {
    runDir: r.runDir,
    model: r.model,
    dataset: r.dataset,
    epochsRun: r.epochsRun,
    // every epoch number a user reads counts from 1 (Keras' "Epoch 1/…"); the field says so
    epochBase: 1,
    bestEpoch: r.bestEpoch,
    final: r.final,
    best: r.best,
    ...(r.test ? { test: r.test } : {}),
    wallSeconds: r.wallSeconds,
    epochSeconds: r.epochSeconds,
    stopReason: r.stopReason,
    interrupted: r.interrupted,
    ...(r.diagnosis ? { diagnosis: { regime: r.diagnosis.regime, onsetEpoch: r.diagnosis.onsetEpoch, bestEpoch: r.diagnosis.bestEpoch, summary: r.diagnosis.summary } } : {}),
  };
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('train a model on a dataset; writes runs/<time>-<name>/ (config, history, checkpoints, TF.js models)');
  addRunOptions(command)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['native', 'reference', 'auto']))
    .option('--resume <run-dir>', 'continue a run from its checkpoint (same data, split and seed)')
    .option('--allow-data-change', 'with --resume: continue even though the data differs from what the run started with (its fingerprint in config.json)')
    .option('--serve', 'train in the live dashboard (a local web page; see `fitlab serve`)')
    .option('--port <n>', 'with --serve: the dashboard\'s port', intOption('--port', 0), 6006)
    .option('--host <host>', 'with --serve: the address to bind', '127.0.0.1')
    .option('--no-token', 'with --serve: the page\'s state changes need no token (see `fitlab serve --help`)')
    .option('--max-runs <n>', 'with --serve: runs that may train at once, this one included', intOption('--max-runs', 1), 2)
    .option('--quiet', 'no progress output')
    .option('--json', 'print one JSON object with the results (progress goes to stderr)')
    .addHelpText('after', `
Examples:
  fitlab train --model paper-mlp --dataset fashion-mnist --epochs 3
  fitlab train --model lecture-cnn --dataset ~/data/cifar10 --optimizer adamw --batch-size 200 --epochs 40
  fitlab train --model my-cnn.json --dataset mnist --early-stopping 5
  fitlab train --resume runs/20261123-101500-paper-mlp-mnist --epochs 20`)
    .action(async (flags: TrainFlags) => {
      const out = makeOutput(flags);
      setupBackend(flags);
      if (flags.serve) {
        const dash = { port: flags.port, host: flags.host, runs: flags.out, experiments: 'experiments', token: flags.token, maxRuns: flags.maxRuns };
        const log = (l: string): void => out.always(l);
        process.exitCode = await trainWithDashboard(flags.resume ? { resume: flags.resume, epochs: flags.epochs } : trainConfig(flags), dash, log);
        return;
      }
      const progress = new TrainingProgress(out.jsonMode ? process.stderr : process.stdout, Boolean(flags.quiet), (l) => out.info(l));
      const interrupt = interruptFlag(out);
      const hooks: RunHooks = {
        log: (l) => out.info(l),
        onBatch: (i) => progress.onBatch(i),
        onEpoch: (l, n) => progress.onEpoch(l, n),
        shouldInterrupt: interrupt.requested,
      };
      let result: TrainRunResult;
      try {
        if (flags.resume) {
          if (flags.model || flags.dataset) throw new ArgumentError('--resume continues a run with its own model and dataset; drop --model and --dataset');
          result = await resumeRun(flags.resume, hooks, { epochs: flags.epochs, threads: flags.threads, allowDataChange: flags.allowDataChange });
        } else {
          if (flags.allowDataChange) throw new ArgumentError('--allow-data-change only applies with --resume <run-dir>');
          result = await trainRun(trainConfig(flags), hooks);
        }
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      reportRun(out, result);
      if (out.jsonMode) out.json(runJson(result));
      if (result.interrupted) process.exitCode = 130;
      else if (stopFailed(result.stopCause)) process.exitCode = 3;
    });
}
