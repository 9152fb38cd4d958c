/**
 * A training run end to end — dataset, model, split, run directory, callbacks, checkpoints,
 * final export and test evaluation — shared by `fitlab train`, the experiments and the
 * dashboard. Output goes through hooks, so callers decide what the user sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../backend/index.js';
import { type Dataset, type Split, classCounts, describeDataset, describeShape, exampleSize } from '../data/dataset.js';
import { type LocateOptions, loadDataset } from '../data/locate.js';
import { type ValSpec, applyVal, formatVal, parseVal } from '../data/splits.js';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { type DataTools, type Naming, RUN_CONFIG_SCHEMA, type ResolvedConfig, type TrainRunConfig, checkRunConfig, fieldName, runField } from '../io/run-config.js';
import { readRunConfigFile } from '../io/run-config-file.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, weightsFinite, writeHistory, writeRunConfig, createRunDir, RUN_FILES, toJson } from '../io/run-dir.js';
import { prepareModelSource, resolveModelSource } from '../io/model-source.js';
import { checkStateFitsModel } from '../io/checkpoint-check.js';
import { type DataFingerprint, dataFingerprint, describeDataChange } from '../io/integrity.js';
import { applyWeights, readTfjs, saveTfjs } from '../io/tfjs.js';
import { sweepAllStaleTemps, writeFileAtomic } from '../io/atomic.js';
import { lockRun } from '../io/run-lock.js';
import { WriteError } from '../io/write-error.js';
import { LossHead, type LossSpec, parseLoss } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import { formatShape } from '../nn/shape.js';
import { type ModelSpec, modelFromSpec } from '../nn/spec.js';
import { createOptimizer } from '../optim/optimizers.js';
import { type BatchLog, type Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, type StopCause, TerminateOnNaN, stopFailed } from '../train/callbacks.js';
import { Trainer, type TrainingState } from '../train/fit.js';
import type { EpochLog } from '../train/history.js';
import { packageVersion } from '../util/paths.js';
import { parseAugment } from '../data/augment.js';
import { fillBatch } from '../data/dataset.js';
import { subsetPerClass } from '../data/transforms.js';
import { WeightTracker } from '../diagnose/weights.js';
import { applyTools, checkShapes } from './build.js';
import { readWeightsLog, writeRunReport, writeWeightsLog } from '../diagnose/run-report.js';
import { type Diagnosis, diagnose } from '../diagnose/diagnose.js';
import { contextFromRunConfig } from '../diagnose/context.js';

export type { DataTools, ResolvedConfig, TrainRunConfig } from '../io/run-config.js';
export { applyTools } from './build.js';


export interface RunHooks {
  /** a line of human-readable output */
  log?: (line: string) => void;
  onBatch?: (info: { epoch: number; batch: number; batches: number; epochs: number; logs: BatchLog }) => void;
  onEpoch?: (log: EpochLog, epochs: number) => void;
  /** polled after every batch: true saves a checkpoint and returns */
  shouldInterrupt?: () => boolean;
  /** the live objects, once the run directory exists and before the first batch (the dashboard) */
  onStart?: (run: LiveRun) => void;
  /** awaited after every batch, after onBatch: the dashboard pauses and applies knobs here */
  afterBatch?: (info: { epoch: number; batch: number; batches: number }) => void | Promise<void>;
  /** after training and the test evaluation, with the trained model (experiments measure more) */
  afterTraining?: (ctx: { model: Model; trainer: Trainer; dataset: Dataset; train: Split; val: Split | null }) => void;
}

/** What the dashboard's worker reads and adjusts while a run trains. */
export interface LiveRun {
  runDir: string;
  model: Model;
  trainer: Trainer;
  dataset: Dataset;
  train: Split;
  val: Split | null;
  resolved: ResolvedConfig;
}

