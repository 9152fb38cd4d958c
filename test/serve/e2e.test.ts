/**
 * The dashboard end to end in Debian's Chromium (playwright-core, never a downloaded browser):
 * start a run from the page, watch the loss chart grow, change the learning rate and find it
 * in the history, pause and resume, open the network view and the predictions, compare two
 * runs. Screenshots of every view go to /tmp/fitlab-dashboard-*.png. The page is opened from the
 * tokened URL the server prints, as a user would. Waits are for conditions; the test's timeout
 * is the only time bound (a busy machine makes it slow, not red).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/serve/server.js';
import { bundlePage, tempDashboard } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
// Playwright's 0 means "no timeout of its own"; vitest's per-test timeout (TEST_MS) bounds everything
const TEST_MS = 300_000;
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: TEST_MS, interval: 100 });
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: `/tmp/fitlab-dashboard-${name}.png`, fullPage: true });

describe.skipIf(!hasChromium)(`dashboard end to end in Chromium${hasChromium ? '' : ' (skipped: /usr/bin/chromium is absent; apt-get install chromium)'}`, () => {
  let d: Dashboard & { root: string };
  let browser: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    d = await tempDashboard(await bundlePage());
    const exp = join(d.root, 'experiments', 'l2-sweep');
    mkdirSync(exp, { recursive: true });
    writeFileSync(join(exp, 'experiment.json'), JSON.stringify({ title: 'L2 sweep (example)', table: { header: ['arm', 'val acc'], rows: [['none', 0.81], ['l2 1e-3', 0.86]] }, conclusions: ['L2 1e-3 closes most of the gap'] }));
    writeFileSync(join(exp, 'report.html'), '<h1>L2 sweep</h1>');
    profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
    // a fresh profile (--user-data-dir) is how playwright's persistent context passes it
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    page = browser.pages()[0] ?? await browser.newPage();
    page.setDefaultTimeout(0);
  });

  afterAll(async () => {
    await browser?.close();
    await d?.close();
    if (d) rmSync(d.root, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const runId = async (): Promise<string> => (await page.locator('#run-select').inputValue());
  const examples = async (): Promise<number> => Number(((await page.locator('#stat-examples').textContent()) ?? '0').replace(/,/g, ''));

  it('trains, steers, inspects and compares runs from the page', { timeout: TEST_MS }, async () => {
    expect(d.pageUrl).toMatch(/\?token=[0-9a-f]{64}$/);
    await page.goto(d.pageUrl);
    await page.locator('#conn.on').waitFor();
    // the page keeps the token for itself and takes it out of the address bar
    expect(page.url()).toBe(d.url);

    // start a run from the form (spirals, the prefilled MLP spec)
    await page.click('button[data-tab="new"]');
    await page.fill('#f-epochs', '3000');
    await page.fill('#f-batch', '8');
    await page.fill('#f-name', 'e2e-a');
    await page.locator('#command', { hasText: '--name e2e-a' }).waitFor();
    await shot(page, 'new-run');
    await page.click('#btn-start');
    await page.locator('#status', { hasText: 'running' }).waitFor();
    const first = await runId();
    expect(first).toMatch(/e2e-a$/);

    // the loss chart gains points
    const points = async (): Promise<number> => Number(await page.locator('#loss-chart').getAttribute('data-points'));
    await poll(points).toBeGreaterThan(5);
    const before = await points();
    await poll(points).toBeGreaterThan(before);

    // change the learning rate: listed as a change, shown in the stats, in the run's history
    await page.fill('#knob-learningRate', '0.0123');
    await page.click('#apply-learningRate');
    await page.locator('#events li', { hasText: 'learningRate' }).waitFor();
    await page.locator('#stat-lr', { hasText: '0.0123' }).waitFor();
    const detail = async (): Promise<{ history: { learning_rate: number }[]; events: { action?: string; examples: number }[] }> =>
      (await (await page.request.get(`${d.url}api/runs/${first}`)).json()) as { history: { learning_rate: number }[]; events: { action?: string; examples: number }[] };
    await poll(async () => (await detail()).history.map((h) => h.learning_rate)).toContain(0.0123);
    await shot(page, 'live');

    // pause: the counter settles where the run paused (knobs.jsonl records it); the resume is
    // recorded at the same count (nothing trained meanwhile); then the counter moves again
    await page.click('#btn-pause');
    await page.locator('#status', { hasText: 'paused' }).waitFor();
    const frozen = (await detail()).events.find((e) => e.action === 'pause')?.examples ?? -1;
    await poll(examples).toBe(frozen);
    await page.click('#btn-resume');
    await page.locator('#status', { hasText: 'running' }).waitFor();
    expect((await detail()).events.find((e) => e.action === 'resume')?.examples).toBe(frozen);
    await poll(examples).toBeGreaterThan(frozen);

    // network view: a row per layer with histograms
    await page.click('button[data-tab="network"]');
    await page.locator('#layers tr').nth(3).waitFor();
    expect(await page.locator('#layers tr').count()).toBe(5); // header + dense, dropout, dense, dense
    expect(await page.locator('#layers canvas.hist').count()).toBeGreaterThan(2);
    await shot(page, 'network');

    // predictions: the grid, the confusion matrix, the decision boundary
    await page.click('button[data-tab="predictions"]');
    await page.locator('.pred').first().waitFor();
    expect(await page.locator('.pred').count()).toBeGreaterThan(10);
    await page.locator('#confusion tr').nth(2).waitFor();
    expect(await page.locator('#boundary-box').isVisible()).toBe(true);
    await shot(page, 'predictions');

    // stop (checkpoint saved)
    await page.click('button[data-tab="live"]');
    await page.click('#btn-stop');
    await page.locator('#status', { hasText: 'stopped' }).waitFor();

    // a reload keeps the token (sessionStorage), though the address no longer shows it: the
    // next start still goes through
    await page.reload();
    await page.locator('#conn.on').waitFor();
    expect(page.url()).toBe(d.url);

    // a second, short run at another learning rate
    await page.click('button[data-tab="new"]');
    await page.fill('#f-epochs', '40');
    await page.fill('#f-lr', '0.03');
    await page.fill('#f-name', 'e2e-b');
    await page.locator('#command', { hasText: '--name e2e-b' }).waitFor();
    await page.click('#btn-start');
    await page.locator('#status', { hasText: 'finished' }).waitFor();
    const second = await runId();
    expect(second).toMatch(/e2e-b$/);
    await page.locator('#diagnosis').filter({ hasText: ':' }).waitFor();

    // compare the two
    await page.click('button[data-tab="runs"]');
    await page.locator(`#runs-table input[data-run="${first}"]`).check();
    await page.locator(`#runs-table input[data-run="${second}"]`).check();
    await page.click('#btn-compare');
    const valLoss = page.locator('#compare-charts .chart[data-metric="val_loss"]');
    await valLoss.locator('canvas').waitFor();
    expect(Number(await valLoss.getAttribute('data-points'))).toBeGreaterThan(10);
    await shot(page, 'compare');

    // a report opens from the list; experiments are listed
    const report = await page.request.get(`${d.url}runs/${second}/report.html`);
    expect(report.status()).toBe(200);
    await page.click('button[data-tab="experiments"]');
    await page.locator('.exp', { hasText: 'L2 sweep' }).waitFor();
    await shot(page, 'experiments');
  });
});
