/**
 * The Network tab (per-layer statistics, feature maps, filters) and the Predictions tab. A run
 * training here gets its views from its worker (POST /control probe); a run opened from disk
 * gets them computed from the saved model chosen in the page (GET /inspect, in the server's
 * inspection worker). A run that is not live never sends /control.
 */
import type { Histogram, LiveState, NetworkView, PredictionsView, RunDetail } from '../../src/serve/protocol.js';
import { getJson } from './api.js';
import { $, clear, el, fmt, histogramCanvas, PALETTE, pictureCanvas, toast } from './dom.js';
import { control } from './live.js';
import { isActive, store } from './store.js';

type View = 'network' | 'predictions';
const busy = new Set<string>();

function probeInput(): number {
  return Math.max(0, Math.floor(Number(($('probe-input') as HTMLInputElement).value) || 0));
}

/** Ask for a view of the run on show: its worker when it trains here, else its saved model. */
export async function requestView(view: View): Promise<void> {
  const s = store.state;
  const id = store.current;
  if (!s || !id) return;
  if (isActive(s)) {
    await control(view === 'network' ? { probe: 'network', input: probeInput() } : { probe: 'predictions' });
    return;
  }
  // a run of this dashboard that has ended is a run on disk from now on: its saved models are listed
  let saved = store.savedRun;
  if (!saved) {
    try {
      saved = store.adoptSaved(id, (await getJson<RunDetail>(`/api/runs/${encodeURIComponent(id)}`)).models);
    } catch (err) {
      toast((err as Error).message);
      return;
    }
  }
  if (!saved.model) {
    setNote(view, `run ${id} has no saved model (model-best/, model-final/ or a snapshot) to compute the ${view} view from`);
    return;
  }
  const key = `${id}|${saved.model}|${view}`;
  if (busy.has(key)) return;
  busy.add(key);
  const model = saved.model;
  setNote(view, `computing the ${view} view from ${model}…`);
  try {
    const q = new URLSearchParams({ view, model, ...(view === 'network' ? { input: String(probeInput()) } : {}) });
    const v = await getJson<NetworkView | PredictionsView>(`/api/runs/${encodeURIComponent(id)}/inspect?${q.toString()}`);
    // the page may have moved on to another run or model meanwhile
    if (store.runs.get(id) === s && saved.model === model) {
      if (view === 'network') s.network = v as NetworkView;
      else s.predictions = v as PredictionsView;
      store.emit(view);
    }
  } catch (err) {
    setNote(view, '');
    toast((err as Error).message);
  } finally {
    busy.delete(key);
  }
}

function setNote(view: View, text: string): void {
  $(view === 'network' ? 'network-note' : 'pred-note').textContent = text;
}

/** The saved-model choosers: shown for runs from disk, one per view tab, kept in step. */
function renderModelChoice(): void {
  const saved = store.savedRun;
  for (const sel of [$('net-model'), $('pred-model')] as HTMLSelectElement[]) {
    (sel.parentElement as HTMLElement).hidden = !saved;
    if (!saved) continue;
    const key = `${store.current}|${saved.models.map((m) => m.id).join(',')}|${saved.model}`;
    if (sel.dataset.key === key) continue;
    sel.dataset.key = key;
    sel.replaceChildren(...saved.models.map((m) => el('option', { value: m.id, selected: m.id === saved.model }, m.label)));
  }
}

export function initInspect(): void {
  $('btn-probe').addEventListener('click', () => void requestView('network'));
  $('btn-predict').addEventListener('click', () => void requestView('predictions'));
  for (const sel of [$('net-model'), $('pred-model')] as HTMLSelectElement[]) {
    sel.addEventListener('change', () => store.chooseModel(sel.value));
  }
}

const busyFor = (view: View): boolean => [...busy].some((k) => k.startsWith(`${store.current}|`) && k.endsWith(`|${view}`));