export interface TrainRunResult {
  runDir: string;
  epochsRun: number;
  /** epoch with the lowest val_loss (or loss), counted from 1 as Keras prints it (summary.json says epochBase: 1) */
  bestEpoch: number | null;
  final: EpochLog | null;
  best: EpochLog | null;
  test: { loss: number; accuracy: number } | null;
  wallSeconds: number;
  /** median seconds per epoch */
  epochSeconds: number | null;
  stopReason: string | null;
  /** the kind of stop (never match stopReason's words): exit codes and the final save follow it */
  stopCause: StopCause | null;
  interrupted: boolean;
  history: EpochLog[];
  dataset: string;
  model: string;
  /** the diagnosis of the finished run (also in diagnosis.json), null when interrupted */
  diagnosis: Diagnosis | null;
  /** epoch of the newest checkpoint with finite weights (null: only the initial one) */
  lastGoodEpoch: number | null;
  /** where checkpoint/ really stands: finished epochs, and the next batch when it was saved
   *  inside an epoch (Ctrl-C); { epochs: 0, batch: 0 } is the initial state */
  checkpointAt: { epochs: number; batch: number };
  /** training examples after the validation split and the dataset tools */
  trainExamples: number;
  /** the model's parameter count */
  params: number;
}

function balancedWeights(y: Int32Array, classes: number): Record<number, number> {
  const counts = classCounts(y, classes);
  const w: Record<number, number> = {};
  counts.forEach((c, k) => {
    w[k] = c ? y.length / (classes * c) : 0;
  });
  return w;
}

/**
 * A run as planned: its config checked field by field (RUN_FIELDS: one range each) and its
 * defaults applied. Pure — nothing loaded, nothing built, no directory — so a wrong value costs
 * neither a download nor a training; instantiate() then makes the run's objects once.
 */
export interface RunPlan {
  config: TrainRunConfig;
  epochs: number;
  batchSize: number;
  seed: number;
  valSpec: ValSpec;
  monitor: string;
  optimizerSpec: string | Record<string, unknown>;
  lossSpec: LossSpec;
  earlyStopping: number | null;
  checkpoint: 'best' | 'none';
}

/** How errors here name a field: as the table spells it (the command line's flag by default). */
const flagOf = (key: string, naming: Naming = 'flag'): string => fieldName(runField(key), naming);

/** The table's default of a field. */
const defaultOf = <T>(key: string): T => runField(key).default as T;

/** Plan a run; errors name fields as `naming` says (the command line's flags by default). */
export function planRun(config: TrainRunConfig, naming: Naming = 'flag'): RunPlan {
  checkRunConfig(config, naming);
  const valSpec = parseVal(config.val ?? defaultOf<string>('val'));
  const lr = config.lr;
  let optimizerSpec = config.optimizer ?? defaultOf<string>('optimizer');
  if (lr !== undefined) optimizerSpec = typeof optimizerSpec === 'string' ? { name: optimizerSpec, learningRate: lr } : { ...optimizerSpec, learningRate: lr };
  // the optimizer checks its own options (momentum, betas, schedules) here, before any load
  createOptimizer(optimizerSpec);
  return {
    config,
    epochs: config.epochs,
    batchSize: config.batchSize ?? defaultOf<number>('batchSize'),
    seed: config.seed ?? defaultOf<number>('seed'),
    valSpec,
    monitor: checkMonitor(config.monitor, valSpec.kind !== 'none', naming),
    optimizerSpec,
    lossSpec: parseLoss(config.loss ?? defaultOf<string>('loss')),
    earlyStopping: config.earlyStopping ?? null,
    checkpoint: config.checkpoint ?? defaultOf<'best' | 'none'>('checkpoint'),
  };
}

interface Prepared {
  plan: RunPlan;
  dataset: Dataset;
  model: Model;
  trainer: Trainer;
  train: { x: Uint8Array | Float32Array; y: Int32Array };
  val: { x: Uint8Array | Float32Array; y: Int32Array } | null;
  callbacks: Callback[];
  weights: WeightTracker;
  resolved: ResolvedConfig;
}

/** What every training epoch logs (labels are class indices, so accuracy is always there). */
const EPOCH_METRICS = ['loss', 'accuracy'];

/** The metrics a run can monitor: loss and accuracy, and their val_ twins when it validates. */
export function monitorChoices(hasValidation: boolean): string[] {
  return hasValidation ? [...EPOCH_METRICS, ...EPOCH_METRICS.map((m) => `val_${m}`)] : [...EPOCH_METRICS];
}

/**
 * The metric early stopping, model-best/ and ReduceLROnPlateau watch (default val_loss, or loss
 * without validation). A name the run never logs is refused: the callbacks would never see a
 * value, so checkpointing and early stopping would silently do nothing.
 */
