/**
 * Live runs on the server side: one training worker per run, its state kept for pages that
 * connect late, every worker message relayed to the pages as an SSE event.
 */
import type { Worker } from 'node:worker_threads';
import { ArgumentError, FitlabError } from '../errors.js';
import { releaseRunLock } from '../io/run-lock.js';
import type { TrainRunConfig } from '../run/train-run.js';
import type { ControlRequest } from './validate.js';
import { type BatchPoint, type LiveState, type WorkerCommand, type WorkerMessage, emptyLiveState, foldEvent, isActiveStatus } from './protocol.js';
import type { SseHub } from './sse.js';
import type { WorkerInput } from './train-worker.js';
import { startWorker } from './worker-boot.js';

/** Points kept per run: beyond this every other one is dropped (the page still sees all live). */
const MAX_POINTS = 4000;

function spawnWorker(input: WorkerInput): Worker {
  return startWorker('train-worker', input);
}

export class LiveSession {
  readonly state: LiveState = emptyLiveState();
  private readonly worker: Worker;
  private readonly hub: SseHub;
  private stride = 1;
  private skipped = 0;
  /** resolves once the run directory exists (or rejects with the user's error) */
  readonly started: Promise<string>;
  readonly finished: Promise<void>;

  constructor(input: WorkerInput, hub: SseHub) {
    this.hub = hub;
    this.worker = spawnWorker(input);
    let ok: (id: string) => void = () => undefined;
    let fail: (err: Error) => void = () => undefined;
    this.started = new Promise<string>((resolve, reject) => {
      ok = resolve;
      fail = reject;
    });
    // nobody may await `started` (fitlab train --serve); its rejection is reported elsewhere
    this.started.catch(() => undefined);
    let done: () => void = () => undefined;
    this.finished = new Promise<void>((resolve) => (done = resolve));
    this.worker.on('message', (m: WorkerMessage) => {
      this.receive(m);
      if (m.type === 'started') ok(m.info.id);
      if (m.type === 'error') fail(m.user ? new ArgumentError(m.message, m.hint ?? undefined) : new FitlabError(`training failed: ${m.message}`));
    });
    this.worker.on('error', (err) => {
      this.receive({ type: 'error', message: err.message, hint: null, user: false });
      fail(new FitlabError(`the training worker failed: ${err.message}`));
    });
    this.worker.on('exit', () => {
      // the worker trained under this process's PID: its lock would never look stale
      if (this.state.info) releaseRunLock(this.state.info.runDir);
      if (this.state.status === 'starting' || this.state.status === 'running' || this.state.status === 'paused' || this.state.status === 'stopping') {
        this.receive({ type: 'error', message: 'the training worker exited', hint: null, user: false });
      }
      fail(new FitlabError('the training worker exited before the run started'));
      done();
    });
  }

  get id(): string | null {
    return this.state.info?.id ?? null;
  }

  get active(): boolean {
    return isActiveStatus(this.state.status);
  }

  private keep(point: BatchPoint): void {
    // past MAX_POINTS keep every other point, then every fourth, ... (the curve's shape stays)
    if (++this.skipped < this.stride) return;
    this.skipped = 0;
    const pts = this.state.points;
    pts.push(point);
    if (pts.length > MAX_POINTS) {
      this.state.points = pts.filter((_, i) => i % 2 === 1);
      this.stride *= 2;
    }
  }

  private receive(m: WorkerMessage): void {
    const s = this.state;
    foldEvent(s, m, (_s, p) => this.keep(p));
    if (m.type !== 'started' || s.info) this.hub.publish(m.type, { run: s.info?.id ?? null, ...m });
  }

  /** Pass a validated control request to the worker (it applies it after the current batch). */
  control(req: ControlRequest): void {
    if (!this.active) throw new ArgumentError(`the run is ${this.state.status}; only a running run takes knobs and actions`);
    let cmd: WorkerCommand;
    if ('set' in req) cmd = { type: 'set', knobs: req.set };
    else if ('action' in req) cmd = { type: 'action', action: req.action };
    else cmd = { type: 'probe', what: req.probe, ...(req.input !== undefined ? { input: req.input } : {}) };
    this.worker.postMessage(cmd);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export class Sessions {
  private readonly byId = new Map<string, LiveSession>();
  /** every session ever started here, including those whose run directory does not exist yet */
  private readonly every = new Set<LiveSession>();
  private readonly hub: SseHub;
  constructor(hub: SseHub) {
    this.hub = hub;
  }

  /** Start a run in a worker; resolves with its id when its run directory exists. */
  async start(input: WorkerInput): Promise<LiveSession> {
    const s = new LiveSession(input, this.hub);
    this.every.add(s);
    const id = await s.started;
    this.byId.set(id, s);
    return s;
  }

  /** Register a session whose start is awaited elsewhere. */
  track(s: LiveSession): void {
    this.every.add(s);
    void s.started.then((id) => this.byId.set(id, s), () => undefined);
  }

  /** Sessions still training (or starting, or stopping): what --max-runs counts. */
  activeCount(): number {
    let n = 0;
    for (const s of this.every) {
      if (s.active) n++;
      else if (!s.id) this.every.delete(s); // ended before it had a run: forget it
    }
    return n;
  }

  get(id: string): LiveSession | undefined {
    return this.byId.get(id);
  }

  all(): LiveSession[] {
    return [...this.byId.values()];
  }

  async closeAll(): Promise<void> {
    // `every` also holds workers still starting, which have no id yet
    await Promise.all([...new Set([...this.every, ...this.all()])].map((s) => s.terminate()));
  }

  static config(c: TrainRunConfig): WorkerInput {
    return { config: c };
  }
}
