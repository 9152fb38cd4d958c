/**
 * The pieces behind finished runs in the dashboard, without a browser: the one event fold the
 * server and the page share, the history CSV, the charts' robust y range, and the /inspect and
 * /history.csv endpoints over a run trained for real.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyCsv } from '../../src/io/history-csv.js';
import { trainRun } from '../../src/run/train-run.js';
import { type LiveState, MAX_LOG, type NetworkView, type PredictionsView, type RunDetail, type WorkerMessage, emptyLiveState, foldEvent } from '../../src/serve/protocol.js';
import type { Dashboard } from '../../src/serve/server.js';
import { Store } from '../../web/src/store.js';
import { robustRange } from '../../web/src/scale.js';
import { bundlePage, json, raw, tempDashboard } from './helpers.js';

const info = { id: 'r', runDir: '/x/r', model: 'm', dataset: 'spirals', classes: 2, classNames: ['a', 'b'], shape: [2], params: 10, epochs: 3, optimizer: 'adam', knobs: { learningRate: 0.01, momentum: null, batchSize: 8, weightDecay: 0, l2: 0, dropout: null }, command: 'fitlab train' };
const point = (i: number) => ({ epoch: 0, batch: i, batches: 10, epochs: 3, examples: 8 * (i + 1), loss: 1 / (i + 1), epochLoss: 1, accuracy: 0.5, penalty: 0, learningRate: 0.01, forwardMs: 1, backwardMs: 1, seconds: i, eta: 1 });
const messages: WorkerMessage[] = [
  { type: 'started', info },
  { type: 'status', status: 'running' },
  { type: 'batch', point: point(0) },
  { type: 'batch', point: point(1) },
  { type: 'knob', event: { time: 't', epoch: 0, batch: 1, examples: 16, knob: 'learningRate', from: 0.01, to: 0.02 }, knobs: { ...info.knobs, learningRate: 0.02 } },
  { type: 'epoch', log: { epoch: 0, loss: 0.9, val_loss: 1.1 }, diagnosis: null },
  { type: 'epoch', log: { epoch: 1, loss: 0.7, val_loss: 1.2 }, diagnosis: { regime: 'overfitting', summary: 's', onsetEpoch: 2, bestEpoch: 1 } },
  ...Array.from({ length: MAX_LOG + 5 }, (_, i): WorkerMessage => ({ type: 'log', line: `line ${i}` })),
  { type: 'done', status: 'finished', summary: { diagnosis: { regime: 'overfitting', summary: 'final', onsetEpoch: 2, bestEpoch: 1 } } },
];

describe('one event fold for the server and the page', () => {
  it('folds worker messages into a run\'s state', () => {
    const s = emptyLiveState();
    for (const m of messages) foldEvent(s, m);
    expect(s.info?.knobs.learningRate).toBe(0.02);
    expect(s.status).toBe('finished');
    expect(s.points.map((p) => p.batch)).toEqual([0, 1]);
    expect(s.epochs.map((e) => e.val_loss)).toEqual([1.1, 1.2]);
    expect(s.events).toHaveLength(1);
    expect(s.diagnosis?.summary).toBe('final');
    expect(s.log).toHaveLength(MAX_LOG);
    expect(s.log[0]).toBe('line 5');
    const failed = emptyLiveState();
    foldEvent(failed, { type: 'error', message: 'boom', hint: null, user: false });
    expect([failed.status, failed.error]).toEqual(['failed', 'boom']);
  });

  it('gives the page\'s store the state the server\'s fold gives (events arrive with their run id)', () => {
    const server: LiveState = emptyLiveState();
    for (const m of messages) foldEvent(server, m);
    const page = new Store();
    for (const m of messages) page.apply({ run: 'r', ...m });
    expect(page.runs.get('r')).toEqual(server);
    expect(page.saved.has('r')).toBe(false);
  });
});

describe('history CSV', () => {
  it('writes epoch first, every key in order of appearance, empty cells for missing or non-finite values', () => {
    const csv = historyCsv([
      { loss: 1.5, epoch: 0, accuracy: 0.25, learning_rate: 0.001 },
      { epoch: 1, loss: NaN, accuracy: 0.5, val_loss: 0.75, learning_rate: 0.001 },
      { epoch: 2, loss: 0.1 + 0.2, accuracy: null, learning_rate: 1e-7 },
    ]);
    expect(csv).toBe('epoch,loss,accuracy,learning_rate,val_loss\n0,1.5,0.25,0.001,\n1,,0.5,0.001,0.75\n2,0.30000000000000004,,1e-7,\n');
    expect(historyCsv([])).toBe('epoch\n');
    expect(historyCsv([{ epoch: 0, 'a,"b"': 1 }])).toBe('epoch,"a,""b"""\n0,1\n');
  });
});

describe('robust y range', () => {
  it('leaves the first batches\' loss off a falling curve\'s range, keeps a steady rise whole', () => {
    const loss = [2.3, 1.9, 1.2, ...Array.from({ length: 60 }, (_, i) => 0.3 - i * 0.002)];
    const [lo, hi] = robustRange(loss) as [number, number];
    expect(hi).toBeLessThan(0.6);
    expect(lo).toBeLessThan(0.3 - 59 * 0.002);
    const rising = Array.from({ length: 50 }, (_, i) => 0.3 + i * 0.02); // overfitting: 0.3 → 1.28
    const [rlo, rhi] = robustRange(rising) as [number, number];
    expect(rlo).toBeLessThan(0.3);
    expect(rhi).toBeGreaterThan(0.3 + 49 * 0.02);
    // few points: the whole range; log: from the positive values only
    const [flo, fhi] = robustRange([5, 1, 0.5]) as [number, number];
    expect(flo).toBeLessThan(0.5);
    expect(fhi).toBeGreaterThan(5);
    const [llo, lhi] = robustRange([0, -1, 0.01, 1], true) as [number, number];
    expect(llo).toBeGreaterThan(0);
    expect(llo).toBeLessThan(0.01);
    expect(lhi).toBeGreaterThan(1);
    expect(robustRange([null, NaN])).toBeNull();
  });
});

describe('finished runs over HTTP', () => {
  let d: Dashboard & { root: string };
  let id: string;
  beforeAll(async () => {
    d = await tempDashboard(await bundlePage());
    const r = await trainRun({ model: 'paper-mlp', dataset: 'spirals', epochs: 2, batchSize: 16, out: d.runsDir, name: 'saved' });
    id = r.runDir.split('/').pop() as string;
  }, 120_000);
  afterAll(async () => {
    await d.close();
    rmSync(d.root, { recursive: true, force: true });
  });

  it('lists the saved models in the run\'s detail', async () => {
    const detail = JSON.parse((await raw(d, 'GET', `/api/runs/${id}`)).body) as RunDetail;
    expect(detail.models.map((m) => m.id)).toEqual(['best', 'final', 'initial']);
    expect(detail.created).toMatch(/^\d{4}-/);
    expect(detail.history).toHaveLength(2);
    expect(detail.live).toBeNull();
  });

  it('computes the network and predictions views of a saved model (2-D data: a decision boundary)', { timeout: 120_000 }, async () => {
    const net = await raw(d, 'GET', `/api/runs/${id}/inspect?view=network&model=final&input=2`);
    expect(net.status, net.body).toBe(200);
    const v = JSON.parse(net.body) as NetworkView;
    expect(v.saved?.model).toBe('final');
    expect(v.input).toBe(2);
    expect(v.layers.map((l) => l.className)).toEqual(['Flatten', 'Dense', 'Dense']);
    expect(v.layers.every((l) => l.activation !== null)).toBe(true);
    // the probe batch's backward pass: every layer with weights has a non-empty gradient histogram
    expect(v.layers.filter((l) => l.params > 0).every((l) => l.gradient && l.gradient.min < l.gradient.max)).toBe(true);
    expect(v.layers[0].gradient).toBeNull();
    const pred = JSON.parse((await raw(d, 'GET', `/api/runs/${id}/inspect?view=predictions&model=best`)).body) as PredictionsView;
    expect(pred.saved?.model).toBe('best');
    expect(pred.confusion.flat().reduce((a, b) => a + b, 0)).toBe(pred.counted);
    expect(pred.boundary?.cls).toHaveLength(64 * 64);
  });

  it('refuses a bad view, input or model in one line naming what is allowed', async () => {
    const bad = await raw(d, 'GET', `/api/runs/${id}/inspect?view=weights`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: 'view must be one of network, predictions; received "weights"' });
    expect((await raw(d, 'GET', `/api/runs/${id}/inspect?view=network&input=-1`)).status).toBe(400);
    const missing = await raw(d, 'GET', `/api/runs/${id}/inspect?view=network&model=snapshot:nope`);
    expect(missing.status).toBe(404);
    expect((JSON.parse(missing.body) as { error: string }).error).toContain('it has: best, final, initial');
    expect((await raw(d, 'GET', `/api/runs/${id}/inspect?view=network&model=..%2Fr1`)).status).toBe(404);
    expect((await raw(d, 'GET', '/api/runs/nope/inspect?view=network')).status).toBe(404);
    expect((await json(d, 'POST', `/api/runs/${id}/inspect?view=network`, {})).status).toBe(405);
  });

  it('serves the history as the CSV `fitlab export --format csv` writes', async () => {
    const r = await raw(d, 'GET', `/api/runs/${id}/history.csv`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="${id}-history.csv"`);
    const lines = readFileSync(join(d.runsDir, id, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(r.body).toBe(historyCsv(lines));
  });
});
