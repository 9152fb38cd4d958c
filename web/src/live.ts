/** The Live tab: ConvNetJS-style numbers, the knobs, the changes list and the two charts. */
import type { KnobEvent, KnobName, LiveState } from '../../src/serve/protocol.js';
import { postJson } from './api.js';
import { Chart, type Mark, align, smooth } from './charts.js';
import { $, clear, duration, el, fmt, pct, toast } from './dom.js';
import { isActive, store } from './store.js';

const KNOBS: { name: KnobName; label: string; step: string }[] = [
  { name: 'learningRate', label: 'learning rate', step: 'any' },
  { name: 'momentum', label: 'momentum (β1)', step: '0.01' },
  { name: 'batchSize', label: 'batch size (next epoch)', step: '1' },
  { name: 'weightDecay', label: 'weight decay', step: 'any' },
  { name: 'l2', label: 'L2 λ (kernels)', step: 'any' },
  { name: 'dropout', label: 'dropout rate', step: '0.05' },
];

let lossChart: Chart;
let accChart: Chart;
let knobsFor: string | null = null;

/** Send a knob, action or probe to the run on show; nothing is sent for a run that is not training here. */
export async function control(body: unknown): Promise<void> {
  if (!store.current || !isActive(store.state)) return;
  try {
    await postJson(`/api/runs/${encodeURIComponent(store.current)}/control`, body);
  } catch (err) {
    toast((err as Error).message);
  }
}

export function initLive(): void {
  lossChart = new Chart($('loss-chart'), [
    { label: 'train (batches)', color: '#9ec5fe', width: 1 },
    { label: 'train', color: '#1f77b4', width: 2, points: true },
    { label: 'validation', color: '#d62728', width: 2, points: true },
  ], 'loss');
  accChart = new Chart($('acc-chart'), [
    { label: 'train (running)', color: '#9ec5fe', width: 1 },
    { label: 'train', color: '#1f77b4', width: 2, points: true },
    { label: 'validation', color: '#d62728', width: 2, points: true },
  ], 'accuracy');
  const slider = $('smoothing') as HTMLInputElement;
  slider.addEventListener('input', () => {
    $('smoothing-value').textContent = Number(slider.value).toFixed(2);
    renderCharts(store.state);
  });
  $('btn-pause').addEventListener('click', () => void control({ action: 'pause' }));
  $('btn-resume').addEventListener('click', () => void control({ action: 'resume' }));
  $('btn-stop').addEventListener('click', () => void control({ action: 'stop' }));
  $('btn-snapshot').addEventListener('click', () => void control({ action: 'snapshot' }));
}

function stat(dl: HTMLElement, label: string, value: string, id: string): void {
  dl.append(el('dt', {}, label), el('dd', { id: `stat-${id}` }, value));
}

function renderStats(s: LiveState | null): void {
  const dl = clear($('stats'));
  if (!s) return;
  const p = s.points[s.points.length - 1];
  const e = s.epochs[s.epochs.length - 1];
  const epochs = s.info?.epochs ?? 0;
  stat(dl, 'forward / example', p ? `${fmt(p.forwardMs, 3)} ms` : '–', 'forward');
  stat(dl, 'backward / example', p ? `${fmt(p.backwardMs, 3)} ms` : '–', 'backward');
  stat(dl, 'loss (this epoch)', fmt(p?.epochLoss ?? e?.loss), 'loss');
  stat(dl, 'L2 / weight penalty', fmt(p?.penalty ?? e?.penalty), 'penalty');
  stat(dl, 'train accuracy', pct(p?.accuracy ?? e?.accuracy), 'train-acc');
  stat(dl, 'val accuracy', pct(e?.val_accuracy), 'val-acc');
  stat(dl, 'val loss', fmt(e?.val_loss), 'val-loss');
  stat(dl, 'examples seen', (p?.examples ?? e?.examples ?? 0).toLocaleString('en-US'), 'examples');
  stat(dl, 'learning rate', fmt(p?.learningRate ?? e?.learning_rate), 'lr');
  stat(dl, 'epoch', p ? `${p.epoch + 1} / ${epochs} (batch ${p.batch + 1} / ${p.batches})` : `${s.epochs.length} / ${epochs}`, 'epoch');
  stat(dl, 'elapsed / ETA', p ? `${duration(p.seconds)} / ${isActive(s) ? duration(p.eta) : 'done'}` : '–', 'eta');
}

