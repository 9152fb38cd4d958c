/**
 * Bad data is refused, not learned (issue 14), through the real command line as a user hits it:
 * `fitlab data info`, `fitlab data import` and `fitlab train --dataset` on datasets written in
 * the official layouts with one thing wrong.
 *   - labels out of range: a stray 255 or 10 in an MNIST label file, a test label of 200 in a
 *     set whose classes come from its training labels; the error names the file, the index and
 *     the value, and no cache is written;
 *   - archive members that climb out ('..'), absolute paths, links out of the archive or in
 *     place of an image: refused naming the archive and the entry;
 *   - image folders: a class only in test/, a training class folder with no images; a link to
 *     an image outside the dataset folder, and a linked class folder, are skipped with a warning
 *     (Keras' image_dataset_from_directory default, follow_links=False), a link inside is read;
 *   - image headers that lie: more pixels than the file can hold, zero pixels, PNG data shorter
 *     than the header declares (while valid interlaced, 1-bit, 16-bit and palette PNGs still read).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/locate.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { cleanup, grayJpeg16x8, idxBytes, pngBytes, tempDir, tinyIdx, writeFile, writeIdxFolder } from '../data/data-helpers.js';
import { type TarEntry, tarGz } from './tar-bytes.js';

beforeAll(() => ensureBuilt());
afterAll(cleanup);

interface Info { classes: number; classNames: string[]; train: { examples: number; perClass: number[] }; test: { examples: number } | null }

/** The CLI refused with one `fitlab: error:` line matching `message`, and no stack trace. */
function expectRefused(args: string[], message: string | RegExp): string {
  const r = fitlab(args);
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  const line = r.stderr.split('\n').find((l) => l.startsWith('fitlab: error: ')) ?? '';
  if (typeof message === 'string') expect(line).toContain(message);
  else expect(line).toMatch(message);
  return r.stderr;
}

/** A 2×2 gray PNG whose pixels are all `v`. */
const png = (v: number): Buffer => pngBytes(2, 2, [v, v, v, v], 1);

describe('IDX labels are range-checked against the class count', () => {
  it('a label of 255 (and of 10) in an MNIST training label file is refused, naming the file, index and value', () => {
    for (const bad of [255, 10]) {
      const t = tinyIdx(6, 2, 2, 2);
      t.trainY[4] = bad;
      const dir = join(tempDir('bad-mnist'), 'mnist');
      writeIdxFolder(dir, t, false);
      expectRefused(['data', 'info', dir], `${dir}/train-labels-idx1-ubyte: label ${bad} at index 4 is outside 0..9`);
      const out = join(tempDir('bad-mnist-out'), 'cache');
      expectRefused(['data', 'import', dir, '--name', 'mnist', '--out', out], `label ${bad} at index 4 is outside 0..9`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a test label of 200 in a set numbered by its training labels (0..2) is refused by fitlab train', () => {
    const t = tinyIdx(6, 3, 2, 2);
    t.testY[1] = 200;
    const dir = join(tempDir('bad-test-label'), 'digits');
    writeIdxFolder(dir, t, true);
    const runs = tempDir('bad-test-label-runs');
    expectRefused(['train', '--dataset', dir, '--model', 'paper-mlp', '--epochs', '1', '--out', runs], `${dir}/t10k-labels-idx1-ubyte.gz: label 200 at index 1 is outside 0..2`);
  });

  it('a stray 255 among training labels 0..2 of an unnamed set: the labels between never occur, so it is not a class', () => {
    const t = tinyIdx(6, 2, 2, 2);
    t.trainY[5] = 255;
    const dir = join(tempDir('bad-stray'), 'digits');
    writeIdxFolder(dir, t, false);
    expectRefused(['data', 'info', dir], `${dir}/train-labels-idx1-ubyte: label 255 at index 5 is outside 0..2 (labels 3..254 never occur in training`);
  });

  it('a well-formed unnamed set still loads with the classes its training labels number', () => {
    const dir = join(tempDir('good-idx'), 'digits');
    writeIdxFolder(dir, tinyIdx(6, 2, 2, 2), false);
    const info = jsonOf<Info>(fitlab(['data', 'info', dir, '--json']));
    expect(info.classes).toBe(3);
    expect(info.train.perClass).toEqual([2, 2, 2]);
  });

  it('a truncated IDX label file (header says more than it holds) is refused naming the file', () => {
    const dir = join(tempDir('bad-trunc'), 'digits');
    const t = tinyIdx(6, 2, 2, 2);
    writeIdxFolder(dir, t, false);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([6], t.trainY).subarray(0, 11));
    expectRefused(['data', 'info', dir], `${dir}/train-labels-idx1-ubyte: the header says 6 = 6 values but the file holds 3`);
  });

  it('an IDX set with no images, or images of 0 rows, is refused (not a dataset of nothing)', () => {
    for (const dims of [[0, 2, 2], [6, 0, 2]]) {
      const dir = join(tempDir('bad-empty-idx'), 'digits');
      writeIdxFolder(dir, tinyIdx(6, 2, 2, 2), false);
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes(dims, []));
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([dims[0]], new Array<number>(dims[0]).fill(0)));
      expectRefused(['data', 'info', dir], `${dir}/train-images-idx3-ubyte: the header says ${dims.join('×')}; a dataset needs at least one image of at least 1×1 pixels`);
    }
  });
});

