/**
 * The static site's training Web Worker (`fitlab site`): loads the WebAssembly kernels (the
 * fitlab.wasm beside this script) and answers the page's in-page session (web/src/site): the
 * New run form's options and equivalent command, and one run per worker — started, steered,
 * inspected and downloaded (run.ts). Bundled for the browser by scripts/build-site.cjs.
 */
import { setBackend } from '../backend/index.js';
import { createWasmBackendAuto } from '../backend/wasm/threads.js';
import { AUGMENT_PRESETS } from '../data/augment.js';
import { FitlabError } from '../errors.js';
import { runField } from '../io/run-config.js';
import { PRESET_NAMES } from '../nn/presets.js';
import { trainCommand } from '../serve/command.js';
import type { SiteOptions, SiteReply, SiteRequest, WorkerMessage } from '../serve/protocol.js';
import { BUILTIN_DATASETS, FILES_DATASET, parseSiteRun } from './config.js';
import { loadSiteDataset, readDataIndex } from './data.js';
import { SiteRun } from './run.js';

/** The worker's global scope, as far as this file uses it (the project's TypeScript has no DOM types). */
interface WorkerScope {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', f: (e: { data: SiteRequest }) => void): void;
  location: { href: string };
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;

/** the page's address: data/ and the .wasm lie beside it (and beside this script) */
const base = scope.location.href;
let run: SiteRun | null = null;

const post = (m: WorkerMessage | SiteReply): void => scope.postMessage(m);

interface BackendChoice {
  backend: string;
  threads: number;
  reason: string;
}

async function fetchWasm(file: string): Promise<Uint8Array | null> {
  const res = await fetch(new URL(file, base));
  return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
}

let backendReady: Promise<BackendChoice> | null = null;
/**
 * Load the kernels once: WebAssembly, threaded when the page is cross-origin isolated and
 * fitlab-threads.wasm lies beside it (backend/wasm/threads decides, and says why), else one thread.
 */
function loadBackend(): Promise<BackendChoice> {
  backendReady ??= (async () => {
    const isolated = scope.crossOriginIsolated === true;
    const [bytes, threadsBytes] = await Promise.all([fetchWasm('fitlab.wasm'), isolated ? fetchWasm('fitlab-threads.wasm') : Promise.resolve(null)]);
    if (!bytes) throw new FitlabError('cannot load fitlab.wasm beside the page', 'the site folder must hold fitlab.wasm next to index.html (fitlab site writes it)');
    const choice = await createWasmBackendAuto({ bytes, ...(threadsBytes ? { threadsBytes } : {}) });
    setBackend(choice.backend);
    return { backend: choice.backend.name, threads: choice.threads, reason: choice.reason };
  })();
  return backendReady;
}

async function datasets(): Promise<string[]> {
  return [...BUILTIN_DATASETS, ...(await readDataIndex(base)).map((d) => d.name), FILES_DATASET];
}

async function options(): Promise<SiteOptions> {
  const backend = await loadBackend();
  const optimizer = runField('optimizer').type;
  return {
    presets: [...PRESET_NAMES], datasets: await datasets(), optimizers: optimizer.kind === 'named-or-object' ? [...optimizer.names] : [],
    augments: ['none', 'auto', ...Object.keys(AUGMENT_PRESETS)], runsDir: '(kept in this tab)', experimentsDir: '',
    ...backend,
  };
}

/** The equivalent `fitlab train` command of a form body (files the user picked show as <folder>). */
async function command(body: Record<string, unknown>): Promise<string> {
  const config = parseSiteRun(body, await datasets());
  if (config.dataset === FILES_DATASET) config.dataset = '<folder with your files>';
  return trainCommand(config);
}

async function start(id: string, body: Record<string, unknown>, data: Extract<SiteRequest, { type: 'start' }>['data']): Promise<string> {
  if (run) throw new FitlabError('this worker already trains a run; the page starts one worker per run');
  const config = parseSiteRun(body, await datasets());
  await loadBackend();
  const entry = data.kind === 'builtin' && !BUILTIN_DATASETS.includes(config.dataset) ? (await readDataIndex(base)).find((d) => d.name === config.dataset) : undefined;
  const dataset = await loadSiteDataset(config.dataset, entry ? { kind: 'url', entry } : data, base);
  const r = new SiteRun(id, config, (m) => post(m));
  r.prepare(dataset);
  run = r;
  // trains on after the reply: the page learns the rest from the messages
  void r.run().catch((err: unknown) => {
    const user = err instanceof FitlabError;
    post({ type: 'error', message: (err as Error).message, hint: user ? err.hint ?? null : null, user });
  });
  return trainCommand(config);
}

async function answer(m: SiteRequest): Promise<unknown> {
  switch (m.type) {
    case 'options': return options();
    case 'command': return command(m.body);
    case 'start': return start(m.id, m.body, m.data);
    case 'control':
      if (!run) throw new FitlabError('no run trains in this worker');
      if (run.ended) throw new FitlabError('the run has ended; its views come from its final weights');
      run.command(m.command);
      return { ok: true };
    case 'inspect':
      if (!run?.ended) throw new FitlabError('the run is still training: its views come live');
      return run.inspect(m.view, m.input);
    case 'download':
      if (!run?.ended) throw new FitlabError('downloads come when the run has ended');
      return run.download(m.what);
  }
}

scope.addEventListener('message', (e) => {
  const m = e.data;
  answer(m).then(
    (value) => post({ type: 'reply', re: m.re, ok: true, value }),
    (err: unknown) => {
      const hint = err instanceof FitlabError && err.hint ? ` — ${err.hint}` : '';
      post({ type: 'reply', re: m.re, ok: false, error: `${(err as Error).message}${hint}` });
    },
  );
});