function renderKnobs(s: LiveState | null): void {
  const form = $('knobs') as HTMLFormElement;
  const active = isActive(s);
  const id = store.current;
  // rebuild only when the run changes or a knob changed (never under the user's typing)
  for (const b of ['btn-pause', 'btn-resume', 'btn-stop', 'btn-snapshot']) ($(b) as HTMLButtonElement).disabled = !active;
  if (active) {
    ($('btn-pause') as HTMLButtonElement).disabled = s?.status !== 'running';
    ($('btn-resume') as HTMLButtonElement).disabled = s?.status !== 'paused';
  }
  const key = `${id}|${active}|${JSON.stringify(s?.info?.knobs ?? null)}`;
  if (knobsFor === key) return;
  knobsFor = key;
  clear(form);
  for (const k of KNOBS) {
    const value = s?.info?.knobs[k.name];
    const usable = active && value !== null && value !== undefined && Number.isFinite(value);
    const input = el('input', { type: 'number', step: k.step, min: 0, id: `knob-${k.name}`, name: k.name, value: usable ? String(value) : '', disabled: !usable, placeholder: value === null ? 'n/a' : '' });
    const apply = (): void => {
      const v = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(v)) {
        toast(`${k.label}: enter a number`);
        return;
      }
      void control({ set: { [k.name]: v } });
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        apply();
      }
    });
    form.append(el('label', { for: `knob-${k.name}` }, k.label), input, el('button', { type: 'button', id: `apply-${k.name}`, disabled: !usable, onclick: apply }, 'Apply'));
  }
}

function eventText(e: KnobEvent): string {
  const where = `epoch ${e.epoch + 1}, batch ${e.batch + 1}`;
  if (e.knob) return `${where}: ${e.knob} ${fmt(e.from ?? null)} → ${fmt(e.to ?? null)} (${e.note ?? 'next batch'})`;
  return `${where}: ${e.action}${e.note ? ` — ${e.note}` : ''}`;
}

function eventX(s: LiveState, e: KnobEvent): number {
  const batches = s.points.find((p) => p.epoch === e.epoch)?.batches ?? s.points[s.points.length - 1]?.batches ?? 1;
  return e.epoch + (e.batch + 1) / batches;
}

function marks(s: LiveState): Mark[] {
  const m: Mark[] = [];
  const d = s.diagnosis;
  if (d?.onsetEpoch !== null && d?.onsetEpoch !== undefined) m.push({ x: d.onsetEpoch, label: `onset (epoch ${d.onsetEpoch})`, color: '#d62728' });
  if (d?.bestEpoch !== null && d?.bestEpoch !== undefined) m.push({ x: d.bestEpoch, label: `best (epoch ${d.bestEpoch})`, color: '#2ca02c' });
  for (const e of s.events) {
    if (e.knob) m.push({ x: eventX(s, e), label: `${e.knob}→${fmt(e.to ?? null, 3)}`, color: '#9467bd' });
    else if (e.action === 'pause' || e.action === 'stop') m.push({ x: eventX(s, e), label: e.action, color: '#7f7f7f' });
  }
  return m;
}

function renderCharts(s: LiveState | null): void {
  if (!s) {
    lossChart.set([], [[], [], []]);
    accChart.set([], [[], [], []]);
    return;
  }
  const w = Number(($('smoothing') as HTMLInputElement).value);
  const bx = s.points.map((p) => p.epoch + (p.batch + 1) / p.batches);
  const batchLoss = smooth(s.points.map((p) => p.loss), w);
  const batchAcc = smooth(s.points.map((p) => p.accuracy), w);
  const ex = s.epochs.map((e) => (e.epoch ?? 0) + 1);
  const series = (ys: (number | null | undefined)[], xs: number[]): { x: number; y: number | null }[] => xs.map((x, i) => ({ x, y: ys[i] ?? null }));
  const loss = align([series(batchLoss, bx), series(s.epochs.map((e) => e.loss), ex), series(s.epochs.map((e) => e.val_loss), ex)]);
  const acc = align([series(batchAcc, bx), series(s.epochs.map((e) => e.accuracy), ex), series(s.epochs.map((e) => e.val_accuracy), ex)]);
  const mk = marks(s);
  lossChart.set(loss.x, loss.ys, mk);
  accChart.set(acc.x, acc.ys, mk);
}

export function renderLive(): void {
  const s = store.state;
  $('run-title').textContent = s?.info ? `${s.info.model} on ${s.info.dataset}` : store.current ?? 'No run selected';
  $('run-meta').textContent = s?.info
    ? `${s.info.id} · ${s.info.params.toLocaleString('en-US')} parameters · ${s.info.optimizer}${s.error ? ` · error: ${s.error}` : ''}`
    : 'Start one under “New run”, or pick one under “Runs”.';
  const badge = $('status');
  badge.textContent = s ? s.status : 'no run';
  badge.className = `badge ${s?.status ?? ''}`;
  renderStats(s);
  renderKnobs(s);
  const d = s?.diagnosis;
  // the summary opens with the regime in words ("Overfitting: …"); prefixing d.regime repeated it
  $('diagnosis').textContent = d ? d.summary || d.regime : '';
  const ul = clear($('events'));
  for (const e of [...(s?.events ?? [])].reverse()) ul.append(el('li', {}, eventText(e)));
  if (s && !s.events.length) ul.append(el('li', { class: 'muted' }, 'none yet'));
  renderCharts(s);
}

export function lossPoints(): number {
  return lossChart.points;
}
