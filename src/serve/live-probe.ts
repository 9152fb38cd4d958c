/**
 * The live side of a training run, shared by the dashboard's Node worker (serve/train-worker.ts)
 * and the static site's Web Worker (site/run.ts): batch points (group loss, timing, ETA), the
 * network and predictions views on a time budget, knob changes and pause/resume/stop between
 * batches, and epochs with their diagnosis marks. Host-free: what differs between the two
 * workers — where messages go, where a knob event is kept, what a snapshot saves, how the
 * forward and backward passes are timed — comes in as a LiveHost.
 *
 * @example
 *   const live = new LiveProbe({ post, stopNote: 'checkpoint saved', snapshot: () => 'saved' });
 *   port.on('message', (m) => live.command(m));
 *   live.attach(run, context);
 *   await trainer.fit(train, { onBatch: (i) => live.onBatch(i), afterBatch: () => live.afterBatch(),
 *     afterEpoch: (_e, log) => live.onEpoch(log), shouldInterrupt: () => live.stopRequested });
 *   live.finish(result.interrupted);
 */
import type { F32 } from '../backend/backend.js';
import { type DiagnoseContext, type Diagnosis, diagnose } from '../diagnose/diagnose.js';
import type { Model } from '../nn/model.js';
import type { LiveRun } from '../run/train-run.js';
import type { EpochLog } from '../train/history.js';
import { applyKnob, readKnobs } from './knobs.js';
import { featureMaps, layerViews, predictionsView } from './probe.js';
import type { Action, BatchPoint, DiagnosisMarks, KnobEvent, KnobName, NetworkView, RunStatus, WorkerCommand, WorkerMessage } from './protocol.js';

/** batch points are posted at most this often (an epoch's last batch always) */
const POST_EVERY_MS = 50;
/** no view is refreshed more often than this (pages cannot show more) */
const MIN_PROBE_MS = 250;
/** each view's share of the time: both together stay well under the 5% the issue allows */
export const PROBE_BUDGET = 0.015;

/** What a live run trains: the model, its trainer and its data (a LiveRun has them; so does the site's run). */
export type LiveSubject = Pick<LiveRun, 'model' | 'trainer' | 'dataset' | 'train' | 'val'>;

/** The host's part: transport, lasting records and the host-bound actions. */
export interface LiveHost {
  post(m: WorkerMessage): void;
  /** keep a knob or action event beyond the stream (the Node worker appends it to knobs.jsonl) */
  keep?(event: KnobEvent): void;
  /** the snapshot action: save the weights now (or say why not); returns the event's note */
  snapshot(at: { epoch: number; batch: number }): string;
  /** the note a stop's event carries ("checkpoint saved") */
  stopNote: string;
  /** time the training forward and backward passes apart (wraps the model's methods); else the step's wall time is split 1:2 */
  timePasses?: boolean;
  /** share of the training time each view may take (default PROBE_BUDGET) */
  probeBudget?: number;
}

type Point = Omit<BatchPoint, 'forwardMs' | 'backwardMs' | 'seconds' | 'eta' | 'penalty' | 'learningRate' | 'loss'>;

export const diagnosisMarks = (d: Diagnosis): DiagnosisMarks => ({ regime: d.regime, summary: d.summary, onsetEpoch: d.onsetEpoch, bestEpoch: d.bestEpoch });

export class LiveProbe {
  /** the epochs trained so far (the diagnosis reads them) */
  readonly history: EpochLog[] = [];
  private run: LiveSubject | null = null;
  private context: DiagnoseContext | null = null;
  private paused = false;
  private stopping = false;
  private wake: (() => void) | null = null;
  private readonly pending: WorkerCommand[] = [];
  private wantNetwork = true;
  private wantPredictions = false;
  private probeInput = 0;
  private readonly clock = { start: 0, pausedMs: 0, lastPost: 0, probeMs: 0, batchMark: 0, netNext: 0, predNext: 0 };
  private readonly passes = { forward: 0, backward: 0 };
  private window = { examples: 0, ms: 0, forward: 0, backward: 0 };
  private steps = 0;
  private netStep = 0;
  private examples = 0;
  private epochExamples = 0;
  private lastEpochLoss = { seen: 0, sum: 0 };
  private secondsPerBatch = 0;
  private point: Point | null = null;

  constructor(private readonly host: LiveHost) {}

  /** Whether a stop was asked for (the Trainer's shouldInterrupt). */
  get stopRequested(): boolean {
    return this.stopping;
  }

  /** The run starts training now: its model, data and the context its diagnosis reads. */
  attach(run: LiveSubject, context: DiagnoseContext): void {
    this.run = run;
    this.context = context;
    if (this.host.timePasses) this.timePasses(run.model);
    this.clock.start = performance.now();
    this.clock.batchMark = this.clock.start;
  }

