/**
 * One training run inside the static site's Web Worker: builds the model, split and trainer the
 * way `fitlab train` does (the run contract's defaults), trains with the Trainer, and posts the
 * same WorkerMessages the dashboard's Node worker posts (serve/train-worker.ts): batch points,
 * epochs with diagnosis marks, network and predictions views (serve/probe), knob events,
 * status and done. At the end it diagnoses the history and renders the report; afterwards it
 * answers inspection requests and makes the downloads (TF.js model, history CSV/JSON, report).
 * No run directory: the page keeps everything in memory.
 */
import { getBackend } from '../backend/index.js';
import { type Dataset, type Split, classCounts, exampleSize, fillBatch } from '../data/dataset.js';
import { applyVal, parseVal } from '../data/splits.js';
import { labelNoise, subsetPerClass } from '../data/transforms.js';
import { parseAugment } from '../data/augment.js';
import { contextFromRunConfig } from '../diagnose/context.js';
import { type Diagnosis, diagnose } from '../diagnose/diagnose.js';
import { renderReport } from '../diagnose/report.js';
import { WeightTracker } from '../diagnose/weights.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { historyCsv } from '../io/history-csv.js';
import type { TrainRunConfig } from '../io/run-config.js';
import { tfjsArtifacts } from '../io/tfjs-artifacts.js';
import { LossHead, parseLoss } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import { presetSpec } from '../nn/presets.js';
import { modelFromSpec } from '../nn/spec.js';
import { createOptimizer } from '../optim/optimizers.js';
import { trainCommand } from '../serve/command.js';
import { applyKnob, readKnobs } from '../serve/knobs.js';
import { featureMaps, layerViews, predictionsView } from '../serve/probe.js';
import type { Action, BatchPoint, DiagnosisMarks, KnobEvent, KnobName, NetworkView, PredictionsView, RunStatus, SiteArtifact, SiteDownload, WorkerCommand, WorkerMessage } from '../serve/protocol.js';
import { type Callback, EarlyStopping, TerminateOnNaN } from '../train/callbacks.js';
import { Trainer } from '../train/fit.js';
import type { EpochLog } from '../train/history.js';
import { defaultOf } from './config.js';

const POST_EVERY_MS = 50;
const MIN_PROBE_MS = 250;
/** each view's share of the training time (as in the dashboard's worker) */
const PROBE_BUDGET = 0.015;

const marks = (d: Diagnosis): DiagnosisMarks => ({ regime: d.regime, summary: d.summary, onsetEpoch: d.onsetEpoch, bestEpoch: d.bestEpoch });

export class SiteRun {
  private model!: Model;
  private trainer!: Trainer;
  private dataset!: Dataset;
  private train!: Split;
  private val: Split | null = null;
  private weights!: WeightTracker;
  private context!: ReturnType<typeof contextFromRunConfig>;
  private readonly history: EpochLog[] = [];
  private diagnosis: Diagnosis | null = null;
  private test: { loss: number; accuracy: number } | null = null;
  private label = '';
  private paused = false;
  private stopRequested = false;
  private finished = false;
  private wake: (() => void) | null = null;
  private readonly pending: WorkerCommand[] = [];
  private wantNetwork = true;
  private wantPredictions = false;
  private probeInput = 0;
  private readonly clock = { start: 0, pausedMs: 0, lastPost: 0, probeMs: 0, batchMark: 0, netNext: 0, predNext: 0 };
  private steps = 0;
  private netStep = 0;
  private examples = 0;
  private epochExamples = 0;
  private lastEpochLoss = { seen: 0, sum: 0 };
  private secondsPerBatch = 0;
  private point: Omit<BatchPoint, 'forwardMs' | 'backwardMs' | 'seconds' | 'eta' | 'penalty' | 'learningRate' | 'loss'> | null = null;
  private window = { examples: 0, ms: 0 };

  constructor(private readonly id: string, private readonly config: TrainRunConfig, private readonly post: (m: WorkerMessage) => void) {}