/** What an empty view of a run that is not training says. */
function emptyNote(s: LiveState | null, button: string): string {
  if (!s) return 'no run selected';
  const saved = store.savedRun;
  if (saved && !saved.model) return 'this run has no saved model (model-best/, model-final/ or a snapshot) to compute it from';
  return `choose a saved model and press ${button}`;
}

function histCell(h: Histogram | null, color: string): HTMLElement {
  if (!h) return el('td', { class: 'muted' }, '–');
  return el('td', {}, histogramCanvas(h.bins, color), el('span', { class: 'small muted' }, ` ${fmt(h.min, 3)} … ${fmt(h.max, 3)}`));
}

export function renderNetwork(s: LiveState | null): void {
  renderModelChoice();
  const net = s?.network ?? null;
  const table = clear($('layers'));
  const note = $('network-note');
  clear($('net-input'));
  clear($('feature-maps'));
  clear($('filters'));
  if (!net) {
    if (isActive(s)) note.textContent = 'waiting for the first probe…';
    else if (!busyFor('network')) note.textContent = emptyNote(s, 'Show / refresh');
    return;
  }
  if (net.saved) {
    note.textContent = `saved model ${net.saved.model}: activations and weight gradients of one forward and backward pass (no update) over the first ${net.saved.examples} validation examples; computed in ${(net.saved.ms / 1000).toFixed(2)} s`;
  } else note.textContent = `step ${net.step} (epoch ${net.epoch + 1}); ${net.every} steps since the last refresh; a probe costs ${net.probeMs.toFixed(1)} ms (a training step ${net.stepMs.toFixed(1)} ms); the network and prediction views have taken ${(100 * net.overhead).toFixed(2)}% of the training time`;
  table.append(el('tr', {},
    el('th', {}, 'layer'), el('th', {}, 'type'), el('th', {}, 'output shape'), el('th', {}, 'params'),
    el('th', {}, 'activations (last batch): histogram, min … max'), el('th', {}, 'weight gradients: histogram, min … max')));
  for (const l of net.layers) {
    table.append(el('tr', {},
      el('td', {}, l.name), el('td', {}, l.className), el('td', {}, `(${['batch', ...l.outputShape].join(', ')})`),
      el('td', { class: 'num' }, l.params.toLocaleString('en-US')),
      histCell(l.activation, '#1f77b4'), histCell(l.gradient, '#d62728')));
  }
  if (net.inputPicture) $('net-input').append(pictureCanvas(net.inputPicture, Math.max(2, Math.floor(112 / net.inputPicture.w)), `validation example ${net.input}`));
  else $('net-input').append(el('span', { class: 'muted' }, `example ${net.input} (not an image)`));
  for (const f of net.featureMaps) {
    const scale = Math.max(1, Math.floor(64 / f.maps[0].w));
    $('feature-maps').append(el('div', { class: 'small' }, f.layer), el('div', { class: 'maps' }, ...f.maps.map((m) => pictureCanvas(m, scale))));
  }
  if (!net.featureMaps.length) $('feature-maps').append(el('span', { class: 'muted' }, 'no convolutional layers: no feature maps'));
  $('filters-title').textContent = net.filters ? `Filters of ${net.filters.layer}` : 'Filters';
  if (net.filters) for (const m of net.filters.maps) $('filters').append(pictureCanvas(m, Math.max(4, Math.floor(48 / m.w))));
  else $('filters').append(el('span', { class: 'muted' }, 'no Conv2D layer'));
}

