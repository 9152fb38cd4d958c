/** `fitlab train`: train a model on a dataset into a run directory (or resume one). */
import { Command, Option } from 'commander';
import { relative } from 'node:path';
import { diagnosisText } from '../diagnose/text.js';
import { ArgumentError } from '../errors.js';
import { type DataTools, type RunHooks, type TrainRunConfig, type TrainRunResult, describeCheckpointAt, resumeRun, trainRun } from '../run/train-run.js';
import { type Output, fmt, intOption, makeOutput, numberOption, pct, setupBackend, shapeOption } from './common.js';
import { TrainingProgress } from './progress.js';
import { trainWithDashboard } from './serve.js';

interface TrainFlags {
  model?: string;
  dataset?: string;
  dataDir?: string;
  epochs?: number;
  batchSize: number;
  optimizer: string;
  lr?: number;
  loss: string;
  seed: number;
  threads?: number;
  backend?: string;
  val: string;
  earlyStopping?: number;
  monitor?: string;
  checkpoint: 'best' | 'none';
  shuffle: boolean;
  out: string;
  name?: string;
  input?: number[];
  classes?: number;
  classWeight?: string;
  augment?: string;
  labels?: 'fine' | 'coarse';
  download?: boolean;
  subset?: number;
  imbalance?: string;
  labelNoise?: number;
  randomLabels?: number;
  corruptTest?: string;
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

/** The dataset-tool flags as a DataTools object, or undefined when none is given. */
function dataTools(flags: TrainFlags): DataTools | undefined {
  const tools: DataTools = {};
  if (flags.subset !== undefined) tools.subset = flags.subset;
  if (flags.imbalance !== undefined) {
    const ratios = flags.imbalance.split(',').map((t) => Number(t.trim()));
    const bad = ratios.findIndex((r) => !Number.isFinite(r) || r < 0 || r > 1);
    if (flags.imbalance.trim() === '' || bad >= 0) {
      throw new ArgumentError(`--imbalance takes comma-separated fractions in [0, 1], one per class; received ${JSON.stringify(flags.imbalance)}`);
    }
    tools.imbalance = ratios;
  }
  if (flags.labelNoise !== undefined) tools.labelNoise = flags.labelNoise;
  if (flags.randomLabels !== undefined) tools.randomLabels = flags.randomLabels;
  if (flags.corruptTest !== undefined) {
    const v = flags.corruptTest.trim();
    const n = Number(v);
    if (v !== 'auto' && !(Number.isInteger(n) && n >= 1)) {
      throw new ArgumentError(`--corrupt-test takes a whole number of copies >= 1 or 'auto'; received ${JSON.stringify(flags.corruptTest)}`);
    }
    tools.corruptTest = v === 'auto' ? 'auto' : n;
  }
  return Object.keys(tools).length > 0 ? tools : undefined;
}

/** The TrainRunConfig the flags describe (a new run). */
function trainConfig(flags: TrainFlags): TrainRunConfig {
  if (!flags.model) throw new ArgumentError('--model is required', 'e.g. --model paper-mlp (see `fitlab summary --help` for presets)');
  if (!flags.dataset) throw new ArgumentError('--dataset is required', 'e.g. --dataset fashion-mnist, --dataset spirals or --dataset path/to/folder');
  if (flags.classWeight !== undefined && flags.classWeight !== 'balanced') {
    throw new ArgumentError(`--class-weight must be 'balanced'; received ${JSON.stringify(flags.classWeight)}`);
  }
  let optimizer: string | Record<string, unknown> = flags.optimizer;
  if (flags.optimizer.trim().startsWith('{')) {
    try {
      optimizer = JSON.parse(flags.optimizer) as Record<string, unknown>;
    } catch (err) {
      throw new ArgumentError(`--optimizer looks like JSON but does not parse: ${(err as Error).message}`);
    }
  }
  return {
    model: flags.model, dataset: flags.dataset, dataDir: flags.dataDir, epochs: flags.epochs ?? 10,
    batchSize: flags.batchSize, optimizer, lr: flags.lr, loss: flags.loss, seed: flags.seed,
    threads: flags.threads, val: flags.val, earlyStopping: flags.earlyStopping ?? null, monitor: flags.monitor,
    checkpoint: flags.checkpoint, shuffle: flags.shuffle, out: flags.out, name: flags.name, input: flags.input,
    classes: flags.classes, classWeight: flags.classWeight === 'balanced' ? 'balanced' : null,
    augment: flags.augment ?? null, labels: flags.labels, download: flags.download,
    tools: dataTools(flags),
  };
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
  const failed = r.stopReason !== null && !/early stopping/.test(r.stopReason);
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
  program
    .command('train')
    .description('train a model on a dataset; writes runs/<time>-<name>/ (config, history, checkpoints, TF.js models)')
    .option('--model <model>', 'preset name, JSON spec file, or TF.js/Keras model.json')
    .option('--dataset <dataset>', 'mnist, fashion-mnist, a synthetic set (spirals, moons, circles, xor, blobs, shapes) or a folder')
    .option('--data-dir <dir>', 'where to look for named datasets first (also FITLAB_DATA)')
    .option('--epochs <n>', 'epochs to train (default 10; with --resume: the new total)', intOption('--epochs'))
    .option('--batch-size <n>', 'examples per batch', intOption('--batch-size'), 32)
    .option('--optimizer <name|json>', 'sgd, adam, adamw, nadam or rmsprop (Keras defaults), or a JSON config such as \'{"name":"sgd","momentum":0.9,"learningRate":{"kind":"cosine","initial":0.1,"decaySteps":5000}}\'', 'adam')
    .option('--lr <rate>', 'learning rate (default: the optimizer\'s)', numberOption('--lr', 0))
    .option('--loss <name>', 'sparse_categorical_crossentropy, categorical_crossentropy or mse', 'sparse_categorical_crossentropy')
    .option('--seed <n>', 'seed of initialization, shuffling, dropout and splits', intOption('--seed', 0), 42)
    .option('--threads <n>', 'kernel threads (default FITLAB_THREADS or all cores)', intOption('--threads'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['native', 'reference', 'auto']))
    .option('--val <split>', 'validation: a fraction (stratified, seeded), first:N, last:F (Keras validation_split), or 0', '0.1')
    .option('--early-stopping <patience>', 'stop after this many epochs without improvement; restores the best weights', intOption('--early-stopping', 0))
    .option('--monitor <metric>', 'metric for early stopping and --checkpoint best (default val_loss, or loss without validation)')
    .addOption(new Option('--checkpoint <which>', 'keep model-best/ (the best epoch by the monitored metric)').choices(['best', 'none']).default('best'))
    .option('--no-shuffle', 'visit training examples in order every epoch')
    .option('--out <dir>', 'parent folder of run directories', 'runs')
    .option('--name <name>', 'run name (default <model>-<dataset>)')
    .option('--input <shape>', 'input shape for presets, e.g. 28,28,1 (default: the dataset\'s)', shapeOption('--input'))
    .option('--classes <n>', 'output classes for presets (default: the dataset\'s)', intOption('--classes', 2))
    .option('--class-weight <mode>', "'balanced': weight each class by n / (classes × count)")
    .option('--augment <preset|json>', "augment training images: digits, fashion, cifar10, crop-flip, auto (by dataset), or an ImageDataGenerator-style JSON object")
    .addOption(new Option('--labels <which>', 'CIFAR-100 label set').choices(['fine', 'coarse']))
    .option('--download', 'download the dataset from its canonical source if it is not found locally (checksums verified)')
    .option('--subset <n>', 'keep N training examples per class (seeded; validation and test stay whole)', intOption('--subset'))
    .option('--imbalance <ratios>', 'keep a fraction of each class\'s training examples, e.g. 1,1,0.1,... (one per class)')
    .option('--label-noise <fraction>', 'give this fraction of training labels a different, wrong class', numberOption('--label-noise', 0, 1))
    .option('--random-labels <fraction>', 'draw this fraction of training labels uniformly at random (1: all)', numberOption('--random-labels', 0, 1))
    .option('--corrupt-test <copies>', "append the test set with every label wrong, N times or 'auto' (about the training size): extreme overfitting points")
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
      else if (result.stopReason && !/early stopping/.test(result.stopReason)) process.exitCode = 3;
    });
}