  /** Build everything from the config and the loaded dataset; throws a user error (one line) when they do not fit. */
  prepare(dataset: Dataset): void {
    const c = this.config;
    this.dataset = dataset;
    const seed = c.seed ?? defaultOf<number>('seed');
    const batchSize = c.batchSize ?? defaultOf<number>('batchSize');
    const spec = c.modelSpec ?? presetSpec(c.model, { input: dataset.shape, classes: dataset.classes });
    const model = modelFromSpec(spec, `model ${c.model}`);
    if (model.inputShape.join() !== dataset.shape.join()) {
      throw new ShapeError(`the model takes ${model.inputShape.join('×')} inputs but ${dataset.name} examples are ${dataset.shape.join('×')}`, 'presets adapt automatically; for a spec, change its "input"');
    }
    if (model.outputSize !== dataset.classes) throw new ShapeError(`the model has ${model.outputSize} outputs but ${dataset.name} has ${dataset.classes} classes`);
    const per = exampleSize(dataset.shape);
    const parts = applyVal(dataset.train, parseVal(c.val ?? defaultOf<string>('val')), dataset.classes, per, seed);
    let train = parts.train;
    if (c.tools?.subset !== undefined) train = subsetPerClass(train, c.tools.subset, dataset.classes, per, seed);
    if (c.tools?.labelNoise !== undefined) train = labelNoise(train, c.tools.labelNoise, dataset.classes, seed).split;
    this.train = train;
    this.val = parts.val;
    const backend = getBackend();
    model.build({ batchSize, seed, backend });
    let optimizerSpec = c.optimizer ?? defaultOf<string>('optimizer');
    if (c.lr !== undefined) optimizerSpec = typeof optimizerSpec === 'string' ? { name: optimizerSpec, learningRate: c.lr } : { ...optimizerSpec, learningRate: c.lr };
    const optimizer = createOptimizer(optimizerSpec);
    this.model = model;
    this.trainer = new Trainer(model, new LossHead(model, parseLoss(c.loss ?? defaultOf<string>('loss'))), optimizer, batchSize);
    const augment = parseAugment(c.augment ?? null, dataset.name);
    if (augment && dataset.shape.length !== 3) throw new ArgumentError(`augment needs image data; ${dataset.name} examples are ${dataset.shape.join('×')}`);
    const probeSplit = this.val ?? train;
    const probeN = Math.min(batchSize, probeSplit.y.length);
    const probeX = backend.alloc(probeN * per);
    fillBatch(probeX, probeSplit, Int32Array.from({ length: probeN }, (_, i) => i), 0, probeN, per, dataset.scale);
    this.weights = new WeightTracker(model, () => probeX);
    this.label = c.model;
    this.context = contextFromRunConfig({
      model: { spec, params: model.countParams() },
      dataset: { name: dataset.name, shape: dataset.shape, classes: dataset.classes, train: train.y.length, val: this.val?.y.length ?? 0, trainClassCounts: classCounts(train.y, dataset.classes), augment },
      training: { earlyStopping: c.earlyStopping ?? null, optimizer: optimizer.getConfig() },
    });
  }

  /** Train to the end (or a stop); posts everything on the way, then 'done'. */
  async run(): Promise<void> {
    const c = this.config;
    const epochs = c.epochs;
    const d = this.dataset;
    const callbacks: Callback[] = [new TerminateOnNaN()];
    const monitor = c.monitor ?? (this.val ? 'val_loss' : 'loss');
    if (c.earlyStopping !== null && c.earlyStopping !== undefined) callbacks.push(new EarlyStopping({ monitor, patience: c.earlyStopping, restoreBestWeights: c.restoreBestWeights ?? true }));
    callbacks.push(this.weights);
    this.post({
      type: 'started',
      info: {
        id: this.id, runDir: `(in this tab) ${this.id}`, model: this.label, dataset: d.name, classes: d.classes, classNames: d.classNames, shape: d.shape,
        params: this.model.countParams().total, epochs, optimizer: this.optimizerName(),
        knobs: readKnobs(this.model, this.trainer), command: trainCommand(c),
      },
    });
    this.status('running');
    this.clock.start = performance.now();
    this.clock.batchMark = this.clock.start;
    const result = await this.trainer.fit(this.train, {
      epochs,
      validationData: this.val,
      shuffle: c.shuffle ?? true,
      callbacks,
      inputScale: d.scale,
      augment: parseAugment(c.augment ?? null, d.name),
      shouldInterrupt: () => this.stopRequested,
      onBatch: (info) => this.onBatch(info.epoch, info.batch, info.batches, epochs, info.logs),
      afterBatch: () => this.afterBatch(),
      afterEpoch: (_epoch, log) => this.onEpoch(log),
    });
    this.finished = true;
    if (!result.interrupted && d.test) this.test = this.trainer.evaluate(d.test, d.scale);
    if (this.history.length) {
      try {
        this.diagnosis = diagnose(this.history, this.context);
      } catch {
        this.diagnosis = null;
      }
    }
    if (!result.interrupted) this.probePredictions();
    const final = this.history[this.history.length - 1] ?? null;
    this.post({
      type: 'done',
      status: result.interrupted ? 'stopped' : 'finished',
      summary: {
        runDir: `(in this tab) ${this.id}`, epochsRun: this.history.length, final, test: this.test, stopReason: result.stopReason,
        trainExamples: this.train.y.length, params: this.model.countParams().total, diagnosis: this.diagnosis ? marks(this.diagnosis) : null,
        report: this.diagnosis !== null,
      },
    });
  }

