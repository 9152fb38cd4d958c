/**
 * The multi-threaded WebAssembly backend in Debian's Chromium (issue 21): the page runs training
 * in a Web Worker (./page/threads-entry.ts, bundled with 'vitest' aliased to ./page/vitest-shim.ts)
 * that makes the backend with createWasmBackendAuto from fitlab.wasm and fitlab-threads.wasm, as
 * the site does. Two tiny static servers on free localhost ports serve the same files:
 *   - with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp
 *     the page is cross-origin isolated, the choice is 2 threads (the worker starts one pool
 *     worker, a Web Worker from a blob: URL), the pool's worker runs tasks, the whole conformance
 *     suite passes at 2 threads in the page, and every output of the shared heavy calls
 *     (test/backend/wasm-threads-calls.ts) and the training losses are bit for bit those of the
 *     same module at 2 threads in Node — and, against the single-threaded module, bit for bit
 *     where the split cannot change the arithmetic, within 1e-5 elsewhere;
 *   - without them the page is not isolated, the choice falls back to one thread, the reason
 *     names both headers, and the outputs are bit for bit the single-threaded module's in Node.
 * Skipped, saying why in the title, when /usr/bin/chromium or the modules are absent
 * (FITLAB_REQUIRE_WASM=1 makes missing modules a failure).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { KERNEL_NAMES } from '../../src/backend/kernels.js';
import { createThreadedWasmBackendNode, createWasmBackend, loadWasmBytes } from '../../src/backend/wasm/index.js';
import { expectClose } from '../backend/suite/helpers.js';
import { HEAVY, type Typed, trainLosses } from '../backend/wasm-threads-calls.js';
import type { ThreadsReport } from './page/threads-entry.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const single = loadWasmBytes(false);
const threaded = loadWasmBytes(true);
const { buildBrowser } = createRequire(import.meta.url)('../../scripts/build-browser.cjs') as {
  buildBrowser: (out: string, entry?: string, extra?: object) => Promise<{ out: string }>;
};
const HERE = import.meta.dirname;
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** A static server of `dir`; with `isolated`, every response carries the COOP/COEP headers. */
async function serve(dir: string, isolated: boolean): Promise<{ server: Server; url: string }> {
  const TYPE: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^([/\\])+/, '');
    const file = join(dir, path === '' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file) || !TYPE[extname(file)]) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPE[extname(file)], ...(isolated ? ISOLATION : {}) }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Open the page, hand the worker the modules, wait for its report. */
