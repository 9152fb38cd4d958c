/** The Network tab (per-layer statistics, feature maps, filters) and the Predictions tab. */
import type { Histogram, LiveState, PredictionsView } from '../../src/serve/protocol.js';
import { $, clear, el, fmt, histogramCanvas, PALETTE, pictureCanvas } from './dom.js';
import { control } from './live.js';
import { isActive } from './store.js';

export function initInspect(): void {
  $('btn-probe').addEventListener('click', () => {
    const input = Math.max(0, Math.floor(Number(($('probe-input') as HTMLInputElement).value) || 0));
    void control({ probe: 'network', input });
  });
  $('btn-predict').addEventListener('click', () => void control({ probe: 'predictions' }));
}

function histCell(h: Histogram | null, color: string): HTMLElement {
  if (!h) return el('td', { class: 'muted' }, '–');
  return el('td', {}, histogramCanvas(h.bins, color), el('span', { class: 'small muted' }, ` ${fmt(h.min, 3)} … ${fmt(h.max, 3)}`));
}

export function renderNetwork(s: LiveState | null): void {
  const net = s?.network ?? null;
  const table = clear($('layers'));
  const note = $('network-note');
  clear($('net-input'));
  clear($('feature-maps'));
  clear($('filters'));
  if (!net) {
    note.textContent = isActive(s) ? 'waiting for the first probe…' : 'the network view is shown for runs training in this dashboard';
    return;
  }
  note.textContent = `step ${net.step} (epoch ${net.epoch + 1}); ${net.every} steps since the last refresh; a probe costs ${net.probeMs.toFixed(1)} ms (a training step ${net.stepMs.toFixed(1)} ms); the network and prediction views have taken ${(100 * net.overhead).toFixed(2)}% of the training time`;
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
    ctx.fillRect((i % b.size) * cell, Math.floor(i / b.size) * cell, cell + 0.5, cell + 0.5);
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
  if (!p) {
    $('pred-note').textContent = isActive(s) ? 'predictions arrive at the end of each epoch (or press Refresh)' : 'predictions are shown for runs training in this dashboard';
    $('boundary-box').hidden = true;
    return;
  }
  const wrong = p.items.filter((i) => i.actual !== i.predicted).length;
  const correct = p.confusion.reduce((a, row, k) => a + row[k], 0);
  $('pred-note').textContent = `after epoch ${p.epoch + 1}: ${wrong} of ${p.items.length} shown are wrong; accuracy on ${p.counted} validation examples ${((100 * correct) / Math.max(1, p.counted)).toFixed(1)}%`;
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
  table.append(el('tr', {}, el('th', {}, ''), ...p.classNames.map((n) => el('th', { title: n }, n.slice(0, 8)))));
  for (let a = 0; a < k; a++) {
    table.append(el('tr', {}, el('th', { title: p.classNames[a] }, p.classNames[a].slice(0, 8)), ...p.confusion[a].map((v, j) => {
      const td = el('td', {}, v);
      const alpha = v / max;
      td.style.background = a === j ? `rgba(44,160,44,${alpha})` : `rgba(214,39,40,${alpha})`;
      if (alpha > 0.6) td.style.color = '#fff';
      return td;
    })));
  }
  renderBoundary(p);
}