  /** A knob, action or probe from the page (between batches, or now when the run has ended). */
  command(m: WorkerCommand): void {
    if (m.type === 'action' && m.action === 'stop') {
      this.stopRequested = true;
      this.wake?.();
    }
    if (m.type === 'action' && m.action === 'resume') this.wake?.();
    this.pending.push(m);
  }

  /** The network or predictions view of the model as it is now (a finished run's final weights). */
  inspect(view: 'network' | 'predictions', input?: number): NetworkView | PredictionsView {
    if (view === 'predictions') {
      const split = this.val ?? this.dataset.test ?? this.train;
      return { ...predictionsView(this.trainer, this.dataset, this.train, split, this.history.length - 1), saved: { model: 'final', examples: Math.min(2000, split.y.length), ms: 0 } };
    }
    if (input !== undefined) this.probeInput = input;
    return { ...this.networkView(0), saved: { model: 'final', examples: 1, ms: 0 } };
  }

  /** A file for the user to save: the model (TF.js Layers: name.json + name.weights.bin), the history or the report. */
  download(what: SiteDownload): SiteArtifact[] {
    const name = this.id;
    const text = (file: string, type: string, s: string): SiteArtifact => ({ name: file, type, bytes: new TextEncoder().encode(s) });
    if (what === 'model') {
      const a = tfjsArtifacts(this.model, name);
      return [text(`${name}.json`, 'application/json', a.modelJson), { name: a.weightsFile, type: 'application/octet-stream', bytes: a.weights }];
    }
    if (what === 'history.csv') return [text(`${name}-history.csv`, 'text/csv', historyCsv(this.history))];
    if (what === 'history.json') return [text(`${name}-history.json`, 'application/json', JSON.stringify(this.history, null, 1) + '\n')];
    if (!this.diagnosis) throw new ArgumentError(`run ${name} has no diagnosis yet: the report comes when the run has finished at least one epoch`);
    const html = renderReport({
      title: name, subtitle: `${this.label} on ${this.dataset.name}, trained in the browser (${getBackend().name})`,
      history: this.history, diagnosis: this.diagnosis, weights: this.weights.log, test: this.test,
      facts: [['model', `${this.label} (${this.model.countParams().total} parameters)`], ['dataset', `${this.dataset.name}: ${this.train.y.length} training, ${this.val?.y.length ?? 0} validation examples`], ['optimizer', this.optimizerName()], ['command', trainCommand(this.config)]],
    });
    return [text(`${name}-report.html`, 'text/html', html)];
  }

  private optimizerName(): string {
    const name = this.trainer.optimizer.getConfig().name;
    return typeof name === 'string' ? name : '?';
  }

  private status(s: RunStatus): void {
    this.post({ type: 'status', status: s });
  }

  private elapsedMs(): number {
    return performance.now() - this.clock.start - this.clock.pausedMs;
  }

  private onBatch(epoch: number, batch: number, batches: number, epochs: number, logs: { size: number; loss: number; accuracy?: number }): void {
    const now = performance.now();
    const t = now - this.clock.batchMark;
    this.clock.batchMark = now;
    this.window.examples += logs.size;
    this.window.ms += t;
    this.examples += logs.size;
    this.epochExamples = batch === 0 ? logs.size : this.epochExamples + logs.size;
    if (batch === 0) this.lastEpochLoss = { seen: 0, sum: 0 };
    const s = Math.max(t, 0.001) / 1000;
    this.secondsPerBatch = this.secondsPerBatch ? 0.95 * this.secondsPerBatch + 0.05 * s : s;
    this.point = { epoch, batch, batches, epochs, examples: this.examples, epochLoss: logs.loss, accuracy: logs.accuracy ?? null };
    if (batch === batches - 1) this.postPoint(true);
  }

  private postPoint(force: boolean): void {
    const p = this.point;
    if (!p) return;
    const now = performance.now();
    if (!force && now - this.clock.lastPost < POST_EVERY_MS) return;
    this.clock.lastPost = now;
    const seen = this.epochExamples;
    const last = this.lastEpochLoss;
    const loss = seen > last.seen ? (p.epochLoss * seen - last.sum) / (seen - last.seen) : p.epochLoss;
    this.lastEpochLoss = { seen, sum: p.epochLoss * seen };
    const remaining = (p.epochs - p.epoch - 1) * p.batches + (p.batches - p.batch - 1);
    // a Web Worker times the whole step: forward and backward are not told apart here
    const perExample = this.window.ms / Math.max(1, this.window.examples);
    this.post({
      type: 'batch',
      point: {
        ...p, loss, penalty: this.model.penalty(), learningRate: this.trainer.optimizer.currentLearningRate(),
        forwardMs: perExample / 3, backwardMs: (2 * perExample) / 3, seconds: this.elapsedMs() / 1000, eta: this.secondsPerBatch > 0 ? remaining * this.secondsPerBatch : null,
      },
    });
    this.window = { examples: 0, ms: 0 };
  }

