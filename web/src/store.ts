/**
 * What the page knows: every live run's state (from the event stream) and the run on show.
 * Events arrive in order on one stream; `apply` folds each into its run's state exactly as the
 * server's session does, so a page that connected late (hello snapshot) and one that watched
 * from the start show the same thing.
 */
import type { BatchPoint, DiagnosisMarks, KnobEvent, Knobs, LiveState, NetworkView, PredictionsView, RunInfo, RunStatus } from '../../src/serve/protocol.js';

export interface RunDetail {
  id: string;
  model: string;
  dataset: string;
  params: number | null;
  config: Record<string, unknown> | null;
  history: Record<string, number | null>[];
  diagnosis: (DiagnosisMarks & Record<string, unknown>) | null;
  events: KnobEvent[];
  live: LiveState | null;
}

type Listener = (what: string) => void;

export class Store {
  readonly runs = new Map<string, LiveState>();
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

  show(id: string | null): void {
    this.current = id;
    this.emit('select');
  }

  hello(live: Record<string, LiveState>): void {
    for (const [id, s] of Object.entries(live)) this.runs.set(id, s);
    if (!this.current) {
      const running = Object.entries(live).find(([, s]) => s.status === 'running' || s.status === 'paused');
      if (running) this.current = running[0];
    }
    this.emit('select');
  }

  /** Fold one event into its run's state; returns the run id. */
  apply(type: string, m: Record<string, unknown>): string | null {
    const id = m.run as string | null;
    if (!id) return null;
    let s = this.runs.get(id);
    if (!s) {
      s = { info: null, status: 'starting', points: [], epochs: [], events: [], diagnosis: null, network: null, predictions: null, log: [], error: null };
      this.runs.set(id, s);
    }
    switch (type) {
      case 'started': s.info = m.info as RunInfo; break;
      case 'batch': s.points.push(m.point as BatchPoint); break;
      case 'epoch':
        s.epochs.push(m.log as Record<string, number | undefined>);
        s.diagnosis = (m.diagnosis as DiagnosisMarks | null) ?? s.diagnosis;
        break;
      case 'knob':
        s.events.push(m.event as KnobEvent);
        if (s.info) s.info.knobs = m.knobs as Knobs;
        break;
      case 'status': s.status = m.status as RunStatus; break;
      case 'network': s.network = m.view as NetworkView; break;
      case 'predictions': s.predictions = m.view as PredictionsView; break;
      case 'log': s.log.push(m.line as string); break;
      case 'done': {
        s.status = m.status as RunStatus;
        const d = (m.summary as { diagnosis?: DiagnosisMarks | null }).diagnosis;
        if (d) s.diagnosis = d;
        break;
      }
      case 'error':
        s.status = 'failed';
        s.error = m.message as string;
        break;
    }
    return id;
  }

  /** A finished run read from its directory, shown like a live one. */
  loadDetail(d: RunDetail): void {
    if (d.live) {
      this.runs.set(d.id, d.live);
      return;
    }
    const cfg = d.config ?? {};
    const ds = (cfg.dataset ?? {}) as { classes?: number; classNames?: string[]; shape?: number[] };
    const tr = (cfg.training ?? {}) as { epochs?: number; optimizer?: { name?: string } };
    this.runs.set(d.id, {
      info: {
        id: d.id, runDir: d.id, model: d.model, dataset: d.dataset, classes: ds.classes ?? 0, classNames: ds.classNames ?? [], shape: ds.shape ?? [],
        params: d.params ?? 0, epochs: tr.epochs ?? d.history.length, optimizer: tr.optimizer?.name ?? '?',
        knobs: { learningRate: NaN, momentum: null, batchSize: NaN, weightDecay: NaN, l2: NaN, dropout: null }, command: '',
      },
      status: 'finished',
      points: [],
      epochs: d.history.map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v ?? undefined]))),
      events: d.events,
      diagnosis: d.diagnosis ? { regime: String(d.diagnosis.regime), summary: String(d.diagnosis.summary ?? ''), onsetEpoch: d.diagnosis.onsetEpoch ?? null, bestEpoch: d.diagnosis.bestEpoch ?? null } : null,
      network: null, predictions: null, log: [], error: null,
    });
  }
}

export const store = new Store();

export const isActive = (s: LiveState | null): boolean => !!s && ['starting', 'running', 'paused', 'stopping'].includes(s.status);
