/**
 * Finished runs in the dashboard (issue 18), end to end: two tiny runs trained by the CLI (a
 * CNN on the built-in shapes, an MLP on spirals), then `fitlab serve` on a free port over their
 * folder, and Debian's Chromium (playwright-core, never a downloaded browser) opening them:
 * the run selector lists both at start; the Network view (layers, histograms, feature maps,
 * filters) and the Predictions view (cards, confusion matrix with class names, decision
 * boundary) are computed from saved models chosen in the page; no request goes to /control and
 * none is answered 409; two runs are overlaid on two metrics with a log axis; a run's history
 * downloads as CSV equal to history.jsonl, and to what `fitlab export --format csv` writes.
 * Screenshots go to /tmp/h5-shots/. Waits are for conditions; vitest's timeout is the only time bound.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';
import { createRequire } from 'node:module';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const TEST_MS = 600_000;
const SHOTS = '/tmp/h5-shots';
const { buildWeb } = createRequire(import.meta.url)('../../scripts/build-web.cjs') as { buildWeb: (out: string) => Promise<string> };

let root: string;
let runs: string;
let cnn: string;
let mlp: string;

/** history.jsonl as the CSV should hold it: epoch first, then keys in order of appearance. */
function historyOf(run: string): Record<string, number | null>[] {
  return readFileSync(join(runs, run, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, number | null>);
}

function parseCsv(text: string): { header: string[]; rows: (number | null)[][] } {
  const lines = text.trimEnd().split('\n');
  const header = lines[0].split(',');
  return { header, rows: lines.slice(1).map((l) => l.split(',').map((c) => (c === '' ? null : Number(c)))) };
}

function expectCsvIsHistory(text: string, run: string): void {
  const history = historyOf(run);
  const { header, rows } = parseCsv(text);
  expect(header[0]).toBe('epoch');
  expect(new Set(header)).toEqual(new Set(history.flatMap((h) => Object.keys(h))));
  expect(rows).toHaveLength(history.length);
  rows.forEach((row, i) => header.forEach((k, j) => expect(row[j]).toBe(history[i][k] ?? null)));
}

/** dist/web is what `fitlab serve` serves: rebuilt when a file under web/ is newer. */
async function ensureWebBuilt(): Promise<void> {
  const out = join(ROOT, 'dist', 'web');
  const built = existsSync(join(out, 'app.js')) ? statSync(join(out, 'app.js')).mtimeMs : 0;
  const newest = Math.max(...['index.html', 'style.css', ...readdirSync(join(ROOT, 'web', 'src')).map((f) => join('src', f)), '../src/serve/protocol.ts'].map((f) => statSync(join(ROOT, 'web', f)).mtimeMs));
  if (newest > built) await buildWeb(out);
}

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'fitlab-finished-'));
  runs = join(root, 'runs');
  const cnnSpec = join(root, 'tiny-cnn.json');
  writeFileSync(cnnSpec, JSON.stringify({
    name: 'tiny-cnn', input: [16, 16, 1],
    layers: [{ type: 'conv2d', filters: 6, kernelSize: 3, activation: 'relu' }, { type: 'maxPooling2d' }, { type: 'flatten' }, { type: 'dense', units: 5, activation: 'softmax' }],
  }));
  for (const args of [
    ['--model', cnnSpec, '--dataset', 'shapes', '--epochs', '3', '--name', 'cnn'],
    ['--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '6', '--name', 'mlp'],
  ]) {
    const r = fitlab(['train', ...args, '--out', runs, '--batch-size', '16'], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`fitlab train ${args.join(' ')} failed:\n${r.stderr}`);
  }
  const dirs = readdirSync(runs).sort();
  cnn = dirs.find((d) => d.endsWith('-cnn')) as string;
  mlp = dirs.find((d) => d.endsWith('-mlp')) as string;
}, TEST_MS);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('fitlab export --format csv', () => {
  it('writes the history as CSV, to a new file or standard output, and never over a file without --force', () => {
    const out = join(root, 'history.csv');
    const r = fitlab(['export', join(runs, cnn), '--format', 'csv', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expectCsvIsHistory(readFileSync(out, 'utf8'), cnn);
    const stdout = fitlab(['export', join(runs, cnn), '--format', 'csv', '--out', '-']);
    expect(stdout.stdout).toBe(readFileSync(out, 'utf8'));
    // an existing file is the user's: refused in one line unless --force
    writeFileSync(out, 'mine');
    const again = fitlab(['export', join(runs, mlp), '--format', 'csv', '--out', out]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/--out .*history\.csv already exists; pass --force/);
    expect(again.stderr).not.toMatch(STACK_FRAME);
    expect(readFileSync(out, 'utf8')).toBe('mine');
    expect(fitlab(['export', join(runs, mlp), '--format', 'csv', '--out', out, '--force']).status).toBe(0);
    expectCsvIsHistory(readFileSync(out, 'utf8'), mlp);
    // a folder that is no run
    const bad = fitlab(['export', root, '--format', 'csv', '--out', join(root, 'x.csv')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--format csv exports a run's history; .* is not a run directory with history\.jsonl/);
    expect(bad.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!hasChromium)(`finished runs in the dashboard, in Chromium${hasChromium ? '' : ' (skipped: /usr/bin/chromium is absent; apt-get install chromium)'}`, () => {
  let server: ChildProcess;
  let pageUrl: string;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  const responses: { url: string; status: number; method: string }[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--runs', runs, '--experiments', join(root, 'experiments')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    pageUrl = await new Promise<string>((resolve, reject) => {
      server.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /fitlab dashboard: (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.on('exit', (code) => reject(new Error(`fitlab serve exited (${code}): ${out}`)));
    });
    base = pageUrl.replace(/\?.*$/, '');
    profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
    });
    page = browser.pages()[0] ?? await browser.newPage();
    page.setDefaultTimeout(0);
    page.on('request', (r) => requests.push(r.url()));
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), method: r.request().method() }));
    mkdirSync(SHOTS, { recursive: true });
  }, TEST_MS);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it('opens finished runs: network and predictions from saved models, compare, CSV; no /control, no 409', { timeout: TEST_MS }, async () => {
    await page.goto(pageUrl);
    await page.locator('#conn.on').waitFor();

    // the selector lists the runs on disk before any is viewed
    await page.locator(`#run-select option[value="${cnn}"]`).waitFor({ state: 'attached' });
    await page.locator(`#run-select option[value="${mlp}"]`).waitFor({ state: 'attached' });

    // open the CNN run: its curves and diagnosis from its files
    await page.selectOption('#run-select', cnn);
    await page.locator('#status', { hasText: 'finished' }).waitFor();
    await page.locator('#loss-chart canvas').waitFor();
    await shot('1-live-finished');

    // network view from model-best: a row per layer, histograms, feature maps, filters
    await page.click('button[data-tab="network"]');
    await page.locator('#network-note', { hasText: 'saved model best:' }).waitFor();
    expect(await page.locator('#layers tr').count()).toBe(5); // header + conv2d, max pooling, flatten, dense
    expect(await page.locator('#layers canvas.hist').count()).toBeGreaterThanOrEqual(6); // 4 activation + 2 gradient histograms
    expect(await page.locator('#feature-maps canvas').count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#filters canvas').count()).toBe(6);
    expect(await page.locator('#net-input canvas').count()).toBe(1);
    // another saved model, chosen in the page
    expect(await page.locator('#net-model option').allTextContents()).toEqual(['best epoch (model-best)', 'final (model-final)', 'initial weights (model-initial)']);
    await page.selectOption('#net-model', 'final');
    await page.locator('#network-note', { hasText: 'saved model final:' }).waitFor();
    await page.fill('#probe-input', '3');
    await page.click('#btn-probe');
    await page.locator('#net-input canvas[title="validation example 3"]').waitFor();
    await shot('2-network-saved');

    // predictions: cards, the confusion matrix with the class names
    await page.click('button[data-tab="predictions"]');
    await page.locator('#pred-note', { hasText: 'saved model final:' }).waitFor();
    expect(await page.locator('.pred').count()).toBeGreaterThan(10);
    const classNames = (JSON.parse(readFileSync(join(runs, cnn, 'config.json'), 'utf8')) as { dataset: { classNames: string[] } }).dataset.classNames;
    expect(await page.locator('#confusion th.col').allTextContents()).toEqual(classNames);
    expect(await page.locator('#boundary-box').isVisible()).toBe(false);
    await shot('3-predictions-saved');

    // the 2-D run: the decision boundary
    await page.selectOption('#run-select', mlp);
    await page.locator('#pred-note', { hasText: 'saved model best:' }).waitFor();
    expect(await page.locator('#boundary-box').isVisible()).toBe(true);
    expect(await page.locator('.pred').count()).toBeGreaterThan(5);
    await shot('4-predictions-boundary');

    // runs & compare: both runs, two metrics, log y, then x by examples seen
    await page.click('button[data-tab="runs"]');
    await page.locator(`#runs-table input[data-run="${cnn}"]`).check();
    await page.locator(`#runs-table input[data-run="${mlp}"]`).check();
    await page.locator('#compare-log').check();
    await page.click('#btn-compare');
    for (const metric of ['loss', 'val_loss']) {
      const chart = page.locator(`#compare-charts .chart[data-metric="${metric}"]`);
      await chart.locator('canvas').waitFor();
      expect(await chart.getAttribute('data-log')).toBe('true');
      expect(Number(await chart.getAttribute('data-points'))).toBe(6); // epochs 1..6 across both runs
      expect(await chart.locator('.u-legend').textContent()).toContain(cnn);
    }
    await shot('5-compare-log');
    await page.selectOption('#compare-x', 'examples');
    await page.locator('#compare-title', { hasText: 'examples seen' }).waitFor();
    const examples = new Set([...historyOf(cnn), ...historyOf(mlp)].map((h) => h.examples));
    expect(Number(await page.locator('#compare-charts .chart[data-metric="loss"]').getAttribute('data-points'))).toBe(examples.size);
    await shot('6-compare-examples');

    // filter by name or regime
    await page.fill('#runs-filter', 'mlp');
    await expect.poll(() => page.locator('#runs-table tr[data-run]').count()).toBe(1);
    await page.fill('#runs-filter', '');

    // the CSV download equals history.jsonl
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#runs-table a[data-csv="${cnn}"]`)]);
    const file = await download.path();
    expectCsvIsHistory(readFileSync(file, 'utf8'), cnn);
    expect(download.suggestedFilename()).toBe(`${cnn}-history.csv`);

    // not one control request for runs that are not live, not one 409, no failed API call
    expect(requests.filter((u) => u.includes('/control'))).toEqual([]);
    expect(responses.filter((r) => r.status === 409)).toEqual([]);
    expect(responses.filter((r) => r.url.startsWith(`${base}api/`) && r.status >= 400)).toEqual([]);
    expect(await page.locator('.toast').count()).toBe(0);
  });
});
