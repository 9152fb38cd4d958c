/**
 * The static site's in-page session: answers the dashboard's URLs (/api/options, /api/runs,
 * /api/runs/<id>, …/control, …/inspect, /api/command, /api/experiments) without a server.
 * Runs live in memory; each trains in its own Web Worker (worker.js, built from
 * src/site/worker.ts), whose WorkerMessages reach the views as the server's event stream would
 * deliver them, tagged with the run id. A spare worker answers the form's options and command.
 */
import {
  type InspectView, type LiveState, type RunDetail, type RunRow, type SiteArtifact, type SiteData, type SiteDownload, type SiteFile, type SiteOptions,
  type SiteReply, type SiteRequest, type WorkerCommand, type WorkerMessage, emptyLiveState, foldEvent, isActiveStatus,
} from '../../../src/serve/protocol.js';
import type { StreamListener, Transport } from '../api.js';

/** The form's dataset name for files the user picks (src/site/config.ts says the same). */
export const FILES_DATASET = 'your files';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
/** A request without its number (the channel numbers it). */
type Request = SiteRequest extends infer R ? (R extends SiteRequest ? Omit<R, 're'> : never) : never;

/** A Web Worker and the requests waiting for its replies. */
class Channel {
  readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, Pending>();

  /** `onFail`: the worker died (an uncaught error, a script that did not load): no message will follow. */
  constructor(url: URL, onMessage: (m: WorkerMessage) => void, onFail: (message: string) => void = () => undefined) {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.addEventListener('message', (e: MessageEvent<WorkerMessage | SiteReply>) => {
      const m = e.data;
      if (m.type !== 'reply') {
        onMessage(m);
        return;
      }
      const p = this.waiting.get(m.re);
      this.waiting.delete(m.re);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
    });
    this.worker.addEventListener('error', (e) => {
      const message = `the training worker failed: ${e.message || 'it could not start (is worker.js beside the page?)'}`;
      for (const p of this.waiting.values()) p.reject(new Error(message));
      this.waiting.clear();
      onFail(message);
    });
  }

  request(m: Request, transfer: Transferable[] = []): Promise<unknown> {
    const re = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(re, { resolve, reject });
      this.worker.postMessage({ ...m, re }, transfer);
    });
  }
}

interface SiteRunEntry {
  id: string;
  created: string;
  channel: Channel;
  state: LiveState;
  summary: Record<string, unknown> | null;
}

const decode = (s: string): string => decodeURIComponent(s);

export class SiteSession implements Transport {
  private readonly runs = new Map<string, SiteRunEntry>();
  private listener: StreamListener = () => undefined;
  private tools: Channel | null = null;
  private readonly workerUrl: URL;
  /** the files the user picked for a run on 'your files' (the New run view sets this) */
  pickFiles: () => Promise<SiteFile[]> = () => Promise.resolve([]);

  constructor(workerUrl = new URL('worker.js', location.href)) {
    this.workerUrl = workerUrl;
  }

  private spare(): Channel {
    this.tools ??= new Channel(this.workerUrl, () => undefined);
    return this.tools;
  }

  /** The form's options and the backend the workers train on. */
  options(): Promise<SiteOptions> {
    return this.spare().request({ type: 'options' }) as Promise<SiteOptions>;
  }

  subscribe(_types: readonly string[], listener: StreamListener, state: (s: 'live' | 'reconnecting') => void): void {
    this.listener = listener;
    state('live');
    listener('hello', { live: {} });
  }

  link(): string | null {
    return null;
  }

