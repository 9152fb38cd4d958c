import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/serve/server.js';
import { parseControl, parseStartRun } from '../../src/serve/validate.js';
import { safeSegments } from '../../src/serve/http.js';
import { bundlePage, json, raw, tempDashboard } from './helpers.js';

let d: Dashboard & { root: string };

beforeAll(async () => {
  d = await tempDashboard(await bundlePage());
});
afterAll(async () => {
  await d.close();
  rmSync(d.root, { recursive: true, force: true });
});

describe('static files and path traversal', () => {
  it('serves the page, its bundle and a run\'s report', async () => {
    const page = await raw(d, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/assets/app.js');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await raw(d, 'GET', '/assets/app.js')).status).toBe(200);
    const report = await raw(d, 'GET', '/runs/r1/report.html');
    expect(report.status).toBe(200);
    expect(report.body).toBe('<h1>report</h1>');
  });

  const attacks = [
    '/runs/../secret.txt', '/runs/r1/../../secret.txt', '/runs/%2e%2e/secret.txt', '/runs/%2E%2E%2Fsecret.txt',
    '/runs/r1/..%2F..%2Fsecret.txt', '/runs/..%5csecret.txt', '/runs//etc/passwd', '/runs/%2fetc%2fpasswd',
    '/runs/r1/%00report.html', '/runs/%252e%252e/secret.txt', '/runs/C:%5cwindows', '/experiments/../runs/r1/report.html',
    '/assets/../package.json', '/runs/%e0%a4%a', '/api/runs/..%2F..%2Fsecret.txt',
  ];
  it.each(attacks)('refuses %s with a 4xx', async (path) => {
    const r = await raw(d, 'GET', path);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body).not.toContain('do not serve');
  });

  it('refuses segments that escape in unit tests of safeSegments', () => {
    expect(safeSegments('r1/report.html')).toEqual(['r1', 'report.html']);
    for (const p of ['..', 'a/../b', '%2e%2e', 'a%2fb', '/abs', 'a\\b', 'a%00']) expect(() => safeSegments(p)).toThrow();
  });

  it('answers only to loopback host names (DNS rebinding)', async () => {
    const r = await raw(d, 'GET', '/api/runs', undefined, { Host: 'evil.example:80' });
    expect(r.status).toBe(421);
  });
});

describe('request bodies', () => {
  const bad: [string, string | Buffer, Record<string, string>][] = [
    ['not JSON', '{"dataset": "spirals",', { 'Content-Type': 'application/json' }],
    ['wrong content type', '{"dataset":"spirals","model":"paper-mlp"}', { 'Content-Type': 'text/plain' }],
    ['no content type', '{}', {}],
    ['an array', '[1,2]', { 'Content-Type': 'application/json' }],
    ['unknown field', '{"dataset":"spirals","model":"paper-mlp","__proto__x":1}', { 'Content-Type': 'application/json' }],
    ['unknown dataset', '{"dataset":"/etc","model":"paper-mlp"}', { 'Content-Type': 'application/json' }],
    ['epochs as string', '{"dataset":"spirals","model":"paper-mlp","epochs":"5"}', { 'Content-Type': 'application/json' }],
    ['negative lr', '{"dataset":"spirals","model":"paper-mlp","lr":-1}', { 'Content-Type': 'application/json' }],
    ['name with a slash', '{"dataset":"spirals","model":"paper-mlp","name":"../x"}', { 'Content-Type': 'application/json' }],
    ['too large', Buffer.alloc(100 * 1024, 32), { 'Content-Type': 'application/json' }],
  ];
  it.each(bad)('refuses a start body: %s', async (_what, body, headers) => {
    const r = await raw(d, 'POST', '/api/runs', body, headers);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect((JSON.parse(r.body) as { error: string }).error).toBeTruthy();
  });

  it('refuses bad control bodies and controls of runs that are not live', async () => {
    for (const body of ['{"set":{"learningRate":-1}}', '{"set":{"speed":1}}', '{"action":"explode"}', '{}', '{"set":{}}', 'null', '{"set":{"batchSize":1.5}}']) {
      const r = await json(d, 'POST', '/api/runs/r1/control', body);
      expect(r.status, body).toBeGreaterThanOrEqual(400);
      expect(r.status, body).toBeLessThan(500);
    }
    expect((await json(d, 'POST', '/api/runs/r1/control', { action: 'pause' })).status).toBe(409);
    expect((await json(d, 'POST', '/api/runs/nope/control', { action: 'pause' })).status).toBe(404);
  });

  it('keeps serving after all that', async () => {
    const r = await raw(d, 'GET', '/api/runs');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { runs: { id: string }[] }).runs.map((x) => x.id)).toEqual(['r1']);
    expect((await raw(d, 'DELETE', '/api/runs')).status).toBe(405);
    expect((await raw(d, 'GET', '/nowhere')).status).toBe(404);
  });

  it('validates a start body into the CLI\'s config', () => {
    const c = parseStartRun({ dataset: 'mnist', model: 'paper-mlp', epochs: 3, optimizer: 'sgd', momentum: 0.9, weightDecay: 1e-4, subset: 100 }, 'runs');
    expect(c).toMatchObject({ dataset: 'mnist', model: 'paper-mlp', epochs: 3, optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 1e-4 }, tools: { subset: 100 }, out: 'runs' });
    expect(parseControl({ set: { learningRate: 0.01 } })).toEqual({ set: { learningRate: 0.01 } });
    expect(() => parseControl({ set: { dropout: 1 } })).toThrow(/dropout must be a number in \[0, 0.95\]; received 1/);
  });

  it('previews the equivalent command', async () => {
    const r = await json(d, 'POST', '/api/command', { dataset: 'spirals', model: 'paper-mlp', epochs: 5, lr: 0.01 });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { command: string }).command).toBe('fitlab train --model paper-mlp --dataset spirals --epochs 5 --batch-size 32 --optimizer adam --lr 0.01 --val 0.1 --seed 42');
  });
});
