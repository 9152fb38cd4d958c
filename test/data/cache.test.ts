/**
 * The dataset cache (`<dir>/meta.json` + `data.bin`, written by `fitlab data import`):
 * loading through it gives tensors identical to reading the source (uint8 and float32 data,
 * odd sizes that need label padding, no test split); a write that fails part-way (the disk
 * fills up) leaves neither a half-written cache nor a `.fitlab-tmp-*` temporary, and an older
 * cache stays intact; a process killed in the middle of writing data.bin leaves the old cache
 * intact and its half-written temporary is invisible to readers and swept by the next write; a
 * pre-existing truncated data.bin, a data.bin corrupted in place (same size), and an unreadable
 * meta.json are rejected with an error that says what is wrong and to re-import (no stack
 * trace on the command line), and re-importing rebuilds the cache.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs, { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCache, readCacheMeta, verifyCache, writeCache } from '../../src/data/cache.js';
import type { Dataset } from '../../src/data/dataset.js';
import { readIdxDataset } from '../../src/data/idx.js';
import { loadDataset } from '../../src/data/locate.js';
import { FitlabError } from '../../src/errors.js';
import { ROOT, STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { arr, cleanup, tempDir, tempLeftovers, tinyIdx, writeIdxFolder } from './data-helpers.js';

afterAll(cleanup);

function expectSameDataset(a: Dataset, b: Dataset): void {
  expect(b.shape).toEqual(a.shape);
  expect(b.classes).toBe(a.classes);
  expect(b.classNames).toEqual(a.classNames);
  expect(b.scale).toBe(a.scale);
  expect(b.train.x instanceof Float32Array).toBe(a.train.x instanceof Float32Array);
  expect(arr(b.train.x)).toEqual(arr(a.train.x));
  expect(arr(b.train.y)).toEqual(arr(a.train.y));
  if (a.test) {
    expect(arr(b.test!.x)).toEqual(arr(a.test.x));
    expect(arr(b.test!.y)).toEqual(arr(a.test.y));
  } else expect(b.test).toBeNull();
}

/** A uint8 dataset of n 28×28 images, every pixel `fill`, labels i mod 10. */
function digits(n: number, fill: number): Dataset {
  return {
    name: 'digits', source: 'test', shape: [28, 28, 1], classes: 10, classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    train: { x: new Uint8Array(n * 784).fill(fill), y: Int32Array.from({ length: n }, (_, i) => i % 10) }, test: null, scale: 1 / 255,
  };
}

describe('loading through the cache', () => {
  it('an IDX folder → cache → identical tensors; 3×3×1 images (9 bytes each) force padding before the labels', () => {
    const src = join(tempDir('cache-src'), 'tiny');
    writeIdxFolder(src, tinyIdx(5, 3, 3, 3), true);
    const direct = readIdxDataset(src, 'tiny');
    const dir = join(tempDir('cache'), 'tiny');
    const meta = writeCache(dir, direct);
    // train pixels 45 bytes, 3 bytes of padding, 20 bytes of labels, 27 test pixels, 1 pad, 12 of labels
    expect(meta.splits.train).toMatchObject({ n: 5, xOffset: 0, yOffset: 48, classCounts: [2, 2, 1] });
    expect(meta.splits.test).toMatchObject({ n: 3, xOffset: 68, yOffset: 96 });
    expect(meta.bytes).toBe(108);
    expect(meta.sha256).toBe(createHash('sha256').update(readFileSync(join(dir, 'data.bin'))).digest('hex'));
    const cached = readCache(dir);
    expectSameDataset(direct, cached);
    expect(cached.source).toContain(`${dir} (imported from ${src})`);
    expect(verifyCache(dir).ok).toBe(true);
    expect(tempLeftovers(join(dir, '..'))).toEqual([]);
  });

  it('float32 data without a test split round-trips bit for bit', async () => {
    const x = Float32Array.from([0.1, -2.5, 1e-30, Number.MAX_VALUE, -0, 3]);
    const ds: Dataset = { name: 'vec', source: 'test', shape: [2], classes: 2, classNames: ['a', 'b'], train: { x, y: Int32Array.of(1, 0, 1) }, test: null, scale: 1 };
    const dir = join(tempDir('cache-f32'), 'vec');
    writeCache(dir, ds);
    const back = await loadDataset(dir);
    expect(back.train.x).toBeInstanceOf(Float32Array);
    expect(Buffer.from(back.train.x.buffer, back.train.x.byteOffset, back.train.x.byteLength)).toEqual(Buffer.from(x.buffer));
    expectSameDataset(ds, back);
  });

  it('writing over an existing cache replaces it whole (only when forced: src/util/owned.ts)', () => {
    const dir = join(tempDir('cache-over'), 'digits');
    writeCache(dir, digits(20, 1));
    expect(() => writeCache(dir, digits(7, 2))).toThrow(`${dir} already holds a dataset cache fitlab wrote`);
    expect(readCache(dir).train.y).toHaveLength(20);
    writeCache(dir, digits(7, 2), { force: true });
    const back = readCache(dir);
    expect(back.train.y).toHaveLength(7);
    expect(back.train.x.every((v) => v === 2)).toBe(true);
    expect(tempLeftovers(join(dir, '..'))).toEqual([]);
  });
});

