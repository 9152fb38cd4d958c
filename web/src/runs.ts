/**
 * The Runs tab: every run on disk with its regime and key numbers, filtered by name or regime;
 * a CSV of any run's history; several runs overlaid on several metrics at once (small
 * multiples), x by epoch, examples seen or wall time, linear or log y. And Experiments.
 */
import type { ExperimentRow, HistoryRow, RunDetail, RunRow } from '../../src/serve/protocol.js';
import { fileLink, getJson } from './api.js';
import { Chart, align } from './charts.js';
import { $, clear, el, fmt, PALETTE, pct, toast } from './dom.js';
import { store } from './store.js';

const compareCharts = new Map<string, Chart>();
const selected = new Set<string>();
let rows: RunRow[] = [];

export async function openRun(id: string): Promise<void> {
  try {
    store.loadDetail(await getJson<RunDetail>(`/api/runs/${encodeURIComponent(id)}`));
    store.show(id);
  } catch (err) {
    toast((err as Error).message);
  }
}

const regimeOf = (r: RunRow): string | null =>
  // live runs show their status; a stopped run has no diagnosis (it is resumable, not finished)
  r.status && ['running', 'paused', 'starting', 'stopping'].includes(r.status) ? r.status : r.regime ?? (r.status === 'stopped' ? 'stopped' : null);

/** Whether a row passes the filter: every word of it found in the run's name, model, dataset or regime. */
export function matches(r: RunRow, filter: string): boolean {
  const hay = `${r.id} ${r.model} ${r.dataset} ${regimeOf(r) ?? ''}`.toLowerCase();
  return filter.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

export async function refreshRuns(): Promise<void> {
  try {
    rows = (await getJson<{ runs: RunRow[] }>('/api/runs')).runs;
  } catch (err) {
    toast((err as Error).message);
    return;
  }
  store.onDisk = rows;
  renderRuns();
}

function renderRuns(): void {
  const filter = ($('runs-filter') as HTMLInputElement).value;
  const shown = rows.filter((r) => matches(r, filter));
  const table = clear($('runs-table'));
  $('runs-note').textContent = `${shown.length}${shown.length === rows.length ? '' : ` of ${rows.length}`} runs; tick two or more and press “Compare selected”`;
  table.append(el('tr', {}, ...['', 'run', 'model', 'dataset', 'epochs', 'regime', 'train acc', 'val acc', 'val loss', 'best', 'onset', 'test acc', ''].map((h) => el('th', {}, h))));
  for (const r of shown) {
    const box = el('input', { type: 'checkbox', checked: selected.has(r.id), 'data-run': r.id, 'aria-label': `select ${r.id}` });
    box.addEventListener('change', () => (box.checked ? selected.add(r.id) : selected.delete(r.id)));
    const regime = regimeOf(r);
    const file = (name: string): string | null => fileLink(`/api/runs/${encodeURIComponent(r.id)}/${name}`);
    const csv = file('history.csv');
    const report = r.report ? fileLink(`/runs/${encodeURIComponent(r.id)}/report.html`) : null;
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
      el('td', { class: 'links' },
        el('button', { type: 'button', onclick: () => void openRun(r.id).then(() => switchTab('live')) }, 'view'), ' ',
        r.epochs && csv ? el('a', { href: csv, download: `${r.id}-history.csv`, 'data-csv': r.id }, 'csv') : '', ' ',
        report ? el('a', { href: report, target: '_blank', rel: 'noopener' }, 'report') : '')));
  }
}

let switchTab: (tab: string) => void = () => undefined;

/** The x of each epoch: its number (from 1), the examples seen by its end, or the wall time by its end. */
export function xOf(history: HistoryRow[], mode: string): (number | null)[] {
  if (mode === 'examples') return history.map((h) => h.examples ?? null);
  if (mode === 'seconds') {
    let t = 0;
    return history.map((h) => (h.seconds === null || h.seconds === undefined ? null : (t += h.seconds)));
  }
  return history.map((h, i) => (h.epoch ?? i) + 1);
}

const X_LABEL: Record<string, string> = { epoch: 'epoch', examples: 'examples seen', seconds: 'wall time (s)' };

