/**
 * The WebAssembly backend in Debian's Chromium (issue 21): the library bundle
 * (scripts/build-browser.cjs) and dist/wasm/fitlab.wasm, served by a tiny static server on a
 * free localhost port, loaded by a page that makes the wasm backend from the module's bytes.
 * The whole kernel conformance suite (test/backend/kernel-suite.ts, bundled for the page with
 * 'vitest' aliased to ./page/vitest-shim.ts) runs in the page and must pass with nothing skipped.
 * Then every kernel of the signature table (src/backend/kernels.ts) is called in the page on seeded
 * inputs — the conformance suite's one valid call per kernel (test/backend/suite/, collected
 * through its section functions), plus larger calls of the heavy kernels and every elementwise
 * activation — and every buffer after the call, and the return value, must be
 *   - bit for bit what the same call gives on the wasm backend in Node (the same module), and
 *   - within 1e-5 of the reference backend, scale-relative (the loosest bound the suite states
 *     for a kernel: SUM_TOL, Y_TOL, STAT.rtol), integers (argmax, masks, counts) exactly.
 * Skipped, saying why in the title, when /usr/bin/chromium or the .wasm is absent
 * (FITLAB_REQUIRE_WASM=1, set by .ci/run with the toolchain, makes a missing .wasm a failure).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/geometry.js';
import { ELEMENTWISE_ACTIVATIONS, KERNEL_NAMES, type KernelName } from '../../src/backend/kernels.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { createWasmBackend, loadWasmBytes } from '../../src/backend/wasm/index.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { actSection } from '../backend/suite/act.js';
import type { Arg } from '../backend/suite/args.js';
import { dim, f, lit, num } from '../backend/suite/args.js';
import { augmentSection } from '../backend/suite/augment.js';
import { blasSection } from '../backend/suite/blas.js';
import type { SuiteContext } from '../backend/suite/helpers.js';
import { callKernel, expectClose, expectSameInts } from '../backend/suite/helpers.js';
import { layersSection } from '../backend/suite/layers.js';
import { lossSection } from '../backend/suite/loss.js';
import { normSection } from '../backend/suite/norm.js';
import { optimSection } from '../backend/suite/optim.js';
import { poolSection } from '../backend/suite/pool.js';
import type { SuiteOutcome } from './page/suite-entry.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const wasmBytes = loadWasmBytes();
const { buildBrowser } = createRequire(import.meta.url)('../../scripts/build-browser.cjs') as {
  buildBrowser: (out: string, entry?: string, extra?: object) => Promise<{ out: string }>;
};
const HERE = import.meta.dirname;

/** The suite's one valid call per kernel, collected by running its sections with a recording context. */
function suiteCalls(): Map<KernelName, Arg[]> {
  const calls = new Map<KernelName, Arg[]>();
  const recorder = {
    backend: null, oracle: null, same: false,
    kernel(name: KernelName, valid: Arg[]) { calls.set(name, valid); },
    compare() { /* the comparisons are the suite's, not run here */ },
  } as unknown as SuiteContext;
  for (const section of [blasSection, layersSection, poolSection, normSection, actSection, lossSection, optimSection, augmentSection]) section(recorder);
  return calls;
}

interface Call { kernel: KernelName; title: string; specs: Arg[] }

