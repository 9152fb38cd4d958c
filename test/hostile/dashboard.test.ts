/**
 * The dashboard against a hostile runs folder and hostile pages (issue 14):
 *   - symlinks inside the runs/experiments folders (config.json, diagnosis.json, knobs.jsonl,
 *     history.jsonl, experiment.json, a whole run directory) pointing at a secret file or
 *     /etc/passwd: nothing of either comes back from any route, and nothing answers 500;
 *   - cross-origin, cross-site and tokenless state changes: 403 and nothing changes;
 *   - a third concurrent run: 429; deeply nested and oversized bodies: 400 / 413, no stack;
 *   - `fitlab serve` prints a tokened URL; `--no-token` works and warns.
 * Every wait is for a condition; the test timeout is the only time bound.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Dashboard } from '../../src/serve/server.js';
import { BIN, ROOT, ensureBuilt } from '../cli/cli-helpers.js';
import { bundlePage, json, raw, tempDashboard, until } from '../serve/helpers.js';

// a distinctive secret: no 6-character piece of it occurs in anything the dashboard writes
const SECRET = 'Zq7xWv9Kp2LrTj4M';
const PASSWD = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : 'root:x:0:0:root:/root:/bin/bash\n';

/** The pieces of the secret and of /etc/passwd that must never appear in an answer. */
function leaks(body: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 6 <= SECRET.length; i++) if (body.includes(SECRET.slice(i, i + 6))) found.push(SECRET.slice(i, i + 6));
  for (const line of PASSWD.split('\n').filter((l) => l.includes(':'))) {
    // a passwd line's "name:x:uid:gid" head is what a quoting error message would show
    const head = line.split(':').slice(0, 4).join(':');
    if (body.includes(head)) found.push(head);
  }
  return found;
}

const spec = { name: 'mlp', input: [2], layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] };
const longRun = (name: string): Record<string, unknown> => ({ dataset: 'spirals', modelSpec: spec, epochs: 10000, batchSize: 8, lr: 0.003, val: '0.3', name });

const LINKED: [string, string, string][] = [
  ['diag-secret', 'diagnosis.json', ''], ['diag-passwd', 'diagnosis.json', '/etc/passwd'], ['summary-secret', 'summary.json', ''],
  ['knobs-passwd', 'knobs.jsonl', '/etc/passwd'], ['knobs-secret', 'knobs.jsonl', ''], ['history-passwd', 'history.jsonl', '/etc/passwd'],
  ['report-secret', 'report.html', ''],
];

let d: Dashboard & { root: string };
let secretFile: string;
const errors: string[] = [];

beforeAll(async () => {
  d = await tempDashboard(await bundlePage());
  const runs = d.runsDir;
  secretFile = join(d.root, 'secret.json');
  for (const l of LINKED) l[2] ||= secretFile;
  writeFileSync(secretFile, `{"api_key": "${SECRET}", "model": {"label": "${SECRET}"}, "regime": "${SECRET}"}`);
  const run = (name: string, files: Record<string, string>): void => {
    mkdirSync(join(runs, name), { recursive: true });
    for (const [f, target] of Object.entries(files)) symlinkSync(target, join(runs, name, f));
  };
  // config.json itself a link: the run is not ours to read
  run('cfg-secret', { 'config.json': secretFile });
  run('cfg-passwd', { 'config.json': '/etc/passwd' });
  // a real config, and one other file linked out (each its own run, so no earlier failure hides it)
  for (const [id, file, target] of LINKED) {
    run(id, { [file]: target });
    writeFileSync(join(runs, id, 'config.json'), JSON.stringify({ model: { label: 'ok' }, dataset: { name: 'spirals' } }));
  }
  // a plain file that is not JSON and holds the secret: the error must not quote it
  mkdirSync(join(runs, 'broken'));
  writeFileSync(join(runs, 'broken', 'config.json'), `{"model": ${SECRET}`);
  writeFileSync(join(runs, 'broken', 'knobs.jsonl'), `${SECRET}\n`);
  // a whole run directory that is a link to a folder outside
  const outside = join(d.root, 'outside-run');
  mkdirSync(outside);
  writeFileSync(join(outside, 'config.json'), readFileSync(secretFile));
  symlinkSync(outside, join(runs, 'dir-link'));
  // an experiment whose experiment.json is a link
  mkdirSync(join(d.root, 'experiments', 'exp-link'), { recursive: true });
  symlinkSync(secretFile, join(d.root, 'experiments', 'exp-link', 'experiment.json'));
  // what the server logs as an internal error (with its stack) must stay empty
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (String(chunk).includes('internal error')) errors.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await d?.close();
  if (d) rmSync(d.root, { recursive: true, force: true });
});

