/**
 * Datasets from bytes (src/data/from-bytes.ts, the browser's readers, issue 21) give exactly the
 * Dataset the Node readers give for the same files: real MNIST and Fashion-MNIST IDX files (raw
 * and gzipped), CIFAR-10/100 binary files written here in the official record layout, and an
 * image folder zipped with fflate against `readImageFolder` on the same folder on disk. The
 * pure PNG decoder agrees with pngjs on every colour type, bit depth, filter and interlace; the
 * zip reader refuses bombs and junk with one line naming the file, the value and the limit.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readCifarFolder } from '../../src/data/cifar.js';
import { type Dataset, DataFormatError } from '../../src/data/dataset.js';
import { datasetFromCifarBinary, datasetFromIdx, datasetFromIdxSplits, datasetFromImageZip, decodeImageBytes } from '../../src/data/from-bytes.js';
import { decodePng } from '../../src/data/image-decode.js';
import { readIdxDataset } from '../../src/data/idx.js';
import { readImageFolder } from '../../src/data/images.js';
import { testDataRoot } from '../cli/cli-helpers.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fitlab-from-bytes-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const skipped = (why: string): string => (why ? ` — skipped: ${why}` : '');

const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The same dataset but for where it came from (typed arrays compared as bytes: MNIST is 47 MB). */
function expectSameDataset(a: Dataset, b: Dataset): void {
  expect({ name: a.name, shape: a.shape, classes: a.classes, classNames: a.classNames, scale: a.scale, test: a.test === null })
    .toEqual({ name: b.name, shape: b.shape, classes: b.classes, classNames: b.classNames, scale: b.scale, test: b.test === null });
  expect(a.train.x instanceof Uint8Array).toBe(b.train.x instanceof Uint8Array);
  expect(sameBytes(a.train.x, b.train.x) && sameBytes(a.train.y, b.train.y)).toBe(true);
  if (a.test && b.test) expect(sameBytes(a.test.x, b.test.x) && sameBytes(a.test.y, b.test.y)).toBe(true);
}

// ---- IDX ---------------------------------------------------------------------------------------

const data = testDataRoot();
const MNIST = data.root ? join(data.root, 'mnist') : '';
const mnistMissing = !data.root ? data.reason : '';
const FASHION = '/usr/share/datasets/fashion-mnist';
const fashionMissing = (() => {
  try {
    readFileSync(join(FASHION, 't10k-labels-idx1-ubyte.gz'));
    return '';
  } catch {
    return `${FASHION} does not exist (apt-get install dataset-fashion-mnist)`;
  }
})();

const idxFiles = (dir: string): Record<'ti' | 'tl' | 'ei' | 'el', Uint8Array> => ({
  ti: readFileSync(join(dir, 'train-images-idx3-ubyte.gz')), tl: readFileSync(join(dir, 'train-labels-idx1-ubyte.gz')),
  ei: readFileSync(join(dir, 't10k-images-idx3-ubyte.gz')), el: readFileSync(join(dir, 't10k-labels-idx1-ubyte.gz')),
});

for (const [name, dir, missing] of [['mnist', MNIST, mnistMissing], ['fashion-mnist', FASHION, fashionMissing]] as const) {
  describe.skipIf(Boolean(missing))(`real ${name} IDX files from bytes${skipped(missing)}`, () => {
    it('train + t10k pairs (gzipped) give the Dataset readIdxDataset reads from the folder', () => {
      const f = idxFiles(dir);
      const ours = datasetFromIdxSplits({ images: f.ti, labels: f.tl }, { images: f.ei, labels: f.el }, name);
      const node = readIdxDataset(dir, name);
      expectSameDataset(ours, node);
      expect(ours.train.y.length).toBe(60000);
      expect(ours.test?.y.length).toBe(10000);
      expect(ours.shape).toEqual([28, 28, 1]);
      expect(ours.classNames[0]).toBe(name === 'mnist' ? '0' : 'T-shirt/top');
    });

    it('one pair, not gzipped, is the same training split with no test split', () => {
      const f = idxFiles(dir);
      const ours = datasetFromIdx(gunzipSync(f.ei), gunzipSync(f.el), name);
      const node = readIdxDataset(dir, name);
      expect(ours.test).toBeNull();
      expect(sameBytes(ours.train.x, node.test!.x) && sameBytes(ours.train.y, node.test!.y)).toBe(true);
      expect(ours.classes).toBe(10);
    });
  });
}