function probBars(p: PredictionsView, probs: number[]): HTMLElement {
  const top = probs.map((v, k) => [v, k] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
  return el('div', {}, ...top.map(([v, k]) => {
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${Math.round(60 * v)}px`;
    return el('div', { class: 'bar' }, el('span', { class: 'name', title: p.classNames[k] }, p.classNames[k] ?? String(k)), fill, `${(100 * v).toFixed(0)}%`);
  }));
}

function renderBoundary(p: PredictionsView): void {
  const box = $('boundary-box');
  box.hidden = !p.boundary;
  const b = p.boundary;
  if (!b) return;
  const c = $('boundary') as HTMLCanvasElement;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const W = c.width;
  const cell = W / b.size;
  ctx.clearRect(0, 0, W, W);
  for (let i = 0; i < b.size * b.size; i++) {
    ctx.fillStyle = PALETTE[b.cls[i] % PALETTE.length];
    ctx.globalAlpha = 0.15 + 0.45 * Math.max(0, (b.conf[i] - 0.5) * 2);
    // whole-pixel cells that meet without overlapping (overlaps of translucent cells drew a grid)
    const x = Math.round((i % b.size) * cell);
    const y = Math.round(Math.floor(i / b.size) * cell);
    ctx.fillRect(x, y, Math.round(((i % b.size) + 1) * cell) - x, Math.round((Math.floor(i / b.size) + 1) * cell) - y);
  }
  ctx.globalAlpha = 1;
  const px = (x: number): number => ((x - b.x0) / (b.x1 - b.x0)) * W;
  const py = (y: number): number => ((b.y1 - y) / (b.y1 - b.y0)) * W;
  for (const [x, y, k] of b.train) {
    ctx.fillStyle = PALETTE[k % PALETTE.length];
    ctx.strokeStyle = '#fff';
    ctx.beginPath();
    ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  for (const [x, y, k] of b.test) {
    ctx.strokeStyle = PALETTE[k % PALETTE.length];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(px(x), py(y), 3.5, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

export function renderPredictions(s: LiveState | null): void {
  const p = s?.predictions ?? null;
  const grid = clear($('pred-grid'));
  const table = clear($('confusion'));
  renderModelChoice();
  if (!p) {
    if (isActive(s)) $('pred-note').textContent = 'predictions arrive at the end of each epoch (or press Refresh)';
    else if (!busyFor('predictions')) $('pred-note').textContent = emptyNote(s, 'Refresh');
    $('boundary-box').hidden = true;
    return;
  }
  const wrong = p.items.filter((i) => i.actual !== i.predicted).length;
  const correct = p.confusion.reduce((a, row, k) => a + row[k], 0);
  const when = p.saved ? `saved model ${p.saved.model}` : `after epoch ${p.epoch + 1}`;
  $('pred-note').textContent = `${when}: ${wrong} of ${p.items.length} shown are wrong; accuracy on ${p.counted} validation examples ${((100 * correct) / Math.max(1, p.counted)).toFixed(1)}%`;
  for (const item of p.items) {
    const bad = item.actual !== item.predicted;
    const name = (k: number): string => p.classNames[k] ?? String(k);
    grid.append(el('div', { class: `pred${bad ? ' wrong' : ''}`, 'data-wrong': bad ? 'true' : 'false' },
      item.picture ? pictureCanvas(item.picture, Math.max(1, Math.floor(56 / item.picture.w))) : el('div', { class: 'muted' }, item.point ? `(${fmt(item.point[0], 3)}, ${fmt(item.point[1], 3)})` : ''),
      el('div', { class: 'label' }, `${name(item.actual)} / ${name(item.predicted)}`),
      probBars(p, item.probs)));
  }
  const k = p.classNames.length;
  const max = Math.max(1, ...p.confusion.flat());
  // full class names: column headers stand upright so ten of them fit (no "T-shirt/" cut)
  table.append(el('tr', {}, el('th', {}, ''), ...p.classNames.map((n) => el('th', { class: 'col', title: n }, el('span', {}, n)))));
  for (let a = 0; a < k; a++) {
    table.append(el('tr', {}, el('th', { class: 'rowname', title: p.classNames[a] }, p.classNames[a]), ...p.confusion[a].map((v, j) => {
      const td = el('td', {}, v);
      const alpha = v / max;
      td.style.background = a === j ? `rgba(44,160,44,${alpha})` : `rgba(214,39,40,${alpha})`;
      if (alpha > 0.6) td.style.color = '#fff';
      return td;
    })));
  }
  renderBoundary(p);
}
