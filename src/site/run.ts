/**
 * One training run inside the static site's Web Worker: builds the model, split and trainer the
 * way `fitlab train` does (the run contract's defaults), trains with the Trainer, and streams it
 * through serve/live-probe — the same batch points, views, knob events, pause/resume/stop and
 * epochs as the dashboard's Node worker (serve/train-worker.ts); this file is only the host
 * around it (messages to the page, no run directory, snapshots pointing at the download). At the end it diagnoses the history and renders the report; afterwards it
 * answers inspection requests and makes the downloads (TF.js model, history CSV/JSON, report).
 * No run directory: the page keeps everything in memory.
 */
import { getBackend } from '../backend/index.js';
import { type Dataset, type Split, classCounts, exampleSize, fillBatch } from '../data/dataset.js';
import { applyVal, parseVal } from '../data/splits.js';
import { parseAugment } from '../data/augment.js';
import { contextFromRunConfig } from '../diagnose/context.js';
import { type Diagnosis, diagnose } from '../diagnose/diagnose.js';
import { renderReport } from '../diagnose/report.js';
import { WeightTracker } from '../diagnose/weights.js';
import { ArgumentError } from '../errors.js';
import { historyCsv } from '../io/history-csv.js';
import type { TrainRunConfig } from '../io/run-config.js';
import { tfjsArtifacts } from '../io/tfjs-artifacts.js';
import { LossHead, parseLoss } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import { presetSpec } from '../nn/presets.js';
import { modelFromSpec } from '../nn/spec.js';
import { createOptimizer } from '../optim/optimizers.js';
import { applyTools, checkShapes } from '../run/build.js';
import { trainCommand } from '../serve/command.js';
import { readKnobs } from '../serve/knobs.js';
import { LiveProbe, diagnosisMarks } from '../serve/live-probe.js';
import { predictionsView } from '../serve/probe.js';
import type { NetworkView, PredictionsView, SiteArtifact, SiteDownload, WorkerCommand, WorkerMessage } from '../serve/protocol.js';
import { type Callback, EarlyStopping, TerminateOnNaN } from '../train/callbacks.js';
import { Trainer } from '../train/fit.js';
import type { EpochLog } from '../train/history.js';
import { defaultOf } from './config.js';

export class SiteRun {
  private model!: Model;
  private trainer!: Trainer;
  private dataset!: Dataset;
  private train!: Split;
  private val: Split | null = null;
  private weights!: WeightTracker;
  private context!: ReturnType<typeof contextFromRunConfig>;
  private diagnosis: Diagnosis | null = null;
  private test: { loss: number; accuracy: number } | null = null;
  private label = '';
  private finished = false;
  private readonly live: LiveProbe;

  constructor(private readonly id: string, private readonly config: TrainRunConfig, private readonly post: (m: WorkerMessage) => void) {
    this.live = new LiveProbe({
      post,
      snapshot: () => 'use “Download model” to save the weights from this tab',
      stopNote: 'the model stays in this tab',
      // the step is timed whole: a page that is not cross-origin isolated reads performance.now()
      // in 100 µs steps, longer than a small model's forward pass
      timePasses: false,
    });
  }

  /** the epochs trained so far */
  private get history(): EpochLog[] {
    return this.live.history;
  }

  /** Build everything from the config and the loaded dataset; throws a user error (one line) when they do not fit. */
  prepare(dataset: Dataset): void {
    const c = this.config;
    this.dataset = dataset;
    const seed = c.seed ?? defaultOf<number>('seed');
    const batchSize = c.batchSize ?? defaultOf<number>('batchSize');
    const spec = c.modelSpec ?? presetSpec(c.model, { input: dataset.shape, classes: dataset.classes });
    const model = modelFromSpec(spec, `model ${c.model}`);
    checkShapes(model, dataset);
    const per = exampleSize(dataset.shape);
    const parts = applyVal(dataset.train, parseVal(c.val ?? defaultOf<string>('val')), dataset.classes, per, seed);
    const train = c.tools ? applyTools(parts.train, c.tools, dataset, per, seed) : parts.train;
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
    this.live.attach({ model: this.model, trainer: this.trainer, dataset: d, train: this.train, val: this.val }, this.context);
    this.live.status('running');
    const result = await this.trainer.fit(this.train, {
      epochs,
      validationData: this.val,
      shuffle: c.shuffle ?? true,
      callbacks,
      inputScale: d.scale,
      augment: parseAugment(c.augment ?? null, d.name),
      shouldInterrupt: () => this.live.stopRequested,
      onBatch: (info) => this.live.onBatch({ ...info, epochs }),
      afterBatch: () => this.live.afterBatch(),
      afterEpoch: (_epoch, log) => this.live.onEpoch(log),
    });
    if (!result.interrupted && d.test) this.test = this.trainer.evaluate(d.test, d.scale);
    if (this.history.length) {
      try {
        this.diagnosis = diagnose(this.history, this.context);
      } catch {
        this.diagnosis = null;
      }
    }
    this.live.finish(result.interrupted);
    this.finished = true;
    const final = this.history[this.history.length - 1] ?? null;
    this.post({
      type: 'done',
      status: result.interrupted ? 'stopped' : 'finished',
      summary: {
        runDir: `(in this tab) ${this.id}`, epochsRun: this.history.length, final, test: this.test, stopReason: result.stopReason,
        trainExamples: this.train.y.length, params: this.model.countParams().total, diagnosis: this.diagnosis ? diagnosisMarks(this.diagnosis) : null,
        report: this.diagnosis !== null,
      },
    });
  }

  /** A knob, action or probe from the page: applied between batches (serve/live-probe). */
  command(m: WorkerCommand): void {
    this.live.command(m);
  }

  /** The network or predictions view of the model as it is now (a finished run's final weights). */
  inspect(view: 'network' | 'predictions', input?: number): NetworkView | PredictionsView {
    if (view === 'predictions') {
      const split = this.val ?? this.dataset.test ?? this.train;
      return { ...predictionsView(this.trainer, this.dataset, this.train, split, this.history.length - 1), saved: { model: 'final', examples: Math.min(2000, split.y.length), ms: 0 } };
    }
    return { ...this.live.networkView(input), saved: { model: 'final', examples: 1, ms: 0 } };
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

  /** Whether the run has ended (its model is final and may be inspected and downloaded). */
  get ended(): boolean {
    return this.finished;
  }
}
