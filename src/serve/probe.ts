/**
 * The network view and the predictions view, computed in the training worker from the live
 * model. Activation statistics come from the last training batch (already in the model's
 * buffers, so they cost one scan); feature maps need one inference pass of one example.
 */
import type { Dataset, Split } from '../data/dataset.js';
import { exampleSize } from '../data/dataset.js';
import type { Model } from '../nn/model.js';
import type { Trainer } from '../train/fit.js';
import type { Histogram, LayerView, NetworkView, Picture, PredictionsView } from './protocol.js';

const BINS = 24;

/** min, max and a histogram of a buffer (NaN and ±∞ are skipped). */
export function histogram(values: ArrayLike<number>, bins = BINS): Histogram | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return null;
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= min && v <= max)) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  }
  return { min, max, bins: counts };
}

/** Bytes of a channel of an h×w×c buffer, stretched to 0–255. */
function channelPicture(x: ArrayLike<number>, offset: number, h: number, w: number, c: number, ch: number): Picture {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < h * w; i++) {
    const v = x[offset + i * c + ch];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const data = new Array<number>(h * w);
  for (let i = 0; i < h * w; i++) data[i] = Math.round((255 * (x[offset + i * c + ch] - lo)) / span);
  return { w, h, rgb: false, data };
}

/** One example as a picture: grayscale or RGB, stretched to 0–255 (null for non-image data). */
export function examplePicture(split: Split, index: number, shape: number[]): Picture | null {
  if (shape.length !== 3) return null;
  const [h, w, c] = shape;
  const per = h * w * c;
  const x = split.x.subarray(index * per, (index + 1) * per);
  if (c !== 1 && c !== 3) return channelPicture(x, 0, h, w, c, 0);
  let lo = 0;
  let hi = 255;
  if (!(split.x instanceof Uint8Array)) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi - lo || 1;
  return { w, h, rgb: c === 3, data: Array.from(x, (v) => Math.round((255 * (v - lo)) / span)) };
}

function gradientValues(model: Model, layerIndex: number): Float32Array | null {
  const grads = model.layers[layerIndex].params.filter((p) => p.trainable && p.grad).map((p) => p.grad as Float32Array);
  if (!grads.length) return null;
  if (grads.length === 1) return grads[0];
  const out = new Float32Array(grads.reduce((a, g) => a + g.length, 0));
  let at = 0;
  for (const g of grads) {
    out.set(g, at);
    at += g.length;
  }
  return out;
}

/** Per-layer statistics from the last training step (call right after a batch). */
export function layerViews(model: Model): LayerView[] {
  return model.layers.map((layer, i) => {
    const out = model.layerOutput(i);
    const g = gradientValues(model, i);
    return {
      name: layer.name,
      className: layer.className,
      outputShape: [...layer.outputShape],
      params: layer.params.reduce((a, p) => a + p.value.length, 0),
      activation: out ? histogram(out) : null,
      gradient: g ? histogram(g) : null,
    };
  });
}

const MAX_MAPS = 16;
const MAX_FILTERS = 64;

/** Feature maps of one example (inference pass) and the first conv layer's filters. */
export function featureMaps(model: Model, trainer: Trainer, split: Split, index: number, dataset: Dataset): Pick<NetworkView, 'inputPicture' | 'featureMaps' | 'filters'> {
  const per = exampleSize(dataset.shape);
  const x = model.backend.alloc(per);
  for (let i = 0; i < per; i++) x[i] = split.x[index * per + i] * dataset.scale;
  model.forward(x, { training: false });
  const maps: NetworkView['featureMaps'] = [];
  model.layers.forEach((layer, i) => {
    const s = layer.outputShape;
    const out = model.layerOutput(i);
    if (s.length !== 3 || !out || maps.length >= 8) return;
    const [h, w, c] = s;
    const pics: Picture[] = [];
    for (let ch = 0; ch < Math.min(c, MAX_MAPS); ch++) pics.push(channelPicture(out, 0, h, w, c, ch));
    maps.push({ layer: `${layer.name} ${h}×${w}×${c}`, maps: pics });
  });
  void trainer;
  const conv = model.layers.find((l) => l.className === 'Conv2D');
  let filters: NetworkView['filters'] = null;
  const kernel = conv?.params.find((p) => p.weightName === 'kernel');
  if (conv && kernel && kernel.shape.length === 4) {
    // Keras layout: (kh, kw, cin, cout)
    const [kh, kw, cin, cout] = kernel.shape;
    const pics: Picture[] = [];
    const v = kernel.value;
    for (let f = 0; f < Math.min(cout, MAX_FILTERS); f++) {
      const rgb = cin === 3;
      let lo = Infinity;
      let hi = -Infinity;
      const vals: number[] = [];
      for (let i = 0; i < kh * kw; i++) {
        for (let ch = 0; ch < (rgb ? 3 : 1); ch++) {
          const w = v[(i * cin + ch) * cout + f];
          vals.push(w);
          if (w < lo) lo = w;
          if (w > hi) hi = w;
        }
      }
      const span = hi - lo || 1;
      pics.push({ w: kw, h: kh, rgb, data: vals.map((w) => Math.round((255 * (w - lo)) / span)) });
    }
    filters = { layer: `${conv.name} ${kh}×${kw}×${cin}→${cout}`, maps: pics };
  }
  return { inputPicture: examplePicture(split, index, dataset.shape), featureMaps: maps, filters };
}

