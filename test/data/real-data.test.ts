/**
 * Real datasets, read as a user would get them (skipped, with the reason in the test name,
 * when absent):
 *   - MNIST from $FITLAB_TEST_DATA/mnist or <root>/../shared/datasets/mnist: 60,000 / 10,000,
 *     28×28×1, the known class counts (train 5,923 … 5,421 … 6,742; test 980 … 1,135), the
 *     first labels 5 0 4 1 9 … and 7 2 1 0 4 …, pixels 0…255 becoming [0, 1] at batch time with
 *     the well-known mean 0.1307; and found by name through --data-dir.
 *   - Fashion-MNIST from Debian's /usr/share/datasets/fashion-mnist: 60,000 / 10,000, exactly
 *     6,000 / 1,000 per class, mean pixel 0.2860, found by name with no setting at all.
 *   - The CIFAR-10 JPEG copy (cifar10-jpeg.tar.gz) imported once with `fitlab data import`
 *     into a temporary cache: 50,000 / 10,000, 5,000 / 1,000 per class, 32×32×3, channel means
 *     near CIFAR-10's (0.491, 0.482, 0.447) — red > green > blue, so RGB is in order — and the
 *     cache loads in well under a second. A preview grid of each is written for a look.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { parseAugment } from '../../src/data/augment.js';
import { readCache } from '../../src/data/cache.js';
import { type Dataset, classCounts, fillBatch } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/locate.js';
import { previewGrid } from '../../src/data/preview.js';
import { HANG_GUARD, ensureBuilt, fitlab, jsonOf, testDataRoot } from '../cli/cli-helpers.js';

const data = testDataRoot();
const mnist = data.root ? join(data.root, 'mnist') : null;
const mnistMissing = !mnist ? data.reason : existsSync(mnist) ? '' : `${mnist} does not exist`;
const FASHION = '/usr/share/datasets/fashion-mnist';
const fashionMissing = existsSync(FASHION) ? '' : `${FASHION} does not exist (apt-get install dataset-fashion-mnist)`;
const cifarTar = data.root ? join(data.root, 'cifar10-jpeg.tar.gz') : null;
const cifarMissing = !cifarTar ? data.reason : existsSync(cifarTar) ? '' : `${cifarTar} does not exist`;
const skipped = (why: string): string => (why ? ` — skipped: ${why}` : '');

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-data-real-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Mean of all pixels after batch-time scaling, and the scaled min and max. */
function scaledStats(ds: Dataset): { mean: number; min: number; max: number } {
  const per = ds.shape.reduce((a, b) => a * b, 1);
  const n = ds.train.y.length;
  const buf = new Float32Array(1000 * per);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let from = 0; from < n; from += 1000) {
    const to = Math.min(n, from + 1000);
    fillBatch(buf, ds.train, order, from, to, per, ds.scale);
    for (let i = 0; i < (to - from) * per; i++) {
      const v = buf[i];
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { mean: sum / (n * per), min, max };
}

/** A preview grid of the dataset, decoded; FITLAB_KEEP_PREVIEW=<folder> keeps the PNG to look at. */
function preview(ds: Dataset, name: string): PNG {
  const bytes = previewGrid(getBackend(), ds, parseAugment('auto', ds.name)!, { rows: 10, copies: 6, seed: 1 });
  if (process.env.FITLAB_KEEP_PREVIEW) writeFileSync(join(process.env.FITLAB_KEEP_PREVIEW, `${name}-preview.png`), bytes);
  return PNG.sync.read(bytes);
}

describe.skipIf(Boolean(mnistMissing))(`real MNIST${skipped(mnistMissing)}`, () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadDataset(mnist!);
  });

  it('60,000 train / 10,000 test, 28×28×1, 10 classes with the known counts', () => {
    expect(ds.name).toBe('mnist');
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.classes).toBe(10);
    expect(ds.train.y).toHaveLength(60000);
    expect(ds.test!.y).toHaveLength(10000);
    expect(ds.train.x).toHaveLength(60000 * 784);
    const train = classCounts(ds.train.y, 10);
    expect(train).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    for (const c of train) {
      expect(c).toBeGreaterThanOrEqual(5421);
      expect(c).toBeLessThanOrEqual(6742);
    }
    expect(classCounts(ds.test!.y, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Array.from(ds.train.y.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(ds.test!.y.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('pixels are stored as bytes and scaled to [0, 1] at batch time: min 0, max 1, mean 0.1307', () => {
    expect(ds.train.x).toBeInstanceOf(Uint8Array);
    const s = scaledStats(ds);
    expect(s.min).toBe(0);
    expect(s.max).toBeCloseTo(1, 6);
    expect(s.mean).toBeGreaterThan(0.1306);
    expect(s.mean).toBeLessThan(0.1308);
    // the border of a digit image is background: the first example's corner is 0
    expect(ds.train.x[0]).toBe(0);
  });

  it('found by name through --data-dir (a folder holding mnist/)', async () => {
    const root = join(tmp, 'by-name');
    symlinkSync(join(mnist!, '..'), root);
    const byName = await loadDataset('mnist', { dataDir: root });
    expect(byName.train.y).toHaveLength(60000);
    expect(byName.source).toBe(join(root, 'mnist'));
  });

  it('the digits preview grid: 10 rows, one per class, of originals and augmented copies', () => {
    const png = preview(ds, 'mnist');
    // zoom floor(96 / 28) = 3: cells 84, width 4 + 7·88 + 4, height 4 + 10·88
    expect([png.width, png.height]).toEqual([4 + 7 * 88 + 4, 4 + 10 * 88]);
  });
});

describe.skipIf(Boolean(fashionMissing))(`real Fashion-MNIST (Debian package)${skipped(fashionMissing)}`, () => {
  it('found by name; 60,000 / 10,000, exactly 6,000 / 1,000 per class, the Fashion class names, mean pixel 0.2860', async () => {
    const saved = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, FITLAB_DATA: process.env.FITLAB_DATA };
    // no user cache or FITLAB_DATA copy may stand in for the system folder
    process.env.XDG_CACHE_HOME = join(tmp, 'empty-cache');
    delete process.env.FITLAB_DATA;
    let ds: Dataset;
    try {
      ds = await loadDataset('fashion-mnist');
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    expect(ds.source).toBe(FASHION);
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.train.y).toHaveLength(60000);
    expect(ds.test!.y).toHaveLength(10000);
    expect(classCounts(ds.train.y, 10)).toEqual(new Array<number>(10).fill(6000));
    expect(classCounts(ds.test!.y, 10)).toEqual(new Array<number>(10).fill(1000));
    expect(ds.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(Array.from(ds.train.y.subarray(0, 6))).toEqual([9, 0, 0, 3, 0, 2]);
    const s = scaledStats(ds);
    expect(s.mean).toBeGreaterThan(0.2855);
    expect(s.mean).toBeLessThan(0.2865);
    expect([s.min, Math.round(s.max * 1e6) / 1e6]).toEqual([0, 1]);
    const png = preview(ds, 'fashion-mnist');
    expect(png.width).toBe(4 + 7 * 88 + 4);
  });
});

describe.skipIf(Boolean(cifarMissing))(`the CIFAR-10 JPEG copy, imported with fitlab data import${skipped(cifarMissing)}`, () => {
  interface ImportJson { cache: string; shape: number[]; classNames: string[]; train: { examples: number; perClass: number[] }; test: { examples: number; perClass: number[] }; seconds: number }
  let imported: ImportJson;
  const cache = (): string => join(tmp, 'cifar10');
  beforeAll(() => {
    ensureBuilt();
    imported = jsonOf<ImportJson>(fitlab(['data', 'import', cifarTar!, '--name', 'cifar10', '--out', cache(), '--json'], { timeoutMs: 110_000 }));
  }, 120_000 * HANG_GUARD);

  it('50,000 / 10,000 with 5,000 / 1,000 per class, 32×32×3, the ten class names in order', () => {
    expect(imported.cache).toBe(cache());
    expect(imported.shape).toEqual([32, 32, 3]);
    expect(imported.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(imported.train.examples).toBe(50000);
    expect(imported.test.examples).toBe(10000);
    expect(imported.train.perClass).toEqual(new Array<number>(10).fill(5000));
    expect(imported.test.perClass).toEqual(new Array<number>(10).fill(1000));
    // how long the import took is a benchmark's business, not a test's (machines differ and are busy)
    expect(imported.seconds).toBeGreaterThan(0);
  });

  it('the cache loads with the same counts; channel means near CIFAR-10\'s, red > green > blue', () => {
    const ds = readCache(cache());
    expect(classCounts(ds.train.y, 10)).toEqual(new Array<number>(10).fill(5000));
    expect(classCounts(ds.test!.y, 10)).toEqual(new Array<number>(10).fill(1000));
    const sums = [0, 0, 0];
    for (let i = 0; i < ds.train.x.length; i++) sums[i % 3] += ds.train.x[i];
    const means = sums.map((s) => s / (ds.train.x.length / 3) / 255);
    [0.4914, 0.4822, 0.4465].forEach((m, k) => expect(Math.abs(means[k] - m), `channel ${k}`).toBeLessThan(0.005));
    expect(means[0]).toBeGreaterThan(means[1]);
    expect(means[1]).toBeGreaterThan(means[2]);
    // class-sorted: the first 5,000 are airplanes, the last 5,000 trucks
    expect(new Set(ds.train.y.subarray(0, 5000))).toEqual(new Set([0]));
    expect(new Set(ds.train.y.subarray(45000))).toEqual(new Set([9]));
    const png = preview(ds, 'cifar10');
    // zoom 3: 96-pixel cells
    expect([png.width, png.height]).toEqual([4 + 7 * 100 + 4, 4 + 10 * 100]);
  });
});
