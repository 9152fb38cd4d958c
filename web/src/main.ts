/**
 * The fitlab dashboard page: one event stream (/api/stream) feeds the store; the visible tab
 * re-renders at most once per animation frame. No framework: a few hundred lines of DOM code.
 */
import { withToken } from './api.js';
import type { LiveState } from '../../src/serve/protocol.js';
import { $, el, toast } from './dom.js';
import { initInspect, renderNetwork, renderPredictions } from './inspect.js';
import { control, initLive, renderLive } from './live.js';
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
  // ask the worker for fresh views when their tab opens
  if (name === 'network' && store.state && !store.state.network) void control({ probe: 'network' });
  if (name === 'predictions' && store.state && !store.state.predictions) void control({ probe: 'predictions' });
  render();
}

function fillRunSelect(): void {
  const sel = $('run-select') as HTMLSelectElement;
  const ids = [...store.runs.keys()].reverse();
  const label = (id: string, s: LiveState): string => `${id} (${s.status})`;
  sel.replaceChildren(el('option', { value: '' }, '—'), ...ids.map((id) => el('option', { value: id, selected: id === store.current }, label(id, store.runs.get(id) as LiveState))));
}

function connect(): void {
  const conn = $('conn');
  const es = new EventSource(withToken('/api/stream'));
  es.onopen = () => {
    conn.textContent = '● live';
    conn.classList.add('on');
  };
  es.onerror = () => {
    conn.textContent = '○ reconnecting';
    conn.classList.remove('on');
  };
  es.addEventListener('hello', (e) => {
    store.hello((JSON.parse((e as MessageEvent<string>).data) as { live: Record<string, LiveState> }).live);
  });
  for (const type of ['started', 'batch', 'epoch', 'knob', 'status', 'network', 'predictions', 'log', 'done', 'error', 'reject']) {
    es.addEventListener(type, (e) => {
      const m = JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
      if (type === 'reject') {
        if (m.run === store.current) document.dispatchEvent(new CustomEvent('fitlab-reject', { detail: m.message }));
        return;
      }
      const id = store.apply(type, m);
      if (type === 'started' || type === 'status' || type === 'done') fillRunSelect();
      if (id && id === store.current) render();
      if ((type === 'done' || type === 'started') && tab === 'runs') void refreshRuns();
    });
  }
}

function main(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) b.addEventListener('click', () => switchTab(b.dataset.tab ?? 'live'));
  initLive();
  initInspect();
  initRuns(switchTab);
  store.on(() => {
    fillRunSelect();
    render();
  });
  document.addEventListener('fitlab-reject', (e) => {
    toast(String((e as CustomEvent<string>).detail));
  });
  $('run-select').addEventListener('change', () => {
    const id = ($('run-select') as HTMLSelectElement).value;
    if (!id) store.show(null);
    else if (store.runs.get(id)?.info?.command === '') void openRun(id);
    else store.show(id);
  });
  void initStart((id) => {
    store.show(id);
    switchTab('live');
  });
  connect();
  render();
}

main();
