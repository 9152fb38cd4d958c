/**
 * Browser training throughput (issue 21, "Measure"), in one run, interleaved round by round:
 *   - fitlab's wasm backend in a Web Worker of a headless Chromium page (as the site trains),
 *   - TF.js 4.22's pure-JS CPU backend in a worker of the same page (model.trainOnBatch),
 *   - fitlab native in Node on one thread, and fitlab wasm in Node (measureThroughput),
 *   - with --threads N > 1 (default: the cores), also the threaded wasm backend in the page
 *     (createWasmBackendAuto, fitlab-threads.wasm) and native in Node on N threads,
 * on the lecture CNN (batch 64 and 200, AdamW; TF.js: Adam, at a small batch — it takes minutes
 * per CNN step) and the 784-512-10 MLP (batch 128, Adam). Prints the median img/s of the rounds
 * with their range, the ratios wasm / TF.js and wasm / native, and writes the JSON.
 * The page is served by a localhost static server with COOP/COEP (cross-origin isolated); nothing
 * comes from a network. Every engine's network must have the benchmark's parameter count, and
 * the page's first training loss must equal, bit for bit, the wasm backend's in Node.
 *
 *   npx tsx bench/browser.ts [--steps 3] [--rounds 3] [--cnn-batches 64,200] [--tfjs-cnn-batch 16]
 *                            [--tfjs-cnn-steps 1] [--threads <cores>] [--out results.json [--force]]
 */
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { createWasmBackend } from '../src/backend/wasm/index.js';
import { measureThroughput } from '../src/bench/bench.js';
import { writeUserFile } from '../src/util/atomic.js';
import { checkFileTarget } from '../src/util/owned.js';
import { type BenchNet, buildBenchNet, firstStep } from './browser/net.js';
import type { PageJob, PageResult } from './browser/protocol.js';
import { type Engine, ENGINE_LABEL, NET_LABEL, type Series, checkParams, markdownTable, percent, ratios, summarize, times } from './browser/summary.js';

const CHROMIUM = '/usr/bin/chromium';
const HERE = join(import.meta.dirname, 'browser');
const ROOT = join(import.meta.dirname, '..');

