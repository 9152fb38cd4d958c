/**
 * The CIFAR binary readers on files the test writes in the official layout. CIFAR-10:
 * data_batch_1..5.bin and test_batch.bin, records of one label byte and 3,072 pixel bytes
 * stored plane by plane (1,024 red, 1,024 green, 1,024 blue, each row-major), plus
 * batches.meta.txt; CIFAR-100: train.bin/test.bin with a coarse and a fine label byte per
 * record. The loader must turn CHW into NHWC value for value, keep the records' order across
 * the five batches, pick the fine or coarse labels, read the same files from a .tar.gz as the
 * official archive is laid out, and refuse a truncated record, an out-of-range label or a
 * missing batch with an error naming the file — on the command line without a stack trace.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCifarRecords, readCifarFolder, readCifarTarball } from '../../src/data/cifar.js';
import type { Dataset } from '../../src/data/dataset.js';
import { DataFormatError } from '../../src/data/idx.js';
import { loadDataset } from '../../src/data/locate.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { arr, cifar100Records, cifar10Records, cifarValue, cleanup, tempDir } from './data-helpers.js';

afterAll(cleanup);

/** CIFAR-10 folder: batch b holds records with labels (b + i) mod 10 and seeds 10b + i. */
function writeCifar10(dir: string, perBatch = 2, testN = 3, meta = true): void {
  mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) {
    writeFileSync(join(dir, `data_batch_${b}.bin`), cifar10Records(Array.from({ length: perBatch }, (_, i) => ({ label: (b + i) % 10, seed: 10 * b + i }))));
  }
  writeFileSync(join(dir, 'test_batch.bin'), cifar10Records(Array.from({ length: testN }, (_, i) => ({ label: 9 - i, seed: 200 + i }))));
  if (meta) writeFileSync(join(dir, 'batches.meta.txt'), 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
}

function writeCifar100(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.bin'), cifar100Records([{ coarse: 4, fine: 0, seed: 1 }, { coarse: 19, fine: 99, seed: 2 }, { coarse: 11, fine: 33, seed: 3 }]));
  writeFileSync(join(dir, 'test.bin'), cifar100Records([{ coarse: 10, fine: 49, seed: 4 }]));
  writeFileSync(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `super${i}`).join('\n'));
  writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
}

/** Every pixel of example `n` of x equals cifarValue(seed) at (row, col, channel), NHWC. */
function expectImage(x: Uint8Array | Float32Array, n: number, seed: number): void {
  const bad: string[] = [];
  for (let r = 0; r < 32; r++) {
    for (let c = 0; c < 32; c++) {
      for (let ch = 0; ch < 3; ch++) {
        const got = x[n * 3072 + (r * 32 + c) * 3 + ch];
        if (got !== cifarValue(seed, r, c, ch) && bad.length < 5) bad.push(`(${r},${c},${ch}) = ${got}, expected ${cifarValue(seed, r, c, ch)}`);
      }
    }
  }
  expect(bad, `example ${n}`).toEqual([]);
}

