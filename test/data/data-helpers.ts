/**
 * Writers for the data tests: small files in the official layouts (IDX with its big-endian
 * header, CIFAR-10/100 binary records, PNG and JPEG images, a baseline grayscale JPEG built
 * byte by byte), temporary folders that are removed afterwards, and a listing of the atomic
 * writer's temporaries (`.fitlab-tmp-*`) left anywhere under a folder.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { TEMP_PREFIX } from '../../src/util/atomic.js';

/** A fresh folder under the OS temp dir; `cleanup()` removes every one made. */
const made: string[] = [];
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `fitlab-data-${tag}-`));
  made.push(d);
  return d;
}
export function cleanup(): void {
  while (made.length) rmSync(made.pop() as string, { recursive: true, force: true });
}

/** IDX bytes: 00 00 08 <ndim>, each dimension as a big-endian uint32, then the bytes. */
export function idxBytes(dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x00000800 + dims.length, 0); // 0x00000803 for images, 0x00000801 for labels
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}

export interface TinyIdx {
  /** n × rows × cols pixels, row-major */
  trainX: Uint8Array;
  trainY: Uint8Array;
  testX: Uint8Array;
  testY: Uint8Array;
  rows: number;
  cols: number;
}

/** A small IDX dataset with pixel (n, r, c) = (7n + 3r + c) mod 256 and labels n mod 3. */
export function tinyIdx(nTrain = 5, nTest = 2, rows = 3, cols = 4): TinyIdx {
  const px = (n: number, offset: number): Uint8Array => Uint8Array.from({ length: n * rows * cols }, (_, i) => {
    const k = Math.floor(i / (rows * cols)) + offset;
    const r = Math.floor((i % (rows * cols)) / cols);
    const c = i % cols;
    return (7 * k + 3 * r + c) % 256;
  });
  return {
    trainX: px(nTrain, 0), trainY: Uint8Array.from({ length: nTrain }, (_, i) => i % 3),
    testX: px(nTest, 100), testY: Uint8Array.from({ length: nTest }, (_, i) => (i + 1) % 3), rows, cols,
  };
}

/** Write the four canonical IDX files of `t` into `dir` (gzipped with a .gz name, or plain). */
export function writeIdxFolder(dir: string, t: TinyIdx, gz: boolean): void {
  mkdirSync(dir, { recursive: true });
  const put = (stem: string, bytes: Buffer): void => writeFileSync(join(dir, gz ? `${stem}.gz` : stem), gz ? gzipSync(bytes) : bytes);
  const nTrain = t.trainY.length;
  const nTest = t.testY.length;
  put('train-images-idx3-ubyte', idxBytes([nTrain, t.rows, t.cols], t.trainX));
  put('train-labels-idx1-ubyte', idxBytes([nTrain], t.trainY));
  put('t10k-images-idx3-ubyte', idxBytes([nTest, t.rows, t.cols], t.testX));
  put('t10k-labels-idx1-ubyte', idxBytes([nTest], t.testY));
}

/**
 * One CIFAR image, channel-major as in the binary files (1024 red, 1024 green, 1024 blue, each
 * row-major): value at (channel, row, col) = (seed + 50·channel + 5·row + col) mod 256.
 */
export function cifarPlanes(seed: number): Uint8Array {
  const out = new Uint8Array(3072);
  for (let ch = 0; ch < 3; ch++) for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) out[ch * 1024 + r * 32 + c] = (seed + 50 * ch + 5 * r + c) % 256;
  return out;
}

/** The NHWC value the loader must produce for cifarPlanes(seed) at (row, col, channel). */
export function cifarValue(seed: number, r: number, c: number, ch: number): number {
  return (seed + 50 * ch + 5 * r + c) % 256;
}

/** CIFAR-10 records: one label byte, 3072 pixel bytes. */
export function cifar10Records(records: { label: number; seed: number }[]): Buffer {
  return Buffer.concat(records.map((r) => Buffer.concat([Buffer.of(r.label), cifarPlanes(r.seed)])));
}

/** CIFAR-100 records: coarse label byte, fine label byte, 3072 pixel bytes. */
export function cifar100Records(records: { coarse: number; fine: number; seed: number }[]): Buffer {
  return Buffer.concat(records.map((r) => Buffer.concat([Buffer.of(r.coarse, r.fine), cifarPlanes(r.seed)])));
}

/** PNG bytes: gray (colorType 0) from one value per pixel, RGB (2) from three, RGBA (6) from four. */
export function pngBytes(width: number, height: number, pixels: ArrayLike<number>, channels: 1 | 3 | 4): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) png.data[4 * i + k] = pixels[channels * i + (channels === 1 ? 0 : k)];
    png.data[4 * i + 3] = channels === 4 ? pixels[4 * i + 3] : 255;
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : channels === 3 ? 2 : 6 });
}

/** An RGB JPEG (jpeg-js always writes three components). */
export function jpegBytes(width: number, height: number, rgb: ArrayLike<number>, quality = 95): Buffer {
  const rgba = Buffer.alloc(width * height * 4, 255);
  for (let i = 0; i < width * height; i++) for (let k = 0; k < 3; k++) rgba[4 * i + k] = rgb[3 * i + k];
  return Buffer.from(jpeg.encode({ data: rgba, width, height }, quality).data);
}

/**
 * A baseline grayscale JPEG (one component), 16×8: the left 8×8 block mid-gray 128, the right
 * one 192. Built segment by segment: a quantization table of ones; a DC Huffman table with two
 * 2-bit codes (00 → category 0, 01 → category 10) and an AC table whose only code is 0 → EOB.
 * Scan data: block 1 "00" (DC diff 0) "0" (EOB); block 2 "01" + 1000000000 (DC diff 512, which
 * is +512/8 = +64 after the inverse DCT) "0" (EOB): 16 bits, 0x0C 0x00.
 */
export function grayJpeg16x8(): Buffer {
  const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const dqt = seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]);
  const sof0 = seg(0xc0, [8, 0, 8, 0, 16, 1, 1, 0x11, 0]);
  const dcCounts = [0, 2, ...new Array<number>(14).fill(0)];
  const dhtDc = seg(0xc4, [0x00, ...dcCounts, 0, 10]);
  const acCounts = [1, ...new Array<number>(15).fill(0)];
  const dhtAc = seg(0xc4, [0x10, ...acCounts, 0x00]);
  const sos = seg(0xda, [1, 1, 0x00, 0, 63, 0]);
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof0, ...dhtDc, ...dhtAc, ...sos, 0x0c, 0x00, 0xff, 0xd9]);
}

export function writeFile(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** Every path under `root` (relative) whose name starts with the atomic writer's temp prefix. */
export function tempLeftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.startsWith(TEMP_PREFIX)) out.push(relative(root, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** Bytes as a plain array (for readable toEqual diffs on small buffers). */
export const arr = (a: ArrayLike<number>): number[] => Array.from(a);