export function checkMonitor(monitor: unknown, hasValidation: boolean, naming: Naming = 'flag'): string {
  if (monitor === undefined || monitor === null) return hasValidation ? 'val_loss' : 'loss';
  const allowed = monitorChoices(hasValidation);
  if (typeof monitor === 'string' && allowed.includes(monitor)) return monitor;
  const valHint = typeof monitor === 'string' && monitor.startsWith('val_') && !hasValidation
    ? `val_ metrics need a validation split (${flagOf('val', naming)} 0.1, first:N or last:F); this run has none`
    : undefined;
  throw new ArgumentError(`${flagOf('monitor', naming)} must be a metric the run logs: ${allowed.join(', ')}; received ${describe(monitor)}`, valHint);
}


/**
 * Make a planned run's objects, once: load the dataset, build the model (with a TF.js model's
 * weights), split and transform the data, and set up the trainer and callbacks. `resolvedSpec`
 * is the model spec of a run being resumed. What needs the run directory comes with attachRunDir.
 */
async function instantiate(plan: RunPlan, resolvedSpec: ModelSpec | null): Promise<Prepared> {
  const { config, epochs, batchSize, seed, valSpec, monitor, lossSpec, earlyStopping, checkpoint } = plan;
  const backend = getBackend();
  if (config.threads !== undefined) backend.setThreads(config.threads);

  const locate: LocateOptions = { dataDir: config.dataDir, synthetic: config.synthetic, labels: config.labels, download: config.download };
  const dataset = await loadDataset(config.dataset, locate);
  if (!resolvedSpec && !config.modelSpec) await prepareModelSource(config.model);
  const source = resolvedSpec || config.modelSpec ? null : resolveModelSource(config.model, { input: config.input ?? dataset.shape, classes: config.classes ?? dataset.classes });
  const spec = resolvedSpec ?? config.modelSpec ?? (source as NonNullable<typeof source>).spec;
  const model = modelFromSpec(spec, `${flagOf('model')} ${config.model}`);
  checkShapes(model, dataset);

  const per = exampleSize(dataset.shape);
  // the pool is drawn with a fixed seed, so every fold and repeat divides the same examples
  const pool = config.poolPerClass ? subsetPerClass(dataset.train, config.poolPerClass, dataset.classes, per, 0) : dataset.train;
  const parts = applyVal(pool, valSpec, dataset.classes, per, seed);
  const val = parts.val;
  const tools = config.tools ?? null;
  const train = tools ? applyTools(parts.train, tools, dataset, per, seed) : parts.train;

  model.build({ batchSize, seed, backend });
  if (source?.tfjs) applyWeights(model, source.tfjs.weightSpecs, source.tfjs.weightData, config.model);

  const optimizer = createOptimizer(plan.optimizerSpec);
  const loss = new LossHead(model, lossSpec);
  const trainer = new Trainer(model, loss, optimizer, batchSize);

  const callbacks: Callback[] = [new TerminateOnNaN()];
  if (earlyStopping !== null) {
    callbacks.push(new EarlyStopping({ monitor, patience: earlyStopping, restoreBestWeights: config.restoreBestWeights ?? true }));
  }
  if (config.reduceLrOnPlateau) callbacks.push(new ReduceLROnPlateau({ monitor, ...config.reduceLrOnPlateau }));
  // weight analytics; dead ReLUs are counted on the first validation (or training) batch
  const probeSplit = val ?? train;
  const probeN = Math.min(batchSize, probeSplit.y.length);
  const probeX = backend.alloc(probeN * per);
  fillBatch(probeX, probeSplit, Int32Array.from({ length: probeN }, (_, i) => i), 0, probeN, per, dataset.scale);
  const weights = new WeightTracker(model, () => probeX);
  callbacks.push(weights);
  const classWeight = config.classWeight === 'balanced' ? balancedWeights(train.y, dataset.classes) : (config.classWeight ?? null);
  const augment = parseAugment(config.augment ?? null, dataset.name);
  if (augment && dataset.shape.length !== 3) throw new ArgumentError(`${flagOf('augment')} needs image data; ${dataset.name} examples are ${formatShape(dataset.shape)}`);

  const counts = model.countParams();
  const resolved: ResolvedConfig = {
    fitlab: packageVersion(),
    node: process.version,
    created: new Date().toISOString(),
    backend: { name: backend.name, isa: backend.isa, threads: backend.threads },
    model: { source: config.model, label: source?.label ?? config.model ?? spec.name ?? 'model', spec, params: counts },
    dataset: {
      spec: config.dataset, dataDir: config.dataDir ?? null, synthetic: config.synthetic ?? null, name: dataset.name, source: dataset.source,
      shape: dataset.shape, classes: dataset.classes, classNames: dataset.classNames, inputScale: dataset.scale, train: train.y.length, val: val?.y.length ?? 0,
      test: dataset.test?.y.length ?? 0, valSplit: formatVal(valSpec), trainClassCounts: classCounts(train.y, dataset.classes),
      augment, labels: config.labels ?? null, tools, poolPerClass: config.poolPerClass ?? null,
    },
    training: {
      epochs, batchSize, seed, shuffle: config.shuffle ?? true, loss: lossSpec.name, optimizer: optimizer.getConfig(),
      earlyStopping, restoreBestWeights: config.restoreBestWeights ?? true, monitor, checkpoint, reduceLrOnPlateau: config.reduceLrOnPlateau ?? null, classWeight,
    },
  };
  return { plan, dataset, model, trainer, train, val, callbacks, weights, resolved };
}

