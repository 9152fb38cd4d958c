/**
 * What the page knows: every live run's state (from the event stream), the runs on disk, and
 * the run on show. Events are folded by serve/protocol's `foldEvent`, the very function the
 * server's session uses, so a page that connected late (hello snapshot) and one that watched
 * from the start show the same thing.
 */
import { type BatchPoint, type LiveState, type RunDetail, type RunRow, type SavedModel, type WorkerMessage, emptyLiveState, foldEvent, isActiveStatus } from '../../src/serve/protocol.js';

type Listener = (what: string) => void;

/** What the page knows of a run read from disk (not training in this dashboard). */
export interface SavedRun {
  models: SavedModel[];
  /** the saved model the Network and Predictions views are computed from */
  model: string | null;
}

export class Store {
  readonly runs = new Map<string, LiveState>();
  /** runs opened from disk: their saved models (views come from /inspect, never /control) */
  readonly saved = new Map<string, SavedRun>();
  /** every run directory the server listed, newest last (the run selector shows them all) */
  onDisk: RunRow[] = [];
  current: string | null = null;
  private readonly listeners: Listener[] = [];

  on(l: Listener): void {
    this.listeners.push(l);
  }

  emit(what: string): void {
    for (const l of this.listeners) l(what);
  }

  get state(): LiveState | null {
    return this.current ? this.runs.get(this.current) ?? null : null;
  }

  /** The run on show when it was opened from disk (null for a run of this dashboard). */
  get savedRun(): SavedRun | null {
    return this.current ? this.saved.get(this.current) ?? null : null;
  }

  show(id: string | null): void {
    this.current = id;
    this.emit('select');
  }

  hello(live: Record<string, LiveState>): void {
    for (const [id, s] of Object.entries(live)) {
      this.runs.set(id, s);
      this.saved.delete(id);
    }
    if (!this.current) {
      const running = Object.entries(live).find(([, s]) => s.status === 'running' || s.status === 'paused');
      if (running) this.current = running[0];
    }
    this.emit('select');
  }

  /** Fold one event (a worker message with its run id) into its run's state; returns the run id. */
  apply(m: WorkerMessage & { run?: string | null }): string | null {
    const id = m.run;
    if (!id) return null;
    let s = this.runs.get(id);
    if (!s || this.saved.has(id)) {
      // a run that trains here now (a resumed one, say) is live from this event on
      s = emptyLiveState();
      this.runs.set(id, s);
      this.saved.delete(id);
    }
    foldEvent(s, m, (st: LiveState, p: BatchPoint) => st.points.push(p));
    return id;
  }

  /** A run read from its directory: live when it trains here, else shown from its files. */
  loadDetail(d: RunDetail): void {
    if (d.live) {
      this.runs.set(d.id, d.live);
      this.saved.delete(d.id);
      return;
    }
    const cfg = d.config ?? {};
    const ds = (cfg.dataset ?? {}) as { classes?: number; classNames?: string[]; shape?: number[] };
    const tr = (cfg.training ?? {}) as { epochs?: number; optimizer?: { name?: string } };
    const before = this.saved.get(d.id)?.model;
    const model = d.models.some((m) => m.id === before) ? (before as string) : d.models[0]?.id ?? null;
    this.saved.set(d.id, { models: d.models, model });
    this.runs.set(d.id, {
      info: {
        id: d.id, runDir: d.id, model: d.model, dataset: d.dataset, classes: ds.classes ?? 0, classNames: ds.classNames ?? [], shape: ds.shape ?? [],
        params: d.params ?? 0, epochs: d.epochsAsked ?? tr.epochs ?? d.history.length, optimizer: tr.optimizer?.name ?? '?',
        knobs: { learningRate: NaN, momentum: null, batchSize: NaN, weightDecay: NaN, l2: NaN, dropout: null }, command: '',
      },
      status: d.regime === null && d.epochsAsked !== null && d.epochs < d.epochsAsked ? 'stopped' : 'finished',
      points: [],
      epochs: d.history.map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v ?? undefined]))),
      events: d.events,
      // the row's epochs are 1-based whatever the diagnosis.json's age (serve/runs.ts)
      diagnosis: d.regime ? { regime: d.regime, summary: typeof d.diagnosis?.summary === 'string' ? d.diagnosis.summary : '', onsetEpoch: d.onsetEpoch, bestEpoch: d.bestEpoch } : null,
      network: null, predictions: null, log: [], error: d.error ?? null,
    });
  }

  /** A run of this dashboard that has ended, looked at from its saved models now (its state stays). */
  adoptSaved(id: string, models: SavedModel[]): SavedRun {
    const run: SavedRun = { models, model: models[0]?.id ?? null };
    this.saved.set(id, run);
    return run;
  }

  /** Choose the saved model the views of the run on show are computed from (they are cleared). */
  chooseModel(id: string): void {
    const run = this.savedRun;
    const s = this.state;
    if (!run || !s) return;
    run.model = id;
    s.network = null;
    s.predictions = null;
    this.emit('model');
  }
}

export const store = new Store();

export const isActive = (s: LiveState | null): boolean => !!s && isActiveStatus(s.status);