  /**
   * A command from the page, as it arrives: queued for the next batch boundary, except that a stop
   * (and a resume) also wakes a paused run at once.
   */
  command(m: WorkerCommand): void {
    this.pending.push(m);
    if (m.type === 'action' && m.action === 'stop') this.stopping = true;
    if (m.type === 'action' && (m.action === 'stop' || m.action === 'resume')) this.wake?.();
  }

  status(s: RunStatus): void {
    this.host.post({ type: 'status', status: s });
  }

  /** The Trainer's onBatch: a batch trained (a point is posted at most every 50 ms, and at an epoch's end). */
  onBatch(info: { epoch: number; batch: number; batches: number; epochs: number; logs: { size: number; loss: number; accuracy?: number } }): void {
    const now = performance.now();
    const t = now - this.clock.batchMark;
    this.clock.batchMark = now;
    const w = this.window;
    w.examples += info.logs.size;
    w.ms += t;
    w.forward += this.passes.forward;
    w.backward += this.passes.backward;
    this.passes.forward = 0;
    this.passes.backward = 0;
    this.examples += info.logs.size;
    this.epochExamples = info.batch === 0 ? info.logs.size : this.epochExamples + info.logs.size;
    if (info.batch === 0) this.lastEpochLoss = { seen: 0, sum: 0 };
    // smoothed seconds per batch, for the ETA and the probe budget
    const s = Math.max(t, 0.001) / 1000;
    this.secondsPerBatch = this.secondsPerBatch ? 0.95 * this.secondsPerBatch + 0.05 * s : s;
    this.point = { epoch: info.epoch, batch: info.batch, batches: info.batches, epochs: info.epochs, examples: this.examples, epochLoss: info.logs.loss, accuracy: info.logs.accuracy ?? null };
    if (info.batch === info.batches - 1) this.postPoint(true);
  }

