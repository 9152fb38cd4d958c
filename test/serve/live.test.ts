import { readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/serve/server.js';
import { bundlePage, json, raw, tempDashboard, until } from './helpers.js';

let d: Dashboard & { root: string };
beforeAll(async () => {
  d = await tempDashboard(await bundlePage());
});
afterAll(async () => {
  await d.close();
  rmSync(d.root, { recursive: true, force: true });
});

interface Client {
  events: { type: string; data: Record<string, unknown> }[];
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
          if (type && data) events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
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

// Every wait below is for a condition (an event a viewer must receive); the test's timeout is
// the only time bound, so a busy machine makes it slower, never red.
describe('a live run with 20 viewers', () => {
  it('streams the same events to every viewer, applies knobs, pauses, resumes and stops', async () => {
    const clients = Array.from({ length: 20 }, () => sseClient(d.port));
    await Promise.all(clients.map((c) => c.opened));
    await until(() => clients.every((c) => c.events.some((e) => e.type === 'hello')));

    const started = await json(d, 'POST', '/api/runs', { dataset: 'spirals', modelSpec: spec, epochs: 10000, batchSize: 8, lr: 0.003, val: '0.3', name: 'fanout' });
    expect(started.status, started.body).toBe(201);
    const id = (JSON.parse(started.body) as { id: string }).id;
    const mine = (c: Client, type: string): Client['events'] => c.events.filter((e) => e.type === type && e.data.run === id);
    // three epochs, and the first network and predictions views (probed from the first batch
    // and the first epoch's end)
    await until(() => mine(clients[0], 'epoch').length >= 3 && mine(clients[0], 'network').length > 0 && mine(clients[0], 'predictions').length > 0);

    // a learning rate change: recorded in knobs.jsonl, and the next epoch's log uses it
    const set = await json(d, 'POST', `/api/runs/${id}/control`, { set: { learningRate: 0.0123 } });
    expect(set.status).toBe(202);
    await until(() => mine(clients[0], 'epoch').some((e) => (e.data.log as { learning_rate: number }).learning_rate === 0.0123));
    const knobLines = readFileSync(join(d.runsDir, id, 'knobs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(knobLines[0]).toMatchObject({ knob: 'learningRate', from: 0.003, to: 0.0123, note: 'next batch' });
    // Adam's β1 is its momentum knob
    await json(d, 'POST', `/api/runs/${id}/control`, { set: { momentum: 0.5 } });

    // pause: the worker keeps reporting its (frozen) point while paused; every batch event
    // between the "paused" and the "running" status carries the same example count
    await json(d, 'POST', `/api/runs/${id}/control`, { action: 'pause' });
    const statusIndex = (status: string, after = -1): number =>
      clients[0].events.findIndex((e, i) => i > after && e.type === 'status' && e.data.run === id && e.data.status === status);
    await until(() => statusIndex('paused') >= 0);
    const pausedFrom = statusIndex('paused');
    const pointsAfter = (from: number, to = Infinity): number[] => clients[0].events
      .filter((e, i) => i > from && i < to && e.type === 'batch' && e.data.run === id)
      .map((e) => (e.data.point as { examples: number }).examples);
    // two reports while paused: it stayed paused across at least one wake-up of its loop
    await until(() => pointsAfter(pausedFrom).length >= 2);
    await json(d, 'POST', `/api/runs/${id}/control`, { action: 'resume' });
    await until(() => statusIndex('running', pausedFrom) >= 0);
    const resumedAt = statusIndex('running', pausedFrom);
    const frozen = pointsAfter(pausedFrom, resumedAt);
    expect(new Set(frozen).size, `examples while paused: ${frozen.join(',')}`).toBe(1);
    await until(() => pointsAfter(resumedAt).some((n) => n > frozen[0]));

    // at least 21 batch points reach every viewer (one per epoch at least, so this comes)
    await until(() => clients.every((c) => mine(c, 'batch').length > 20));
    const stop = await json(d, 'POST', `/api/runs/${id}/control`, { action: 'stop' });
    expect(stop.status).toBe(202);
    await until(() => clients.every((c) => mine(c, 'done').length === 1));
    // same events, same order, for every viewer
    const sig = (c: Client): string => c.events.filter((e) => e.data.run === id).map((e) => e.type).join(',');
    for (const c of clients) expect(sig(c)).toBe(sig(clients[0]));
    expect(mine(clients[0], 'done')[0].data.status).toBe('stopped');
    for (const c of clients) c.close();

    // the stop saved a checkpoint and the history; the run lists with its events
    const detail = JSON.parse((await raw(d, 'GET', `/api/runs/${id}`)).body) as { history: unknown[]; events: { knob?: string; action?: string }[] };
    expect(detail.history.length).toBeGreaterThanOrEqual(4);
    expect(detail.events.map((e) => e.knob ?? e.action)).toEqual(['learningRate', 'momentum', 'pause', 'resume', 'stop']);
    expect(readFileSync(join(d.runsDir, id, 'checkpoint', 'state.json'), 'utf8')).toBeTruthy();
  });
});
