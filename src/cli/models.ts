/** `fitlab summary`, `fitlab evaluate`, `fitlab predict`, `fitlab export`: working with saved models. */
import { Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getBackend } from '../backend/index.js';
import { exampleSize, type Dataset, type Split } from '../data/dataset.js';
import { loadDataset } from '../data/locate.js';
import { applyVal, parseVal } from '../data/splits.js';
import { ArgumentError, FitlabError } from '../errors.js';
import { DEFAULT_SEED } from '../tensor/streams.js';
import { writeUserFile } from '../io/atomic.js';
import { historyCsv } from '../io/history-csv.js';
import { RUN_FILES, readHistoryFile, readRunConfig } from '../io/run-dir.js';
import { h5Ready } from '../io/h5.js';
import { saveKeras } from '../io/keras-export.js';
import { kerasFileKind, readKeras, refuseMisnamedKeras } from '../io/keras.js';
import { prepareModelSource, resolveModelSource } from '../io/model-source.js';
import { checkDirTarget, checkFileTarget } from '../io/owned.js';
import { ONNX_OPSET, saveOnnx } from '../io/onnx.js';
import { modelFromTfjs, readTfjs, saveTfjs } from '../io/tfjs.js';
import { LossHead, parseLoss } from '../nn/losses.js';
import { ConfusionMatrix, argmaxRows } from '../nn/metrics.js';
import type { Model } from '../nn/model.js';
import { formatShape } from '../nn/shape.js';
import { modelFromSpec } from '../nn/spec.js';
import { summary } from '../nn/summary.js';
import { createOptimizer } from '../optim/optimizers.js';
import { Trainer } from '../train/fit.js';
import { fmt, intOption, makeOutput, pct, setupBackend, shapeOption } from './common.js';
import { IMAGE_INPUT_METHOD, describeScale, expandImageArgs, formatPrediction, predictImages, writePredictionsCsv } from './predict-images.js';

export interface LoadedModel {
  model: Model;
  /** model.json directory */
  dir: string;
  /** the run's config.json when the path was a run directory */
  run: Record<string, unknown> | null;
  /** said on stderr when the model used is not the one asked for */
  note: string | null;
}

/** A run directory (model-final/ by default), a TF.js model directory / model.json, or a Keras .keras / .h5 file. */
export async function loadSavedModel(path: string, which: 'final' | 'best' | 'initial', batchSize: number): Promise<LoadedModel> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new FitlabError(`${path} does not exist`);
  if (statSync(abs).isFile()) refuseMisnamedKeras(abs);
  if (statSync(abs).isFile() && kerasFileKind(abs)) {
    await h5Ready();
    return { model: modelFromTfjs(readKeras(abs), { batchSize, backend: getBackend() }), dir: abs, run: null, note: null };
  }
  let dir = abs;
  let run: Record<string, unknown> | null = null;
  let note: string | null = null;
  if (existsSync(join(abs, RUN_FILES.config))) {
    run = readRunConfig(abs);
    const sub = { final: RUN_FILES.modelFinal, best: RUN_FILES.modelBest, initial: RUN_FILES.modelInitial }[which];
    dir = join(abs, sub);
    if (!existsSync(join(dir, 'model.json'))) {
      const fallback = join(abs, RUN_FILES.modelBest);
      if (which === 'final' && existsSync(join(fallback, 'model.json'))) {
        dir = fallback;
        note = `fitlab: ${path} has no ${sub}/ (the run did not finish); using ${RUN_FILES.modelBest}/`;
      } else throw new FitlabError(`${path} has no ${sub}/model.json`, which === 'final' ? 'the run may not have finished; try --which best, or resume it' : undefined);
    }
  }
  const model = modelFromTfjs(readTfjs(dir), { batchSize, backend: getBackend() });
  if (note) process.stderr.write(`${note}\n`);
  return { model, dir, run, note };
}