  private record(event: Omit<KnobEvent, 'time' | 'epoch' | 'batch' | 'examples'>): void {
    const full: KnobEvent = { time: new Date().toISOString(), epoch: this.point?.epoch ?? 0, batch: this.point?.batch ?? -1, examples: this.examples, ...event };
    this.post({ type: 'knob', event: full, knobs: readKnobs(this.model, this.trainer) });
  }

  private networkView(spent: number): NetworkView {
    const split = this.val ?? this.train;
    const index = Math.min(this.probeInput, split.y.length - 1);
    const layers = layerViews(this.model);
    const maps = featureMaps(this.model, this.trainer, split, index, this.dataset);
    const every = this.steps - this.netStep;
    this.netStep = this.steps;
    return {
      step: this.steps, epoch: this.point?.epoch ?? 0, every, probeMs: spent, stepMs: this.secondsPerBatch * 1000,
      overhead: this.clock.probeMs / Math.max(1, this.elapsedMs() - this.clock.probeMs), layers, input: index, ...maps,
    };
  }

  private probeNetwork(): void {
    const t = performance.now();
    const view = this.networkView(0);
    const spent = performance.now() - t;
    view.probeMs = spent;
    this.clock.probeMs += spent;
    this.clock.netNext = performance.now() + Math.max(MIN_PROBE_MS, spent / PROBE_BUDGET);
    this.post({ type: 'network', view });
  }

  private probePredictions(): void {
    const t = performance.now();
    const split = this.val ?? this.dataset.test ?? this.train;
    this.post({ type: 'predictions', view: predictionsView(this.trainer, this.dataset, this.train, split, this.point?.epoch ?? 0) });
    const spent = performance.now() - t;
    this.clock.probeMs += spent;
    this.clock.predNext = performance.now() + Math.max(MIN_PROBE_MS, spent / PROBE_BUDGET);
  }

  private handle(m: WorkerCommand): void {
    try {
      if (m.type === 'set') {
        for (const [name, value] of Object.entries(m.knobs)) {
          const before = readKnobs(this.model, this.trainer)[name as KnobName];
          const when = applyKnob(this.model, this.trainer, name as KnobName, value);
          this.record({ knob: name as KnobName, from: before, to: value as number, note: when });
        }
      } else if (m.type === 'action') {
        this.act(m.action);
      } else if (m.what === 'network') {
        if (m.input !== undefined) this.probeInput = m.input;
        this.wantNetwork = true;
      } else {
        this.wantPredictions = true;
      }
    } catch (err) {
      this.post({ type: 'reject', message: (err as Error).message });
    }
  }

  private act(action: Action): void {
    if (action === 'pause' && !this.paused) {
      this.paused = true;
      this.record({ action });
      this.status('paused');
    } else if (action === 'resume' && this.paused) {
      this.paused = false;
      this.record({ action });
      this.status('running');
    } else if (action === 'stop') {
      this.record({ action, note: 'the model stays in this tab' });
      this.status('stopping');
    } else if (action === 'snapshot') {
      this.record({ action, note: 'use “Download model” to save the weights from this tab' });
    }
  }

  private drain(): void {
    while (this.pending.length) this.handle(this.pending.shift() as WorkerCommand);
    if (this.wantNetwork) {
      this.wantNetwork = false;
      this.probeNetwork();
    }
    if (this.wantPredictions) {
      this.wantPredictions = false;
      this.probePredictions();
    }
  }

  private async afterBatch(): Promise<void> {
    this.steps++;
    if (performance.now() >= this.clock.netNext) this.wantNetwork = true;
    this.drain();
    this.postPoint(false);
    while (this.paused && !this.stopRequested) {
      this.postPoint(true);
      const t = performance.now();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
      this.wake = null;
      this.clock.pausedMs += performance.now() - t;
      this.drain();
    }
    this.clock.batchMark = performance.now();
  }

  private onEpoch(log: EpochLog): void {
    this.history.push(log);
    let d: DiagnosisMarks | null = null;
    try {
      d = marks(diagnose(this.history, this.context));
    } catch {
      d = null; // too few epochs to read
    }
    this.post({ type: 'epoch', log: { ...log }, diagnosis: d });
    if (performance.now() >= this.clock.predNext) this.wantPredictions = true;
  }

  /** Whether the run has ended (its model is final and may be inspected and downloaded). */
  get ended(): boolean {
    return this.finished;
  }
}