/** A small IDX file: uint8 data with the given dimensions. */
function idx(dims: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

describe('IDX from bytes: small files and bad input', () => {
  const images = idx([3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const labels = idx([3], [2, 0, 1]);

  it('an IDX set of another name numbers its classes by label, like the folder reader', () => {
    const root = tempDir();
    writeFileSync(join(root, 'train-images-idx3-ubyte'), images);
    writeFileSync(join(root, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    const ours = datasetFromIdx(gzipSync(images), labels, 'letters');
    expectSameDataset(ours, readIdxDataset(root, 'letters'));
    expect(ours.classes).toBe(3);
    expect(Array.from(ours.train.x.subarray(4, 8))).toEqual([4, 5, 6, 7]);
  });

  it('mismatched counts, a corrupt gzip stream, a bad magic number and a stray label each name the file', () => {
    expect(() => datasetFromIdx(images, idx([2], [0, 1]), 'letters')).toThrow(/letters train: 3 images in letters train images but 2 labels in letters train labels/);
    const gz = gzipSync(images);
    expect(() => datasetFromIdx(gz.subarray(0, gz.length - 9), labels, 'x')).toThrow(/x train images: the gzip stream is corrupt or truncated/);
    expect(() => datasetFromIdx(new Uint8Array([1, 2, 3, 4, 5]), labels, 'x')).toThrow(/x train images: not an IDX file \(magic number 0x01020304/);
    expect(() => datasetFromIdxSplits({ images, labels }, { images, labels: idx([3], [0, 1, 7]) }, 'x')).toThrow(/x test labels: label 7 at index 2 is outside 0\.\.2/);
    expect(() => datasetFromIdx(images, idx([3], [0, 1, 2, 3]), 'x')).toThrow(DataFormatError);
  });
});

// ---- CIFAR ----------------------------------------------------------------------------------

/** `n` records in the official layout: label byte(s), then 1024 red, 1024 green, 1024 blue. */
function cifarRecords(n: number, labelBytes: 1 | 2, seed: number, labelOf: (i: number) => number[]): Uint8Array {
  const rec = labelBytes + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    out.set(labelOf(i), i * rec);
    for (let p = 0; p < 3072; p++) out[i * rec + labelBytes + p] = (p * 7 + i * 31 + seed * 13) & 255;
  }
  return out;
}

describe('CIFAR binary from bytes', () => {
  it('CIFAR-10 batches (in a folder, as the tarball holds them) give what readCifarFolder reads', () => {
    const root = tempDir();
    const files: { name: string; bytes: Uint8Array }[] = [];
    const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
    names.forEach((f, k) => files.push({ name: `cifar-10-batches-bin/${f}`, bytes: cifarRecords(3, 1, k, (i) => [(i + k) % 10]) }));
    const meta = new TextEncoder().encode('plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
    files.push({ name: 'cifar-10-batches-bin/batches.meta.txt', bytes: meta }, { name: 'cifar-10-batches-bin/readme.html', bytes: new Uint8Array(3) });
    for (const f of files) writeFileSync(join(root, f.name.split('/')[1]), f.bytes);
    const ours = datasetFromCifarBinary(files, 'cifar');
    expectSameDataset(ours, readCifarFolder(root));
    expect(ours.train.y.length).toBe(15);
    expect(ours.classNames[0]).toBe('plane');
    // record 0 of data_batch_1: pixel 0 is (R, G, B) = bytes 1, 1025, 2049 of the record
    const b = files[0].bytes;
    expect(Array.from(ours.train.x.subarray(0, 3))).toEqual([b[1], b[1025], b[2049]]);
    expect(Array.from(ours.test!.y)).toEqual([5, 6, 7]);
  });

  it('CIFAR-100 train.bin/test.bin, fine and coarse labels, as readCifarFolder reads them', () => {
    const root = tempDir();
    const files = [
      { name: 'train.bin', bytes: cifarRecords(4, 2, 1, (i) => [i % 20, (i * 17) % 100]) },
      { name: 'test.bin', bytes: cifarRecords(2, 2, 2, (i) => [19 - i, 99 - i]) },
    ];
    for (const f of files) writeFileSync(join(root, f.name), f.bytes);
    for (const labels of ['fine', 'coarse'] as const) {
      const ours = datasetFromCifarBinary(files, 'c100', labels);
      expectSameDataset(ours, readCifarFolder(root, labels));
      expect(ours.classes).toBe(labels === 'fine' ? 100 : 20);
    }
    expect(Array.from(datasetFromCifarBinary(files, 'c100').train.y)).toEqual([0, 17, 34, 51]);
  });

  it('no CIFAR file, or a truncated batch: one line naming the files', () => {
    expect(() => datasetFromCifarBinary([{ name: 'a.png', bytes: new Uint8Array(4) }], 'cifar')).toThrow(/cifar: none of the 1 files picked is a CIFAR binary batch .*received a\.png/);
    const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']
      .map((name, k) => ({ name, bytes: cifarRecords(2, 1, k, () => [1]) }));
    files[2] = { name: files[2].name, bytes: files[2].bytes.subarray(0, 5000) };
    expect(() => datasetFromCifarBinary(files, 'cifar')).toThrow(/cifar\/data_batch_3\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR records/);
    expect(() => datasetFromCifarBinary(files.slice(0, 3), 'cifar')).toThrow(/CIFAR-10 files missing: data_batch_4\.bin, data_batch_5\.bin, test_batch\.bin/);
  });
});

// ---- PNG decoder against pngjs ------------------------------------------------------------

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length, false);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)), false);
  return out;
}

interface PngSpec {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  /** sample value of (x, y, channel) */
  sample: (x: number, y: number, c: number) => number;
  palette?: Uint8Array;
  trns?: Uint8Array;
}

/** A PNG written by hand (every row filter 0..4 in turn), so depths and layouts pngjs cannot write are covered. */
function encodePng(s: PngSpec): Uint8Array {
  const ch = CHANNELS[s.colorType];
  const bits = ch * s.depth;
  const bpp = Math.max(1, bits >> 3);
  const rows: number[] = [];
  let filterType = 0;
  for (const [x0, y0, dx, dy] of s.interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const w = Math.ceil((s.width - x0) / dx);
    const h = Math.ceil((s.height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const rowBytes = Math.ceil((w * bits) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let r = 0; r < h; r++) {
      const raw = new Uint8Array(rowBytes);
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < ch; c++) {
          const v = s.sample(x0 + x * dx, y0 + r * dy, c);
          const at = (x * ch + c) * s.depth;
          if (s.depth === 16) raw.set([v >> 8, v & 255], at >> 3);
          else if (s.depth === 8) raw[at >> 3] = v;
          else raw[at >> 3] |= v << (8 - s.depth - (at & 7));
        }
      }
      const f = filterType++ % 5;
      rows.push(f);
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? raw[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
        rows.push((raw[i] - [0, a, b, (a + b) >> 1, paeth][f]) & 255);
      }
      prev = raw;
    }
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, s.width, false);
  new DataView(ihdr.buffer).setUint32(4, s.height, false);
  ihdr.set([s.depth, s.colorType, 0, 0, s.interlaced ? 1 : 0], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (s.palette) parts.push(chunk('PLTE', s.palette));
  if (s.trns) parts.push(chunk('tRNS', s.trns));
  const z = deflateSync(Uint8Array.from(rows));
  // two IDAT chunks: the decoder must join them
  parts.push(chunk('IDAT', z.subarray(0, z.length >> 1)), chunk('IDAT', z.subarray(z.length >> 1)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

describe('the pure PNG decoder gives pngjs\' RGBA', () => {
  const cases: [number, number][] = [[0, 1], [0, 2], [0, 4], [0, 8], [0, 16], [2, 8], [2, 16], [3, 1], [3, 2], [3, 4], [3, 8], [4, 8], [4, 16], [6, 8], [6, 16]];
  for (const interlaced of [false, true]) {
    for (const [colorType, depth] of cases) {
      it(`colour type ${colorType}, ${depth}-bit${interlaced ? ', Adam7-interlaced' : ''}`, () => {
        const max = colorType === 3 ? Math.min(255, (1 << depth) - 1) : (1 << depth) - 1;
        const paletteSize = colorType === 3 ? Math.min(256, 1 << depth) : 0;
        const palette = paletteSize ? Uint8Array.from({ length: 3 * paletteSize }, (_, i) => (i * 53 + 11) & 255) : undefined;
        // a tRNS: palette alphas for the first few entries, or a colour key the image contains
        const sample = (x: number, y: number, c: number): number => ((x * 37 + y * 101 + c * 59 + ((x * y) % 7)) * 2654435761 >>> 7) % (max + 1);
        const trns = colorType === 3 ? Uint8Array.from([0, 128, 255].slice(0, paletteSize))
          : colorType === 0 ? Uint8Array.from([sample(3, 2, 0) >> 8, sample(3, 2, 0) & 255])
            : colorType === 2 ? Uint8Array.from([0, 1, 2].flatMap((c) => [sample(3, 2, c) >> 8, sample(3, 2, c) & 255])) : undefined;
        for (const [width, height] of [[13, 7], [1, 1], [9, 16]]) {
          const png = encodePng({ width, height, depth, colorType, interlaced, sample, palette, trns });
          const ref = PNG.sync.read(Buffer.from(png));
          const ours = decodePng(png, 'x.png');
          expect([ours.width, ours.height]).toEqual([width, height]);
          expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
        }
      });
    }
  }

  it('a truncated file, a bad CRC, a cut data stream and a wrong bit depth each name the file', () => {
    const png = encodePng({ width: 8, height: 8, depth: 8, colorType: 2, interlaced: false, sample: (x, y, c) => x + y + c });
    expect(() => decodePng(png.subarray(0, png.length - 30), 'a.png')).toThrow(/a\.png: unreadable image \(corrupt or truncated PNG data: .*is cut/);
    const flipped = Uint8Array.from(png);
    flipped[40] ^= 1;
    expect(() => decodePng(flipped, 'b.png')).toThrow(/b\.png: .*fails its CRC/);
    // an IDAT holding only the first rows: refused, not padded with black rows
    const short = deflateSync(new Uint8Array(3 * 25));
    const cut = Buffer.concat([png.subarray(0, 33), chunk('IDAT', short), chunk('IEND', new Uint8Array(0))]);
    expect(() => decodePng(cut, 'c.png')).toThrow(/c\.png: unreadable image \(its data holds 75 of the 200 bytes its header declares/);
    const badDepth = encodePng({ width: 2, height: 2, depth: 8, colorType: 2, interlaced: false, sample: () => 1 });
    badDepth[24] = 4; // RGB at 4 bits is not a PNG
    new DataView(badDepth.buffer, badDepth.byteOffset).setUint32(29, crc32(badDepth.subarray(12, 29)), false);
    expect(() => decodePng(badDepth, 'd.png')).toThrow(/d\.png: .*bit depth 4 with colour type 2 is not a valid PNG/);
  });

  it('decodeImageBytes: JPEG through jpeg-js as RGBA; neither PNG nor JPEG is refused', async () => {
    const rgba = Uint8Array.from({ length: 16 * 8 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 7) & 255));
    const jpg = jpeg.encode({ width: 16, height: 8, data: rgba }, 90).data;
    const ref = jpeg.decode(jpg, { useTArray: true, formatAsRGBA: true });
    const ours = await decodeImageBytes(jpg, 'a.jpg');
    expect([ours.width, ours.height]).toEqual([16, 8]);
    expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
    await expect(decodeImageBytes(new Uint8Array(20), 'z.png')).rejects.toThrow(/z\.png: unreadable image \(neither PNG nor JPEG/);
  });
});

// ---- image zip against the folder importer ----------------------------------------------------

function pngOf(width: number, height: number, gray: boolean, seed: number): Uint8Array {
  const png = new PNG({ width, height, colorType: gray ? 0 : 2, inputColorType: 6, bitDepth: 8 });
  for (let i = 0; i < width * height; i++) {
    const v = (i * 29 + seed * 71) & 255;
    png.data.set(gray ? [v, v, v, 255] : [v, (v * 3) & 255, 255 - v, 255], 4 * i);
  }
  return PNG.sync.write(png, { colorType: gray ? 0 : 2, inputColorType: 6 });
}

function jpegOf(width: number, height: number, seed: number): Uint8Array {
  const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13 + seed * 41) & 255));
  return jpeg.encode({ width, height, data }, 85).data;
}

/** A folder tree as path → bytes, written to disk and zipped. */
type Tree = Record<string, Uint8Array>;
function writeTree(tree: Tree): string {
  const root = tempDir();
  for (const [p, bytes] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), bytes);
  }
  return root;
}
const zipOf = (tree: Tree, prefix = ''): Uint8Array => zipSync(Object.fromEntries(Object.entries(tree).map(([p, b]) => [prefix + p, b])));

const colourTree = (): Tree => ({
  'train/cat/1.png': pngOf(6, 4, false, 1),
  'train/cat/2.jpg': jpegOf(6, 4, 2),
  'train/dog/10.png': pngOf(6, 4, true, 3),
  'train/dog/9.png': pngOf(6, 4, false, 4),
  'test/cat/3.png': pngOf(6, 4, true, 5),
  'test/dog/4.jpeg': jpegOf(6, 4, 6),
});

describe('an image folder as a zip gives the Dataset readImageFolder reads', () => {
  it('train/ and test/ with PNG (colour and gray) and JPEG: same pixels, labels, order and classes', async () => {
    const tree = colourTree();
    const node = readImageFolder(writeTree(tree), 'pets', undefined, () => undefined);
    const ours = await datasetFromImageZip(zipOf(tree), 'pets', decodeImageBytes);
    expectSameDataset(ours, node);
    expect(ours.shape).toEqual([4, 6, 3]);
    expect(ours.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ours.train.y)).toEqual([0, 0, 1, 1]);
    expect(ours.source).toBe('pets.zip');
  });

  it('class folders at the top, all grayscale: one channel, as the folder importer gives', async () => {
    const tree: Tree = { 'b/x.png': pngOf(5, 5, true, 1), 'a/y.png': pngOf(5, 5, true, 2), 'a/z.png': pngOf(5, 5, true, 3) };
    const ours = await datasetFromImageZip(zipOf(tree), 'g', decodeImageBytes);
    expectSameDataset(ours, readImageFolder(writeTree(tree), 'g', undefined, () => undefined));
    expect(ours.shape).toEqual([5, 5, 1]);
    expect(ours.test).toBeNull();
  });

  it('a zipped top folder, macOS __MACOSX/ and ._ files and hidden files are ignored; other files skipped with one warning', async () => {
    const tree = colourTree();
    const zip = zipSync({
      ...Object.fromEntries(Object.entries(tree).map(([p, b]) => [`pets/${p}`, b])),
      '__MACOSX/pets/train/cat/._1.png': new Uint8Array([0, 5, 22, 7]),
      'pets/train/cat/._1.png': new Uint8Array([0, 5, 22, 7]),
      'pets/.DS_Store': new Uint8Array(8),
      'pets/README.txt': new TextEncoder().encode('my pets'),
      'pets/train/cat/notes.md': new Uint8Array(2),
    });
    const warnings: string[] = [];
    const ours = await datasetFromImageZip(zip, 'pets', decodeImageBytes, { warn: (l) => warnings.push(l) });
    expectSameDataset(ours, readImageFolder(writeTree(tree), 'pets', undefined, () => undefined));
    expect(warnings).toEqual(['pets.zip: 2 entries are not PNG/JPEG images and were skipped (pets/README.txt, pets/train/cat/notes.md)']);
  });

  it('laid out as a folder is: files outside class folders and deeper files are skipped with a warning, not made classes', async () => {
    const tree = colourTree();
    const extra: Tree = { 'cover.png': pngOf(6, 4, false, 7), 'train/cat/old/8.png': pngOf(6, 4, false, 8), 'train/9.png': pngOf(6, 4, false, 9) };
    const warnings: string[] = [];
    const folderWarnings: string[] = [];
    const node = readImageFolder(writeTree({ ...tree, ...extra }), 'pets', undefined, (l) => folderWarnings.push(l));
    const ours = await datasetFromImageZip(zipOf({ ...tree, ...extra }, 'pets/'), 'pets', decodeImageBytes, { warn: (l) => warnings.push(l) });
    expectSameDataset(ours, node);
    expect(warnings).toEqual(['pets.zip: 3 images are not inside train/<class>/ or test/<class>/ and were skipped (pets/cover.png, pets/train/cat/old/8.png, pets/train/9.png)']);
    // without train/: <class>/<file> only
    const flat: Tree = { 'cat/1.png': pngOf(6, 4, false, 1), 'dog/2.png': pngOf(6, 4, false, 2), 'cover.png': pngOf(6, 4, false, 3) };
    const flatZip = await datasetFromImageZip(zipOf(flat, 'pets/'), 'pets', decodeImageBytes, { warn: () => undefined });
    expectSameDataset(flatZip, readImageFolder(writeTree(flat), 'pets', undefined, () => undefined));
    expect(flatZip.classNames).toEqual(['cat', 'dog']);
    // one class of files in one folder is that class, not a top folder to strip
    const one = await datasetFromImageZip(zipOf({ 'cat/1.png': pngOf(6, 4, false, 1), 'cat/2.png': pngOf(6, 4, false, 2) }), 'one', decodeImageBytes);
    expect(one.classNames).toEqual(['cat']);
  });

  it('decodes with the decoder it is given (the page\'s createImageBitmap), keeping channels by the file header', async () => {
    const tree = colourTree();
    const seen: string[] = [];
    const decode = async (bytes: Uint8Array, file: string): Promise<{ width: number; height: number; data: Uint8Array }> => {
      seen.push(file);
      const img = await decodeImageBytes(bytes, file);
      return { ...img, data: new Uint8ClampedArray(img.data) as unknown as Uint8Array };
    };
    const ours = await datasetFromImageZip(zipOf(tree), 'pets', decode);
    expect(seen.sort()).toEqual(Object.keys(tree).map((p) => `pets.zip:${p}`).sort());
    expectSameDataset(ours, await datasetFromImageZip(zipOf(tree), 'pets', decodeImageBytes));
  });
});

describe('hostile and broken image zips: one line naming the file, the value and the limit', () => {
  const tree = colourTree();
  const fail = (zip: Uint8Array, options = {}): Promise<unknown> => datasetFromImageZip(zip, 'pets', decodeImageBytes, options);

  it('more entries than allowed', async () => {
    await expect(fail(zipOf(tree), { limits: { maxEntries: 4 } })).rejects.toThrow(/^pets\.zip: the zip holds more than 4 entries; fitlab reads at most 4$/);
  });

  it('a zip bomb: entries inflating past the byte limit are refused before they are inflated', async () => {
    const bomb = zipSync({ 'train/a/1.png': new Uint8Array(20_000_000), 'train/b/1.png': pngOf(6, 4, false, 1) }, { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    await expect(fail(bomb, { limits: { maxBytes: 10_000_000 } })).rejects.toThrow(/^pets\.zip: its images inflate to more than 10,000,000 bytes \(at train\/a\/1\.png\); fitlab reads at most 10,000,000 bytes of images from a zip$/);
  });

  it('an entry whose directory record claims 2 GB (a lie to make the reader allocate) stops at the default limit', async () => {
    const zip = Uint8Array.from(zipOf({ 'train/a/1.png': pngOf(6, 4, false, 1) }));
    const view = new DataView(zip.buffer);
    let cd = zip.length - 22;
    cd = view.getUint32(cd + 16, true); // central directory offset from the end record
    expect(view.getUint32(cd, true)).toBe(0x02014b50);
    view.setUint32(cd + 24, 0x7fffffff, true);
    await expect(fail(zip)).rejects.toThrow(/inflate to more than 1,073,741,824 bytes \(at train\/a\/1\.png\)/);
  });

  it('not a zip; an empty training class folder; a test-only class; mixed sizes; a corrupt image; a decoder that lies', async () => {
    await expect(fail(new Uint8Array(100))).rejects.toThrow(/^pets\.zip: not a readable zip file \(/);
    await expect(fail(zipSync({ ...tree, 'train/bird/': new Uint8Array(0) }))).rejects.toThrow(/^pets\.zip:train\/bird: class folder holds no PNG\/JPEG images/);
    await expect(fail(zipSync({ 'pets/': new Uint8Array(0), 'pets/a/1.png': tree['train/cat/1.png'], 'pets/b/': new Uint8Array(0) })))
      .rejects.toThrow(/^pets\.zip:pets\/b: class folder holds no PNG\/JPEG images/);
    await expect(fail(zipOf({ ...tree, 'test/fox/1.png': pngOf(6, 4, false, 9) }))).rejects.toThrow(/^pets\.zip:test\/fox: class "fox" has test images but no training images/);
    await expect(fail(zipOf({ ...tree, 'train/dog/11.png': pngOf(4, 6, false, 9) }))).rejects.toThrow(/pets\.zip:train\/dog\/11\.png: 4×6 pixels, but earlier images are 6×4/);
    const bad = Uint8Array.from(tree['train/cat/1.png']).subarray(0, 50);
    await expect(fail(zipOf({ ...tree, 'train/cat/1.png': bad }))).rejects.toThrow(/^pets\.zip:train\/cat\/1\.png: unreadable image/);
    const liar = (): Promise<{ width: number; height: number; data: Uint8Array }> => Promise.resolve({ width: 6, height: 4, data: new Uint8Array(10) });
    await expect(datasetFromImageZip(zipOf(tree), 'pets', liar)).rejects.toThrow(/pets\.zip:train\/cat\/1\.png: the decoder returned 6×4 with 10 bytes; expected width×height×4 RGBA bytes/);
    await expect(fail(zipOf({ 'top.png': pngOf(6, 4, false, 1) }), { warn: () => undefined })).rejects.toThrow(/^pets\.zip: no images found/);
  });

  it('a header declaring more pixels than the file can hold is refused before the decoder runs', async () => {
    const png = Uint8Array.from(pngOf(6, 4, false, 1));
    // 5000×1000 pixels declared by a file of a few hundred bytes
    new DataView(png.buffer).setUint32(16, 5000, false);
    new DataView(png.buffer).setUint32(20, 1000, false);
    let called = 0;
    const decode = (b: Uint8Array, f: string): Promise<{ width: number; height: number; data: Uint8Array }> => {
      called++;
      return decodeImageBytes(b, f);
    };
    await expect(datasetFromImageZip(zipOf({ 'a/1.png': pngOf(6, 4, false, 1), 'b/1.png': png }), 'pets', decode))
      .rejects.toThrow(/^pets\.zip:b\/1\.png: the header declares 5000×1000 pixels, more than a \d+-byte PNG can hold \(corrupt header\)$/);
    expect(called).toBe(1); // the first, good image was decoded; the bad one never reached it
  });
});

describe('mutated inputs: a consistent result or a DataFormatError, never a crash of another kind', () => {
  /** Re-sign every chunk so mutations get past the CRC check into the decoder proper. */
  function resign(png: Uint8Array): Uint8Array {
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    for (let at = 8; at + 12 <= png.length;) {
      const length = view.getUint32(at, false);
      if (at + 12 + length > png.length) break;
      view.setUint32(at + 8 + length, crc32(png.subarray(at + 4, at + 8 + length)), false);
      at += 12 + length;
    }
    return png;
  }

  it('300 mutated PNGs (re-signed) and JPEGs through decodeImageBytes', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const sources = [
      encodePng({ width: 9, height: 7, depth: 8, colorType: 6, interlaced: true, sample: (x, y, c) => (x * 40 + y * 9 + c * 70) & 255 }),
      encodePng({ width: 12, height: 5, depth: 2, colorType: 3, interlaced: false, sample: (x, y) => (x + y) & 3, palette: Uint8Array.from({ length: 12 }, (_, i) => i * 20) }),
      jpegOf(16, 8, 3),
    ];
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const src = sources[i % 3];
      let bytes = Uint8Array.from(src);
      const kind = rand(3);
      if (kind === 0) bytes = bytes.subarray(0, 8 + rand(bytes.length - 8));
      else for (let k = 0; k <= rand(4); k++) bytes[8 + rand(bytes.length - 8)] = rand(256);
      if (i % 3 !== 2 && kind !== 0) resign(bytes);
      try {
        const img = await decodeImageBytes(bytes, `m${i}`);
        expect(img.data.length).toBe(4 * img.width * img.height);
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(DataFormatError);
        expect((err as Error).message).toMatch(new RegExp(`^m${i}: `));
        refused++;
      }
    }
    // both outcomes happen: the mutations reach the decoders, not only the CRC and header checks
    expect(decoded).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });

  it('100 mutated image zips: a dataset or a DataFormatError', async () => {
    const zip = zipOf(colourTree());
    let seed = 777;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 100; i++) {
      const bytes = Uint8Array.from(zip);
      for (let k = 0; k <= rand(3); k++) bytes[rand(bytes.length)] = rand(256);
      try {
        const ds = await datasetFromImageZip(i % 5 === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes, 'm', decodeImageBytes);
        expect(ds.train.x.length).toBe(ds.train.y.length * ds.shape.reduce((a, b) => a * b, 1));
      } catch (err) {
        expect(err).toBeInstanceOf(DataFormatError);
      }
    }
  });
});