/**
 * What needs the run directory: model-best/ (ModelCheckpoint, after the other callbacks) and
 * the data's fingerprint, which --resume compares against (the last field of config.json's
 * dataset section).
 */
function attachRunDir(p: Prepared, runDir: string): Prepared {
  if (p.plan.checkpoint === 'best') {
    p.callbacks.push(new ModelCheckpoint({ monitor: p.plan.monitor, saveBestOnly: true, save: () => saveTfjs(p.model, join(runDir, RUN_FILES.modelBest)) }));
  }
  p.resolved.dataset.fingerprint = dataFingerprint(p.dataset.shape, p.train, p.val, p.dataset.test ?? null);
  return p;
}

/** plan → instantiate (→ attachRunDir): a run's objects, for a run directory that exists. */
async function prepare(config: TrainRunConfig, resolvedSpec: ModelSpec | null, runDir: string | null): Promise<Prepared> {
  const p = await instantiate(planRun(config), resolvedSpec);
  return runDir ? attachRunDir(p, runDir) : p;
}

export function describeTools(t: DataTools): string {
  const parts: string[] = [];
  if (t.subset !== undefined) parts.push(`${t.subset} per class`);
  if (t.imbalance !== undefined) parts.push(`class ratios ${t.imbalance.join(', ')}`);
  if (t.labelNoise !== undefined) parts.push(`${(100 * t.labelNoise).toFixed(0)}% label noise`);
  if (t.randomLabels !== undefined) parts.push(`${(100 * t.randomLabels).toFixed(0)}% random labels`);
  if (t.corruptTest !== undefined) parts.push(`test set with wrong labels appended (${t.corruptTest === 'auto' ? 'auto' : `${t.corruptTest}×`})`);
  return parts.join('; ') + ' (training part only)';
}

/** The facts a report shows about a run's configuration. */
export function runFacts(r: ResolvedConfig): [string, string][] {
  const t = r.training;
  const opt = t.optimizer as { name?: string; learningRate?: unknown };
  return [
    ['model', `${r.model.label}: ${r.model.params.total.toLocaleString('en-US')} parameters (${r.model.params.trainable.toLocaleString('en-US')} trainable)`],
    ['data', `${r.dataset.name}: ${r.dataset.train.toLocaleString('en-US')} train / ${r.dataset.val.toLocaleString('en-US')} validation (--val ${r.dataset.valSplit}) / ${r.dataset.test.toLocaleString('en-US')} test; ${describeShape(r.dataset.shape)}, ${r.dataset.classes} classes`],
    ['augmentation', r.dataset.augment ? JSON.stringify(r.dataset.augment) : 'none'],
    ...(r.dataset.tools ? [['dataset tools', describeTools(r.dataset.tools)] as [string, string]] : []),
    ['optimizer', `${opt.name ?? '?'}, learning rate ${typeof opt.learningRate === 'number' ? opt.learningRate : JSON.stringify(opt.learningRate)}; batch ${t.batchSize}; ${t.epochs} epochs asked`],
    ['early stopping', t.earlyStopping === null ? 'none' : `patience ${t.earlyStopping} on ${t.monitor}${t.restoreBestWeights === false ? ', keeping the last weights' : ', restoring the best weights'}`],
    ['seed and backend', `seed ${t.seed}; ${r.backend.name} (${r.backend.isa}, ${r.backend.threads} threads); fitlab ${r.fitlab}, Node ${r.node}`],
  ];
}