describe('a crash mid-write leaves no half-written cache', () => {
  it('a write that fails part-way (disk full): the error surfaces, the old cache is intact, no .fitlab-tmp-* is left', () => {
    const parent = tempDir('cache-enospc');
    const dir = join(parent, 'digits');
    writeCache(dir, digits(10, 3));
    const before = readFileSync(join(dir, 'data.bin'));
    const original = fs.writeSync;
    // fail once ~4 KB into data.bin, as a full disk would
    fs.writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
      if (buffer.length >= 50 * 784) {
        original(fd, buffer, offset ?? 0, 4096);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return original(fd, buffer, offset, length);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      expect(() => writeCache(dir, digits(50, 4), { force: true })).toThrow('ENOSPC');
      expect(() => writeCache(join(parent, 'fresh'), digits(60, 4))).toThrow('ENOSPC');
    } finally {
      fs.writeSync = original;
      syncBuiltinESMExports();
    }
    expect(tempLeftovers(parent)).toEqual([]);
    expect(readdirSync(parent)).toEqual(['digits']);
    expect(readFileSync(join(dir, 'data.bin'))).toEqual(before);
    expect(readCache(dir).train.y).toHaveLength(10);
  });

  it('SIGKILL while data.bin is half written: the old cache is intact, readers ignore the temporary, the next write sweeps it', async () => {
    const parent = tempDir('cache-kill');
    const dir = join(parent, 'mnist');
    writeCache(dir, digits(30, 5));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'data', 'crash-writer.ts'), dir, '2000', '9'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(r.stdout).not.toContain('the write completed');
    // what the crash left: only under the temporary prefix, holding part of the new data
    const left = tempLeftovers(parent);
    expect(left.length).toBeGreaterThan(0);
    const partial = left.find((p) => p.includes('data.bin'));
    expect(partial, left.join(', ')).toBeDefined();
    expect(readFileSync(join(parent, partial!)).length).toBe((2000 * 784 + 2000 * 4) / 2);
    // the cache itself is the old one, whole and verified
    const old = readCache(dir);
    expect(old.train.y).toHaveLength(30);
    expect(old.train.x.every((v) => v === 5)).toBe(true);
    expect(verifyCache(dir).ok).toBe(true);
    // readers never pick the temporary up: by name (--data-dir) the cache is found, not it
    const byName = await loadDataset('mnist', { dataDir: parent });
    expect(byName.source).toContain(dir);
    expect(byName.train.y).toHaveLength(30);
    // the next write of the same cache removes the dead process's temporary
    writeCache(dir, digits(4, 6), { force: true });
    expect(tempLeftovers(parent)).toEqual([]);
    expect(readdirSync(parent)).toEqual(['mnist']);
    expect(readCache(dir).train.y).toHaveLength(4);
  });
});