function checkedMetrics(): string[] {
  return [...document.querySelectorAll<HTMLInputElement>('#compare-metrics input:checked')].map((b) => b.value);
}

export async function compare(): Promise<void> {
  const ids = [...selected];
  if (ids.length < 2) {
    toast('tick at least two runs to compare');
    return;
  }
  const metrics = checkedMetrics();
  if (!metrics.length) {
    toast('tick at least one metric to compare');
    return;
  }
  const mode = ($('compare-x') as HTMLSelectElement).value;
  const log = ($('compare-log') as HTMLInputElement).checked;
  const robust = ($('compare-robust') as HTMLInputElement).checked;
  const runs = await Promise.all(ids.map((id) => getJson<RunDetail>(`/api/runs/${encodeURIComponent(id)}`)));
  $('compare-box').hidden = false;
  $('compare-title').textContent = `Compare ${runs.length} runs: ${metrics.join(', ')} by ${X_LABEL[mode] ?? mode}${log ? ' (log y)' : ''}`;
  for (const c of compareCharts.values()) c.destroy();
  compareCharts.clear();
  const box = clear($('compare-charts'));
  for (const metric of metrics) {
    const host = el('div', { class: 'chart', 'data-metric': metric });
    box.append(el('div', { class: 'multiple' }, el('h3', {}, metric), host));
    const series = runs.map((r) => {
      const xs = xOf(r.history, mode);
      return r.history.flatMap((h, i) => (xs[i] === null ? [] : [{ x: xs[i], y: h[metric] ?? null }]));
    });
    const data = align(series);
    const chart = new Chart(host, runs.map((r, i) => ({ label: `${r.id}${r.regime ? ` (${r.regime})` : ''}`, color: PALETTE[i % PALETTE.length], width: 2, points: true })), metric, X_LABEL[mode] ?? mode, { log, robust });
    // onset marks sit on the epoch axis only
    const marks = mode === 'epoch' ? runs.flatMap((r, i) => (r.onsetEpoch !== null ? [{ x: r.onsetEpoch, label: 'onset', color: PALETTE[i % PALETTE.length] }] : [])) : [];
    chart.set(data.x, data.ys, marks);
    compareCharts.set(metric, chart);
  }
}

export async function refreshExperiments(): Promise<void> {
  const box = clear($('experiments'));
  let exps: ExperimentRow[];
  try {
    exps = (await getJson<{ experiments: ExperimentRow[] }>('/api/experiments')).experiments;
  } catch (err) {
    toast((err as Error).message);
    return;
  }
  if (!exps.length) box.append(el('p', { class: 'muted' }, 'No experiments yet (folders with experiment.json under experiments/).'));
  for (const x of exps) {
    const table = el('table', { class: 'table' });
    if (x.table?.header) table.append(el('tr', {}, ...x.table.header.map((h) => el('th', {}, h))));
    for (const row of x.table?.rows ?? []) table.append(el('tr', {}, ...row.map((c) => el('td', {}, typeof c === 'number' ? fmt(c) : typeof c === 'string' ? c : JSON.stringify(c ?? '')))));
    box.append(el('div', { class: 'exp' },
      el('h3', {}, x.title, ' ', x.report ? el('a', { href: fileLink(`/experiments/${encodeURIComponent(x.id)}/report.html`) ?? '', target: '_blank', rel: 'noopener' }, 'report') : ''),
      table,
      el('ul', {}, ...x.conclusions.map((c) => el('li', {}, c)))));
  }
}

export function initRuns(tabSwitcher: (tab: string) => void): void {
  switchTab = tabSwitcher;
  $('btn-refresh-runs').addEventListener('click', () => void refreshRuns());
  $('runs-filter').addEventListener('input', renderRuns);
  $('btn-compare').addEventListener('click', () => void compare().catch((err: Error) => toast(err.message)));
  for (const id of ['compare-metrics', 'compare-x', 'compare-log', 'compare-robust']) {
    $(id).addEventListener('change', () => {
      if (!$('compare-box').hidden) void compare().catch((err: Error) => toast(err.message));
    });
  }
}
