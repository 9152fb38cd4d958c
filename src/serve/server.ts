/**
 * The dashboard's HTTP server: the bundled page (dist/web), a JSON API over the runs folder,
 * Server-Sent Events for live runs, and read-only files under the runs and experiments folders.
 * Training never runs here: each live run is a worker thread (session.ts).
 *
 *   GET  /                          the page            GET /assets/<file>   its bundle
 *   GET  /api/stream                SSE: hello (all live runs), then batch/epoch/knob/... events
 *   GET  /api/options               presets, datasets, optimizers, augmentations for the form
 *   GET  /api/runs                  run rows            POST /api/runs       start a run
 *   GET  /api/runs/<id>             one run (history, diagnosis, knob events, live state)
 *   POST /api/runs/<id>/control     knobs, pause/resume/stop/snapshot, probe requests (live runs only)
 *   GET  /api/runs/<id>/inspect     a finished run's network or predictions view, from a saved model
 *   GET  /api/runs/<id>/history.csv the run's history as CSV (as `fitlab export --format csv`)
 *   GET  /api/experiments           experiment rows
 *   GET  /runs/<id>/<file>          a file of a run (report.html, charts, history)
 *   GET  /experiments/<id>/<file>   a file of an experiment
 *
 * Every state change (any method but GET/HEAD) must come from our own origin and carry the
 * per-server token (guard.ts); at most `maxRuns` runs train at once (429 beyond).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { FitlabError } from '../errors.js';
import { PRESET_NAMES } from '../nn/presets.js';
import { packageRoot } from '../util/paths.js';
import { guardRequest, newToken } from './guard.js';
import { HttpError, contentType, readJson, resolveUnder, safeSegments, send, sendJson } from './http.js';
import { historyCsv } from '../io/history-csv.js';
import { Inspector } from './inspector.js';
import { type DashboardOptions, INSPECT_VIEWS, type InspectView, type LiveState, type RunDetail, type RunRow } from './protocol.js';
import { listExperiments, listRunRows, runDetail, runDirOf, runHistory, savedModelDir } from './runs.js';
import type { InspectRequest } from './saved-views.js';
import { Sessions } from './session.js';
import { SseHub } from './sse.js';
import { AUGMENTS, DATASETS, OPTIMIZERS, parseControl, parseStartRun } from './validate.js';
import { trainCommand } from './command.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  runs?: string;
  experiments?: string;
  /** folder of the bundled page (default <package>/dist/web) */
  assets?: string;
  /** the token state changes need: a string, undefined for a fresh random one, null for none (--no-token) */
  token?: string | null;
  /** runs that may train at once (default 2) */
  maxRuns?: number;
}

export interface Dashboard {
  server: Server;
  /** the server's base URL (no token) */
  url: string;
  /** the URL to open: `url` with `?token=…` when a token is required */
  pageUrl: string;
  token: string | null;
  port: number;
  sessions: Sessions;
  hub: SseHub;
  runsDir: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The page's files, read once: served by exact name, so no path ever reaches the file system. */
function loadAssets(dir: string): Map<string, Buffer> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new FitlabError(`the dashboard page is not built (${join(dir, 'index.html')} is missing)`, 'run `npm run build` (it bundles web/ into dist/web)');
  }
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

/** The path of a request without its query: the log must not record the token. */
const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0];

/**
 * GET /api/runs/<id>/inspect?view=network|predictions&model=<saved model>&input=<n>: checked
 * here (the run and its saved model must exist under the runs folder), computed in the worker.
 */
function inspectRequest(runsDir: string, id: string, query: URLSearchParams): InspectRequest {
  const view = query.get('view') ?? '';
  if (!(INSPECT_VIEWS as readonly string[]).includes(view)) throw new HttpError(400, `view must be one of ${INSPECT_VIEWS.join(', ')}; received ${JSON.stringify(view.slice(0, 40))}`);
  const input = query.get('input');
  if (input !== null && !/^\d{1,9}$/.test(input)) throw new HttpError(400, `input must be an example index (an integer ≥ 0); received ${JSON.stringify(input.slice(0, 40))}`);
  const runDir = runDirOf(runsDir, id);
  const model = query.get('model') ?? 'best';
  return { runDir, model, modelDir: savedModelDir(runsDir, runDir, model), view: view as InspectView, ...(input !== null ? { input: Number(input) } : {}) };
}

export function defaultAssetsDir(): string {
  return join(packageRoot(), 'dist', 'web');
}

