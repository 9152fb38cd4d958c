/** The Runs tab (every run with its regime and key numbers, overlay of several) and Experiments. */
import { getJson, withToken } from './api.js';
import { Chart, align } from './charts.js';
import { $, clear, el, fmt, PALETTE, pct, toast } from './dom.js';
import { type RunDetail, store } from './store.js';

interface RunRow {
  id: string;
  model: string;
  dataset: string;
  params: number | null;
  epochs: number;
  epochsAsked: number | null;
  regime: string | null;
  onsetEpoch: number | null;
  bestEpoch: number | null;
  final: { loss: number | null; accuracy: number | null; valLoss: number | null; valAccuracy: number | null } | null;
  test: { accuracy: number } | null;
  report: boolean;
  status: string | null;
  error?: string;
}

let compareChart: Chart | null = null;
const selected = new Set<string>();

export async function openRun(id: string): Promise<void> {
  try {
    store.loadDetail(await getJson<RunDetail>(`/api/runs/${encodeURIComponent(id)}`));
    store.show(id);
  } catch (err) {
    toast((err as Error).message);
  }
}

export async function refreshRuns(): Promise<void> {
  let rows: RunRow[];
  try {
    rows = (await getJson<{ runs: RunRow[] }>('/api/runs')).runs;
  } catch (err) {
    toast((err as Error).message);
    return;
  }
  const table = clear($('runs-table'));
  $('runs-note').textContent = `${rows.length} runs; tick two or more and press “Compare selected”`;
  table.append(el('tr', {}, ...['', 'run', 'model', 'dataset', 'epochs', 'regime', 'train acc', 'val acc', 'val loss', 'best', 'onset', 'test acc', ''].map((h) => el('th', {}, h))));
  for (const r of rows) {
    const box = el('input', { type: 'checkbox', checked: selected.has(r.id), 'data-run': r.id, 'aria-label': `select ${r.id}` });
    box.addEventListener('change', () => (box.checked ? selected.add(r.id) : selected.delete(r.id)));
    // live runs show their status; a stopped run has no diagnosis (it is resumable, not finished)
    const regime = r.status && ['running', 'paused', 'starting', 'stopping'].includes(r.status) ? r.status : r.regime ?? (r.status === 'stopped' ? 'stopped' : null);
    table.append(el('tr', { 'data-run': r.id },
      el('td', {}, box),
      el('td', { title: r.error ?? '' }, r.id),
      el('td', {}, r.model), el('td', {}, r.dataset),
      el('td', { class: 'num' }, `${r.epochs}${r.epochsAsked ? ` / ${r.epochsAsked}` : ''}`),
      el('td', {}, regime ? el('span', { class: `regime ${regime}` }, regime) : '–'),
      el('td', { class: 'num' }, pct(r.final?.accuracy)), el('td', { class: 'num' }, pct(r.final?.valAccuracy)),
      el('td', { class: 'num' }, fmt(r.final?.valLoss)),
      el('td', { class: 'num' }, r.bestEpoch === null ? '–' : r.bestEpoch), el('td', { class: 'num' }, r.onsetEpoch === null ? '–' : r.onsetEpoch),
      el('td', { class: 'num' }, pct(r.test?.accuracy)),
      el('td', {},
        el('button', { type: 'button', onclick: () => void openRun(r.id).then(() => switchTab('live')) }, 'view'), ' ',
        r.report ? el('a', { href: withToken(`/runs/${encodeURIComponent(r.id)}/report.html`), target: '_blank', rel: 'noopener' }, 'report') : '')));
  }
}

let switchTab: (tab: string) => void = () => undefined;

export async function compare(): Promise<void> {
  const ids = [...selected];
  if (ids.length < 2) {
    toast('tick at least two runs to compare');
    return;
  }
  const metric = ($('compare-metric') as HTMLSelectElement).value;
  const runs = await Promise.all(ids.map((id) => getJson<RunDetail>(`/api/runs/${encodeURIComponent(id)}`)));
  $('compare-box').hidden = false;
  $('compare-title').textContent = `Compare: ${metric}`;
  const data = align(runs.map((r) => r.history.map((h) => ({ x: (h.epoch ?? 0) + 1, y: h[metric] ?? null }))));
  compareChart?.destroy();
  compareChart = new Chart($('compare-chart'), runs.map((r, i) => ({ label: `${r.id}${r.diagnosis ? ` (${String(r.diagnosis.regime)})` : ''}`, color: PALETTE[i % PALETTE.length], width: 2, points: true })), metric);
  const marks = runs.flatMap((r, i) => (r.diagnosis?.onsetEpoch !== null && r.diagnosis?.onsetEpoch !== undefined ? [{ x: r.diagnosis.onsetEpoch, label: 'onset', color: PALETTE[i % PALETTE.length] }] : []));
  compareChart.set(data.x, data.ys, marks);
}

interface ExperimentRow {
  id: string;
  title: string;
  table: { header?: string[]; rows?: unknown[][] } | null;
  conclusions: string[];
  report: boolean;
}

export async function refreshExperiments(): Promise<void> {
  const box = clear($('experiments'));
  let rows: ExperimentRow[];
  try {
    rows = (await getJson<{ experiments: ExperimentRow[] }>('/api/experiments')).experiments;
  } catch (err) {
    toast((err as Error).message);
    return;
  }
  if (!rows.length) box.append(el('p', { class: 'muted' }, 'No experiments yet (folders with experiment.json under experiments/).'));
  for (const x of rows) {
    const table = el('table', { class: 'table' });
    if (x.table?.header) table.append(el('tr', {}, ...x.table.header.map((h) => el('th', {}, h))));
    for (const row of x.table?.rows ?? []) table.append(el('tr', {}, ...row.map((c) => el('td', {}, typeof c === 'number' ? fmt(c) : typeof c === 'string' ? c : JSON.stringify(c ?? '')))));
    box.append(el('div', { class: 'exp' },
      el('h3', {}, x.title, ' ', x.report ? el('a', { href: withToken(`/experiments/${encodeURIComponent(x.id)}/report.html`), target: '_blank', rel: 'noopener' }, 'report') : ''),
      table,
      el('ul', {}, ...(Array.isArray(x.conclusions) ? x.conclusions : []).map((c) => el('li', {}, String(c))))));
  }
}

export function initRuns(tabSwitcher: (tab: string) => void): void {
  switchTab = tabSwitcher;
  $('btn-refresh-runs').addEventListener('click', () => void refreshRuns());
  $('btn-compare').addEventListener('click', () => void compare().catch((err: Error) => toast(err.message)));
  $('compare-metric').addEventListener('change', () => {
    if (!$('compare-box').hidden) void compare().catch((err: Error) => toast(err.message));
  });
}