  /** The Trainer's afterBatch: apply what the page asked, probe on budget, and wait while paused. */
  async afterBatch(): Promise<void> {
    this.steps++;
    if (performance.now() >= this.clock.netNext) this.wantNetwork = true;
    this.drain();
    this.postPoint(false);
    while (this.paused && !this.stopping) {
      this.postPoint(true);
      const t = performance.now();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // look at the queue now and then (probe requests while paused)
        setTimeout(resolve, 200);
      });
      this.wake = null;
      this.clock.pausedMs += performance.now() - t;
      this.drain();
    }
    this.clock.batchMark = performance.now();
  }

  /** The Trainer's afterEpoch: keep the epoch, post it with the diagnosis so far, refresh the predictions on budget. */
  onEpoch(log: EpochLog): void {
    this.history.push(log);
    let d: DiagnosisMarks | null = null;
    try {
      if (this.context) d = diagnosisMarks(diagnose(this.history, this.context));
    } catch {
      d = null; // too few epochs to read
    }
    this.host.post({ type: 'epoch', log: { ...log }, diagnosis: d });
    if (performance.now() >= this.clock.predNext) this.wantPredictions = true;
  }

  /**
   * Training is over: what the page asked after the last batch boundary is answered — probes
   * are made, a knob or pause that can no longer apply is rejected in one line (the page must
   * not wait for a 'paused' that will never come) — and a finished run posts its predictions.
   */
  finish(interrupted: boolean): void {
    if (!this.run) return;
    for (const m of this.pending.splice(0)) {
      if (m.type === 'probe') {
        if (m.what === 'network') this.wantNetwork = true;
        else this.wantPredictions = true;
      } else if (!(m.type === 'action' && m.action === 'stop')) {
        const what = m.type === 'set' ? `the change of ${Object.keys(m.knobs).join(', ')}` : `the ${m.action}`;
        this.host.post({ type: 'reject', message: `training ended before ${what} could apply` });
      }
    }
    if (this.wantNetwork) this.probeNetwork();
    if (!interrupted || this.wantPredictions) this.probePredictions();
    this.wantNetwork = false;
    this.wantPredictions = false;
  }

  /** Record a knob or action event: kept by the host, and posted with the knobs as they are now. */
  record(event: Omit<KnobEvent, 'time' | 'epoch' | 'batch' | 'examples'>): void {
    const run = this.run;
    if (!run) return;
    const full: KnobEvent = { time: new Date().toISOString(), epoch: this.point?.epoch ?? 0, batch: this.point?.batch ?? -1, examples: this.examples, ...event };
    this.host.keep?.(full);
    this.host.post({ type: 'knob', event: full, knobs: readKnobs(run.model, run.trainer) });
  }

  /** The network view of the model as it is now (its layers and one input's feature maps); `input` picks that input. */
  networkView(input?: number): NetworkView {
    const run = this.subject();
    if (input !== undefined) this.probeInput = input;
    const t = performance.now();
    const split = run.val ?? run.train;
    const index = Math.min(this.probeInput, split.y.length - 1);
    const layers = layerViews(run.model);
    const maps = featureMaps(run.model, run.trainer, split, index, run.dataset);
    const spent = performance.now() - t;
    const every = this.steps - this.netStep;
    this.netStep = this.steps;
    return {
      step: this.steps, epoch: this.point?.epoch ?? 0, every, probeMs: spent, stepMs: this.secondsPerBatch * 1000,
      overhead: this.clock.probeMs / Math.max(1, this.elapsedMs() - this.clock.probeMs), layers, input: index, ...maps,
    };
  }

  private subject(): LiveSubject {
    if (!this.run) throw new Error('LiveProbe: no run attached yet');
    return this.run;
  }

  private timePasses(model: Model): void {
    const forward = model.forward.bind(model);
    const backward = model.backward.bind(model);
    model.forward = (x: F32, options) => {
      if (!options.training) return forward(x, options);
      const t = performance.now();
      const out = forward(x, options);
      this.passes.forward += performance.now() - t;
      return out;
    };
    model.backward = (dOut: F32, options) => {
      const t = performance.now();
      backward(dOut, options);
      this.passes.backward += performance.now() - t;
    };
  }

  private elapsedMs(): number {
    return performance.now() - this.clock.start - this.clock.pausedMs;
  }

  private budget(spent: number): number {
    // next probe once training has run spent/budget ms: probing stays under `budget` of the time
    return performance.now() + Math.max(MIN_PROBE_MS, spent / (this.host.probeBudget ?? PROBE_BUDGET));
  }

  private postPoint(force: boolean): void {
    const p = this.point;
    const run = this.run;
    if (!p || !run) return;
    const now = performance.now();
    if (!force && now - this.clock.lastPost < POST_EVERY_MS) return;
    this.clock.lastPost = now;
    const seen = this.epochExamples;
    const last = this.lastEpochLoss;
    const loss = seen > last.seen ? (p.epochLoss * seen - last.sum) / (seen - last.seen) : p.epochLoss;
    this.lastEpochLoss = { seen, sum: p.epochLoss * seen };
    const remaining = (p.epochs - p.epoch - 1) * p.batches + (p.batches - p.batch - 1);
    const w = this.window;
    const n = Math.max(1, w.examples);
    // without timed passes the step's wall time is split as a dense layer's FLOPs are (backward ≈ 2× forward)
    const [forwardMs, backwardMs] = this.host.timePasses ? [w.forward / n, w.backward / n] : [w.ms / n / 3, (2 * w.ms) / n / 3];
    this.host.post({
      type: 'batch',
      point: {
        ...p, loss, penalty: run.model.penalty(), learningRate: run.trainer.optimizer.currentLearningRate(),
        forwardMs, backwardMs, seconds: this.elapsedMs() / 1000, eta: this.secondsPerBatch > 0 ? remaining * this.secondsPerBatch : null,
      },
    });
    this.window = { examples: 0, ms: 0, forward: 0, backward: 0 };
  }

  private probeNetwork(): void {
    const view = this.networkView();
    this.clock.probeMs += view.probeMs;
    this.clock.netNext = this.budget(view.probeMs);
    this.host.post({ type: 'network', view });
  }

  private probePredictions(): void {
    const run = this.subject();
    const t = performance.now();
    const split = run.val ?? run.dataset.test ?? run.train;
    this.host.post({ type: 'predictions', view: predictionsView(run.trainer, run.dataset, run.train, split, this.point?.epoch ?? 0) });
    const spent = performance.now() - t;
    this.clock.probeMs += spent;
    this.clock.predNext = this.budget(spent);
  }

  private handle(m: WorkerCommand): void {
    const run = this.subject();
    try {
      if (m.type === 'set') {
        for (const [name, value] of Object.entries(m.knobs)) {
          const before = readKnobs(run.model, run.trainer)[name as KnobName];
          const when = applyKnob(run.model, run.trainer, name as KnobName, value);
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
      this.host.post({ type: 'reject', message: (err as Error).message });
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
      this.record({ action, note: this.host.stopNote });
      this.status('stopping');
    } else if (action === 'snapshot') {
      this.record({ action, note: this.host.snapshot({ epoch: this.point?.epoch ?? 0, batch: this.point?.batch ?? -1 }) });
    }
  }

  /** Apply the queued commands (between batches), then make the views they or the budget ask for. */
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
}
