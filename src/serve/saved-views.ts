/**
 * The Network and Predictions views of a finished run, computed from one of its saved models
 * (model-best/, model-final/, model-initial/, a snapshot) on its own validation split, rebuilt
 * from config.json as the run drew it (dataset, --val, seed, pool, dataset tools). Runs in the
 * inspection worker (inspect-worker.ts), never on the server's event loop.
 *
 * Gradients come from one forward and backward pass over a probe batch (the first validation
 * examples) in training mode, as a training step would compute them, without the update; the
 * model is rebuilt for every request, so that pass leaves nothing behind (BN moving statistics).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../backend/index.js';
import { type Dataset, type Split, exampleSize, fillBatch } from '../data/dataset.js';
import { loadDataset } from '../data/locate.js';
import { applyVal, parseVal } from '../data/splits.js';
import { subsetPerClass } from '../data/transforms.js';
import { ArgumentError } from '../errors.js';
import { DEFAULT_SEED } from '../tensor/streams.js';
import { RUN_FILES, readRunConfig } from '../io/run-dir.js';
import { modelFromTfjs, readTfjs } from '../io/tfjs.js';
import { LossHead, type LossName, type Targets, parseLoss } from '../nn/losses.js';
import { formatShape } from '../nn/shape.js';
import { createOptimizer } from '../optim/optimizers.js';
import { applyTools } from '../run/train-run.js';
import { Trainer } from '../train/fit.js';
import { featureMaps, layerViews, predictionsView } from './probe.js';
import type { InspectView, NetworkView, PredictionsView } from './protocol.js';

export interface InspectRequest {
  runDir: string;
  /** the saved model's folder, and its id as the page names it ('best', 'snapshot:…') */
  modelDir: string;
  model: string;
  view: InspectView;
  /** validation example whose feature maps are shown */
  input?: number;
}

/** Examples in the probe batch of the network view (gradient and activation histograms). */
export const PROBE_BATCH = 32;

interface RunData {
  key: string;
  dataset: Dataset;
  train: Split;
  /** what the views show: the validation split, else the test split, else training */
  shown: Split;
  seed: number;
  loss: LossName;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The last run's data, kept while the page looks at the same run (loading MNIST takes a while). */
let cache: RunData | null = null;

async function runData(runDir: string): Promise<RunData> {
  const key = `${runDir}@${statSync(join(runDir, RUN_FILES.config)).mtimeMs}`;
  if (cache?.key === key) return cache;
  const config = readRunConfig(runDir);
  const d = obj(config.dataset);
  const t = obj(config.training);
  if (typeof d.spec !== 'string') throw new ArgumentError(`${join(runDir, RUN_FILES.config)} names no dataset (dataset.spec)`);
  const dataset = await loadDataset(d.spec, {
    dataDir: typeof d.dataDir === 'string' ? d.dataDir : undefined,
    synthetic: d.synthetic ?? undefined,
    labels: d.labels === 'fine' || d.labels === 'coarse' ? d.labels : undefined,
  });
  const per = exampleSize(dataset.shape);
  const seed = typeof t.seed === 'number' ? t.seed : DEFAULT_SEED;
  // as the run drew it (train-run.ts prepare): pool, validation split, then the tools on train
  const pool = typeof d.poolPerClass === 'number' ? subsetPerClass(dataset.train, d.poolPerClass, dataset.classes, per, 0) : dataset.train;
  const parts = applyVal(pool, parseVal(typeof d.valSplit === 'string' ? d.valSplit : '0.1'), dataset.classes, per, seed);
  const train = d.tools ? applyTools(parts.train, d.tools, dataset, per, seed) : parts.train;
  const loss = parseLoss(typeof t.loss === 'string' ? t.loss : 'sparse_categorical_crossentropy').name;
  cache = { key, dataset, train, shown: parts.val ?? dataset.test ?? train, seed, loss };
  return cache;
}

/** The saved model rebuilt for batches of `batchSize`, with a trainer around it for inference. */
function loadModel(req: InspectRequest, data: RunData, batchSize: number): Trainer {
  const model = modelFromTfjs(readTfjs(req.modelDir), { batchSize, backend: getBackend(), seed: data.seed });
  if (exampleSize(model.inputShape) !== exampleSize(data.dataset.shape) || model.outputSize !== data.dataset.classes) {
    throw new ArgumentError(`the saved model ${req.model} takes ${formatShape(model.inputShape)} → ${model.outputSize} but the run's data is ${formatShape(data.dataset.shape)} → ${data.dataset.classes} classes`);
  }
  // a saved model's loss is the run's; logits-or-softmax follows the saved model itself
  const loss = new LossHead(model, { name: data.loss, fromLogits: data.loss !== 'mean_squared_error' && !model.finalSoftmax });
  return new Trainer(model, loss, createOptimizer('sgd'), batchSize);
}

function targets(split: Split, n: number, classes: number, loss: LossName): Targets {
  const y = split.y.slice(0, n);
  if (loss === 'sparse_categorical_crossentropy') return y;
  const onehot = new Float32Array(n * classes);
  y.forEach((k, i) => (onehot[i * classes + k] = 1));
  return onehot;
}

export async function inspectSaved(req: InspectRequest): Promise<NetworkView | PredictionsView> {
  const t0 = performance.now();
  const data = await runData(req.runDir);
  const { dataset, shown } = data;
  if (shown.y.length === 0) throw new ArgumentError(`the run ${req.runDir} has no examples to show`);
  if (req.view === 'predictions') {
    const trainer = loadModel(req, data, 256);
    const view = predictionsView(trainer, dataset, data.train, shown, -1);
    return { ...view, saved: { model: req.model, examples: view.counted, ms: performance.now() - t0 } };
  }
  const n = Math.min(PROBE_BATCH, shown.y.length);
  const trainer = loadModel(req, data, n);
  const model = trainer.model;
  const per = exampleSize(dataset.shape);
  const x = model.backend.alloc(n * per);
  fillBatch(x, shown, Int32Array.from({ length: n }, (_, i) => i), 0, n, per, dataset.scale);
  // one training step's forward and backward, without the update
  const out = model.forward(x, { training: true, logits: trainer.loss.wantsLogits });
  const res = trainer.loss.compute(out, targets(shown, n, dataset.classes, data.loss), null, true);
  if (res.grad) model.backward(res.grad, { throughSoftmax: !trainer.loss.wantsLogits });
  const layers = layerViews(model);
  const index = Math.max(0, Math.min(Math.floor(req.input ?? 0), shown.y.length - 1));
  const maps = featureMaps(model, trainer, shown, index, dataset);
  const ms = performance.now() - t0;
  return { step: 0, epoch: -1, every: 0, probeMs: ms, stepMs: 0, overhead: 0, layers, input: index, ...maps, saved: { model: req.model, examples: n, ms } };
}