/** The calls made in the page: each kernel's valid call, larger heavy kernels, every activation. */
function plannedCalls(): Call[] {
  const valid = suiteCalls();
  const calls: Call[] = KERNEL_NAMES.map((kernel) => ({ kernel, title: `${kernel} (the suite's valid call)`, specs: valid.get(kernel) as Arg[] }));
  for (const a of ELEMENTWISE_ACTIVATIONS) {
    calls.push({ kernel: 'activationForward', title: `activationForward ${a} ×1000`, specs: [lit(a), f('y', 1000), f('x', 1000), num('alpha', 0.3)] });
    calls.push({ kernel: 'activationBackward', title: `activationBackward ${a} ×1000`, specs: [lit(a), f('dx', 1000), f('dy', 1000), f('x', 1000), f('y', 1000), num('alpha', 0.3)] });
  }
  const [m, n, k] = [37, 29, 41];
  calls.push({ kernel: 'gemm', title: `gemm ${m}×${n}×${k} transB`, specs: [lit(false), lit(true), dim('m', m), dim('n', n), dim('k', k), num('alpha', 0.7), f('a', m * k), dim('lda', k), f('b', n * k), dim('ldb', k), num('beta', 0.5), f('c', m * n), dim('ldc', n)] });
  const g = { kind: 'geom', make: () => convGeometry({ n: 2, h: 9, w: 11, c: 5, kh: 3, kw: 3, sh: 2, sw: 1, padding: 'same', f: 12 }) } as Arg;
  const gv = convGeometry({ n: 2, h: 9, w: 11, c: 5, kh: 3, kw: 3, sh: 2, sw: 1, padding: 'same', f: 12 });
  const [xs, ws, ys] = [2 * 9 * 11 * 5, 3 * 3 * 5 * 12, 2 * gv.oh * gv.ow * 12];
  calls.push({ kernel: 'conv2dForward', title: 'conv2dForward 2×9×11×5 → 12 filters, stride 2×1, same', specs: [f('y', ys), f('x', xs), f('w', ws), f('b', 12), g, lit('relu')] });
  calls.push({ kernel: 'conv2dBackward', title: 'conv2dBackward 2×9×11×5 → 12 filters, stride 2×1, same', specs: [f('dx', xs), f('dw', ws), f('db', 12), f('dy', ys), f('y', ys), f('x', xs), f('w', ws), g, lit('relu')] });
  calls.push({ kernel: 'denseForward', title: 'denseForward 13×70 → 33', specs: [f('y', 13 * 33), f('x', 13 * 70), f('w', 70 * 33), f('b', 33), dim('batch', 13), dim('inF', 70), dim('outF', 33), lit('linear')] });
  calls.push({ kernel: 'denseBackward', title: 'denseBackward 13×70 → 33', specs: [f('dx', 13 * 70), f('dw', 70 * 33), f('db', 33), f('dy', 13 * 33), f('y', 13 * 33), f('x', 13 * 70), f('w', 70 * 33), dim('batch', 13), dim('inF', 70), dim('outF', 33), lit('relu')] });
  return calls;
}

/** Buffers that hold variances, their inverses or loss weights are positive; the rest are signed. */
const POSITIVE = /^(movingVar|invStd|v|vhat|ms|weights|targets)$/;

/** Materialize a call with seeded data (`seed` per call). */
function materialize(specs: Arg[], seed: number): unknown[] {
  const rng = new RandomStream(seed, 11);
  return specs.map((a) => {
    switch (a.kind) {
      case 'f32': {
        const out = new Float32Array(a.n);
        if (POSITIVE.test(a.name)) rng.fillUniform(out, 0.1, 1.1);
        else rng.fillUniform(out, -1, 1);
        return out;
      }
      case 'i32': return Int32Array.from({ length: a.n }, (_, j) => a.fill?.[j] ?? 0);
      case 'u8': return Uint8Array.from({ length: a.n }, () => (rng.uniform() < 0.7 ? 1 : 0));
      case 'draw': return Uint32Array.from({ length: 6 }, (_, j) => (j < 4 ? rng.uniformInt(2 ** 31) : 0));
      case 'dim': case 'num': return a.value;
      case 'geom': return a.make();
      case 'lit':
        // the warp's matrices: near-identity affine maps (a small rotation, zoom and shift) instead of the identity
        if (a.value instanceof Float64Array) return Float64Array.from(a.value, (v) => v + (rng.uniform() - 0.5) * 0.4);
        return a.value;
    }
  });
}

