/**
 * The page's TF.js worker (bundled by bench/browser.ts with esbuild from node_modules): the
 * networks of ./net.ts as tf.layers.sequential models on TF.js's pure-JS CPU backend, timed with
 * model.trainOnBatch. Same layers, initializers (glorot_uniform, zero biases), batch data and
 * loss; TF.js has no AdamW, so the lecture CNN trains with Adam (decoupled weight decay is one
 * multiply per weight: it does not move the timing). The first job of a network builds it and
 * runs one warm-up step (at `warmBatch`: the CPU backend takes minutes per CNN step); every job
 * then times its measured steps on the same model.
 */
import * as tf from '@tensorflow/tfjs';
import type { BenchNet } from './net.js';
import type { PageJob, PageResult, WorkerReply } from './protocol.js';

interface WorkerScope {
  onmessage: ((e: { data: { id: number; job: PageJob } }) => void) | null;
  postMessage(message: WorkerReply): void;
}
const scope = globalThis as unknown as WorkerScope;

/** The lecture CNN and the 784-512-10 MLP, layer for layer as src/nn/presets.ts builds them. */
export function tfjsNet(name: BenchNet): tf.Sequential {
  if (name === 'paper-mlp') {
    return tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 512, activation: 'relu' }),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
  }
  const conv = (filters: number, first = false): tf.layers.Layer => tf.layers.conv2d({
    filters, kernelSize: 3, padding: 'same', activation: 'relu', ...(first ? { inputShape: [32, 32, 3] } : {}),
  });
  const pool = (): tf.layers.Layer => tf.layers.maxPooling2d({ poolSize: 2 });
  return tf.sequential({
    layers: [
      conv(32, true), conv(32), pool(), conv(64), conv(64), pool(), conv(128), conv(128), pool(),
      tf.layers.globalMaxPooling2d({}), tf.layers.dropout({ rate: 0.3 }), tf.layers.dense({ units: 64, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.3 }), tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

const models = new Map<BenchNet, tf.Sequential>();
let ready: Promise<unknown> | null = null;

/** One batch like ./net.ts's: inputs uniform [0, 1), labels i mod 10. */
function batchOf(name: BenchNet, n: number): { x: tf.Tensor; y: tf.Tensor } {
  const shape = name === 'paper-mlp' ? [n, 28, 28, 1] : [n, 32, 32, 3];
  return { x: tf.randomUniform(shape, 0, 1, 'float32', 7), y: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'float32') };
}

async function trainStep(model: tf.Sequential, name: BenchNet, n: number): Promise<number> {
  const { x, y } = batchOf(name, n);
  const t0 = performance.now();
  await model.trainOnBatch(x, y);
  const ms = performance.now() - t0;
  tf.dispose([x, y]);
  return ms;
}

async function run(job: PageJob): Promise<PageResult> {
  ready ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('TF.js refused its cpu backend');
  });
  await ready;
  let model = models.get(job.net);
  if (!model) {
    model = tfjsNet(job.net);
    model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'sparseCategoricalCrossentropy' });
    models.set(job.net, model);
    await trainStep(model, job.net, job.warmBatch ?? job.batch);
  }
  const stepMs: number[] = [];
  for (let i = 0; i < job.steps; i++) stepMs.push(await trainStep(model, job.net, job.batch));
  const sorted = [...stepMs].sort((a, b) => a - b);
  return {
    imagesPerSec: (job.batch * 1000) / sorted[Math.floor(sorted.length / 2)], stepMs,
    params: model.countParams(), backend: `tfjs ${tf.getBackend()}`, threads: 1,
  };
}

scope.onmessage = (e) => {
  const { id, job } = e.data;
  run(job).then(
    (result) => scope.postMessage({ id, ok: true, result }),
    (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