function bestEpochOf(history: EpochLog[]): EpochLog | null {
  let best: EpochLog | null = null;
  for (const e of history) {
    const v = e.val_loss ?? e.loss;
    if (Number.isFinite(v) && (!best || v < (best.val_loss ?? best.loss))) best = e;
  }
  return best;
}

async function execute(p: Prepared, runDir: string, config: TrainRunConfig, hooks: RunHooks, resume: TrainingState | null, started: number): Promise<TrainRunResult> {
  const { model, trainer, dataset } = p;
  const log = hooks.log ?? (() => undefined);
  const epochs = config.epochs;
  // a resumed run's checkpoint starts where the resume started, not at the initial state
  let lastGood: number | null = resume && resume.epoch > 0 ? resume.epoch - 1 : null;
  let checkpointAt = { epochs: resume?.epoch ?? 0, batch: resume?.batchInEpoch ?? 0 };
  hooks.onStart?.({ runDir, model, trainer, dataset, train: p.train, val: p.val, resolved: p.resolved });
  const result = await trainer.fit(p.train, {
    epochs,
    validationData: p.val,
    shuffle: p.resolved.training.shuffle,
    callbacks: p.callbacks,
    classWeight: p.resolved.training.classWeight,
    inputScale: dataset.scale,
    augment: p.resolved.dataset.augment,
    resume,
    shouldInterrupt: hooks.shouldInterrupt,
    afterBatch: hooks.afterBatch,
    onBatch: hooks.onBatch ? (info) => hooks.onBatch?.({ ...info, epochs }) : undefined,
    afterEpoch: (epoch, epochLog, state, complete) => {
      const snapshot = state();
      writeHistory(runDir, snapshot.history);
      writeWeightsLog(runDir, p.weights.log);
      if (!complete) {
        // an epoch cut short is not a resumable end of epoch: the checkpoint stays where it was
      } else if (weightsFinite(snapshot.weights)) {
        saveCheckpoint(runDir, snapshot, { config: RUN_FILES.config });
        lastGood = epoch;
        checkpointAt = { epochs: snapshot.epoch, batch: 0 };
      } else {
        log(`fitlab: weights are no longer finite after epoch ${epoch + 1}; ${runDir}/${RUN_FILES.checkpoint} keeps ${describeCheckpointAt(checkpointAt)}`);
      }
      hooks.onEpoch?.(epochLog, epochs);
    },
  });
  const history = result.history.epochs;
  if (!result.interrupted && stopFailed(result.stopCause)) {
    // a failed run keeps its last good checkpoint; the message says which one
    log(`fitlab: ${result.stopReason}`);
  }
  if (result.interrupted) {
    if (weightsFinite(result.state.weights)) {
      saveCheckpoint(runDir, result.state, { config: RUN_FILES.config });
      checkpointAt = { epochs: result.state.epoch, batch: result.state.batchInEpoch };
    }
    writeHistory(runDir, history);
  } else if (weightsFinite(model.params().map((q) => q.value)) && !stopFailed(result.stopCause)) {
    saveTfjs(model, join(runDir, RUN_FILES.modelFinal));
  }
  const finite = weightsFinite(model.params().map((q) => q.value));
  const test = !result.interrupted && finite && dataset.test ? trainer.evaluate(dataset.test, dataset.scale) : null;
  const best = bestEpochOf(history);
  const secs = history.map((e) => e.seconds).sort((a, b) => a - b);
  const out: TrainRunResult = {
    runDir,
    epochsRun: history.length,
    bestEpoch: best ? best.epoch + 1 : null,
    final: history[history.length - 1] ?? null,
    best,
    test: test ? { loss: test.loss, accuracy: test.accuracy } : null,
    wallSeconds: (performance.now() - started) / 1000,
    epochSeconds: secs.length ? secs[Math.floor(secs.length / 2)] : null,
    stopReason: result.stopReason,
    stopCause: result.stopCause,
    interrupted: result.interrupted,
    history,
    dataset: dataset.name,
    model: p.resolved.model.label,
    diagnosis: null,
    lastGoodEpoch: lastGood,
    checkpointAt,
    trainExamples: p.train.y.length,
    params: p.resolved.model.params.total,
  };
  if (!result.interrupted) hooks.afterTraining?.({ model, trainer, dataset, train: p.train, val: p.val });
  if (!result.interrupted && history.length) {
    out.diagnosis = diagnose(history, contextFromRunConfig(p.resolved));
    writeFileAtomic(join(runDir, 'diagnosis.json'), toJson(out.diagnosis, 2) + '\n');
    writeRunReport(runDir, {
      title: `${out.model} on ${out.dataset}`, subtitle: runDir, history, diagnosis: out.diagnosis, weights: readWeightsLog(runDir),
      test: out.test, facts: runFacts(p.resolved),
    });
  }
  // summary.json keeps its fields (the stop's kind is for callers in this process)
  const { history: _h, diagnosis: _d, stopCause: _c, ...summary } = out;
  writeFileAtomic(join(runDir, 'summary.json'), toJson(summary, 2) + '\n');
  return out;
}