describe('a damaged cache is rejected clearly, and re-importing rebuilds it', () => {
  it('a truncated data.bin: the sizes in the message and a hint to re-import; found by name too, not silently skipped', async () => {
    const root = tempDir('cache-trunc');
    const dir = join(root, 'mnist');
    writeCache(dir, digits(12, 7));
    truncateSync(join(dir, 'data.bin'), 5000);
    let err: FitlabError | null = null;
    try {
      readCache(dir);
    } catch (e) {
      err = e as FitlabError;
    }
    expect(err).toBeInstanceOf(FitlabError);
    expect(err!.message).toBe(`${join(dir, 'data.bin')}: 5000 bytes, the metadata says ${12 * 784 + 48} (truncated or replaced)`);
    expect(err!.hint).toMatch(/re-import the dataset with `fitlab data import`/);
    await expect(loadDataset('mnist', { dataDir: root })).rejects.toThrow('5000 bytes, the metadata says');
  });

  it('data.bin corrupted in place (same size): the checksum recorded at import catches it', () => {
    const dir = join(tempDir('cache-rot'), 'digits');
    writeCache(dir, digits(12, 7));
    const file = join(dir, 'data.bin');
    const bytes = readFileSync(file);
    bytes.fill(0, 1000, 3000); // e.g. blocks lost in a power cut: right size, wrong content
    writeFileSync(file, bytes);
    expect(verifyCache(dir).ok).toBe(false);
    expect(() => readCache(dir)).toThrow(`${file}: checksum mismatch`);
  });

  it('an unreadable or foreign meta.json', () => {
    const dir = join(tempDir('cache-meta'), 'digits');
    writeCache(dir, digits(3, 1));
    const metaFile = join(dir, 'meta.json');
    const text = readFileSync(metaFile, 'utf8');
    writeFileSync(metaFile, text.slice(0, text.length / 2));
    expect(() => readCache(dir)).toThrow(`${metaFile}: unreadable cache metadata`);
    writeFileSync(metaFile, text.replace('fitlab-dataset-1', 'fitlab-dataset-0'));
    expect(() => readCacheMeta(dir)).toThrow(`${metaFile}: unknown cache format "fitlab-dataset-0"`);
  });

  describe('through the command line', () => {
    beforeAll(() => ensureBuilt());

    it('`fitlab data import` writes the cache, `data info` refuses it truncated (no stack trace), a second import rebuilds it', () => {
      const root = tempDir('cache-cli');
      const src = join(root, 'src');
      writeIdxFolder(src, tinyIdx(6, 2, 4, 4), true);
      const dir = join(root, 'cache', 'tiny');
      const imported = jsonOf<{ cache: string; sha256: string; bytes: number; train: { examples: number } }>(fitlab(['data', 'import', src, '--name', 'tiny', '--out', dir, '--json']));
      expect(imported.cache).toBe(dir);
      expect(imported.train.examples).toBe(6);
      expectSameDataset(readIdxDataset(src, 'tiny'), readCache(dir));
      truncateSync(join(dir, 'data.bin'), 10);
      const bad = fitlab(['data', 'info', dir]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(`fitlab: error: ${join(dir, 'data.bin')}: 10 bytes, the metadata says ${imported.bytes} (truncated or replaced)`);
      expect(bad.stderr).toContain('fitlab: hint: re-import the dataset');
      expect(bad.stderr).not.toMatch(STACK_FRAME);
      // replacing the cache fitlab wrote takes --force (src/util/owned.ts)
      const unforced = fitlab(['data', 'import', src, '--name', 'tiny', '--out', dir, '--json']);
      expect(unforced.status).toBe(1);
      expect(unforced.stderr).toContain(`fitlab: error: --out ${dir} already holds a dataset cache fitlab wrote`);
      jsonOf(fitlab(['data', 'import', src, '--name', 'tiny', '--out', dir, '--force', '--json']));
      expect(verifyCache(dir).ok).toBe(true);
      expectSameDataset(readIdxDataset(src, 'tiny'), readCache(dir));
      expect(tempLeftovers(root)).toEqual([]);
      expect(existsSync(join(dir, 'data.bin'))).toBe(true);
    });
  });
});

