/**
 * The browser's dataset readers and model download (src/data/from-bytes.ts,
 * src/io/tfjs-artifacts.ts; issue 21) run in Debian's Chromium — where there is no Buffer, no
 * zlib, no fs — from the library bundle, and give what Node gives: an IDX pair and CIFAR-10
 * batches byte for byte; an image zip decoded by the pure decoder byte for byte, and decoded by
 * the page's own createImageBitmap + OffscreenCanvas (as the static site decodes) with the same
 * PNG pixels and JPEG pixels within the codecs' rounding; a model download identical to Node's.
 * Skipped, saying why in the title, when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { datasetFromCifarBinary, datasetFromIdx, datasetFromImageZip, decodeImageBytes } from '../../src/data/from-bytes.js';
import { tfjsArtifacts } from '../../src/io/tfjs-artifacts.js';
import { modelFromSpec } from '../../src/nn/spec.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? '' : `${CHROMIUM} does not exist`;
const { buildBrowser } = createRequire(import.meta.url)('../../scripts/build-browser.cjs') as {
  buildBrowser: (out: string) => Promise<{ out: string }>;
};

let dir = '';
let profile = '';
let server: Server | null = null;
let browser: BrowserContext | null = null;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'fitlab-from-bytes-page-'));
  await buildBrowser(dir);
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>fitlab from bytes</title>
<script type="module">
import * as fitlab from './fitlab.js';
window.fitlab = fitlab;
// the static site's decoder: the browser's own codecs, no colour management, straight alpha
window.bitmapDecode = async (bytes) => {
  const bmp = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const ctx = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  const img = ctx.getImageData(0, 0, bmp.width, bmp.height);
  return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer) };
};
window.fitlabReady = true;
</script>`);
  const TYPE: Record<string, string> = { '/': 'text/html', '/fitlab.js': 'text/javascript' };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!TYPE[path]) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPE[path] }).end(readFileSync(join(dir, path === '/' ? 'index.html' : 'fitlab.js')));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  profile = mkdtempSync(join(tmpdir(), 'fitlab-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => (globalThis as unknown as { fitlabReady?: boolean }).fitlabReady === true, undefined, { timeout: 60_000, polling: 50 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  for (const d of [dir, profile]) if (d) rmSync(d, { recursive: true, force: true });
});

/** What the page sends back of a dataset: plain arrays (bytes as numbers). */
interface WireDataset { name: string; shape: number[]; classes: number; classNames: string[]; x: number[]; y: number[]; testX: number[] | null; testY: number[] | null }
const wire = (ds: { name: string; shape: number[]; classes: number; classNames: string[]; train: { x: ArrayLike<number>; y: ArrayLike<number> }; test: { x: ArrayLike<number>; y: ArrayLike<number> } | null }): WireDataset => ({
  name: ds.name, shape: ds.shape, classes: ds.classes, classNames: ds.classNames, x: Array.from(ds.train.x), y: Array.from(ds.train.y),
  testX: ds.test ? Array.from(ds.test.x) : null, testY: ds.test ? Array.from(ds.test.y) : null,
});

function pngOf(width: number, height: number, gray: boolean, seed: number): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const v = (i * 29 + seed * 71) & 255;
    png.data.set(gray ? [v, v, v, 255] : [v, (v * 3) & 255, 255 - v, 255], 4 * i);
  }
  return PNG.sync.write(png, { colorType: gray ? 0 : 2, inputColorType: 6 });
}
const jpegOf = (seed: number): Uint8Array =>
  jpeg.encode({ width: 8, height: 8, data: Uint8Array.from({ length: 256 }, (_, i) => (i % 4 === 3 ? 255 : ((i >> 2) * 9 + seed * 41 + (i % 4) * 60) & 255)) }, 90).data;

const TREE = {
  'pets/train/cat/1.png': pngOf(8, 8, false, 1), 'pets/train/cat/2.png': pngOf(8, 8, true, 2),
  'pets/train/dog/3.png': pngOf(8, 8, false, 3), 'pets/train/dog/4.jpg': jpegOf(4),
  'pets/test/cat/5.png': pngOf(8, 8, false, 5), 'pets/test/dog/6.jpg': jpegOf(6),
  '__MACOSX/pets/train/cat/._1.png': new Uint8Array([0, 5, 22, 7]),
};

