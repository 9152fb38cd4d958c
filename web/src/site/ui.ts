/**
 * What the static site adds to the dashboard's page: the backend and threading mode in the
 * header, the file picker of the New run view (datasets from the user's files), the run's
 * test accuracy, its downloads (the model in TF.js format, the history as CSV and JSON) and
 * its diagnosis report shown in the page. The Experiments tab has no place here (no disk).
 */
import { ISOLATION_HEADERS, type SiteArtifact, type SiteDownload, type SiteFile } from '../../../src/serve/protocol.js';
import { $, el, toast } from '../dom.js';
import { store } from '../store.js';
import { FILES_DATASET, type SiteSession } from './session.js';

/**
 * The threading mode, as the page states it. `reason` is the backend's own sentence ("2 threads:
 * cross-origin isolated …", "1 thread: no threaded module …").
 */
export function threadingNote(backend: string, threads: number, isolated: boolean, reason: string): string {
  const kind = backend === 'wasm' ? 'WebAssembly' : backend;
  const n = `${threads} thread${threads === 1 ? '' : 's'}`;
  if (!isolated) return `${kind}, ${n} (page not cross-origin isolated: serve with COOP/COEP headers for threads)`;
  const why = reason.replace(/^\d+ threads?: /, '');
  return `${kind}, ${n} (page cross-origin isolated${threads > 1 ? '' : `; ${why}`})`;
}

function save(files: SiteArtifact[]): void {
  for (const f of files) {
    const url = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type }));
    const a = el('a', { href: url, download: f.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

const DOWNLOADS: { what: SiteDownload; label: string; id: string }[] = [
  { what: 'model', label: 'Download model (TF.js)', id: 'dl-model' },
  { what: 'history.csv', label: 'History CSV', id: 'dl-csv' },
  { what: 'history.json', label: 'History JSON', id: 'dl-json' },
];

let reportFor: string | null = null;

/** The downloads box, the test accuracy and the report of the run on show. */
function renderRunExtras(session: SiteSession): void {
  const id = store.current;
  const summary = id ? session.summary(id) : null;
  const box = $('site-run');
  box.hidden = !summary;
  const test = summary?.test as { loss: number; accuracy: number } | null | undefined;
  const testLine = $('site-test');
  const stopped = store.state?.status === 'stopped';
  testLine.textContent = test ? `test accuracy ${(100 * test.accuracy).toFixed(2)}% (loss ${test.loss.toFixed(4)})`
    : !summary ? '' : stopped ? 'stopped: the test split is scored only when a run finishes' : 'no test split: no test accuracy';
  testLine.dataset.accuracy = test ? String(test.accuracy) : '';
  if (!id || !summary || reportFor === id) return;
  reportFor = id;
  const frame = $('site-report') as HTMLIFrameElement;
  frame.hidden = true;
  if (!summary.report) return;
  session.download(id, 'report').then(
    ([file]) => {
      if (store.current !== id) return;
      frame.srcdoc = new TextDecoder().decode(file.bytes);
      frame.hidden = false;
    },
    (err: Error) => toast(err.message),
  );
}

/** Add the site's parts to the page; `options` is what the worker said of the backend. */
export function initSite(session: SiteSession, options: Promise<{ backend: string; threads: number; reason: string }>): void {
  document.title = 'fitlab in the browser';
  $('conn').title = 'everything runs in this tab; nothing is sent anywhere';
  const note = el('span', { id: 'backend-note', class: 'muted small', title: `for threads the host must send: ${ISOLATION_HEADERS.join('; ')}` }, 'loading the WebAssembly kernels…');
  $('conn').before(note);
  options.then(
    (o) => (note.textContent = threadingNote(o.backend, o.threads, globalThis.crossOriginIsolated === true, o.reason)),
    (err: Error) => (note.textContent = `the kernels did not load: ${err.message}`),
  );
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button[data-tab="experiments"]')) b.hidden = true;
  // the snapshot button saves weights under the run directory on a server; here the download does that
  $('btn-snapshot').hidden = true;

  // New run: a file picker for 'your files'
  const input = el('input', { id: 'f-files', type: 'file', multiple: true, accept: '.gz,.zip,.bin,.idx1-ubyte,.idx3-ubyte,application/octet-stream' });
  const files = el('div', { id: 'site-files', class: 'row', hidden: true },
    el('label', { for: 'f-files' }, 'your files '), input,
    el('span', { class: 'help muted small' }, 'the IDX pair (or the four files: train-… and t10k-…), CIFAR binary batches (.bin), or an image folder as a .zip (one folder per class)'));
  $('start-form').after(files);
  $('start-form').after(el('p', { class: 'muted small', id: 'site-headers' },
    `Threads: the host must send ${ISOLATION_HEADERS.join(' and ')}; without them the page trains on one thread.`));
  $('start-form').after(el('p', { class: 'muted small' }, 'Datasets: the 2-D sets and shapes are built in; sets written beside the page by `fitlab site --with-data` appear by name; “your files” reads files from this computer (they stay in this tab).'));
  const sync = (): void => {
    const ds = document.getElementById('f-dataset') as HTMLSelectElement | null;
    files.hidden = ds?.value !== FILES_DATASET;
  };
  document.addEventListener('change', sync);
  session.pickFiles = async (): Promise<SiteFile[]> => {
    const list = [...(input.files ?? [])];
    if (!list.length) throw new Error('dataset “your files”: choose the files first (IDX, CIFAR .bin or a .zip)');
    return Promise.all(list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  };

  // Live: test accuracy, downloads, the report
  const buttons = DOWNLOADS.map((d) => el('button', { id: d.id, type: 'button', onclick: () => {
    if (!store.current) return;
    session.download(store.current, d.what).then(save, (err: Error) => toast(err.message));
  } }, d.label));
  $('actions').after(el('div', { id: 'site-run', hidden: true },
    el('h3', {}, 'Result ', el('span', { class: 'muted small' }, 'kept in this tab: download what you want to keep')),
    el('p', { id: 'site-test' }), el('div', { class: 'actions' }, ...buttons)));
  const frame = el('iframe', { id: 'site-report', title: 'diagnosis report', hidden: true, class: 'report-frame' });
  $('acc-chart').after(el('h3', {}, 'Report'), frame);
  store.on(() => renderRunExtras(session));
  document.addEventListener('fitlab-site-done', () => renderRunExtras(session));
}