function expectCifar10(ds: Dataset): void {
  expect(ds.name).toBe('cifar10');
  expect(ds.shape).toEqual([32, 32, 3]);
  expect(ds.classes).toBe(10);
  // batches in order 1..5, records in order: labels (b + i) mod 10
  expect(arr(ds.train.y)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  expect(arr(ds.test!.y)).toEqual([9, 8, 7]);
  expect(ds.train.x).toHaveLength(10 * 3072);
  for (let b = 1; b <= 5; b++) for (let i = 0; i < 2; i++) expectImage(ds.train.x, 2 * (b - 1) + i, 10 * b + i);
  for (let i = 0; i < 3; i++) expectImage(ds.test!.x, i, 200 + i);
}

describe('CIFAR-10 binary', () => {
  it('one record by hand: label byte, then R, G, B planes → interleaved NHWC', () => {
    const rec = new Uint8Array(1 + 3072);
    rec[0] = 7;
    rec[1 + 0] = 11; // R at (0, 0)
    rec[1 + 1024] = 22; // G at (0, 0)
    rec[1 + 2048] = 33; // B at (0, 0)
    rec[1 + 32 + 1] = 44; // R at row 1, col 1
    rec[1 + 2048 + 31 * 32 + 31] = 55; // B at (31, 31)
    const { x, labels } = parseCifarRecords(rec, 1, 'one.bin');
    expect(arr(labels[0])).toEqual([7]);
    expect(arr(x.subarray(0, 3))).toEqual([11, 22, 33]);
    expect(x[(1 * 32 + 1) * 3]).toBe(44);
    expect(x[(31 * 32 + 31) * 3 + 2]).toBe(55);
    expect(x.reduce((a, v) => a + v, 0)).toBe(11 + 22 + 33 + 44 + 55);
  });

  it('a folder of the six batches: every pixel converted CHW → NHWC, labels and order kept, names from batches.meta.txt', () => {
    const dir = join(tempDir('c10'), 'cifar-10-batches-bin');
    writeCifar10(dir);
    const ds = readCifarFolder(dir);
    expectCifar10(ds);
    expect(ds.classNames).toEqual(['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  it('without batches.meta.txt the standard class names are used; loadDataset finds the folder by path', async () => {
    const dir = join(tempDir('c10'), 'cifar-10-batches-bin');
    writeCifar10(dir, 2, 3, false);
    const ds = await loadDataset(dir);
    expectCifar10(ds);
    expect(ds.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  it('the official tarball layout (cifar-10-batches-bin/… inside a .tar.gz) reads the same without extracting', async () => {
    const root = tempDir('c10-tar');
    writeCifar10(join(root, 'cifar-10-batches-bin'));
    const file = join(root, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: root }, ['cifar-10-batches-bin']);
    rmSync(join(root, 'cifar-10-batches-bin'), { recursive: true });
    const ds = await readCifarTarball(file);
    expectCifar10(ds as Dataset);
    expectCifar10(await loadDataset(file));
  });

  it('a truncated record names the file and the byte count', () => {
    const dir = tempDir('c10-trunc');
    writeCifar10(dir);
    const f = join(dir, 'data_batch_3.bin');
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, bytes.length - 100));
    expect(() => readCifarFolder(dir)).toThrow(DataFormatError);
    expect(() => readCifarFolder(dir)).toThrow(`${f}: ${2 * 3073 - 100} bytes is not a whole number of 3073-byte CIFAR records (truncated or corrupted`);
    writeFileSync(f, '');
    expect(() => readCifarFolder(dir)).toThrow(`${f}: 0 bytes is not a whole number of 3073-byte CIFAR records`);
  });

  it('a label byte above 9, a missing batch', () => {
    const dir = tempDir('c10-label');
    writeCifar10(dir);
    writeFileSync(join(dir, 'test_batch.bin'), cifar10Records([{ label: 3, seed: 0 }, { label: 12, seed: 1 }]));
    expect(() => readCifarFolder(dir)).toThrow(`${dir}/test_batch.bin: record 1 has label 12; CIFAR labels are 0..9`);
    rmSync(join(dir, 'data_batch_4.bin'));
    rmSync(join(dir, 'test_batch.bin'));
    expect(() => readCifarFolder(dir)).toThrow(`${dir}: CIFAR-10 files missing: data_batch_4.bin, test_batch.bin`);
  });

  describe('through the command line', () => {
    beforeAll(() => ensureBuilt());

    it('`fitlab data info` counts a good folder and refuses a truncated one without a stack trace', () => {
      const dir = join(tempDir('c10-cli'), 'cifar-10-batches-bin');
      writeCifar10(dir);
      const info = jsonOf<{ name: string; shape: number[]; train: { examples: number; perClass: number[] }; test: { examples: number } }>(fitlab(['data', 'info', dir, '--json']));
      expect(info.name).toBe('cifar10');
      expect(info.shape).toEqual([32, 32, 3]);
      expect(info.train.examples).toBe(10);
      expect(info.train.perClass).toEqual([0, 1, 2, 2, 2, 2, 1, 0, 0, 0]);
      expect(info.test.examples).toBe(3);
      const f = join(dir, 'test_batch.bin');
      writeFileSync(f, readFileSync(f).subarray(0, 3073 + 1000));
      const r = fitlab(['data', 'info', dir, '--json']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`fitlab: error: ${f}: 4073 bytes is not a whole number of 3073-byte CIFAR records`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  });
});

describe('CIFAR-100 binary', () => {
  it('fine labels (100 classes) and coarse labels (20) from the two label bytes; pixels after both bytes', async () => {
    const dir = join(tempDir('c100'), 'cifar-100-binary');
    writeCifar100(dir);
    const fine = readCifarFolder(dir, 'fine');
    expect(fine.name).toBe('cifar100');
    expect(fine.classes).toBe(100);
    expect(arr(fine.train.y)).toEqual([0, 99, 33]);
    expect(arr(fine.test!.y)).toEqual([49]);
    expect(fine.classNames[99]).toBe('fine99');
    const coarse = readCifarFolder(dir, 'coarse');
    expect(coarse.name).toBe('cifar100-coarse');
    expect(coarse.classes).toBe(20);
    expect(arr(coarse.train.y)).toEqual([4, 19, 11]);
    expect(arr(coarse.test!.y)).toEqual([10]);
    expect(coarse.classNames[19]).toBe('super19');
    for (const ds of [fine, coarse]) {
      expect(ds.shape).toEqual([32, 32, 3]);
      for (let i = 0; i < 3; i++) expectImage(ds.train.x, i, i + 1);
      expectImage(ds.test!.x, 0, 4);
    }
    // through loadDataset with the labels option
    expect(arr((await loadDataset(dir, { labels: 'coarse' })).train.y)).toEqual([4, 19, 11]);
  });

  it('a truncated record (3074-byte records), a fine label of 100, a coarse label of 20', () => {
    const dir = tempDir('c100-bad');
    writeCifar100(dir);
    const f = join(dir, 'train.bin');
    const good = readFileSync(f);
    writeFileSync(f, good.subarray(0, 3 * 3074 - 1));
    expect(() => readCifarFolder(dir)).toThrow(`${f}: ${3 * 3074 - 1} bytes is not a whole number of 3074-byte CIFAR records (truncated or corrupted, or not CIFAR-100)`);
    writeFileSync(f, cifar100Records([{ coarse: 1, fine: 100, seed: 0 }]));
    expect(() => readCifarFolder(dir)).toThrow(`${f} (fine): record 0 has label 100; CIFAR labels are 0..99`);
    writeFileSync(f, cifar100Records([{ coarse: 20, fine: 5, seed: 0 }]));
    expect(() => readCifarFolder(dir, 'fine')).toThrow(`${f} (coarse): record 0 has label 20; CIFAR labels are 0..19`);
  });
});
