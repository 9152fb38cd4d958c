/**
 * The fitlab dashboard page: one event stream (/api/stream) feeds the store; the visible tab
 * re-renders at most once per animation frame. No framework: a few hundred lines of DOM code.
 */
import type { LiveState, RunRow, WorkerMessage } from '../../src/serve/protocol.js';
import { getJson, subscribe } from './api.js';
import { $, el, toast } from './dom.js';
import { initInspect, renderNetwork, renderPredictions, requestView } from './inspect.js';
import { initLive, renderLive } from './live.js';
import { initRuns, openRun, refreshExperiments, refreshRuns } from './runs.js';
import { initStart } from './start.js';
import { store } from './store.js';

let tab = 'live';
let pending = false;

function render(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    if (tab === 'live') renderLive();
    else if (tab === 'network') renderNetwork(store.state);
    else if (tab === 'predictions') renderPredictions(store.state);
  });
}

function switchTab(name: string): void {
  tab = name;
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const s of document.querySelectorAll<HTMLElement>('main > section')) s.hidden = s.id !== `tab-${name}`;
  if (name === 'runs') void refreshRuns();
  if (name === 'experiments') void refreshExperiments();
  askForView();
  render();
}

/** A view tab that opens (or a run or saved model chosen under it) without its view asks for it once. */
function askForView(): void {
  const s = store.state;
  if (!s) return;
  if (tab === 'network' && !s.network) void requestView('network');
  if (tab === 'predictions' && !s.predictions) void requestView('predictions');
}

/** The selector: runs of this dashboard (with their status) and every run on disk, newest first. */
function fillRunSelect(): void {
  const sel = $('run-select') as HTMLSelectElement;
  const label = (id: string): string => {
    const s = store.runs.get(id);
    const row = store.onDisk.find((r) => r.id === id);
    const status = s && !store.saved.has(id) ? s.status : row?.regime ?? s?.status ?? (row?.error ? 'unreadable' : 'on disk');
    return `${id} (${status})`;
  };
  const ids = [...new Set([...store.onDisk.map((r) => r.id), ...store.runs.keys()])].sort().reverse();
  sel.replaceChildren(el('option', { value: '' }, '—'), ...ids.map((id) => el('option', { value: id, selected: id === store.current }, label(id))));
}

/** The runs on disk, for the selector (at start, and when a run starts or ends). */
async function loadDiskRuns(): Promise<void> {
  try {
    store.onDisk = (await getJson<{ runs: RunRow[] }>('/api/runs')).runs;
  } catch (err) {
    toast((err as Error).message);
    return;
  }
  fillRunSelect();
}

function connect(): void {
  const conn = $('conn');
  const types = ['hello', 'started', 'batch', 'epoch', 'knob', 'status', 'network', 'predictions', 'log', 'done', 'error', 'reject'];
  subscribe(types, (type, data) => {
    if (type === 'hello') {
      store.hello((data as { live: Record<string, LiveState> }).live);
      return;
    }
    const m = data as Record<string, unknown>;
    if (type === 'reject') {
      if (m.run === store.current) document.dispatchEvent(new CustomEvent('fitlab-reject', { detail: m.message }));
      return;
    }
    const id = store.apply(m as WorkerMessage & { run?: string | null });
    if (type === 'started' || type === 'status' || type === 'done') fillRunSelect();
    if (id && id === store.current) render();
    if (type === 'done' || type === 'started') void loadDiskRuns();
    if ((type === 'done' || type === 'started') && tab === 'runs') void refreshRuns();
  }, (state) => {
    conn.textContent = state === 'live' ? '● live' : '○ reconnecting';
    conn.classList.toggle('on', state === 'live');
  });
}

function main(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) b.addEventListener('click', () => switchTab(b.dataset.tab ?? 'live'));
  initLive();
  initInspect();
  initRuns(switchTab);
  store.on((what) => {
    if (what === 'select') fillRunSelect();
    if (what === 'select' || what === 'model') askForView();
    render();
  });
  document.addEventListener('fitlab-reject', (e) => {
    toast(String((e as CustomEvent<string>).detail));
  });
  $('run-select').addEventListener('change', () => {
    const id = ($('run-select') as HTMLSelectElement).value;
    if (!id) store.show(null);
    else if (!store.runs.has(id) || store.saved.has(id)) void openRun(id);
    else store.show(id);
  });
  void initStart((id) => {
    store.show(id);
    switchTab('live');
  });
  connect();
  void loadDiskRuns();
  render();
}

main();