  async get(url: string): Promise<unknown> {
    const u = new URL(url, location.href);
    const path = u.pathname.replace(/^.*?\/api\//, '/api/');
    if (path === '/api/options') return this.options();
    if (path === '/api/experiments') return { experiments: [] };
    if (path === '/api/runs') return { runs: [...this.runs.values()].map((r) => this.row(r)) };
    let m = /^\/api\/runs\/([^/]+)$/.exec(path);
    if (m) return this.detail(this.run(decode(m[1])));
    m = /^\/api\/runs\/([^/]+)\/inspect$/.exec(path);
    if (m) {
      const view = u.searchParams.get('view') as InspectView;
      const input = u.searchParams.get('input');
      return this.run(decode(m[1])).channel.request({ type: 'inspect', view, ...(input !== null ? { input: Number(input) } : {}) });
    }
    throw new Error(`this page has no server: ${path} is not answered here`);
  }

  async post(url: string, value: unknown): Promise<unknown> {
    const path = new URL(url, location.href).pathname.replace(/^.*?\/api\//, '/api/');
    if (path === '/api/command') return { command: await this.spare().request({ type: 'command', body: value as Record<string, unknown> }) };
    if (path === '/api/runs') return this.start(value as Record<string, unknown>);
    const m = /^\/api\/runs\/([^/]+)\/control$/.exec(path);
    if (m) {
      const r = this.run(decode(m[1]));
      if (!isActiveStatus(r.state.status)) throw new Error(`run ${r.id} is ${r.state.status}, not training; it takes no control`);
      return r.channel.request({ type: 'control', command: toCommand(value) });
    }
    throw new Error(`this page has no server: POST ${path} is not answered here`);
  }

  /** The files a finished run offers: the model (TF.js), its history (CSV, JSON), its report. */
  download(id: string, what: SiteDownload): Promise<SiteArtifact[]> {
    return this.run(id).channel.request({ type: 'download', what }) as Promise<SiteArtifact[]>;
  }

  /** What the run's 'done' said (test accuracy, the epochs run), or null while it trains. */
  summary(id: string): Record<string, unknown> | null {
    return this.runs.get(id)?.summary ?? null;
  }

  private run(id: string): SiteRunEntry {
    const r = this.runs.get(id);
    if (!r) throw new Error(`no run ${JSON.stringify(id)} in this tab (runs live only as long as the page)`);
    return r;
  }

  private async start(body: Record<string, unknown>): Promise<{ id: string; command: string }> {
    const spec = body.modelSpec as { name?: unknown } | undefined;
    const model = typeof spec?.name === 'string' ? spec.name : typeof body.model === 'string' ? body.model : 'custom';
    const name = typeof body.name === 'string' && body.name ? body.name : `${model}-${String(body.dataset)}`;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    let id = `${stamp}-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
    for (let k = 2; this.runs.has(id); k++) id = `${id.replace(/-\d+$/, '')}-${k}`;
    let data: SiteData = { kind: 'builtin' };
    const transfer: Transferable[] = [];
    if (body.dataset === FILES_DATASET) {
      const files = await this.pickFiles();
      data = { kind: 'files', files };
      for (const f of files) transfer.push(f.bytes.buffer);
    }
    // a worker that dies mid-run posts nothing more: its run fails in the page instead of staying 'running'
    const failed = (message: string): void => {
      // before 'started' the start request itself fails (and the run is forgotten)
      if (entry.state.info && isActiveStatus(entry.state.status)) this.deliver(entry, { type: 'error', message, hint: null, user: false });
    };
    const entry: SiteRunEntry = { id, created: new Date().toISOString(), channel: new Channel(this.workerUrl, (m) => this.deliver(entry, m), failed), state: emptyLiveState(), summary: null };
    this.runs.set(id, entry);
    try {
      const command = (await entry.channel.request({ type: 'start', id, body, data }, transfer)) as string;
      return { id, command };
    } catch (err) {
      this.runs.delete(id);
      entry.channel.worker.terminate();
      throw err;
    }
  }

  /** A worker's message: folded into the run's state, and sent to the views as the stream would. */
  private deliver(r: SiteRunEntry, m: WorkerMessage): void {
    foldEvent(r.state, m);
    if (m.type === 'done') r.summary = m.summary;
    this.listener(m.type, { ...m, run: r.id });
  }

  private row(r: SiteRunEntry): RunRow {
    const s = r.state;
    const last = s.epochs[s.epochs.length - 1];
    const num = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);
    const test = r.summary?.test as { loss: number; accuracy: number } | null | undefined;
    return {
      id: r.id, created: r.created, model: s.info?.model ?? '?', dataset: s.info?.dataset ?? '?', params: s.info?.params ?? null,
      epochs: s.epochs.length, epochsAsked: s.info?.epochs ?? null, regime: s.status === 'finished' ? s.diagnosis?.regime ?? null : null,
      onsetEpoch: s.diagnosis?.onsetEpoch ?? null, bestEpoch: s.diagnosis?.bestEpoch ?? null,
      final: last ? { loss: num(last.loss), accuracy: num(last.accuracy), valLoss: num(last.val_loss), valAccuracy: num(last.val_accuracy) } : null,
      test: test ?? null, report: false, status: s.status, ...(s.error ? { error: s.error } : {}),
    };
  }

  private detail(r: SiteRunEntry): RunDetail {
    const s = r.state;
    return {
      ...this.row(r), config: null,
      history: s.epochs.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v ?? null]))),
      diagnosis: s.diagnosis ? { ...s.diagnosis } : null, events: s.events,
      models: isActiveStatus(s.status) || s.status === 'failed' ? [] : [{ id: 'final', label: 'final weights (in this tab)' }],
      // a copy: the page's store folds the stream's events into its own state
      live: structuredClone(s),
    };
  }
}

/** A control body as the dashboard sends it → the worker's command. */
function toCommand(value: unknown): WorkerCommand {
  const b = (value ?? {}) as Record<string, unknown>;
  if (b.set && typeof b.set === 'object') return { type: 'set', knobs: b.set };
  if (typeof b.action === 'string' && ['pause', 'resume', 'stop', 'snapshot'].includes(b.action)) return { type: 'action', action: b.action as 'pause' };
  if (b.probe === 'network' || b.probe === 'predictions') return { type: 'probe', what: b.probe, ...(typeof b.input === 'number' ? { input: b.input } : {}) };
  throw new Error(`a control body needs "set", "action" or "probe"; received ${JSON.stringify(value)}`);
}