/** Where the run's newest complete checkpoint stands, read from checkpoint/state.json itself. */
function lastCheckpointNote(runDir: string): string {
  const where = join(runDir, RUN_FILES.checkpoint);
  let state: { epoch?: unknown; batchInEpoch?: unknown };
  try {
    state = JSON.parse(readFileSync(join(where, 'state.json'), 'utf8')) as typeof state;
  } catch {
    return 'the run has no complete checkpoint yet';
  }
  const epoch = typeof state.epoch === 'number' ? state.epoch : 0;
  const batch = typeof state.batchInEpoch === 'number' ? state.batchInEpoch : 0;
  const at = batch > 0 ? `epoch ${epoch + 1}, batch ${batch}` : epoch === 0 ? 'the initial state' : `the end of epoch ${epoch}`;
  return `the last complete checkpoint is ${at} (${where})`;
}

/**
 * Run `train`; a write the disk refused (WriteError: full, quota, read-only) gets the run's last
 * complete checkpoint added to its one line, since that is what the user still has.
 */
async function withCheckpointNote<T>(runDir: string, train: () => Promise<T>): Promise<T> {
  try {
    return await train();
  } catch (err) {
    if (!(err instanceof WriteError)) throw err;
    throw err.withNote(lastCheckpointNote(runDir), `free some space, then continue with: fitlab train --resume ${runDir}`);
  }
}

/** What a checkpoint at `at` holds, in words ("the end of epoch 3", "the initial state"). */
export function describeCheckpointAt(at: { epochs: number; batch: number }): string {
  if (at.batch > 0) return `epoch ${at.epochs + 1} up to batch ${at.batch} (saved on interrupt)`;
  return at.epochs === 0 ? 'the initial state (before epoch 1)' : `the end of epoch ${at.epochs}`;
}

/** Train a model as configured, in a new run directory. */
export async function trainRun(config: TrainRunConfig, hooks: RunHooks = {}): Promise<TrainRunResult> {
  const started = performance.now();
  const log = hooks.log ?? (() => undefined);
  // everything that can fail on user input is resolved before the run directory exists: the
  // plan checks the config, instantiate loads the data and builds the model (once)
  const made = await instantiate(planRun(config), null);
  const name = config.name ?? `${made.resolved.model.label}-${made.dataset.name}`;
  const runDir = createRunDir(config.out ?? defaultOf<string>('out'), name);
  // the run is this process's until it returns (src/io/run-lock.ts)
  const unlock = lockRun(runDir);
  try {
    const p = attachRunDir(made, runDir);
    writeRunConfig(runDir, { schema: RUN_CONFIG_SCHEMA, ...p.resolved, command: config });
    saveTfjs(p.model, join(runDir, RUN_FILES.modelInitial));
    // the initial state is the first checkpoint: a run that fails in its first epoch keeps it
    saveCheckpoint(runDir, p.trainer.initialState(config.epochs, p.callbacks), { config: RUN_FILES.config });
    log(`run directory: ${runDir}`);
    log(describeDataset(p.dataset) + ` → ${p.resolved.dataset.train.toLocaleString('en-US')} train / ${p.resolved.dataset.val.toLocaleString('en-US')} validation (--val ${p.resolved.dataset.valSplit})`);
    const c = p.resolved.model.params;
    log(`model ${p.resolved.model.label}: ${c.total.toLocaleString('en-US')} params; backend ${p.resolved.backend.name} (${p.resolved.backend.isa}, ${p.resolved.backend.threads} threads); seed ${p.resolved.training.seed}`);
    return await withCheckpointNote(runDir, () => execute(p, runDir, config, hooks, null, started));
  } finally {
    unlock();
  }
}