const GRID_ITEMS = 48;
const CONFUSION_MAX = 2000;
const BOUNDARY = 64;

function argmax(p: Float32Array, from: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[from + j] > p[from + best]) best = j;
  return best;
}

function firstExamples(split: Split, n: number, per: number): Split {
  return { x: split.x.subarray(0, n * per), y: split.y.subarray(0, n) };
}

/** Predictions grid, confusion matrix and (2-D data) the decision boundary. */
export function predictionsView(trainer: Trainer, dataset: Dataset, train: Split, val: Split, epoch: number): PredictionsView {
  const per = exampleSize(dataset.shape);
  const k = dataset.classes;
  const m = Math.min(CONFUSION_MAX, val.y.length);
  const sub = firstExamples(val, m, per);
  const probs = trainer.predict(sub.x, dataset.scale);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < m; i++) confusion[sub.y[i]][argmax(probs, i * k, k)]++;
  const items: PredictionsView['items'] = [];
  for (let i = 0; i < Math.min(GRID_ITEMS, m); i++) {
    items.push({
      index: i, actual: sub.y[i], predicted: argmax(probs, i * k, k),
      probs: Array.from(probs.subarray(i * k, (i + 1) * k), (p) => Math.round(p * 1000) / 1000),
      picture: examplePicture(sub, i, dataset.shape),
      point: per === 2 ? [sub.x[2 * i], sub.x[2 * i + 1]] : null,
    });
  }
  return { epoch, classNames: dataset.classNames, items, confusion, counted: m, boundary: per === 2 ? boundary(trainer, dataset, train, val) : null };
}

function boundary(trainer: Trainer, dataset: Dataset, train: Split, val: Split): NonNullable<PredictionsView['boundary']> {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of [train, val]) {
    for (let i = 0; i < s.y.length; i++) {
      x0 = Math.min(x0, s.x[2 * i]); x1 = Math.max(x1, s.x[2 * i]);
      y0 = Math.min(y0, s.x[2 * i + 1]); y1 = Math.max(y1, s.x[2 * i + 1]);
    }
  }
  const mx = (x1 - x0) * 0.08 || 1;
  const my = (y1 - y0) * 0.08 || 1;
  x0 -= mx; x1 += mx; y0 -= my; y1 += my;
  const g = BOUNDARY;
  const grid = new Float32Array(g * g * 2);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      // row 0 is the top of the picture (largest y)
      grid[2 * (r * g + c)] = x0 + ((c + 0.5) / g) * (x1 - x0);
      grid[2 * (r * g + c) + 1] = y1 - ((r + 0.5) / g) * (y1 - y0);
    }
  }
  const k = dataset.classes;
  const p = trainer.predict(grid, dataset.scale);
  const cls: number[] = [];
  const conf: number[] = [];
  for (let i = 0; i < g * g; i++) {
    const a = argmax(p, i * k, k);
    cls.push(a);
    conf.push(Math.round(p[i * k + a] * 100) / 100);
  }
  const pts = (s: Split, n: number): [number, number, number][] =>
    Array.from({ length: Math.min(n, s.y.length) }, (_, i) => [s.x[2 * i], s.x[2 * i + 1], s.y[i]]);
  return { x0, x1, y0, y1, size: g, cls, conf, train: pts(train, 600), test: pts(val, 600) };
}