async function report(browser: BrowserContext, url: string, suite: boolean): Promise<{ report?: ThreadsReport; error?: string; pageIsolated: boolean; pageErrors: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.evaluate((withSuite) => { (globalThis as unknown as { fitlabStart: (s: boolean) => void }).fitlabStart(withSuite); }, suite);
  await page.waitForFunction(() => (globalThis as unknown as { fitlabReport?: unknown }).fitlabReport !== undefined, undefined, { timeout: 0, polling: 100 });
  const got = await page.evaluate(() => ({
    ...(globalThis as unknown as { fitlabReport: { report?: ThreadsReport; error?: string } }).fitlabReport,
    pageIsolated: (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
  }));
  await page.close();
  return { ...got, pageErrors };
}

const decode = (w: { t: string; b64: string }): Typed => {
  const bytes = Buffer.from(w.b64, 'base64');
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return w.t === 'f32' ? new Float32Array(copy) : w.t === 'i32' ? new Int32Array(copy) : new Uint8Array(copy);
};
const sameBits = (a: Typed, b: Typed): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const skipReason = !hasChromium ? '/usr/bin/chromium is absent; apt-get install chromium'
  : (!single.bytes || !threaded.bytes) && process.env.FITLAB_REQUIRE_WASM !== '1' ? (single.error ?? threaded.error) : null;

describe.skipIf(skipReason !== null)(`threaded wasm backend in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let dir: string;
  let profile: string;
  let browser: BrowserContext;
  const servers: Server[] = [];
  let isolated: Awaited<ReturnType<typeof report>>;
  let plain: Awaited<ReturnType<typeof report>>;

  beforeAll(async () => {
    expect(single.bytes && threaded.bytes, `the wasm kernels are unavailable: ${single.error ?? threaded.error}`).toBeTruthy();
    dir = mkdtempSync(join(tmpdir(), 'fitlab-wasm-threads-page-'));
    await buildBrowser(join(dir, 'worker'), join(HERE, 'page', 'threads-entry.ts'), { alias: { vitest: join(HERE, 'page', 'vitest-shim.ts') } });
    writeFileSync(join(dir, 'fitlab.wasm'), single.bytes as Uint8Array);
    writeFileSync(join(dir, 'fitlab-threads.wasm'), threaded.bytes as Uint8Array);
    writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>fitlab wasm threads</title>
<script type="module">
globalThis.fitlabStart = async (suite) => {
  const [bytes, threadsBytes] = await Promise.all(['./fitlab.wasm', './fitlab-threads.wasm'].map(async (u) => (await fetch(u)).arrayBuffer()));
  const worker = new Worker('./worker/fitlab.js', { type: 'module' });
  worker.onmessage = (e) => { globalThis.fitlabReport = e.data; };
  worker.onerror = (e) => { globalThis.fitlabReport = { error: 'the training worker failed: ' + e.message }; };
  worker.postMessage({ bytes, threadsBytes, threads: 2, suite });
};
</script>`);
    const [withHeaders, without] = [await serve(dir, true), await serve(dir, false)];
    servers.push(withHeaders.server, without.server);
    profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    isolated = await report(browser, withHeaders.url, true);
    plain = await report(browser, without.url, false);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const d of [dir, profile]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const nodeSingle = single.bytes ? createWasmBackend(1) : null;
  const nodeTwo = threaded.bytes && !skipReason ? createThreadedWasmBackendNode(2) : null;
  afterAll(() => nodeTwo?.dispose());

  it('with COOP/COEP the page is cross-origin isolated and the training worker gets 2 threads whose pool worker runs tasks', () => {
    expect(isolated.error).toBeUndefined();
    expect(isolated.pageErrors).toEqual([]);
    expect(isolated.pageIsolated).toBe(true);
    const r = isolated.report as ThreadsReport;
    expect([r.crossOriginIsolated, r.threads, r.reason]).toEqual([true, 2, '2 threads: cross-origin isolated (SharedArrayBuffer and 1 worker)']);
    expect(r.workerTasks).toBeGreaterThan(0);
  });

  it('without the headers the page is not isolated and the choice is one thread, saying which headers to send', () => {
    expect(plain.error).toBeUndefined();
    expect(plain.pageErrors).toEqual([]);
    expect(plain.pageIsolated).toBe(false);
    const r = plain.report as ThreadsReport;
    expect([r.crossOriginIsolated, r.threads, r.workerTasks]).toEqual([false, 1, 0]);
    expect(r.reason).toBe('1 thread: the page is not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp');
  });

  it('passes the whole kernel conformance suite at 2 threads in the page (every kernel; nothing skipped or failed)', () => {
    const outcomes = isolated.report?.suite ?? [];
    expect(outcomes.length, 'tests run in the page').toBeGreaterThan(200);
    expect(outcomes.filter((o) => o.status === 'failed').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'skipped').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    for (const kernel of KERNEL_NAMES) expect(outcomes.some((o) => o.name.includes(`> ${kernel} >`)), kernel).toBe(true);
    expect(outcomes.find((o) => o.name.endsWith('covers every kernel of the signature table'))?.status).toBe('passed');
  });

  it('training losses: the page at 2 threads gives the bits of Node at 2 threads; unisolated, those of the single-threaded module', () => {
    expect(isolated.report?.losses).toEqual(trainLosses(nodeTwo as Backend, 4));
    expect(plain.report?.losses).toEqual(trainLosses(nodeSingle as Backend, 4));
  });

  HEAVY.forEach((call, i) => {
    it(`${call.title}: bit for bit Node's at the same thread count; at 2 threads ${call.splitFree ? 'bit for bit' : 'within 1e-5 of'} the single-threaded module`, () => {
      const two = call.run(nodeTwo as Backend);
      const one = call.run(nodeSingle as Backend);
      const fromPage = (isolated.report as ThreadsReport).calls[i];
      const fromPlain = (plain.report as ThreadsReport).calls[i];
      expect([fromPage.title, fromPlain.title]).toEqual([call.title, call.title]);
      fromPage.out.map(decode).forEach((v, j) => {
        expect(sameBits(v, two.out[j]), `${call.title}: output ${j}, page vs Node at 2 threads`).toBe(true);
        if (call.splitFree || !(v instanceof Float32Array)) expect(sameBits(v, one.out[j]), `${call.title}: output ${j} vs the single-threaded module`).toBe(true);
        else expectClose(v, one.out[j], 1e-5, `${call.title}: output ${j} vs the single-threaded module`);
      });
      fromPlain.out.map(decode).forEach((v, j) => expect(sameBits(v, one.out[j]), `${call.title}: output ${j}, unisolated page vs the single-threaded module`).toBe(true));
      expect(fromPage.ret).toEqual(two.ret);
      expect(fromPlain.ret).toEqual(one.ret);
    });
  });
});
