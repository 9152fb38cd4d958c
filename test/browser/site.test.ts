/**
 * `fitlab site` end to end (issue 21, "Done when"): `fitlab site --out <tmp> --with-data mnist`
 * writes the static site; a PLAIN static file server (node:http, a few lines, no fitlab server)
 * serves it; Chromium (playwright-core) opens it, and through the page's own New run form
 *   1. trains the spirals set (MLP): the curves are drawn, the Network view and the diagnosis
 *      appear, the report shows in the page;
 *   2. trains a 1,000-image MNIST subset (100 per class, a small MLP, a few epochs); the model is
 *      downloaded through the page's button (playwright's download event), and `fitlab evaluate`
 *      on that download with FITLAB_BACKEND=wasm gives exactly the test accuracy the page showed
 *      (the same kernels, the same test images in the same order: the same predictions). With
 *      the native backend the accuracy may differ by an example or so (other summation orders
 *      can flip a near-tie), so it is held to within 0.05 points (5 of 10,000). The history the
 *      page offers for download equals, bit for bit, the history of the same run made by
 *      `fitlab train` with FITLAB_BACKEND=wasm (one run contract, one split, one seed);
 *   3. with COOP/COEP headers on the server, the page is cross-origin isolated, says which
 *      threading mode it runs in (threads, when fitlab-threads.wasm was built and the machine has
 *      more than one core), and trains in it.
 * Waits are by condition, polled a bounded number of times, never a time budget. Screenshots go
 * to a temp folder (printed). Skipped, saying why, without Chromium, the .wasm or local MNIST.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { zipSync } from 'fflate';
import { PNG } from 'pngjs';
import { type BrowserContext, type Download, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, fitlab, jsonOf, testDataRoot } from '../cli/cli-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const WASM = join(ROOT, 'dist', 'wasm', 'fitlab.wasm');
const data = testDataRoot();
const mnist = data.root ? join(data.root, 'mnist') : null;
const skipReason = !existsSync(CHROMIUM) ? '/usr/bin/chromium is absent; apt-get install chromium'
  : !existsSync(WASM) ? `${WASM} is absent (node scripts/build-wasm.cjs needs clang and lld)`
  : !mnist || !existsSync(mnist) ? `no local MNIST (${data.reason || `${mnist} is absent`})` : null;

const { buildSite } = createRequire(import.meta.url)('../../scripts/build-site.cjs') as { buildSite: (out?: string) => Promise<string> };

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.gz': 'application/gzip',
};

/** A static file server over `dir`: files only, nothing else; `isolate` adds the COOP/COEP headers. */
async function serveStatic(dir: string, isolate: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^([/\\])+/, '');
    const file = join(dir, path === '' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
    if (isolate) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

let shotDir = tmpdir();

/**
 * Poll `check` up to `tries` times, `every` ms apart; fails with `what` (and a screenshot of the
 * page, path in the message) when it never holds.
 */
async function until(page: Page, what: string, check: () => Promise<boolean>, tries = 600, every = 250): Promise<void> {
  // bounded by count; 600 looks stay well inside a test's 600 s even when each look is slow, so a
  // condition that never comes fails with its name, the page's status and a screenshot
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await page.waitForTimeout(every);
  }
  const shot = join(shotDir, `gave-up-${what.replace(/[^a-z0-9]+/gi, '-')}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  const status = await page.locator('#status').innerText().catch(() => '?');
  const events = await page.locator('#events').innerText().catch(() => '?');
  throw new Error(`gave up waiting (${tries} looks) for ${what}; status ${JSON.stringify(status)}, changes ${JSON.stringify(events.replace(/\s+/g, ' '))}; the page then: ${shot}`);
}

/** Fill the New run form (ids from web/src/start.ts) and press Start. */
async function startRun(page: Page, fields: Record<string, string>, spec?: string): Promise<void> {
  await page.click('#tabs button[data-tab="new"]');
  await page.waitForSelector('#f-dataset option[value="mnist"]', { state: 'attached' });
  await page.selectOption('#f-dataset', fields.dataset);
  if (spec) {
    await page.selectOption('#f-model', 'custom spec (JSON)');
    await page.fill('#f-spec', spec);
  }
  for (const [id, value] of Object.entries(fields)) if (id !== 'dataset') await page.fill(`#f-${id}`, value);
  await page.click('#btn-start');
}

const statusOf = (page: Page): Promise<string> => page.locator('#status').innerText();

describe.skipIf(skipReason !== null)(`fitlab site in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let out: string;
  let shots: string;
  let downloads: string;
  let profile: string;
  let browser: BrowserContext;
  const servers: Server[] = [];
  const pageErrors: string[] = [];
  let siteStdout = '';

  beforeAll(async () => {
    ensureBuilt();
    await buildSite();
    const tmp = mkdtempSync(join(tmpdir(), 'fitlab-site-'));
    out = join(tmp, 'site');
    shots = mkdtempSync(join(tmpdir(), 'fitlab-site-shots-'));
    shotDir = shots;
    downloads = mkdtempSync(join(tmpdir(), 'fitlab-site-downloads-'));
    const r = fitlab(['site', '--out', out, '--with-data', 'mnist', '--data-dir', data.root as string]);
    expect(r.status, r.stderr).toBe(0);
    siteStdout = r.stdout;
    console.log(`fitlab site e2e: screenshots in ${shots}; downloads in ${downloads}`);
    profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, acceptDownloads: true, viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function open(isolate: boolean): Promise<Page> {
    const { server, url } = await serveStatic(out, isolate);
    servers.push(server);
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await until(page, 'the backend note', async () => /^WebAssembly,|did not load/.test(await page.locator('#backend-note').innerText()));
    return page;
  }

  it('writes the site and states the headers a host must send for threads', () => {
    for (const f of ['index.html', 'app.js', 'worker.js', 'fitlab.wasm', 'style.css', 'data/index.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const index = JSON.parse(readFileSync(join(out, 'data', 'index.json'), 'utf8')) as { datasets: { name: string; train: number; test: number }[] };
    expect(index.datasets).toEqual([expect.objectContaining({ name: 'mnist', train: 60000, test: 10000 })]);
    expect(siteStdout).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(siteStdout).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(siteStdout).toMatch(/without them the site works on one thread/);
    // a folder fitlab did not write is never filled
    const again = fitlab(['site', '--out', join(out, 'data')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/fitlab did not write|already holds/);
  });

  it('trains spirals through the page: curves, network view, diagnosis and report', async () => {
    const page = await open(false);
    expect(await page.locator('#backend-note').innerText()).toBe('WebAssembly, 1 thread (page not cross-origin isolated: serve with COOP/COEP headers for threads)');
    expect(await page.locator('#site-headers').textContent()).toBe('Threads: the host must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp; without them the page trains on one thread.');
    await startRun(page, { dataset: 'spirals', epochs: '60', batch: '16' });
    await until(page, 'the spirals run to finish', async () => ['finished', 'failed'].includes(await statusOf(page)));
    expect(await statusOf(page)).toBe('finished');
    // the curves: uPlot drew both charts (their canvases hold non-background pixels)
    const inked = await page.evaluate<number[]>(`['loss-chart', 'acc-chart'].map((id) => {
      const c = document.querySelector('#' + id + ' canvas');
      if (!c) return 0;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
      return n;
    })`);
    expect(inked[0]).toBeGreaterThan(500);
    expect(inked[1]).toBeGreaterThan(500);
    expect((await page.locator('#diagnosis').innerText()).length).toBeGreaterThan(20);
    await until(page, 'the report in the page', async () => page.locator('#site-report').isVisible());
    await page.screenshot({ path: join(shots, '1-spirals-live.png'), fullPage: true });
    await page.click('#tabs button[data-tab="network"]');
    await until(page, 'the network view', async () => (await page.locator('#layers tr').count()) > 2);
    await page.screenshot({ path: join(shots, '2-spirals-network.png'), fullPage: true });
    await page.click('#tabs button[data-tab="predictions"]');
    await until(page, 'the decision boundary', async () => page.locator('#boundary-box').isVisible());
    await page.screenshot({ path: join(shots, '3-spirals-predictions.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 600_000);

  it('trains a 1,000-image MNIST subset; fitlab evaluate on the downloaded model gives the accuracy the page showed', async () => {
    const page = await open(false);
    const spec = JSON.stringify({ name: 'mlp-mnist', input: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    await startRun(page, { dataset: 'mnist', epochs: '5', batch: '32', subset: '100', val: '0.05', lr: '0.002' }, spec);
    await until(page, 'the MNIST run to finish', async () => ['finished', 'failed'].includes(await statusOf(page)));
    expect(await statusOf(page)).toBe('finished');
    await until(page, 'the test accuracy', async () => (await page.locator('#site-test').getAttribute('data-accuracy')) !== '');
    const shown = Number(await page.locator('#site-test').getAttribute('data-accuracy'));
    const text = await page.locator('#site-test').innerText();
    expect(text).toContain(`${(100 * shown).toFixed(2)}%`);
    expect(shown).toBeGreaterThan(0.7);
    await page.screenshot({ path: join(shots, '4-mnist-live.png'), fullPage: true });
    // the model: two downloads, <run>.json and <run>.weights.bin
    const files: string[] = [];
    let onDownload: (d: Download) => void = () => undefined;
    const got = new Promise<void>((resolve) => {
      onDownload = (d) => {
        const file = join(downloads, d.suggestedFilename());
        void d.saveAs(file).then(() => {
          files.push(file);
          if (files.length === 2) resolve();
        });
      };
      page.on('download', onDownload);
    });
    await page.click('#dl-model');
    await got;
    page.off('download', onDownload);
    const modelJson = files.find((f) => f.endsWith('.json')) as string;
    expect(files.some((f) => f.endsWith('.weights.bin'))).toBe(true);
    // the history: a CSV (Keras CSVLogger's layout: header, one row per epoch) and JSON
    for (const [button, ext] of [['#dl-csv', '-history.csv'], ['#dl-json', '-history.json']]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`${ext.replace('.', '\\.')}$`));
      const file = join(downloads, download.suggestedFilename());
      await download.saveAs(file);
      files.push(file);
      const body = readFileSync(file, 'utf8');
      if (ext.endsWith('csv')) {
        const lines = body.trim().split('\n');
        expect(lines[0]).toMatch(/^epoch,.*\bval_accuracy\b/);
        expect(lines).toHaveLength(1 + 5);
      } else {
        expect((JSON.parse(body) as unknown[]).length).toBe(5);
      }
    }
    // the page's run is `fitlab train`'s run: the same contract, split, seed and kernels give the same history, bit for bit
    const cli = mkdtempSync(join(tmpdir(), 'fitlab-site-cli-run-'));
    writeFileSync(join(cli, 'spec.json'), spec);
    const trained = fitlab(['train', '--model', join(cli, 'spec.json'), '--dataset', 'mnist', '--data-dir', data.root as string, '--epochs', '5', '--batch-size', '32', '--subset', '100', '--val', '0.05', '--lr', '0.002', '--out', join(cli, 'runs'), '--quiet'], { env: { FITLAB_BACKEND: 'wasm' } });
    expect(trained.status, trained.stderr).toBe(0);
    const [runDir] = readdirSync(join(cli, 'runs'));
    const cliHistory = readFileSync(join(cli, 'runs', runDir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const pageHistory = JSON.parse(readFileSync(files.find((f) => f.endsWith('-history.json')) as string, 'utf8')) as Record<string, number>[];
    const keys = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'examples'];
    expect(pageHistory.map((h) => keys.map((k) => h[k]))).toEqual(cliHistory.map((h) => keys.map((k) => h[k])));
    const evaluate = (backend: string): { accuracy: number; examples?: number } =>
      jsonOf(fitlab(['evaluate', modelJson, '--dataset', 'mnist', '--data-dir', data.root as string, '--json'], { env: { FITLAB_BACKEND: backend } }));
    const wasm = evaluate('wasm');
    expect(wasm.accuracy).toBe(shown);
    const native = evaluate('native');
    expect(Math.abs(native.accuracy - shown)).toBeLessThanOrEqual(5e-4);
    await page.click('#tabs button[data-tab="predictions"]');
    await until(page, 'the predictions grid', async () => (await page.locator('#pred-grid canvas').count()) > 10);
    await page.screenshot({ path: join(shots, '5-mnist-predictions.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 900_000);

  it('steers a run from the page (knob, pause, resume, stop) and trains on files the user picks', async () => {
    const page = await open(false);
    await startRun(page, { dataset: 'spirals', epochs: '100000', batch: '16' });
    await until(page, 'the long run to train', async () => (await statusOf(page)) === 'running' && !(await page.locator('#knob-learningRate').isDisabled()));
    await page.fill('#knob-learningRate', '0.01');
    await page.click('#apply-learningRate');
    await until(page, 'the knob change in the Changes list', async () => /learningRate 0\.003 → 0\.01/.test(await page.locator('#events').innerText()));
    await page.click('#btn-pause');
    await until(page, 'the pause', async () => (await statusOf(page)) === 'paused');
    await page.click('#btn-resume');
    await until(page, 'the resume', async () => (await statusOf(page)) === 'running');
    await page.click('#btn-stop');
    await until(page, 'the stop', async () => (await statusOf(page)) === 'stopped');
    expect(await page.locator('#events').innerText()).toMatch(/stop[\s\S]*resume[\s\S]*pause/); // newest first
    // a stopped run still offers its model and history
    await until(page, 'the result box', async () => page.locator('#dl-csv').isVisible());
    await page.screenshot({ path: join(shots, '7-steered.png'), fullPage: true });

    // "your files": the four MNIST IDX files picked from this computer
    await page.click('#tabs button[data-tab="new"]');
    await page.selectOption('#f-dataset', 'your files');
    expect(await page.locator('#site-files').isVisible()).toBe(true);
    await page.setInputFiles('#f-files', ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map((f) => join(mnist as string, f)));
    const spec = JSON.stringify({ name: 'picked', input: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    await startRun(page, { dataset: 'your files', epochs: '2', batch: '32', subset: '30', val: '0.02' }, spec);
    await until(page, 'the run on picked files to finish', async () => ['finished', 'failed'].includes(await statusOf(page)));
    expect(await statusOf(page)).toBe('finished');
    expect(await page.locator('#run-meta').innerText()).toContain('picked-your-files');
    expect(await page.locator('#site-test').innerText()).toMatch(/^test accuracy \d+\.\d\d%/);
    await page.screenshot({ path: join(shots, '8-picked-files.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 600_000);

  it('trains on an image folder picked as a .zip (decoded by the browser in the worker)', async () => {
    // two classes of 12×12 RGB pictures: a bright left half, or a bright right half
    const entries: Record<string, Uint8Array> = {};
    for (const [c, cls] of ['left', 'right'].entries()) {
      for (let i = 0; i < 24; i++) {
        const png = new PNG({ width: 12, height: 12 });
        for (let p = 0; p < 144; p++) {
          const bright = (p % 12 < 6) === (c === 0);
          const v = bright ? 200 + ((i * 7 + p) % 50) : (i * 13 + p) % 60;
          png.data.set([v, (v * 3) % 256, 255 - v, 255], 4 * p);
        }
        entries[`pics/${cls}/${i}.png`] = PNG.sync.write(png);
      }
    }
    const page = await open(false);
    await page.click('#tabs button[data-tab="new"]');
    await page.waitForSelector('#f-dataset option[value="your files"]', { state: 'attached' });
    await page.selectOption('#f-dataset', 'your files');
    await page.setInputFiles('#f-files', { name: 'pics.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(entries)) });
    const spec = JSON.stringify({ name: 'zip-mlp', input: [12, 12, 3], layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] });
    await startRun(page, { dataset: 'your files', epochs: '15', batch: '8', val: '0.25' }, spec);
    await until(page, 'the run on the zip to finish', async () => ['finished', 'failed'].includes(await statusOf(page)));
    expect(await statusOf(page)).toBe('finished');
    expect(await page.locator('#run-meta').innerText()).toContain('zip-mlp-your-files');
    expect(await page.locator('#run-title').innerText()).toBe('zip-mlp on pics');
    await page.click('#tabs button[data-tab="predictions"]');
    await until(page, 'the predictions of the pictures', async () => (await page.locator('#pred-grid canvas').count()) >= 12);
    await page.screenshot({ path: join(shots, '9-zip-predictions.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 600_000);

  it('states the threading mode when the host sends COOP/COEP', async () => {
    const page = await open(true);
    expect(await page.evaluate('globalThis.crossOriginIsolated')).toBe(true);
    const note = await page.locator('#backend-note').innerText();
    expect(note).toMatch(/^WebAssembly, \d+ threads? \(page cross-origin isolated/);
    // with the threaded module beside the page and more than one core, it is threaded
    if (existsSync(join(out, 'fitlab-threads.wasm')) && availableParallelism() > 1) expect(note).toMatch(/^WebAssembly, [2-9]\d* threads \(page cross-origin isolated\)$/);
    // and it trains in that mode (threads from the training worker when the note says so)
    await startRun(page, { dataset: 'moons', epochs: '20', batch: '16' });
    await until(page, 'the run in the isolated page to finish', async () => ['finished', 'failed'].includes(await statusOf(page)));
    expect(await statusOf(page)).toBe('finished');
    await page.screenshot({ path: join(shots, '6-isolated.png') });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 300_000);
});