describe.skipIf(Boolean(missing))(`dataset readers and the model download in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('an IDX pair (gzipped) and CIFAR-10 batches: the Dataset Node reads, byte for byte', async () => {
    const header = (dims: number[]): number[] => [0, 0, 8, dims.length, ...dims.flatMap((d) => [d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])];
    const images = Uint8Array.from([...header([4, 3, 3]), ...Array.from({ length: 36 }, (_, i) => (i * 7) & 255)]);
    const labels = Uint8Array.from([...header([4]), 3, 1, 0, 2]);
    const batches = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']
      .map((name, k) => ({ name, bytes: Uint8Array.from({ length: 2 * 3073 }, (_, i) => (i % 3073 === 0 ? (k + i) % 10 : (i * 5 + k) & 255)) }));
    const args = { images: Array.from(gzipSync(images)), labels: Array.from(labels), batches: batches.map((b) => ({ name: b.name, bytes: Array.from(b.bytes) })) };
    const got = await page.evaluate((a) => {
      const f = (globalThis as unknown as { fitlab: typeof import('../../src/browser.js') }).fitlab;
      const w = (ds: ReturnType<typeof f.datasetFromIdx>): unknown => ({
        name: ds.name, shape: ds.shape, classes: ds.classes, classNames: ds.classNames, x: Array.from(ds.train.x), y: Array.from(ds.train.y),
        testX: ds.test ? Array.from(ds.test.x) : null, testY: ds.test ? Array.from(ds.test.y) : null,
      });
      return {
        idx: w(f.datasetFromIdx(Uint8Array.from(a.images), Uint8Array.from(a.labels), 'letters')),
        cifar: w(f.datasetFromCifarBinary(a.batches.map((b) => ({ name: b.name, bytes: Uint8Array.from(b.bytes) })), 'cifar')),
        hasBuffer: typeof (globalThis as { Buffer?: unknown }).Buffer !== 'undefined',
      };
    }, args);
    expect(got.hasBuffer).toBe(false);
    expect(got.idx).toEqual(wire(datasetFromIdx(gzipSync(images), labels, 'letters')));
    expect(got.cifar).toEqual(wire(datasetFromCifarBinary(batches, 'cifar')));
    expect(pageErrors).toEqual([]);
  });

  it('an image zip: the pure decoder gives Node\'s Dataset; createImageBitmap gives the same PNG pixels and JPEGs within rounding', async () => {
    const zip = zipSync(TREE);
    const node = wire(await datasetFromImageZip(zip, 'pets', decodeImageBytes));
    const got = await page.evaluate(async (bytes) => {
      const f = (globalThis as unknown as { fitlab: typeof import('../../src/browser.js') }).fitlab;
      type Decode = (b: Uint8Array, file: string) => Promise<{ width: number; height: number; data: Uint8Array }>;
      const bitmapDecode = (globalThis as unknown as { bitmapDecode: Decode }).bitmapDecode;
      const w = (ds: Awaited<ReturnType<typeof f.datasetFromImageZip>>): unknown => ({
        name: ds.name, shape: ds.shape, classes: ds.classes, classNames: ds.classNames, x: Array.from(ds.train.x), y: Array.from(ds.train.y),
        testX: ds.test ? Array.from(ds.test.x) : null, testY: ds.test ? Array.from(ds.test.y) : null,
      });
      const zipBytes = Uint8Array.from(bytes);
      return { pure: w(await f.datasetFromImageZip(zipBytes, 'pets', f.decodeImageBytes)), bitmap: w(await f.datasetFromImageZip(zipBytes, 'pets', bitmapDecode)) };
    }, Array.from(zip));
    expect(got.pure).toEqual(node);
    const bitmap = got.bitmap as WireDataset;
    expect({ ...bitmap, x: [], testX: [] }).toEqual({ ...node, x: [], testX: [] });
    // examples in order: cat/1.png, cat/2.png, dog/3.png, dog/4.jpg (8×8×3 each)
    const per = 8 * 8 * 3;
    expect(bitmap.x.slice(0, 3 * per)).toEqual(node.x.slice(0, 3 * per));
    const jpegDiff = Math.max(...bitmap.x.slice(3 * per).map((v, i) => Math.abs(v - node.x[3 * per + i])));
    expect(jpegDiff).toBeLessThanOrEqual(4);
    expect(pageErrors).toEqual([]);
  });

  it('tfjsArtifacts in the page: the files Node makes for the same model, byte for byte', async () => {
    const spec = { input: [6], layers: [{ type: 'dense', units: 5, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] };
    const model = modelFromSpec(spec);
    model.build({ batchSize: 2, backend: createReferenceBackend(), seed: 11 });
    const node = tfjsArtifacts(model, 'page-mlp');
    const got = await page.evaluate((s) => {
      const f = (globalThis as unknown as { fitlab: typeof import('../../src/browser.js') }).fitlab;
      const m = f.modelFromSpec(s).build({ batchSize: 2, backend: f.createReferenceBackend(), seed: 11 });
      const a = f.tfjsArtifacts(m, 'page-mlp');
      return { modelJson: a.modelJson, weights: Array.from(a.weights), weightsFile: a.weightsFile };
    }, spec);
    expect(got).toEqual({ modelJson: node.modelJson, weights: Array.from(node.weights), weightsFile: 'page-mlp.weights.bin' });
    expect(pageErrors).toEqual([]);
  });
});
