import { readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/serve/server.js';
import { bundlePage, json, raw, tempDashboard } from './helpers.js';

let d: Dashboard & { root: string };
beforeAll(async () => {
  d = await tempDashboard(await bundlePage());
});
afterAll(async () => {
  await d.close();
  rmSync(d.root, { recursive: true, force: true });
});

interface Client {
  events: { type: string; data: Record<string, unknown>; at: number }[];
  close: () => void;
  opened: Promise<void>;
}

/** A minimal EventSource: parses `event:` / `data:` blocks as they arrive. */
function sseClient(port: number): Client {
  const events: Client['events'] = [];
  let buf = '';
  let close = (): void => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/api/stream' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) as Record<string, unknown>, at: performance.now() });
        }
      });
      resolve();
    });
    req.on('error', reject);
    close = () => req.destroy();
  });
  return { events, close: () => close(), opened };
}

const spec = { name: 'mlp', input: [2], layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 2, activation: 'softmax' }] };

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a live run with 20 viewers', () => {
  it('streams the same events to every viewer, applies knobs, pauses, resumes and stops', async () => {
    const clients = Array.from({ length: 20 }, () => sseClient(d.port));
    await Promise.all(clients.map((c) => c.opened));
    await until(() => clients.every((c) => c.events.some((e) => e.type === 'hello')), 5000, 'hello events');

    const started = await json(d.port, 'POST', '/api/runs', { dataset: 'spirals', modelSpec: spec, epochs: 10000, batchSize: 8, lr: 0.003, val: '0.3', name: 'fanout' });
    expect(started.status, started.body).toBe(201);
    const id = (JSON.parse(started.body) as { id: string }).id;
    const mine = (c: Client, type: string): Client['events'] => c.events.filter((e) => e.type === type && e.data.run === id);
    await until(() => mine(clients[0], 'epoch').length >= 3, 20_000, 'three epochs');

    // a learning rate change: recorded in knobs.jsonl, and the next epoch's log uses it
    const set = await json(d.port, 'POST', `/api/runs/${id}/control`, { set: { learningRate: 0.0123 } });
    expect(set.status).toBe(202);
    await until(() => mine(clients[0], 'epoch').some((e) => (e.data.log as { learning_rate: number }).learning_rate === 0.0123), 20_000, 'an epoch at the new rate');
    const knobLines = readFileSync(join(d.runsDir, id, 'knobs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(knobLines[0]).toMatchObject({ knob: 'learningRate', from: 0.003, to: 0.0123, note: 'next batch' });
    // Adam's β1 is its momentum knob
    await json(d.port, 'POST', `/api/runs/${id}/control`, { set: { momentum: 0.5 } });

    // pause: batches stop arriving; resume: they come back
    await json(d.port, 'POST', `/api/runs/${id}/control`, { action: 'pause' });
    await until(() => mine(clients[0], 'status').some((e) => e.data.status === 'paused'), 5000, 'paused');
    await new Promise((r) => setTimeout(r, 150));
    const examplesAt = (): number => {
      const b = mine(clients[0], 'batch');
      return (b[b.length - 1].data.point as { examples: number }).examples;
    };
    const frozen = examplesAt();
    await new Promise((r) => setTimeout(r, 400));
    expect(examplesAt()).toBe(frozen);
    await json(d.port, 'POST', `/api/runs/${id}/control`, { action: 'resume' });
    await until(() => examplesAt() > frozen, 5000, 'training to resume');

    const stop = await json(d.port, 'POST', `/api/runs/${id}/control`, { action: 'stop' });
    expect(stop.status).toBe(202);
    await until(() => clients.every((c) => mine(c, 'done').length === 1), 20_000, 'every viewer to see the end');
    // same events, same order, for every viewer; the slowest saw the end within a second
    const sig = (c: Client): string => c.events.filter((e) => e.data.run === id).map((e) => e.type).join(',');
    for (const c of clients) expect(sig(c)).toBe(sig(clients[0]));
    const doneAt = clients.map((c) => mine(c, 'done')[0].at);
    expect(Math.max(...doneAt) - Math.min(...doneAt)).toBeLessThan(1000);
    expect(mine(clients[0], 'batch').length).toBeGreaterThan(20);
    expect(mine(clients[0], 'network').length).toBeGreaterThan(0);
    expect(mine(clients[0], 'predictions').length).toBeGreaterThan(0);
    expect(mine(clients[0], 'done')[0].data.status).toBe('stopped');
    for (const c of clients) c.close();

    // the stop saved a checkpoint and the history; the run lists with its events
    const detail = JSON.parse((await raw(d.port, 'GET', `/api/runs/${id}`)).body) as { history: unknown[]; events: { knob?: string; action?: string }[] };
    expect(detail.history.length).toBeGreaterThanOrEqual(4);
    expect(detail.events.map((e) => e.knob ?? e.action)).toEqual(['learningRate', 'momentum', 'pause', 'resume', 'stop']);
    expect(readFileSync(join(d.runsDir, id, 'checkpoint', 'state.json'), 'utf8')).toBeTruthy();
  });
});
