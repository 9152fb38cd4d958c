/**
 * IDX files (MNIST, Fashion-MNIST, EMNIST…): a big-endian header — two zero bytes, a type code,
 * the number of dimensions, then each dimension as uint32 — followed by the data. Gzipped files
 * (.gz, or gzip magic bytes) are inflated first. Only unsigned-byte data (type 0x08) is needed
 * for image datasets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Dataset, DataFormatError, type Split, checkLabelRange, classCountFromLabels } from './dataset.js';

export { DataFormatError };

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

function inflate(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (err) {
      throw new DataFormatError(`${file}: the gzip stream is corrupt or truncated (${(err as Error).message})`);
    }
  }
  return bytes;
}

/** Parse IDX bytes (already inflated). */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new DataFormatError(`${file}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    throw new DataFormatError(`${file}: not an IDX file (magic number 0x${magic.toString(16).padStart(8, '0')}; expected 0x00000803 for images, 0x00000801 for labels)`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
  if (type !== 0x08) throw new DataFormatError(`${file}: IDX data type 0x${type.toString(16)} is not supported (only 0x08, unsigned bytes)`);
  if (ndim < 1 || ndim > 4) throw new DataFormatError(`${file}: IDX with ${ndim} dimensions is not supported`);
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new DataFormatError(`${file}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== count) {
    throw new DataFormatError(`${file}: the header says ${dims.join('×')} = ${count} values but the file holds ${bytes.length - header} (truncated or corrupted)`);
  }
  return { dims, data: bytes.subarray(header) };
}

export function readIdx(file: string): IdxArray {
  return parseIdx(inflate(readFileSync(file), file), file);
}

/** The four canonical file stems of an IDX image dataset. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Find `stem` or `stem.gz` in a folder. */
export function findIdxFile(dir: string, stem: string): string | null {
  for (const name of [stem, `${stem}.gz`, stem.replace('-idx', '.idx'), `${stem.replace('-idx', '.idx')}.gz`]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export function isIdxFolder(dir: string): boolean {
  return findIdxFile(dir, IDX_FILES.trainImages) !== null && findIdxFile(dir, IDX_FILES.trainLabels) !== null;
}

function readPair(dir: string, images: string, labels: string): Split & { dims: number[]; labelFile: string } {
  const imgFile = findIdxFile(dir, images) as string;
  const lblFile = findIdxFile(dir, labels);
  if (!lblFile) throw new DataFormatError(`${dir}: ${labels}(.gz) is missing next to ${imgFile}`);
  const img = readIdx(imgFile);
  const lbl = readIdx(lblFile);
  if (img.dims.length !== 3) throw new DataFormatError(`${imgFile}: expected 3 dimensions (count, rows, columns); found ${img.dims.length}`);
  if (lbl.dims.length !== 1) throw new DataFormatError(`${lblFile}: expected 1 dimension (count); found ${lbl.dims.length}`);
  if (img.dims.some((d) => d === 0)) throw new DataFormatError(`${imgFile}: the header says ${img.dims.join('×')}; a dataset needs at least one image of at least 1×1 pixels`);
  if (img.dims[0] !== lbl.dims[0]) {
    throw new DataFormatError(`${dir}: ${img.dims[0]} images in ${imgFile} but ${lbl.dims[0]} labels in ${lblFile}`);
  }
  return { x: img.data, y: Int32Array.from(lbl.data), dims: img.dims, labelFile: lblFile };
}

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Class counts fixed by the dataset's definition; other IDX sets number their classes by label. */
const KNOWN_CLASS_COUNTS: Record<string, number> = { mnist: 10, 'fashion-mnist': 10 };

/** Read a folder holding the four IDX files (train, and test when present). */
export function readIdxDataset(dir: string, name: string): Dataset {
  const { dims, labelFile, ...train } = readPair(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  let test: Split | null = null;
  let testLabelFile = '';
  if (findIdxFile(dir, IDX_FILES.testImages) !== null) {
    const { dims: testDims, labelFile: lf, ...rest } = readPair(dir, IDX_FILES.testImages, IDX_FILES.testLabels);
    if (testDims[1] !== dims[1] || testDims[2] !== dims[2]) {
      throw new DataFormatError(`${dir}: test images are ${testDims[1]}×${testDims[2]} but training images are ${dims[1]}×${dims[2]}`);
    }
    test = rest;
    testLabelFile = lf;
  }
  // the test labels never add classes: a test label the training set lacks is an error
  const classes = KNOWN_CLASS_COUNTS[name] ?? classCountFromLabels(train.y, labelFile);
  checkLabelRange(train.y, classes, labelFile);
  if (test) checkLabelRange(test.y, classes, testLabelFile);
  const classNames = name === 'fashion-mnist' ? FASHION_CLASSES : Array.from({ length: classes }, (_, i) => String(i));
  return { name, source: dir, shape: [dims[1], dims[2], 1], classes, classNames, train, test, scale: 1 / 255 };
}
