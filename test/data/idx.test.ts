/**
 * The IDX reader (MNIST, Fashion-MNIST and any folder of the four canonical files) on files the
 * test writes in the official format — magic 0x00000803 for images, 0x00000801 for labels,
 * big-endian uint32 dimensions, then bytes: plain and gzipped files load back byte for byte as
 * NHWC (…×rows×cols×1) with int32 labels; the alternative `train-images.idx3-ubyte` name is
 * found; a wrong magic number, an unsupported type, a truncated header or body, trailing bytes,
 * a corrupt gzip stream, image/label count mismatches and a test set of another size are each a
 * clear error naming the file and the value — through the command line too, without a stack
 * trace.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillBatch } from '../../src/data/dataset.js';
import { DataFormatError, parseIdx, readIdx, readIdxDataset } from '../../src/data/idx.js';
import { loadDataset } from '../../src/data/locate.js';
import { STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';
import { arr, cleanup, idxBytes, tempDir, tinyIdx, writeIdxFolder } from './data-helpers.js';

afterAll(cleanup);

describe('IDX round trip', () => {
  it('the header is big-endian: dims [2, 3, 4] read back from hand-written bytes', () => {
    // 00 00 08 03 | 00 00 00 02 | 00 00 00 03 | 00 00 00 04 | 24 data bytes
    const bytes = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, ...Array.from({ length: 24 }, (_, i) => 100 + i)]);
    const a = parseIdx(bytes, 'hand.idx');
    expect(a.dims).toEqual([2, 3, 4]);
    expect(a.data).toHaveLength(24);
    expect(a.data[0]).toBe(100);
    expect(a.data[23]).toBe(123);
    // a dimension above 255 needs the high bytes: 0x00000103 = 259 labels
    const labels = idxBytes([259], new Array<number>(259).fill(7));
    expect(arr(labels.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 0, 1, 3]);
    expect(parseIdx(labels, 'l').dims).toEqual([259]);
  });

  for (const gz of [false, true]) {
    it(`a folder of the four files (${gz ? 'gzipped, .gz names' : 'uncompressed'}) loads pixel for pixel, labels as int32`, () => {
      const t = tinyIdx(5, 2, 3, 4);
      const dir = join(tempDir('idx'), 'digits');
      writeIdxFolder(dir, t, gz);
      const ds = readIdxDataset(dir, 'digits');
      expect(ds.shape).toEqual([3, 4, 1]);
      expect(ds.train.y).toBeInstanceOf(Int32Array);
      expect(arr(ds.train.y)).toEqual([0, 1, 2, 0, 1]);
      expect(arr(ds.test!.y)).toEqual([1, 2]);
      expect(ds.classes).toBe(3);
      expect(ds.classNames).toEqual(['0', '1', '2']);
      // pixel (n, r, c) = (7n + 3r + c) mod 256; example 4, row 2, col 3 → 28 + 6 + 3 = 37
      expect(ds.train.x[4 * 12 + 2 * 4 + 3]).toBe(37);
      expect(arr(ds.train.x)).toEqual(arr(t.trainX));
      // test example 1 (offset 100): 7·101 + 0 + 1 = 708 mod 256 = 196
      expect(ds.test!.x[12 + 1]).toBe(196);
      expect(arr(ds.test!.x)).toEqual(arr(t.testX));
      expect(ds.scale).toBeCloseTo(1 / 255, 12);
    });
  }

  it('gzip is recognised by its magic bytes even without a .gz name, and the .idx3-ubyte spelling is found', () => {
    const t = tinyIdx(3, 1, 2, 2);
    const dir = tempDir('idx-names');
    writeFileSync(join(dir, 'train-images.idx3-ubyte'), gzipSync(idxBytes([3, 2, 2], t.trainX)));
    writeFileSync(join(dir, 'train-labels.idx1-ubyte'), idxBytes([3], t.trainY));
    const ds = readIdxDataset(dir, 'x');
    expect(arr(ds.train.x)).toEqual(arr(t.trainX));
    expect(ds.test).toBeNull();
  });

  it('fashion-mnist gets the Fashion class names; pixels become [0, 1] floats at batch time', async () => {
    const t = tinyIdx(10, 2, 2, 2);
    t.trainY.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    t.trainX[0] = 255;
    t.trainX[1] = 51;
    const dir = join(tempDir('idx-fashion'), 'fashion-mnist');
    writeIdxFolder(dir, t, true);
    const ds = await loadDataset(dir);
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.classNames[0]).toBe('T-shirt/top');
    expect(ds.classNames[9]).toBe('Ankle boot');
    const out = new Float32Array(4);
    fillBatch(out, ds.train, [0], 0, 1, 4, ds.scale);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(0.2, 6);
  });
});

describe('broken IDX files: a clear error naming the file and what is wrong', () => {
  const dir = (): string => {
    const d = tempDir('idx-bad');
    writeIdxFolder(d, tinyIdx(4, 2, 3, 3), false);
    return d;
  };
  const images = (d: string): string => join(d, 'train-images-idx3-ubyte');
  const labels = (d: string): string => join(d, 'train-labels-idx1-ubyte');

  it('a wrong magic number (written little-endian: 03 08 00 00)', () => {
    const d = dir();
    const bytes = readFileSync(images(d));
    bytes.writeUInt32LE(0x00000803, 0);
    writeFileSync(images(d), bytes);
    expect(() => readIdxDataset(d, 'x')).toThrow(DataFormatError);
    expect(() => readIdxDataset(d, 'x')).toThrow(`${images(d)}: not an IDX file (magic number 0x03080000`);
  });

  it('an unsupported data type (0x0D, float) and a label file given where images belong', () => {
    const d = dir();
    const bytes = readFileSync(images(d));
    bytes[2] = 0x0d;
    writeFileSync(images(d), bytes);
    expect(() => readIdx(images(d))).toThrow(`${images(d)}: IDX data type 0xd is not supported`);
    const e = dir();
    writeFileSync(images(e), readFileSync(labels(e)));
    expect(() => readIdxDataset(e, 'x')).toThrow(`${images(e)}: expected 3 dimensions (count, rows, columns); found 1`);
  });

  it('a truncated body, trailing bytes, a truncated header, a 3-byte file', () => {
    const d = dir();
    const full = readFileSync(images(d));
    writeFileSync(images(d), full.subarray(0, full.length - 5));
    expect(() => readIdxDataset(d, 'x')).toThrow(`${images(d)}: the header says 4×3×3 = 36 values but the file holds 31 (truncated or corrupted)`);
    writeFileSync(images(d), Buffer.concat([full, Buffer.of(1, 2)]));
    expect(() => readIdxDataset(d, 'x')).toThrow('= 36 values but the file holds 38');
    writeFileSync(images(d), full.subarray(0, 10));
    expect(() => readIdxDataset(d, 'x')).toThrow(`${images(d)}: truncated IDX header`);
    writeFileSync(images(d), full.subarray(0, 3));
    expect(() => readIdxDataset(d, 'x')).toThrow(`${images(d)}: 3 bytes is too short for an IDX header`);
  });

  it('a truncated gzip stream', () => {
    const d = tempDir('idx-gz');
    writeIdxFolder(d, tinyIdx(50, 2, 8, 8), true);
    const f = join(d, 'train-images-idx3-ubyte.gz');
    const gz = readFileSync(f);
    writeFileSync(f, gz.subarray(0, Math.floor(gz.length / 2)));
    expect(() => readIdxDataset(d, 'x')).toThrow(`${f}: the gzip stream is corrupt or truncated`);
  });

  it('image and label counts that disagree name both files and both counts', () => {
    const d = dir();
    writeFileSync(labels(d), idxBytes([3], [0, 1, 2]));
    expect(() => readIdxDataset(d, 'x')).toThrow(`4 images in ${images(d)} but 3 labels in ${labels(d)}`);
  });

  it('a missing test label file, and test images of another size than the training images', () => {
    const d = dir();
    rmSync(join(d, 't10k-labels-idx1-ubyte'));
    expect(() => readIdxDataset(d, 'x')).toThrow(`${d}: t10k-labels-idx1-ubyte(.gz) is missing next to ${join(d, 't10k-images-idx3-ubyte')}`);
    const e = dir();
    writeFileSync(join(e, 't10k-images-idx3-ubyte'), idxBytes([2, 4, 4], new Array<number>(32).fill(0)));
    expect(() => readIdxDataset(e, 'x')).toThrow('test images are 4×4 but training images are 3×3');
    writeFileSync(join(e, 't10k-labels-idx1-ubyte'), '');
    expect(() => readIdxDataset(e, 'x')).toThrow(`${join(e, 't10k-labels-idx1-ubyte')}: 0 bytes is too short for an IDX header`);
  });

  describe('through the command line', () => {
    beforeAll(() => ensureBuilt());

    it('`fitlab data info <folder>` with a wrong magic number: exit 1, the file and the value, no stack trace', () => {
      const d = dir();
      const bytes = readFileSync(labels(d));
      bytes.writeUInt32BE(0x12340801, 0);
      writeFileSync(labels(d), bytes);
      const r = fitlab(['data', 'info', d, '--json']);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`fitlab: error: ${labels(d)}: not an IDX file (magic number 0x12340801`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });

    it('`fitlab data info <folder>` with mismatched counts: exit 1, both counts, no stack trace', () => {
      const d = dir();
      writeFileSync(labels(d), idxBytes([5], [0, 1, 2, 0, 1]));
      const r = fitlab(['data', 'info', d]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`4 images in ${images(d)} but 5 labels in ${labels(d)}`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  });
});