/** Start the dashboard server; resolves once it listens. */
export async function startDashboard(options: ServeOptions = {}): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const runsDir = resolve(options.runs ?? 'runs');
  const experimentsDir = resolve(options.experiments ?? 'experiments');
  const assets = loadAssets(options.assets ?? defaultAssetsDir());
  const hub = new SseHub();
  const sessions = new Sessions(hub);
  // finished runs' views, computed off this thread
  const inspector = new Inspector();
  let port = options.port ?? 6006;
  const token = options.token === undefined ? newToken() : options.token;
  const maxRuns = options.maxRuns ?? 2;
  if (!Number.isInteger(maxRuns) || maxRuns < 1) throw new FitlabError(`maxRuns must be an integer >= 1; received ${maxRuns}`);

  const hostAllowed = (header: string | undefined): boolean => {
    // DNS rebinding: a page on another site must not reach us by pointing its name at 127.0.0.1
    if (!isLoopback(host)) return true;
    const name = (header ?? '').replace(/:\d+$/, '');
    return isLoopback(name);
  };

  const liveStates = (): Record<string, LiveState> =>
    Object.fromEntries(sessions.all().filter((s) => s.id).map((s) => [s.id as string, s.state]));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) throw new HttpError(421, 'this dashboard answers only to localhost / 127.0.0.1');
    const raw = req.url ?? '/';
    const path = raw.split('?')[0];
    const query = new URLSearchParams(raw.slice(path.length + 1));
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';
    guardRequest(req, path, query, { token, loopback: isLoopback(host) });
    if (path === '/' || path === '/index.html') {
      if (!get) throw new HttpError(405, 'method not allowed');
      return send(res, 200, assets.get('index.html') as Buffer, 'text/html; charset=utf-8', { 'Cache-Control': 'no-cache' });
    }
    if (path.startsWith('/assets/')) {
      const body = assets.get(path.slice('/assets/'.length));
      if (!body || !get) throw new HttpError(404, 'not found');
      return send(res, 200, body, contentType(path));
    }
    if (path.startsWith('/runs/') || path.startsWith('/experiments/')) {
      if (!get) throw new HttpError(405, 'method not allowed');
      const isRuns = path.startsWith('/runs/');
      const segments = safeSegments(path.slice(isRuns ? '/runs/'.length : '/experiments/'.length));
      // any file under the run or experiment folder, read-only: the page reads config.json,
      // history.jsonl, charts and report.html; checkpoints and weights are served as they are
      // (resolveUnder refuses paths that leave the folder)
      const file = resolveUnder(isRuns ? runsDir : experimentsDir, segments);
      return send(res, 200, readFileSync(file), contentType(file), { 'Cache-Control': 'no-cache' });
    }
    if (path === '/api/stream') {
      if (!get) throw new HttpError(405, 'method not allowed');
      hub.connect(res, { live: liveStates() });
      return;
    }
    if (path === '/api/options' && get) {
      const options: DashboardOptions = { presets: [...PRESET_NAMES], datasets: [...DATASETS], optimizers: [...OPTIMIZERS], augments: [...AUGMENTS], runsDir, experimentsDir };
      return sendJson(res, 200, options);
    }
    if (path === '/api/runs') {
      if (get) {
        const rows: RunRow[] = listRunRows(runsDir).map((r) => ({ ...r, status: sessions.get(r.id)?.state.status ?? null }));
        return sendJson(res, 200, { runs: rows });
      }
      if (method !== 'POST') throw new HttpError(405, 'method not allowed');
      const config = parseStartRun(await readJson(req), runsDir);
      // counted and started in one synchronous step: two POSTs at once cannot both pass
      if (sessions.activeCount() >= maxRuns) {
        throw new HttpError(429, `${maxRuns} run${maxRuns === 1 ? ' is' : 's are'} already training (the limit, --max-runs ${maxRuns}); stop one or wait for it to finish`);
      }
      const session = await sessions.start(Sessions.config(config));
      return sendJson(res, 201, { id: session.id, command: trainCommand({ ...config, out: undefined }) });
    }
    if (path === '/api/command') {
      // the form's live preview: validates like a start, runs nothing
      if (method !== 'POST') throw new HttpError(405, 'method not allowed');
      return sendJson(res, 200, { command: trainCommand({ ...parseStartRun(await readJson(req), runsDir), out: undefined }) });
    }
    if (path === '/api/experiments' && get) return sendJson(res, 200, { experiments: listExperiments(experimentsDir) });
    const m = /^\/api\/runs\/([^/]+)(\/control|\/inspect|\/history\.csv)?$/.exec(path);
    if (m) {
      const id = safeSegments(m[1])[0];
      if (m[2] === '/inspect' || m[2] === '/history.csv') {
        if (!get) throw new HttpError(405, 'method not allowed');
        if (m[2] === '/history.csv') {
          return send(res, 200, historyCsv(runHistory(runsDir, id)), 'text/csv; charset=utf-8', { 'Cache-Control': 'no-store', 'Content-Disposition': `attachment; filename="${id}-history.csv"` });
        }
        return sendJson(res, 200, await inspector.view(inspectRequest(runsDir, id, query)));
      }
      if (m[2]) {
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        const body = await readJson(req);
        runDirOf(runsDir, id);
        const session = sessions.get(id);
        if (!session) throw new HttpError(409, `run ${JSON.stringify(id)} is not training in this dashboard`);
        session.control(parseControl(body));
        return sendJson(res, 202, { ok: true });
      }
      if (!get) throw new HttpError(405, 'method not allowed');
      const detail: RunDetail = { ...runDetail(runsDir, id), live: sessions.get(id)?.state ?? null };
      return sendJson(res, 200, detail);
    }
    throw new HttpError(404, 'not found');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof FitlabError ? 400 : 500;
      // an unexpected error's message may quote what it read (JSON.parse does): only the log sees it
      const message = status === 500 ? 'internal error (details in the server\'s log)' : (err as Error).message;
      if (status === 500) process.stderr.write(`fitlab serve: internal error on ${req.method} ${pathOf(req)}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      if (res.headersSent) {
        res.end();
        return;
      }
      // drain what the client still sends, so the connection stays usable
      req.resume();
      sendJson(res, status, { error: message, ...(err instanceof FitlabError && err.hint ? { hint: err.hint } : {}) });
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'EADDRINUSE' ? new FitlabError(`port ${port} on ${host} is in use`, 'pick another with --port') : err);
    });
    server.listen(port, host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}/`;
  return {
    server, port, sessions, hub, runsDir, token, url,
    pageUrl: token === null ? url : `${url}?token=${token}`,
    async close() {
      hub.close();
      await sessions.closeAll();
      await inspector.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