interface Options { steps: number; rounds: number; cnnBatches: number[]; tfjsCnnBatch: number; tfjsCnnSteps: number; threads: number; out?: string; force: boolean }

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer; received ${JSON.stringify(v)}`);
  return n;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' },
      'cnn-batches': { type: 'string', default: '64,200' }, 'tfjs-cnn-batch': { type: 'string', default: '16' },
      'tfjs-cnn-steps': { type: 'string', default: '1' }, threads: { type: 'string', default: String(cpus().length) }, out: { type: 'string' }, force: { type: 'boolean', default: false },
    },
  });
  return {
    steps: positiveInt('--steps', values.steps), rounds: positiveInt('--rounds', values.rounds),
    cnnBatches: values['cnn-batches'].split(',').map((b) => positiveInt('--cnn-batches', b.trim())),
    tfjsCnnBatch: positiveInt('--tfjs-cnn-batch', values['tfjs-cnn-batch']), tfjsCnnSteps: positiveInt('--tfjs-cnn-steps', values['tfjs-cnn-steps']),
    threads: positiveInt('--threads', values.threads),
    out: values.out, force: values.force,
  };
}

/**
 * The page: index.html, the fitlab worker (library bundle, fitlab.wasm, fitlab-threads.wasm) and
 * the TF.js worker. Returns why threads cannot be measured, or null.
 */
async function buildPage(dir: string): Promise<string | null> {
  const { buildBrowser } = createRequire(import.meta.url)('../scripts/build-browser.cjs') as {
    buildBrowser: (out: string, entry?: string) => Promise<{ out: string }>;
  };
  await buildBrowser(join(dir, 'fitlab-worker'), join(HERE, 'fitlab-worker.ts'));
  if (!existsSync(join(dir, 'fitlab-worker', 'fitlab.wasm'))) throw new Error('dist/wasm/fitlab.wasm is missing: run `npm run build:wasm`');
  await build({
    entryPoints: [join(HERE, 'tfjs-worker.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
    outfile: join(dir, 'tfjs-worker.js'), absWorkingDir: ROOT, logLevel: 'error',
  });
  copyFileSync(join(HERE, 'index.html'), join(dir, 'index.html'));
  const threaded = join(ROOT, 'dist', 'wasm', 'fitlab-threads.wasm');
  if (!existsSync(threaded)) return 'dist/wasm/fitlab-threads.wasm is missing (npm run build:wasm)';
  copyFileSync(threaded, join(dir, 'fitlab-worker', 'fitlab-threads.wasm'));
  return null;
}

/** A static server for `dir` that makes the page cross-origin isolated (COOP/COEP on every response). */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const TYPE: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^([/\\])+/, '');
    const file = join(dir, path === '' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file) || !TYPE[extname(file)]) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPE[extname(file)], 'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin',
    }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/**
 * The page trains the network Node trains: the first step's mean loss in the page must be, bit for
 * bit, the wasm backend's in Node (same module, same weights, same batch).
 */
function sameNetwork(net: BenchNet, batch: number, pageLoss: number | undefined, nodeWasm: Backend, threaded: boolean): void {
  const here = firstStep(net, batch, nodeWasm);
  // threads may split a sum differently: then within 1e-5 relative, still far closer than any other network's loss
  const same = threaded ? Math.abs((pageLoss ?? Number.NaN) - here.loss) <= 1e-5 * Math.abs(here.loss) : Object.is(here.loss, pageLoss);
  if (pageLoss === undefined || !Number.isFinite(pageLoss) || !Number.isFinite(here.loss) || !same) {
    throw new Error(`${net} batch ${batch}: the page's first training loss ${pageLoss} is not the wasm backend's in Node (${here.loss}): not the same network or data`);
  }
}

const counted = new Map<string, number>();

/** Trainable parameters of measureThroughput's network (built as src/bench/bench.ts builds it; counted once). */
function nodeParams(net: BenchNet, batch: number, backend: Backend): number {
  const k = `${net}/${batch}`;
  if (!counted.has(k)) counted.set(k, buildBenchNet(net, batch, backend).model.countParams().trainable);
  return counted.get(k) as number;
}

/** Which module was measured (the kernels change while they are being sped up): the first 12 hex digits of its SHA-256. */
function sha256Prefix(file: string): string | null {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12) : null;
}

interface Item { net: BenchNet; batch: number; engines: Engine[] }

async function main(): Promise<void> {
  const opt = options(process.argv.slice(2));
  if (opt.out) checkFileTarget(opt.out, { force: opt.force, label: '--out' }); // before minutes of measuring
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is absent: apt-get install chromium`);
  const native = createBackend({ backend: 'native', threads: 1 });
  const nodeWasm = createWasmBackend();
  const load0 = loadavg();
  const started = new Date();
  const dir = mkdtempSync(join(tmpdir(), 'fitlab-bench-page-'));
  const profile = mkdtempSync(join(tmpdir(), 'fitlab-bench-chromium-'));
  let browser: BrowserContext | undefined;
  let server: Server | undefined;
  try {
    const missing = await buildPage(dir);
    let noThreads: string | null = opt.threads > 1 ? missing : `--threads ${opt.threads}: one thread asked for`;
    const served = await serve(dir);
    server = served.server;
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page: Page = browser.pages()[0] ?? await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as unknown as { benchReady?: boolean }).benchReady === true, undefined, { timeout: 60_000 });
    const pageInfo = await page.evaluate(() => (globalThis as unknown as { benchPage: { crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string } }).benchPage);
    const runPage = (job: PageJob): Promise<PageResult> =>
      page.evaluate((j) => (globalThis as unknown as { benchJob: (j: PageJob) => Promise<PageResult> }).benchJob(j), job);
    console.log(`Chromium ${browser.browser()?.version() ?? '?'} (cross-origin isolated: ${pageInfo.crossOriginIsolated}); native ${native.isa}; load average ${load0.map((l) => l.toFixed(1)).join(' ')}`);

    // A B A B: every engine once per item per round; TF.js once per network (its CNN at its own batch)
    const engines = (tfjs: boolean): Engine[] => ['page-wasm', 'page-wasm-mt', ...(tfjs ? ['tfjs' as const] : []), 'node-native', 'node-native-mt', 'node-wasm'];
    const items: Item[] = [
      ...opt.cnnBatches.map((batch, i): Item => ({ net: 'lecture-cnn', batch, engines: engines(i === 0) })),
      { net: 'paper-mlp', batch: 128, engines: engines(true) },
    ];
    let threadReason: string | undefined;
    if (noThreads) console.log(`threaded wasm not measured: ${noThreads}`);
    const series = new Map<string, Series>();
    const key = (e: Engine, net: BenchNet, batch: number): string => `${e}/${net}/${batch}`;
    for (let round = 1; round <= opt.rounds; round++) {
      for (const item of items) {
        for (const engine of item.engines) {
          const t0 = performance.now();
          let r: { imagesPerSec: number; params: number; threads: number; backend: string; batch: number; note?: string };
          if (engine === 'page-wasm') {
            const p = await runPage({ engine: 'fitlab', net: item.net, batch: item.batch, steps: opt.steps });
            if (round === 1) sameNetwork(item.net, item.batch, p.firstLoss, nodeWasm, false);
            r = { ...p, batch: item.batch };
          } else if (engine === 'page-wasm-mt') {
            if (noThreads) continue;
            const p = await runPage({ engine: 'fitlab', net: item.net, batch: item.batch, steps: opt.steps, threads: opt.threads });
            if (p.threads !== opt.threads) {
              noThreads = `the page's wasm backend runs ${p.threads} thread(s): ${p.reason ?? 'no reason given'}`;
              console.log(`threaded wasm not measured: ${noThreads}`);
              continue;
            }
            threadReason = p.reason;
            if (round === 1) sameNetwork(item.net, item.batch, p.firstLoss, nodeWasm, true);
            r = { ...p, batch: item.batch };
          } else if (engine === 'tfjs') {
            const cnn = item.net === 'lecture-cnn';
            const batch = cnn ? opt.tfjsCnnBatch : item.batch;
            const p = await runPage({
              engine: 'tfjs', net: item.net, batch, steps: cnn ? opt.tfjsCnnSteps : opt.steps * 8, warmBatch: cnn ? 2 : item.batch,
            });
            r = { ...p, batch, note: cnn ? `(batch ${batch}, ${opt.tfjsCnnSteps} step${opt.tfjsCnnSteps > 1 ? 's' : ''}/round)` : undefined };
          } else {
            if (engine === 'node-native-mt' && noThreads) continue;
            const b = engine === 'node-wasm' ? nodeWasm : native;
            if (b === native) native.setThreads(engine === 'node-native-mt' ? opt.threads : 1);
            const m = measureThroughput(item.net, item.batch, opt.steps, b);
            r = { imagesPerSec: m.train, params: nodeParams(item.net, item.batch, b), threads: b.threads, backend: `${b.name} ${b.isa}`, batch: item.batch };
          }
          checkParams(engine, item.net, r.params);
          const k = key(engine, item.net, item.batch);
          const s = series.get(k) ?? { engine, net: item.net, batch: r.batch, imagesPerSec: [], params: r.params, threads: r.threads, backend: r.backend, note: r.note };
          s.imagesPerSec.push(r.imagesPerSec);
          series.set(k, s);
          console.log(`round ${round}/${opt.rounds}  ${item.net} batch ${r.batch}  ${ENGINE_LABEL[engine]}: ${r.imagesPerSec.toFixed(r.imagesPerSec < 10 ? 3 : 1)} img/s  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        }
      }
    }

    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);

    const summaries = [...series.values()].map(summarize);
    const load1 = loadavg();
    console.log('');
    console.log(markdownTable(summaries));
    console.log('');
    const best = ratios(summaries, 'best');
    console.log(`best rounds (the least disturbed): ${best.map((r) => `${NET_LABEL[r.net]} ${r.batch}: wasm/TF.js ${times(r.wasmOverTfjs)}, wasm/native ${percent(r.wasmOverNative)}` +
      (r.wasmMtOverNativeMt !== null ? `, threaded wasm/native ${percent(r.wasmMtOverNativeMt)}` : '')).join('; ')}`);
    console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} vCPUs; ${opt.rounds} round${opt.rounds > 1 ? 's' : ''}, interleaved; load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)}; ` +
      `spread (max−min)/median: ${summaries.map((s) => `${s.engine} ${s.net} ${s.batch}: ${s.spreadPct.toFixed(0)}%`).join(', ')}`);
    const report = {
      date: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000,
      cpu: cpus()[0]?.model ?? 'unknown', vcpus: cpus().length, loadAverage: { start: load0, end: load1 },
      node: process.version, chromium: browser.browser()?.version() ?? null, page: pageInfo,
      tfjs: (createRequire(import.meta.url)('@tensorflow/tfjs/package.json') as { version: string }).version,
      nativeIsa: native.isa, threads: noThreads ? { measured: false, why: noThreads } : { measured: true, reason: threadReason },
      options: { ...opt, out: undefined, force: undefined },
      notes: [
        'TF.js has no AdamW: its lecture CNN trains with Adam (same learning rate, betas, epsilon)',
        `TF.js's CPU backend takes minutes per CNN step: its CNN is timed at batch ${opt.tfjsCnnBatch}, ${opt.tfjsCnnSteps} step(s) per round after one warm-up step at batch 2; img/s compared with img/s`,
        'fitlab in the page: measureThroughput\'s training loop (bench/browser/net.ts); in Node: measureThroughput itself',
      ],
      modules: { 'fitlab.wasm': sha256Prefix(join(ROOT, 'dist', 'wasm', 'fitlab.wasm')), 'fitlab-threads.wasm': sha256Prefix(join(ROOT, 'dist', 'wasm', 'fitlab-threads.wasm')) },
      series: summaries, ratios: ratios(summaries), bestRoundRatios: best,
    };
    if (opt.out) {
      writeUserFile(opt.out, `${JSON.stringify(report, null, 2)}\n`, { force: opt.force, label: '--out' });
      console.log(`wrote ${opt.out}`);
    }
  } finally {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const d of [dir, profile]) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench/browser: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