type Typed = Float32Array | Int32Array | Uint8Array | Uint32Array | Float64Array;
type Wire = { t: string; b64: string } | { t: 'v'; v: unknown } | { t: 'o'; o: Record<string, Wire> };
const TYPES: Record<string, new (b: ArrayBuffer) => Typed> = { f32: Float32Array, i32: Int32Array, u8: Uint8Array, u32: Uint32Array, f64: Float64Array };
const tagOf = (v: Typed): string => (v instanceof Float32Array ? 'f32' : v instanceof Int32Array ? 'i32' : v instanceof Uint8Array ? 'u8' : v instanceof Uint32Array ? 'u32' : 'f64');

function encode(v: unknown): Wire {
  if (ArrayBuffer.isView(v)) return { t: tagOf(v as Typed), b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v && typeof v === 'object') return { t: 'o', o: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)])) };
  return { t: 'v', v };
}

function decodeTyped(w: { t: string; b64: string }): Typed {
  const bytes = Buffer.from(w.b64, 'base64');
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new TYPES[w.t](copy);
}

interface Outcome { buffers: Typed[]; ret: unknown }

/** Run a call on a backend in Node: every typed-array argument after the call, and the return value. */
function runHere(backend: Backend, call: Call, seed: number): Outcome {
  const args = materialize(call.specs, seed);
  const ret = callKernel(backend, call.kernel, args);
  return { buffers: args.filter((a): a is Typed => ArrayBuffer.isView(a)), ret };
}

const skipReason = !hasChromium ? '/usr/bin/chromium is absent; apt-get install chromium'
  : !wasmBytes.bytes && process.env.FITLAB_REQUIRE_WASM !== '1' ? wasmBytes.error : null;