/** CRC-32 (PNG's, bit-reflected polynomial 0xEDB88320), so a test can re-sign a changed chunk. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('an image header declaring more pixels than its file holds is refused before decoding', () => {
  it('a 2×2 PNG re-signed to claim 6000×6000, and a tiny JPEG claiming 10000×10000: refused naming the file', () => {
    const root = join(tempDir('big-header'), 'pets');
    writeFile(join(root, 'cat', '1.png'), png(1));
    const bigPng = Buffer.from(png(2));
    bigPng.writeUInt32BE(6000, 16);
    bigPng.writeUInt32BE(6000, 20);
    bigPng.writeUInt32BE(crc32(bigPng.subarray(12, 29)), 29); // IHDR: type and data, then its CRC
    writeFile(join(root, 'dog', '1.png'), bigPng);
    expectRefused(['data', 'info', root], `${root}/dog/1.png: the header declares 6000×6000 pixels, more than a ${bigPng.length}-byte PNG can hold`);
    const bigJpeg = Buffer.from(grayJpeg16x8());
    const sof = bigJpeg.indexOf(Buffer.from([0xff, 0xc0]));
    bigJpeg.writeUInt16BE(10000, sof + 5);
    bigJpeg.writeUInt16BE(10000, sof + 7);
    writeFile(join(root, 'dog', '1.png'), png(2));
    writeFile(join(root, 'dog', '2.jpg'), bigJpeg);
    expectRefused(['data', 'info', root], `${root}/dog/2.jpg: the header declares 10000×10000 pixels; fitlab reads images of at most 67,108,864 pixels`);
    bigJpeg.writeUInt16BE(0, sof + 7);
    writeFile(join(root, 'dog', '2.jpg'), bigJpeg);
    expectRefused(['data', 'info', root], `${root}/dog/2.jpg: the header declares 0×10000 pixels; an image needs at least 1×1`);
  });

  it('valid PNGs of other layouts are still read: Adam7-interlaced, 1-bit, 16-bit, palette', async () => {
    const W = 13;
    const H = 7;
    const gray = (x: number, y: number): number => (x * 16 + y * 8) & 255;
    const rows = (x0: number, y0: number, dx: number, dy: number, pixel: (x: number, y: number) => number[], bits: number): Buffer[] => {
      const out: Buffer[] = [];
      for (let y = y0; y < H; y += dy) {
        const values: number[] = [];
        for (let x = x0; x < W; x += dx) values.push(...pixel(x, y));
        if (!values.length) continue;
        const row = Buffer.alloc(1 + Math.ceil((values.length * bits) / 8)); // filter byte 0, then packed samples
        values.forEach((v, k) => (bits === 1 ? (row[1 + (k >> 3)] |= v << (7 - (k & 7))) : bits === 16 ? row.writeUInt16BE(v, 1 + 2 * k) : (row[1 + k] = v)));
        out.push(row);
      }
      return out;
    };
    const chunk = (type: string, data: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([len, body, crc]);
    };
    const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
    const pngOf = (bits: number, colorType: number, interlace: boolean, pixel: (x: number, y: number) => number[], plte?: Buffer, cut = 0): Buffer => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(W, 0);
      ihdr.writeUInt32BE(H, 4);
      ihdr.set([bits, colorType, 0, 0, interlace ? 1 : 0], 8);
      const full = Buffer.concat(interlace ? ADAM7.flatMap(([x0, y0, dx, dy]) => rows(x0, y0, dx, dy, pixel, bits)) : rows(0, 0, 1, 1, pixel, bits));
      const raw = full.subarray(0, full.length - cut);
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...(plte ? [chunk('PLTE', plte)] : []), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
    };
    const root = join(tempDir('png-layouts'), 'shapes');
    writeFile(join(root, 'a', '1.png'), pngOf(8, 0, true, (x, y) => [gray(x, y)]));
    writeFile(join(root, 'a', '2.png'), pngOf(8, 0, false, (x, y) => [gray(x, y)]));
    writeFile(join(root, 'b', '1.png'), pngOf(1, 0, true, (x, y) => [(x + y) & 1]));
    writeFile(join(root, 'b', '2.png'), pngOf(16, 0, true, (x, y) => [gray(x, y) * 257]));
    writeFile(join(root, 'c', '1.png'), pngOf(8, 3, true, (x, y) => [(x + y) % 4], Buffer.from([0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255])));
    const ds = await loadDataset(root);
    expect(ds.shape).toEqual([H, W, 3]); // the palette image is colour: every image gets 3 channels
    const per = W * H * 3;
    const expected = Array.from({ length: W * H }, (_, i) => gray(i % W, Math.floor(i / W)));
    const channel0 = (k: number): number[] => Array.from({ length: W * H }, (_, i) => ds.train.x[k * per + 3 * i]);
    expect(channel0(0)).toEqual(expected); // interlaced 8-bit, pixel for pixel
    expect(channel0(1)).toEqual(expected);
    expect(channel0(2)).toEqual(Array.from({ length: W * H }, (_, i) => ((i % W) + Math.floor(i / W)) & 1 ? 255 : 0));
    expect(channel0(3)).toEqual(expected); // 16-bit v·257 scales back to v
    expect(channel0(4)).toEqual(Array.from({ length: W * H }, (_, i) => 85 * (((i % W) + Math.floor(i / W)) % 4)));
    // the interlaced size is exact: one byte short of the seven passes is refused
    // (passes of 2×1, 2×1, 4×1, 3×2, 7×2, 6×4 and 13×3 pixels, a filter byte per row: 3 + 3 + 5 + 8 + 16 + 28 + 42 = 105 bytes)
    writeFile(join(root, 'c', '2.png'), pngOf(8, 0, true, (x, y) => [gray(x, y)], undefined, 1));
    await expect(loadDataset(root)).rejects.toThrow(`${root}/c/2.png: unreadable image (its data holds 104 of the 105 bytes`);
  });

  it('a 2×2 PNG re-signed as 2×3 (data for two rows, a header for three) is refused, not padded with a black row', () => {
    const root = join(tempDir('short-png'), 'pets');
    writeFile(join(root, 'cat', '1.png'), pngBytes(2, 3, [1, 2, 3, 4, 5, 6], 1));
    const short = Buffer.from(pngBytes(2, 2, [10, 20, 30, 40], 1));
    short.writeUInt32BE(3, 20);
    short.writeUInt32BE(crc32(short.subarray(12, 29)), 29);
    writeFile(join(root, 'dog', '1.png'), short);
    expectRefused(['data', 'info', root], `${root}/dog/1.png: unreadable image (its data holds 6 of the 9 bytes its header declares: truncated or corrupt PNG)`);
  });
});

describe('archive members that leave the archive, or links, are refused', () => {
  const image = (name: string, v = 1): TarEntry => ({ name, data: png(v) });
  const cases: [string, TarEntry, string][] = [
    ['a ".." member (a phantom class)', image('ds/train/cat/../../../x.png'), `"ds/train/cat/../../../x.png" has a '..' segment`],
    ['an absolute path', image('/tmp/ds/train/cat/y.png'), '"/tmp/ds/train/cat/y.png" is an absolute path'],
    ['a symbolic link to /etc/passwd', { name: 'ds/train/cat/z.png', type: '2', linkname: '/etc/passwd' }, '"ds/train/cat/z.png" is a link to "/etc/passwd", outside the archive'],
    ['a hard link that climbs out', { name: 'ds/train/cat/h.png', type: '1', linkname: '../../etc/passwd' }, '"ds/train/cat/h.png" is a link to "../../etc/passwd", outside the archive'],
    ['a symbolic link inside the archive standing in for an image', { name: 'ds/train/dog/2.png', type: '2', linkname: '1.png' }, '"ds/train/dog/2.png" is a link (to "1.png")'],
  ];
  for (const [what, bad, message] of cases) {
    it(`${what}: fitlab data import names the archive and the member, writes nothing`, () => {
      const dir = tempDir('bad-tar');
      const file = join(dir, 'ds.tar.gz');
      writeFileSync(file, tarGz([image('ds/train/cat/1.png', 1), image('ds/train/dog/1.png', 2), bad, image('ds/test/cat/1.png', 3)]));
      const out = join(dir, 'cache');
      expectRefused(['data', 'import', file, '--name', 'ds', '--out', out], `${file}: archive entry ${message}`);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('the same archive without the bad member imports: 2 classes, 2 train, 1 test', () => {
    const dir = tempDir('good-tar');
    const file = join(dir, 'ds.tar.gz');
    writeFileSync(file, tarGz([{ name: 'ds/', type: '5' }, image('./ds/train/cat/1.png', 1), image('ds/train/dog/1.png', 2), image('ds/test/cat/1.png', 3)]));
    const info = jsonOf<Info>(fitlab(['data', 'import', file, '--name', 'ds', '--out', join(dir, 'cache'), '--json']));
    expect(info.classNames).toEqual(['cat', 'dog']);
    expect(info.train.examples).toBe(2);
    expect(info.test?.examples).toBe(1);
  });

  it('an empty train/<class>/ folder in the archive is refused like the folder case', () => {
    const dir = tempDir('bad-tar-empty');
    const file = join(dir, 'ds.tar.gz');
    writeFileSync(file, tarGz([{ name: 'ds/train/', type: '5' }, { name: 'ds/train/bird/', type: '5' }, { name: 'ds/train/cat/', type: '5' }, image('ds/train/cat/1.png'), image('ds/train/dog/1.png')]));
    expectRefused(['data', 'info', file], `${file}:ds/train/bird: class folder holds no PNG/JPEG images`);
  });

  it('a class only in the archive\'s test part is refused like the folder case', () => {
    const dir = tempDir('bad-tar-class');
    const file = join(dir, 'ds.tar.gz');
    writeFileSync(file, tarGz([image('ds/train/cat/1.png'), image('ds/test/horse/1.png')]));
    expectRefused(['data', 'info', file], `${file}:ds/test/horse: class "horse" has test images but no training images`);
  });
});

describe('class folders: every class has training images, every test class is a training class', () => {
  function pets(): string {
    const root = join(tempDir('pets'), 'pets');
    writeFile(join(root, 'train', 'cat', '1.png'), png(1));
    writeFile(join(root, 'train', 'dog', '1.png'), png(2));
    writeFile(join(root, 'test', 'cat', '1.png'), png(3));
    return root;
  }

  it('a class folder only in test/ is refused by data import and by train, naming the folder', () => {
    const root = pets();
    writeFile(join(root, 'test', 'horse', '1.png'), png(4));
    const message = `${root}/test/horse: class "horse" has test images but no training images (no train/horse)`;
    expectRefused(['data', 'import', root, '--name', 'pets', '--out', join(root, '..', 'cache')], message);
    expectRefused(['train', '--dataset', root, '--model', 'paper-mlp', '--epochs', '1', '--out', join(root, '..', 'runs')], message);
  });

  it('a training class folder with no images (only a note) is refused, naming it', () => {
    const root = pets();
    writeFile(join(root, 'train', 'bird', 'README.txt'), 'photos to come');
    expectRefused(['data', 'info', root], `${root}/train/bird: class folder holds no PNG/JPEG images; every class needs training images`);
    const flat = join(tempDir('flat'), 'flat');
    writeFile(join(flat, 'a', '1.png'), png(1));
    mkdirSync(join(flat, 'b'));
    expectRefused(['data', 'info', flat], `${flat}/b: class folder holds no PNG/JPEG images`);
  });

  it('an empty test class folder whose class is trained on is harmless', () => {
    const root = pets();
    mkdirSync(join(root, 'test', 'dog'));
    const info = jsonOf<Info>(fitlab(['data', 'info', root, '--json']));
    expect(info.classNames).toEqual(['cat', 'dog']);
    expect(info.test?.examples).toBe(1);
  });

  it('links: an image linked from outside the dataset and a linked class folder are skipped with a warning; a link inside is read', () => {
    const root = pets();
    const outside = tempDir('outside');
    writeFile(join(outside, 'secret.png'), png(200));
    writeFile(join(outside, 'bird', '1.png'), png(201));
    symlinkSync(join(outside, 'secret.png'), join(root, 'train', 'cat', '2.png'));
    symlinkSync(join(outside, 'bird'), join(root, 'train', 'bird'));
    symlinkSync(join('..', 'cat', '1.png'), join(root, 'train', 'dog', '2.png'));
    const r = fitlab(['data', 'info', root, '--json']);
    const info = jsonOf<Info>(r);
    expect(info.classNames).toEqual(['cat', 'dog']);
    expect(info.train.perClass).toEqual([1, 2]);
    expect(r.stderr).toContain(`fitlab: warning: ${root}/train/cat/2.png is a link to a file outside`);
    expect(r.stderr).toContain(`fitlab: warning: ${root}/train/bird is a link to a folder; skipped`);
  });

  it('a class whose only image links outside is then a class with no images: refused', () => {
    const root = pets();
    const outside = tempDir('outside-only');
    writeFile(join(outside, 'x.png'), png(9));
    mkdirSync(join(root, 'train', 'fox'));
    symlinkSync(join(outside, 'x.png'), join(root, 'train', 'fox', '1.png'));
    const stderr = expectRefused(['data', 'info', root], `${root}/train/fox: class folder holds no PNG/JPEG images`);
    expect(stderr).toContain(`${root}/train/fox/1.png is a link to a file outside`);
  });
});