/**
 * Refuse to resume on data other than the run started with (unless allowed): the recorded
 * fingerprint against the data as loaded now. Returns config.json's dataset section to write:
 * after an allowed change it records the new data, so the next resume compares against that.
 */
function checkDataUnchanged(runDir: string, was: ResolvedConfig['dataset'], now: ResolvedConfig['dataset'], allow: boolean, log: (l: string) => void): ResolvedConfig['dataset'] {
  const fresh = now.fingerprint as DataFingerprint;
  const change = describeDataChange(was.fingerprint, fresh);
  // a run from before fingerprints gets one now, so later resumes are checked
  if (!was.fingerprint) return { ...was, fingerprint: fresh };
  if (change === null) return was;
  if (!allow) {
    throw new FitlabError(`the data of ${runDir} changed since the run started (${change}); refusing to resume`, 'pass --allow-data-change to resume on the new data anyway');
  }
  log(`fitlab: note: the data changed since the run started (${change}); resuming on it as --allow-data-change asks`);
  return { ...was, train: now.train, val: now.val, test: now.test, trainClassCounts: now.trainClassCounts, fingerprint: fresh };
}

/** Continue a run from its checkpoint (same data, split, seed; optionally more epochs). */
export async function resumeRun(runDir: string, hooks: RunHooks = {}, overrides: { epochs?: number; threads?: number; allowDataChange?: boolean } = {}): Promise<TrainRunResult> {
  const started = performance.now();
  const log = hooks.log ?? (() => undefined);
  const saved = readRunConfigFile(runDir);
  // one trainer per run (src/io/run-lock.ts); then the temporaries of a crashed writer go
  const unlock = lockRun(runDir);
  try {
    sweepAllStaleTemps(runDir);
    if (!hasCheckpoint(runDir)) throw new FitlabError(`${runDir} has no checkpoint to resume from`, 'a run writes its first checkpoint at the end of its first epoch (or on Ctrl-C)');
    const state = loadCheckpoint(runDir);
    const config: TrainRunConfig = { ...saved.command, epochs: overrides.epochs ?? saved.command.epochs, threads: overrides.threads ?? saved.backend.threads };
    const stoppedAt = earlyStopEpoch(state.callbacks);
    const further = overrides.epochs !== undefined && overrides.epochs > state.epoch;
    if (stoppedAt !== null && further && state.batchInEpoch === 0 && !missingEndFiles(runDir).length) {
      // more epochs asked of a run that early stopping ended: train on, as a second Keras fit()
      // would, with patience starting afresh (from the checkpoint's weights, those of the last epoch)
      const es = state.callbacks.EarlyStopping as { stoppedEpoch: number; wait: number };
      es.stoppedEpoch = 0;
      es.wait = 0;
      log(`fitlab: early stopping ended this run after epoch ${stoppedAt + 1}; training on to epoch ${config.epochs} (patience starts afresh)`);
    } else if ((state.epoch >= config.epochs || stoppedAt !== null) && state.batchInEpoch === 0) {
      const missing = missingEndFiles(runDir);
      if (!missing.length && stoppedAt !== null) {
        throw new ArgumentError(`the run already finished: early stopping ended it after epoch ${stoppedAt + 1} of ${config.epochs}`, `pass --epochs N with N > ${state.epoch} to train further (patience starts afresh)`);
      }
      if (!missing.length) {
        throw new ArgumentError(`the run already finished ${state.epoch} of ${config.epochs} epochs`, `pass --epochs N with N > ${state.epoch} to train further`);
      }
      // killed after its last epoch, while writing the end files: finish them, without training
      log(`fitlab: ${runDir} finished training but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (the process stopped while writing ${missing.length > 1 ? 'them' : 'it'}); writing ${missing.length > 1 ? 'them' : 'it'} now, without training`);
      const done = await prepare(config, saved.model.spec, runDir);
      return await withCheckpointNote(runDir, () => execute(done, runDir, config, hooks, state, started));
    }
    const p = await prepare(config, saved.model.spec, runDir);
    const batches = Math.ceil(p.train.y.length / p.trainer.batchSize);
    checkStateFitsModel(state, p.model.params().map((q) => ({ name: q.name, length: q.value.length })), batches, join(runDir, RUN_FILES.checkpoint, 'state.json'));
    const dataset = checkDataUnchanged(runDir, saved.dataset, p.resolved.dataset, overrides.allowDataChange ?? false, log);
    if (p.model.backend.threads !== saved.backend.threads) {
      log(`fitlab: note: resuming with ${p.model.backend.threads} threads (the run used ${saved.backend.threads}); results may differ in the last bits`);
    }
    writeRunConfig(runDir, { ...saved, dataset, training: { ...saved.training, epochs: config.epochs }, command: config, resumed: new Date().toISOString() });
    log(`resuming ${runDir} at epoch ${state.epoch + 1}${state.batchInEpoch ? `, batch ${state.batchInEpoch + 1}` : ''} of ${config.epochs}`);
    return await withCheckpointNote(runDir, () => execute(p, runDir, config, hooks, state, started));
  } finally {
    unlock();
  }
}