function pickSplit(dataset: Dataset, split: string, val: string, seed: number): Split {
  if (split === 'test') {
    if (!dataset.test) throw new ArgumentError(`${dataset.name} has no test split`, 'use --split train or --split val');
    return dataset.test;
  }
  const per = exampleSize(dataset.shape);
  const parts = applyVal(dataset.train, parseVal(val), dataset.classes, per, seed);
  if (split === 'val') {
    if (!parts.val) {
      throw new ArgumentError(`--split val: there is no validation split (val = ${val}: the run held no examples out)`, 'use --split train or --split test');
    }
    return parts.val;
  }
  return parts.train;
}

interface EvalFlags {
  dataset?: string;
  dataDir?: string;
  split: string;
  which: 'final' | 'best' | 'initial';
  batchSize: number;
  threads?: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
  limit?: number;
  inputRange: '0-1' | '0-255';
}

/**
 * What the model is fed: pixels × dataset.scale (in [0, 1], as fitlab trains) or, for models
 * trained on raw pixels (many Keras MNIST examples skip the /255), × 255 of that.
 */
function inputScale(dataset: Dataset, range: EvalFlags['inputRange']): number {
  return range === '0-255' ? dataset.scale * 255 : dataset.scale;
}

async function evaluationContext(target: string, flags: EvalFlags): Promise<{ loaded: LoadedModel; dataset: Dataset; data: Split; trainer: Trainer }> {
  setupBackend(flags);
  const loaded = await loadSavedModel(target, flags.which, flags.batchSize);
  const runData = loaded.run?.dataset as { spec?: string; dataDir?: string | null; valSplit?: string } | undefined;
  const training = loaded.run?.training as { seed?: number; loss?: string } | undefined;
  const spec = flags.dataset ?? runData?.spec;
  if (!spec) throw new ArgumentError('--dataset is required for a model directory (a run directory remembers its dataset)');
  const dataset = await loadDataset(spec, { dataDir: flags.dataDir ?? runData?.dataDir ?? undefined });
  const data = pickSplit(dataset, flags.split, runData?.valSplit ?? '0.1', training?.seed ?? DEFAULT_SEED);
  const model = loaded.model;
  if (exampleSize(model.inputShape) !== exampleSize(dataset.shape)) {
    throw new ArgumentError(`the model takes ${formatShape(model.inputShape)} inputs but ${dataset.name} examples are ${formatShape(dataset.shape)}`);
  }
  const loss = new LossHead(model, parseLoss(training?.loss ?? 'sparse_categorical_crossentropy'));
  const trainer = new Trainer(model, loss, createOptimizer('sgd'), flags.batchSize);
  return { loaded, dataset, data, trainer };
}

const commonEvalOptions = (cmd: Command): Command =>
  cmd
    .option('--dataset <dataset>', 'dataset (default: the run\'s)')
    .option('--data-dir <dir>', 'where to look for named datasets first')
    .addOption(new Option('--split <split>', 'which examples').choices(['test', 'val', 'train']).default('test'))
    .addOption(new Option('--which <model>', 'for a run directory: which saved model').choices(['final', 'best', 'initial']).default('final'))
    .option('--batch-size <n>', 'examples per batch', intOption('--batch-size'), 256)
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['native', 'reference', 'auto']))
    .addOption(new Option('--input-range <range>', 'pixel range the model expects: 0-1 (fitlab runs, x/255) or 0-255 (models trained on raw pixels)').choices(['0-1', '0-255']).default('0-1'))
    .option('--json', 'machine-readable output');