describe('symlinks in the runs and experiments folders', () => {
  const paths = [
    '/api/runs', '/api/experiments',
    // broken/ holds plain files of the folder's own: the file route may serve those, the API
    // must not quote them in its error
    '/api/runs/broken',
    ...['cfg-secret', 'cfg-passwd', ...LINKED.map(([id]) => id), 'dir-link', 'r1'].flatMap((id) => [
      `/api/runs/${id}`, `/runs/${id}/config.json`, `/runs/${id}/diagnosis.json`, `/runs/${id}/summary.json`,
      `/runs/${id}/knobs.jsonl`, `/runs/${id}/history.jsonl`, `/runs/${id}/report.html`,
    ]),
    '/experiments/exp-link/experiment.json',
  ];

  it.each(paths)('GET %s gives nothing of the secret or /etc/passwd, and no 500', async (path) => {
    const r = await raw(d, 'GET', path);
    expect(r.status, r.body).not.toBe(500);
    expect(leaks(r.body)).toEqual([]);
  });

  it('lists the runs that are readable, treats linked files as absent and names a broken file without quoting it', async () => {
    const runs = (JSON.parse((await raw(d, 'GET', '/api/runs')).body) as { runs: { id: string; model: string; regime: string | null; report: boolean; test: unknown; error?: string }[] }).runs;
    const byId = new Map(runs.map((r) => [r.id, r]));
    expect(byId.get('r1')?.model).toBe('m');
    expect(byId.has('dir-link')).toBe(false);
    for (const [id] of LINKED) {
      expect(byId.get(id), id).toMatchObject({ model: 'ok', regime: null, report: false, test: null, epochs: 0 });
      expect(byId.get(id)?.error, id).toBeUndefined();
      const detail = JSON.parse((await raw(d, 'GET', `/api/runs/${id}`)).body) as Record<string, unknown>;
      expect(detail, id).toMatchObject({ diagnosis: null, history: [], events: [], config: { model: { label: 'ok' } } });
    }
    expect(byId.get('broken')?.error).toBe('config.json is not valid JSON');
    expect((await raw(d, 'GET', '/api/runs/cfg-secret')).status).toBe(404);
    expect((await raw(d, 'GET', '/api/runs/dir-link')).status).toBe(404);
    const experiments = (JSON.parse((await raw(d, 'GET', '/api/experiments')).body) as { experiments: unknown[] }).experiments;
    expect(experiments).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('state changes from other origins, or without the token', () => {
  const evil = { Origin: 'http://evil.example' };
  const crossSite = { 'Sec-Fetch-Site': 'cross-site' };
  const runDirs = (): string[] => readdirSync(d.runsDir);

  it('refuses to start a run cross-origin, cross-site, without or with a wrong token; starts it from our own page', async () => {
    const before = runDirs();
    const refused = [
      await json(d, 'POST', '/api/runs', longRun('evil-a'), evil),
      await json(d, 'POST', '/api/runs', longRun('evil-b'), { ...crossSite, Origin: `http://127.0.0.1:${d.port}` }),
      await json(d, 'POST', '/api/runs', longRun('evil-c'), { Origin: 'null' }),
      await json({ port: d.port }, 'POST', '/api/runs', longRun('evil-d')),
      await json({ port: d.port, token: 'f'.repeat(64) }, 'POST', '/api/runs', longRun('evil-e')),
      await json({ port: d.port, token: d.token?.slice(0, 63) }, 'POST', '/api/runs', longRun('evil-f')),
    ];
    for (const r of refused) {
      expect(r.status, r.body).toBe(403);
      expect((JSON.parse(r.body) as { error: string }).error).toMatch(/cross-origin|cross-site|token/);
    }
    expect(runDirs()).toEqual(before);
    expect(d.sessions.activeCount()).toBe(0);

    // the page's own request: our Origin, same-origin, the token
    const ok = await json(d, 'POST', '/api/runs', longRun('mine'), { Origin: `http://127.0.0.1:${d.port}`, 'Sec-Fetch-Site': 'same-origin' });
    expect(ok.status, ok.body).toBe(201);
    const id = (JSON.parse(ok.body) as { id: string }).id;
    const session = d.sessions.get(id);
    expect(session).toBeDefined();

    // steering it from elsewhere: refused, and nothing reaches the run
    const control = `/api/runs/${id}/control`;
    for (const r of [
      await json(d, 'POST', control, { set: { learningRate: 0.5 } }, evil),
      await json(d, 'POST', control, { action: 'stop' }, evil),
      await json(d, 'POST', control, { action: 'stop' }, crossSite),
      await json({ port: d.port }, 'POST', control, { set: { learningRate: 0.5 } }),
      await json({ port: d.port }, 'POST', control, { action: 'stop' }),
    ]) expect(r.status, r.body).toBe(403);
    // a request of our own goes through after them; the worker applies commands in order, so
    // once its change is recorded, a refused one that had slipped through would be recorded too
    expect((await json(d, 'POST', control, { set: { learningRate: 0.0123 } })).status).toBe(202);
    await until(() => (session?.state.events.length ?? 0) > 0);
    expect(session?.state.events.map((e) => [e.knob ?? e.action, e.to])).toEqual([['learningRate', 0.0123]]);
    expect(session?.state.status).toBe('running');

    expect((await json(d, 'POST', control, { action: 'stop' })).status).toBe(202);
    await session?.finished;
    expect(session?.state.status).toBe('stopped');
  });

  it('a run whose worker is terminated (the server closing) leaves no lock behind: the CLI can resume it', async () => {
    const started = await json(d, 'POST', '/api/runs', longRun('terminated'));
    expect(started.status, started.body).toBe(201);
    const session = d.sessions.get((JSON.parse(started.body) as { id: string }).id);
    await until(() => (session?.state.epochs.length ?? 0) > 0);
    const runDir = session?.state.info?.runDir as string;
    expect(existsSync(join(runDir, '.fitlab-lock'))).toBe(true);
    await session?.terminate();
    await session?.finished;
    // the worker ran no cleanup; the lock carried this (still living) process's PID
    expect(existsSync(join(runDir, '.fitlab-lock'))).toBe(false);
  });

  it('needs the token for the command preview too (every POST), and not for reads on loopback', async () => {
    expect((await json({ port: d.port }, 'POST', '/api/command', { dataset: 'spirals', model: 'paper-mlp' })).status).toBe(403);
    expect((await json(d, 'POST', '/api/command', { dataset: 'spirals', model: 'paper-mlp' })).status).toBe(200);
    expect((await raw({ port: d.port }, 'GET', '/api/runs')).status).toBe(200);
  });
});

describe('limits', () => {
  it('refuses a third concurrent run with 429, and starts one again once a run has ended', async () => {
    const a = await json(d, 'POST', '/api/runs', longRun('cap-a'));
    const b = await json(d, 'POST', '/api/runs', longRun('cap-b'));
    expect([a.status, b.status]).toEqual([201, 201]);
    const c = await json(d, 'POST', '/api/runs', longRun('cap-c'));
    expect(c.status).toBe(429);
    expect((JSON.parse(c.body) as { error: string }).error).toMatch(/2 runs are already training.*--max-runs 2/);
    expect(readdirSync(d.runsDir).some((n) => n.endsWith('cap-c'))).toBe(false);

    const idA = (JSON.parse(a.body) as { id: string }).id;
    expect((await json(d, 'POST', `/api/runs/${idA}/control`, { action: 'stop' })).status).toBe(202);
    await d.sessions.get(idA)?.finished;
    const again = await json(d, 'POST', '/api/runs', longRun('cap-d'));
    expect(again.status, again.body).toBe(201);
    for (const r of [b, again]) {
      const id = (JSON.parse(r.body) as { id: string }).id;
      await json(d, 'POST', `/api/runs/${id}/control`, { action: 'stop' });
      await d.sessions.get(id)?.finished;
    }
  });

  it('answers a deeply nested body with 400 and an oversized one with 413, logging no internal error', async () => {
    const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    for (const [path, body] of [
      ['/api/runs', `{"dataset":"spirals","modelSpec":${nested(30_000)}}`],
      ['/api/runs', `{"dataset":"spirals","modelSpec":{"layers":${nested(30_000)}}}`],
      ['/api/command', nested(30_000)],
      ['/api/runs/r1/control', `{"set":${nested(30_000)}}`],
    ]) {
      const r = await json(d, 'POST', path, body);
      expect(r.status, `${path}: ${r.body.slice(0, 200)}`).toBe(400);
      expect((JSON.parse(r.body) as { error: string }).error).toMatch(/nested deeper than/);
    }
    // 100,000 levels do not fit in the 64 KiB a body may have
    const huge = await json(d, 'POST', '/api/runs', `{"dataset":"spirals","modelSpec":${nested(100_000)}}`);
    expect(huge.status).toBe(413);
    expect(errors).toEqual([]);
    expect(d.sessions.activeCount()).toBe(0);
  });
});

describe('listening beyond loopback', () => {
  it('needs the token for reads of data too (header or ?token=), not for the page itself', async () => {
    // bound to every interface for the length of this test; the token guards it meanwhile
    const wide = await tempDashboard(await bundlePage(), { host: '0.0.0.0' });
    try {
      const anon = { port: wide.port };
      for (const path of ['/api/runs', '/api/runs/r1', '/api/experiments', '/api/options', '/runs/r1/report.html', '/api/stream']) {
        const r = await raw(anon, 'GET', path);
        expect(r.status, path).toBe(403);
        expect(r.body, path).not.toContain('report');
      }
      expect((await raw(anon, 'GET', '/')).status).toBe(200);
      expect((await raw(wide, 'GET', '/api/runs/r1')).status).toBe(200);
      const linked = await raw(anon, 'GET', `/runs/r1/report.html?token=${wide.token}`);
      expect([linked.status, linked.body]).toEqual([200, '<h1>report</h1>']);
      expect((await raw(anon, 'GET', `/api/runs?token=${'0'.repeat(64)}`)).status).toBe(403);
    } finally {
      await wide.close();
      rmSync(wide.root, { recursive: true, force: true });
    }
  });
});

/** `fitlab serve` as a user starts it; resolves with the process and the URL line it printed. */
async function serveCli(args: string[]): Promise<{ child: ChildProcess; out: () => string; url: string }> {
  ensureBuilt();
  let out = '';
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  let exited = false;
  child.on('exit', () => (exited = true));
  await until(() => exited || /fitlab dashboard: \S+/.test(out));
  const url = /fitlab dashboard: (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`fitlab serve did not start:\n${out}`);
  return { child, out: () => out, url };
}

describe('fitlab serve (the real command)', () => {
  let folder: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'fitlab-serve-cli-'));
    // the CLI serves dist/web; build it when a fresh checkout has not yet
    if (!existsSync(join(ROOT, 'dist', 'web', 'index.html'))) await bundlePage();
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
    rmSync(folder, { recursive: true, force: true });
  });

  it('prints a URL with a 64-hex-digit token; POSTs need it', async () => {
    const s = await serveCli(['--runs', join(folder, 'runs'), '--experiments', join(folder, 'exp')]);
    children.push(s.child);
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})$/.exec(s.url);
    expect(m, s.url).not.toBeNull();
    const port = Number(m?.[1]);
    const body = { dataset: 'spirals', model: 'paper-mlp' };
    expect((await json({ port }, 'POST', '/api/command', body)).status).toBe(403);
    expect((await json({ port, token: m?.[2] }, 'POST', '/api/command', body)).status).toBe(200);
    expect(s.out()).not.toMatch(/WARNING/);
  });

  it('--no-token lets state changes through without one, and says so', async () => {
    const s = await serveCli(['--no-token', '--runs', join(folder, 'runs'), '--experiments', join(folder, 'exp')]);
    children.push(s.child);
    expect(s.out()).toMatch(/WARNING: --no-token/);
    expect(s.url).not.toContain('token');
    const port = Number(/:(\d+)\//.exec(s.url)?.[1]);
    expect((await json({ port }, 'POST', '/api/command', { dataset: 'spirals', model: 'paper-mlp' })).status).toBe(200);
    // the origin rules still hold
    expect((await json({ port }, 'POST', '/api/command', { dataset: 'spirals', model: 'paper-mlp' }, { Origin: 'http://evil.example' })).status).toBe(403);
  });

  it('refuses a --max-runs below 1 with a one-line error', async () => {
    const s = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--max-runs', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    s.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => s.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(out).toMatch(/--max-runs must be an integer ≥ 1; received "0"/);
    expect(out).not.toMatch(/^\s{4}at /m);
  });
});
