/**
 * Weight analytics recorded during training (cheap, every epoch): per-layer L2 norms, the
 * Euclidean distance of the weights from their initial values (total and per layer), weight
 * histograms at a few epochs (1, 2, 4, 8, … and the last), and the fraction of dead ReLU units
 * (units that output zero for every example of a validation batch).
 */
import type { F32 } from '../backend/backend.js';
import type { Layer } from '../nn/layer.js';
import { Activation } from '../nn/layers/basic.js';
import { BatchNormalization } from '../nn/layers/batch-norm.js';
import { Conv2D } from '../nn/layers/conv2d.js';
import { Dense } from '../nn/layers/dense.js';
import type { Model } from '../nn/model.js';
import { Callback } from '../train/callbacks.js';
import type { EpochLog } from '../train/history.js';

export interface LayerStats {
  name: string;
  norm: number;
  distance: number;
}

export interface WeightEpoch {
  epoch: number;
  norm: number;
  distance: number;
  layers: LayerStats[];
  deadRelu?: { layer: string; fraction: number }[];
  histogram?: { edges: number[]; counts: number[] };
}

function reluOutput(layer: Layer): boolean {
  if (layer instanceof Dense || layer instanceof Conv2D) return layer.activation === 'relu';
  if (layer instanceof BatchNormalization) return layer.fusedRelu;
  return layer instanceof Activation && layer.activation === 'relu' && !layer.passthrough;
}

/** Fraction of last-axis units that are zero for every row of a layer output. */
export function deadFraction(out: F32, units: number): number {
  const rows = out.length / units;
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let alive = false;
    for (let r = 0; r < rows && !alive; r++) if (out[r * units + u] > 0) alive = true;
    if (!alive) dead++;
  }
  return dead / units;
}

export class WeightTracker extends Callback {
  readonly log: WeightEpoch[] = [];
  private initial: Float32Array[] = [];
  private edges: number[] = [];
  constructor(private readonly model: Model, private readonly probe: (() => F32 | null) | null = null, private readonly bins = 60) {
    super();
  }
  get name(): string {
    return 'WeightTracker';
  }

  override onTrainBegin(): void {
    if (this.initial.length) return; // a resumed run keeps its original starting point
    this.initial = this.model.params().map((p) => Float32Array.from(p.value));
    let m = 0;
    for (const p of this.model.params()) if (p.trainable) for (const v of p.value) m = Math.max(m, Math.abs(v));
    const lim = Math.max(1e-3, 2 * m);
    this.edges = Array.from({ length: this.bins + 1 }, (_, i) => -lim + (2 * lim * i) / this.bins);
  }

  /** Histogram snapshot epochs: 0, 1, 3, 7, 15, … (1, 2, 4, 8, 16 counted from one) and the last. */
  private wantsHistogram(epoch: number): boolean {
    return ((epoch + 1) & epoch) === 0 || this.ctx.stopTraining || epoch === this.ctx.epochs - 1;
  }

  /**
   * The kernels' histogram over this epoch's own symmetric range (±max |w|). A range fixed at the
   * start (±2× the initial largest weight) was outgrown by training: every weight beyond it was
   * counted in an end bin, and the histograms piled up there. The chart puts snapshots with
   * different ranges onto one grid (plots.ts, histogramsChart).
   */
  private histogram(params: ReturnType<Model['params']>): { edges: number[]; counts: number[] } {
    const kernels = params.filter((p) => (p.trainable || p.grad !== null) && p.weightName === 'kernel');
    let m = 0;
    for (const p of kernels) for (const v of p.value) if (Math.abs(v) > m) m = Math.abs(v);
    const lim = Math.max(1e-3, m * (1 + 1e-6));
    const edges = Array.from({ length: this.bins + 1 }, (_, i) => -lim + (2 * lim * i) / this.bins);
    const step = (2 * lim) / this.bins;
    const counts = new Array<number>(this.bins).fill(0);
    for (const p of kernels) for (const v of p.value) counts[Math.min(this.bins - 1, Math.max(0, Math.floor((v + lim) / step)))]++;
    return { edges, counts };
  }

  record(epoch: number): WeightEpoch {
    const params = this.model.params();
    const byLayer = new Map<string, { n2: number; d2: number }>();
    let n2 = 0;
    let d2 = 0;
    params.forEach((p, i) => {
      if (!p.trainable && p.grad === null) return; // moving statistics are not weights
      const w0 = this.initial[i];
      let pn = 0;
      let pd = 0;
      for (let k = 0; k < p.value.length; k++) {
        const v = p.value[k];
        pn += v * v;
        const dv = v - (w0 ? w0[k] : 0);
        pd += dv * dv;
      }
      const s = byLayer.get(p.layer.name) ?? { n2: 0, d2: 0 };
      s.n2 += pn;
      s.d2 += pd;
      byLayer.set(p.layer.name, s);
      n2 += pn;
      d2 += pd;
    });
    const entry: WeightEpoch = {
      epoch, norm: Math.sqrt(n2), distance: Math.sqrt(d2),
      layers: [...byLayer].map(([name, s]) => ({ name, norm: Math.sqrt(s.n2), distance: Math.sqrt(s.d2) })),
    };
    if (this.wantsHistogram(epoch)) entry.histogram = this.histogram(params);
    const x = this.probe?.();
    if (x) {
      this.model.forward(x, { training: false });
      entry.deadRelu = [];
      this.model.layers.forEach((layer, i) => {
        const out = this.model.layerOutput(i);
        if (!out || !reluOutput(layer)) return;
        const units = layer.outputShape[layer.outputShape.length - 1];
        entry.deadRelu?.push({ layer: layer.name, fraction: deadFraction(out, units) });
      });
    }
    return entry;
  }

  override onEpochEnd(epoch: number, _logs: EpochLog): void {
    this.log.push(this.record(epoch));
  }

  override getState(): unknown {
    return { log: this.log, weights: this.initial, edges: this.edges };
  }

  override setState(state: unknown): void {
    const s = state as { log: WeightEpoch[]; weights: Float32Array[] | null; edges: number[] };
    // a loop, not push(...s.log): a resumed run of 200,000 epochs would overflow the stack
    this.log.length = 0;
    for (const e of s.log) this.log.push(e);
    this.initial = s.weights ?? [];
    this.edges = s.edges;
  }
}