describe.skipIf(skipReason !== null)(`wasm backend in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let dir: string;
  let server: Server;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const calls = plannedCalls();
  const pageResults: { buffers: Wire[]; ret: unknown }[] = [];
  let suite: { backend: { name: string; isa: string; threads: number }; outcomes: SuiteOutcome[] } | null = null;
  const pageErrors: string[] = [];
  let pageBackend: { name: string; isa: string; threads: number } | null = null;

  beforeAll(async () => {
    expect(wasmBytes.bytes, `the wasm kernels are unavailable: ${wasmBytes.error}`).toBeDefined();
    dir = mkdtempSync(join(tmpdir(), 'fitlab-wasm-page-'));
    await buildBrowser(dir);
    // the conformance suite itself, bundled for the page with vitest's API reduced to a collector
    await buildBrowser(join(dir, 'suite'), join(HERE, 'page', 'suite-entry.ts'), { alias: { vitest: join(HERE, 'page', 'vitest-shim.ts') } });
    writeFileSync(join(dir, 'fitlab.wasm'), wasmBytes.bytes as Uint8Array);
    writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>fitlab wasm kernels</title>
<script type="module">
import * as fitlab from './fitlab.js';
import { runSuite } from './suite/fitlab.js';
globalThis.fitlabSuite = runSuite;
const bytes = await (await fetch('./fitlab.wasm')).arrayBuffer();
window.fitlabWasm = fitlab.createWasmBackendFrom(await fitlab.instantiateWasmKernelsAsync(bytes));
window.fitlabReady = true;
</script>`);
    const TYPE: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^([/\\])+/, '');
      const file = join(dir, path === '' ? 'index.html' : path);
      if (!file.startsWith(dir) || !existsSync(file) || !TYPE[extname(file)]) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPE[extname(file)] }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browser.pages()[0] ?? await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { fitlabReady?: boolean }).fitlabReady === true || false, undefined, { timeout: 0, polling: 50 });
    pageBackend = await page.evaluate(() => {
      const b = (globalThis as unknown as { fitlabWasm: { name: string; isa: string; threads: number } }).fitlabWasm;
      return { name: b.name, isa: b.isa, threads: b.threads };
    });
    const wire = calls.map((c, i) => ({ kernel: c.kernel, args: materialize(c.specs, 1000 + i).map(encode) }));
    pageResults.push(...await page.evaluate((list) => {
      const TYPED: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = { f32: Float32Array, i32: Int32Array, u8: Uint8Array, u32: Uint32Array, f64: Float64Array };
      type W = { t: string; b64?: string; v?: unknown; o?: Record<string, W> };
      const decode = (w: W): unknown => {
        if (w.t === 'v') return w.v;
        if (w.t === 'o') return Object.fromEntries(Object.entries(w.o as Record<string, W>).map(([k, x]) => [k, decode(x)]));
        const s = atob(w.b64 as string);
        const bytes = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
        return new TYPED[w.t](bytes.buffer);
      };
      const b64 = (v: ArrayBufferView): string => {
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const backend = (globalThis as unknown as { fitlabWasm: Record<string, (...a: unknown[]) => unknown> }).fitlabWasm;
      return list.map(({ kernel, args }) => {
        const values = args.map((a) => decode(a as W));
        const ret = backend[kernel](...values);
        const buffers = values.filter((v): v is ArrayBufferView => ArrayBuffer.isView(v)).map((v) => ({ t: (args[values.indexOf(v)] as W).t, b64: b64(v) }));
        return { buffers, ret };
      });
    }, wire));
    suite = await page.evaluate(async () => {
      const bytes = await (await fetch('./fitlab.wasm')).arrayBuffer();
      return (globalThis as unknown as { fitlabSuite: (b: ArrayBuffer) => Promise<typeof suite> }).fitlabSuite(bytes);
    });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const d of [dir, profile]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('loads the module in the page as the single-threaded wasm-simd128 backend, without page errors', () => {
    expect(pageBackend).toEqual({ name: 'wasm', isa: 'wasm-simd128', threads: 1 });
    expect(pageErrors).toEqual([]);
  });

  it('calls every kernel of the signature table', () => {
    expect(KERNEL_NAMES).toHaveLength(39);
    expect([...new Set(calls.map((c) => c.kernel))].sort()).toEqual([...KERNEL_NAMES].sort());
    expect(pageResults).toHaveLength(calls.length);
  });

  it('passes the whole kernel conformance suite in the page (every kernel; no test skipped or failed)', () => {
    expect(suite?.backend).toEqual({ name: 'wasm', isa: 'wasm-simd128', threads: 1 });
    const outcomes = suite?.outcomes ?? [];
    expect(outcomes.filter((o) => o.status === 'failed').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'skipped').map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    for (const kernel of KERNEL_NAMES) expect(outcomes.some((o) => o.name.includes(`> ${kernel} >`)), kernel).toBe(true);
    expect(outcomes.find((o) => o.name.endsWith('covers every kernel of the signature table'))?.status).toBe('passed');
    expect(outcomes.filter((o) => o.status === 'passed').length).toBe(outcomes.length);
  });

  const nodeWasm = wasmBytes.bytes ? createWasmBackend() : null;
  const reference = createReferenceBackend();
  calls.forEach((call, i) => {
    it(call.title, () => {
      const got = pageResults[i];
      const here = runHere(nodeWasm as Backend, call, 1000 + i);
      const oracle = runHere(reference, call, 1000 + i);
      const buffers = got.buffers.map((w) => decodeTyped(w as { t: string; b64: string }));
      expect(buffers.map(tagOf)).toEqual(here.buffers.map(tagOf));
      buffers.forEach((b, j) => {
        // same module, same inputs: the same bits (compared as bytes, so −0 and NaN payloads count)
        const a = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
        const e = Buffer.from(here.buffers[j].buffer, here.buffers[j].byteOffset, here.buffers[j].byteLength);
        expect(a.equals(e), `${call.title}: argument ${j} differs from the wasm backend in Node`).toBe(true);
        if (b instanceof Float32Array || b instanceof Float64Array) expectClose(b, oracle.buffers[j], 1e-5, `${call.title}: argument ${j} vs reference`);
        else expectSameInts(b, oracle.buffers[j], `${call.title}: argument ${j} vs reference`);
      });
      expect(got.ret, `${call.title}: return value vs the wasm backend in Node`).toEqual(here.ret);
      if (typeof oracle.ret === 'number') expectClose([got.ret as number], [oracle.ret], 1e-5, `${call.title}: return value vs reference`);
    });
  });
});