export function registerModelCommands(program: Command): void {
  program
    .command('summary')
    .description('print the Keras-style summary of a model (layers, output shapes, parameter counts)')
    .requiredOption('--model <model>', 'preset name, JSON spec file, TF.js/Keras model.json, or Keras .keras/.h5 file')
    .option('--input <shape>', 'input shape for presets, e.g. 28,28,1', shapeOption('--input'))
    .option('--classes <n>', 'output classes for presets', intOption('--classes', 2))
    .option('--json', 'machine-readable output')
    .action(async (flags: { model: string; input?: number[]; classes?: number; json?: boolean }) => {
      const out = makeOutput(flags);
      await prepareModelSource(flags.model);
      const src = resolveModelSource(flags.model, { input: flags.input, classes: flags.classes });
      const model = modelFromSpec(src.spec, `--model ${flags.model}`);
      model.build({ batchSize: 1 });
      if (out.jsonMode) {
        const c = model.countParams();
        out.json({
          model: model.name,
          input: model.inputShape,
          layers: model.layers.map((l) => ({ name: l.name, type: l.className, outputShape: l.outputShape, params: l.countParams().trainable + l.countParams().nonTrainable })),
          totalParams: c.total, trainableParams: c.trainable, nonTrainableParams: c.nonTrainable,
        });
      } else {
        out.info(summary(model));
      }
    });

  commonEvalOptions(
    program
      .command('evaluate <model>')
      .description('loss and accuracy of a run (or TF.js model directory) on a dataset split (test by default)'),
  ).action(async (target: string, flags: EvalFlags) => {
    const out = makeOutput(flags);
    const { dataset, data, trainer } = await evaluationContext(target, flags);
    const r = trainer.evaluate(data, inputScale(dataset, flags.inputRange));
    if (out.jsonMode) out.json({ loss: r.loss, accuracy: r.accuracy, examples: data.y.length, split: flags.split, dataset: dataset.name });
    else out.info(`${dataset.name} ${flags.split} (${data.y.length.toLocaleString('en-US')} examples): loss ${fmt(r.loss)}, accuracy ${pct(r.accuracy)}`);
  });

  commonEvalOptions(
    program
      .command('predict <model> [images...]')
      .description('class predictions of a run (or TF.js / Keras model): for your own PNG/JPEG files and folders, or for dataset examples with a confusion matrix'),
  )
    .option('--limit <n>', 'dataset examples to list', intOption('--limit'), 10)
    .option('--top <k>', 'classes listed per picture', intOption('--top', 1), 3)
    .option('--csv <file>', 'also write the pictures\' predictions as CSV (an existing file only with --force)')
    .option('--force', 'replace an existing --csv file')
    .action(async (target: string, images: string[], flags: PredictFlags) => {
      if (images.length) await predictOnImages(target, images, flags);
      else await predictOnDataset(target, flags);
    });

  program
    .command('export <model>')
    .description('write a run\'s model (or a model file) as TF.js Layers (model.json + weight shards), ONNX (opset 13) or Keras 3 (.keras); or a run\'s history as CSV')
    .addOption(new Option('--format <format>', 'output format (csv: the run\'s history.jsonl as Keras CSVLogger writes it)').choices(['tfjs', 'onnx', 'keras', 'csv']).default('tfjs'))
    .requiredOption('--out <path>', 'tfjs: a new or empty folder (written atomically); onnx, keras, csv: a new file (csv: - for standard output)')
    .option('--force', 'replace what fitlab exported there before (a TF.js folder it wrote, or an existing --out file)')
    .addOption(new Option('--which <model>', 'for a run directory: which saved model').choices(['final', 'best', 'initial']).default('final'))
    .option('--json', 'machine-readable output')
    .action(async (target: string, flags: { out: string; format: 'tfjs' | 'onnx' | 'keras' | 'csv'; which: 'final' | 'best' | 'initial'; force?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      if (flags.format === 'csv') {
        exportHistoryCsv(target, flags.out, flags.force ?? false, out);
        return;
      }
      const dest = resolve(flags.out);
      if (flags.format === 'keras') {
        checkFileTarget(dest, { force: flags.force, label: '--out' });
        const { model } = await loadSavedModel(target, flags.which, 1);
        await h5Ready();
        const bytes = saveKeras(model, dest, { force: flags.force });
        if (out.jsonMode) out.json({ out: dest, format: 'keras', bytes, params: model.countParams().total });
        else out.info(`wrote ${dest} (Keras 3 .keras layout; load with keras.saving.load_model)`);
        return;
      }
      if (flags.format === 'onnx') {
        // a single file carries no ownership marker: an existing one is replaced only with --force
        checkFileTarget(dest, { force: flags.force, label: '--out' });
        const { model } = await loadSavedModel(target, flags.which, 1);
        const bytes = saveOnnx(model, dest, { force: flags.force });
        if (out.jsonMode) out.json({ out: dest, format: 'onnx', opset: ONNX_OPSET, bytes, params: model.countParams().total });
        else out.info(`wrote ${dest} (ONNX opset ${ONNX_OPSET}; input and output NHWC like fitlab's)`);
        return;
      }
      // the user named this folder: it is replaced only if fitlab exported a model there (src/io/owned.ts)
      const target2 = { own: false, force: flags.force, label: '--out' };
      checkDirTarget(dest, { ...target2, kind: 'tfjs-model' });
      const { model } = await loadSavedModel(target, flags.which, 1);
      saveTfjs(model, dest, {}, target2);
      if (out.jsonMode) out.json({ out: dest, format: 'tfjs', params: model.countParams().total });
      else out.info(`wrote ${join(dest, 'model.json')} (TF.js Layers format; load with tf.loadLayersModel)`);
    });
}

/** `fitlab export <run> --format csv`: the run's history.jsonl as CSV, to a new file or stdout (-). */
function exportHistoryCsv(target: string, outPath: string, force: boolean, out: ReturnType<typeof makeOutput>): void {
  const dir = resolve(target);
  const file = join(dir, RUN_FILES.history);
  if (!existsSync(join(dir, RUN_FILES.config)) || !existsSync(file)) {
    throw new ArgumentError(`--format csv exports a run's history; ${target} is not a run directory with ${RUN_FILES.history}`, 'pass a folder under runs/ that a training wrote');
  }
  const logs = readHistoryFile(file);
  const text = historyCsv(logs);
  if (outPath === '-') {
    process.stdout.write(text);
    return;
  }
  const dest = resolve(outPath);
  // a single file carries no ownership marker: an existing one is replaced only with --force
  writeUserFile(dest, text, { force, label: '--out' });
  if (out.jsonMode) out.json({ out: dest, format: 'csv', epochs: logs.length });
  else out.info(`wrote ${dest} (${logs.length} epoch${logs.length === 1 ? '' : 's'} of ${RUN_FILES.history} as CSV)`);
}

interface PredictFlags extends EvalFlags {
  top: number;
  csv?: string;
  force?: boolean;
}

async function predictOnDataset(target: string, flags: PredictFlags): Promise<void> {
  const out = makeOutput(flags);
  const { dataset, data, trainer } = await evaluationContext(target, flags);
  const probs = trainer.predict(data.x, inputScale(dataset, flags.inputRange));
  const k = dataset.classes;
  const n = data.y.length;
  const pred = argmaxRows(probs, n, k);
  const cm = new ConfusionMatrix(k);
  cm.add(data.y, pred);
  const limit = Math.min(flags.limit ?? 10, n);
  const rows = Array.from({ length: limit }, (_, i) => ({
    index: i, actual: data.y[i], predicted: pred[i], confidence: probs[i * k + pred[i]],
    actualName: dataset.classNames[data.y[i]], predictedName: dataset.classNames[pred[i]],
  }));
  if (out.jsonMode) {
    out.json({ dataset: dataset.name, split: flags.split, examples: n, accuracy: cm.accuracy(), predictions: rows, confusionMatrix: cm.toRows(), classNames: dataset.classNames });
    return;
  }
  out.info(`${dataset.name} ${flags.split}: accuracy ${pct(cm.accuracy())} on ${n.toLocaleString('en-US')} examples`);
  for (const r of rows) {
    out.info(`  #${r.index}: actual ${r.actualName} / predicted ${r.predictedName} (${pct(r.confidence)})${r.actual === r.predicted ? '' : '  ✗'}`);
  }
  printConfusion(out, cm, dataset.classNames);
}

/**
 * The matrix with class names in full: when every name fits its column, the columns carry the
 * names; otherwise the rows are numbered ("3 Dress") and the columns carry those numbers, so no
 * header is cut to "T-s…".
 */
function printConfusion(out: ReturnType<typeof makeOutput>, cm: ConfusionMatrix, names: string[]): void {
  const k = names.length;
  const label = (i: number): string => names[i] ?? String(i);
  const w = Math.max(5, ...cm.counts.map((c) => String(c).length + 1));
  const fits = Array.from({ length: k }, (_, j) => label(j).length <= w - 1).every(Boolean);
  const row = (i: number): string => (fits ? label(i) : `${String(i).padStart(String(k - 1).length)} ${label(i)}`);
  const rowW = Math.max(3, ...Array.from({ length: k }, (_, i) => row(i).length));
  out.info(`confusion matrix (rows: actual, columns: predicted${fits ? '' : ', numbered as the rows'}):`);
  out.info(`  ${' '.repeat(rowW)} ${Array.from({ length: k }, (_, j) => (fits ? label(j) : String(j)).padStart(w)).join('')}`);
  cm.toRows().forEach((r, i) => out.info(`  ${row(i).padEnd(rowW)} ${r.map((c) => String(c).padStart(w)).join('')}`));
}

/** Class names and input scale for pictures: the run's, else --dataset's, else class indices. */
async function pictureContext(loaded: LoadedModel, flags: PredictFlags): Promise<{ classNames: string[]; scale: number }> {
  const runData = loaded.run?.dataset as { classNames?: unknown; inputScale?: unknown } | undefined;
  let classNames = Array.isArray(runData?.classNames) ? runData.classNames.map(String) : null;
  let scale = typeof runData?.inputScale === 'number' ? runData.inputScale : 1 / 255;
  if (!classNames && flags.dataset) {
    const ds = await loadDataset(flags.dataset, { dataDir: flags.dataDir });
    classNames = ds.classNames;
    scale = ds.scale;
  }
  if (flags.inputRange === '0-255') scale *= 255;
  return { classNames: classNames ?? Array.from({ length: loaded.model.outputSize }, (_, i) => String(i)), scale };
}

async function predictOnImages(target: string, images: string[], flags: PredictFlags): Promise<void> {
  const out = makeOutput(flags);
  setupBackend(flags);
  const loaded = await loadSavedModel(target, flags.which, 1);
  const { classNames, scale } = await pictureContext(loaded, flags);
  const { files, folders } = expandImageArgs(images);
  if (files.length === 0) throw new ArgumentError(`no PNG or JPEG files in ${images.map((i) => JSON.stringify(i)).join(', ')}`);
  const { predictions, errors } = predictImages(loaded.model, files, { scale, classNames, top: flags.top });
  for (const e of errors) process.stderr.write(`fitlab: error: ${e}\n`);
  if (flags.csv) writePredictionsCsv(resolve(flags.csv), predictions, flags.top, flags.force ?? false);
  if (out.jsonMode) {
    out.json({ model: target, input: loaded.model.inputShape, inputScale: scale, method: IMAGE_INPUT_METHOD, predictions, errors });
  } else {
    out.info(`${files.length} picture${files.length === 1 ? '' : 's'} → ${loaded.model.inputShape.join('×')} (${IMAGE_INPUT_METHOD}; ${describeScale(scale)})`);
    for (const p of predictions) out.info(formatPrediction(p, process.cwd()));
    if (flags.csv) out.info(`wrote ${resolve(flags.csv)}`);
    else if (folders) out.info('(pass --csv <file> to save these predictions as CSV)');
  }
  if (errors.length) process.exitCode = 1;
}