/**
 * The (0-based) epoch after which early stopping ended the run, as a checkpoint's callback
 * state records it; null when it has not fired (or the run has no early stopping).
 */
function earlyStopEpoch(callbacks: unknown): number | null {
  const es = (callbacks as Record<string, { stoppedEpoch?: unknown } | undefined> | undefined)?.EarlyStopping;
  return typeof es?.stoppedEpoch === 'number' && es.stoppedEpoch > 0 ? es.stoppedEpoch : null;
}

/** What a run writes after its last epoch, in this order (summary.json last). */
const END_FILES = ['model-final', 'diagnosis.json', 'report.html', 'summary.json'];

/**
 * The end files a run directory lacks although its checkpoint says training finished (all
 * epochs done): a kill after the last epoch, while they were being written. Empty when the run
 * is complete, or has not finished training, or is no run directory. model-final/ is only
 * expected where the run wrote it (a run stopped by NaN keeps none) — summary.json says so, and
 * when summary.json itself is missing the completion rewrites whatever applies.
 */
export function missingEndFiles(runDir: string): string[] {
  let state: { epoch?: number; batchInEpoch?: number; callbacks?: unknown };
  let epochs: number | undefined;
  try {
    state = JSON.parse(readFileSync(join(runDir, RUN_FILES.checkpoint, 'state.json'), 'utf8')) as typeof state;
    epochs = readRunConfigFile(runDir).command?.epochs;
  } catch {
    return [];
  }
  if (epochs === undefined || state.epoch === undefined || state.batchInEpoch !== 0) return [];
  if (state.epoch < epochs && earlyStopEpoch(state.callbacks) === null) return [];
  const missing = END_FILES.filter((f) => !existsSync(join(runDir, f)));
  return existsSync(join(runDir, 'summary.json')) ? missing.filter((f) => f !== 'model-final') : missing;
}

/**
 * `fitlab diagnose --write`: complete a finished run whose end files are missing (see
 * missingEndFiles), under the run's lock. Null when there is nothing to complete.
 */
export async function completeRun(runDir: string, hooks: RunHooks = {}): Promise<TrainRunResult | null> {
  if (!missingEndFiles(runDir).length) return null;
  return resumeRun(runDir, hooks);
}

/** A finished run's trained model with its data, as the run saw them (see loadTrainedRun). */
export interface TrainedRun {
  model: Model;
  trainer: Trainer;
  dataset: Dataset;
  train: Split;
  val: Split | null;
}

/**
 * Rebuild a finished run from its directory: config.json's model, data, split and tools, with
 * model-final/'s weights (the model as training left it, best weights restored where early
 * stopping did so). Experiments measure the trained model through this in any process, so a run
 * trained elsewhere (a queue worker) or in an earlier, interrupted session measures the same.
 * Null when the run kept no model-final/ (stopped by non-finite weights).
 */
export async function loadTrainedRun(runDir: string): Promise<TrainedRun | null> {
  const finalDir = join(runDir, RUN_FILES.modelFinal);
  if (!existsSync(join(finalDir, 'model.json'))) return null;
  const saved = readRunConfigFile(runDir);
  const p = await prepare({ ...saved.command, threads: saved.backend.threads }, saved.model.spec, null);
  const m = readTfjs(finalDir);
  applyWeights(p.model, m.weightSpecs, m.weightData, finalDir);
  return { model: p.model, trainer: p.trainer, dataset: p.dataset, train: p.train, val: p.val };
}
