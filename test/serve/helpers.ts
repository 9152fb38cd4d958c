/** A dashboard on a free port over a temporary runs folder, and raw HTTP for the tests. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dashboard, type ServeOptions, startDashboard } from '../../src/serve/server.js';
import { createRequire } from 'node:module';

// the build script is plain CommonJS (scripts/*.cjs), run by `npm run build` too
const { buildWeb } = createRequire(import.meta.url)('../../scripts/build-web.cjs') as { buildWeb: (out: string) => Promise<string> };

export async function bundlePage(): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'fitlab-web-')), 'web');
  await buildWeb(out);
  return out;
}

export async function tempDashboard(assets: string, options: ServeOptions = {}): Promise<Dashboard & { root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'fitlab-serve-'));
  const runs = join(root, 'runs');
  mkdirSync(join(runs, 'r1'), { recursive: true });
  writeFileSync(join(runs, 'r1', 'config.json'), JSON.stringify({ model: { label: 'm' }, dataset: { name: 'spirals' }, training: { epochs: 2 } }));
  writeFileSync(join(runs, 'r1', 'history.jsonl'), '{"epoch":0,"loss":1,"val_loss":1.1,"learning_rate":0.01,"penalty":0,"seconds":1}\n');
  writeFileSync(join(runs, 'r1', 'report.html'), '<h1>report</h1>');
  writeFileSync(join(root, 'secret.txt'), 'do not serve');
  const d = await startDashboard({ port: 0, runs, experiments: join(root, 'experiments'), assets, ...options });
  return Object.assign(d, { root });
}

export interface Raw {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Where a request goes: a dashboard's port, and the token it sends (as the page does) unless null. */
export interface Target {
  port: number;
  token?: string | null;
}

/** A request with the path sent exactly as given (no normalization of `..`); the token in X-Fitlab-Token. */
export function raw(to: Target, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Raw> {
  const auth: Record<string, string> = to.token ? { 'X-Fitlab-Token': to.token } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: to.port, method, path, headers: { ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...auth, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const json = (to: Target, method: string, path: string, value: unknown, headers: Record<string, string> = {}): Promise<Raw> =>
  raw(to, method, path, typeof value === 'string' ? value : JSON.stringify(value), { 'Content-Type': 'application/json', ...headers });

/** Poll `cond` until it holds; the test's own timeout is the only time bound. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
