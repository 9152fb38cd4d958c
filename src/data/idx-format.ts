/**
 * The IDX format without a file system (shared by the Node reader src/data/idx.ts and the
 * browser's src/data/from-bytes.ts): a big-endian header — two zero bytes, a type code, the
 * number of dimensions, then each dimension as uint32 — followed by the data; and how an images
 * file plus a labels file become a Dataset. Only unsigned-byte data (type 0x08) is needed for
 * image datasets.
 */
import { type Dataset, DataFormatError, type Split, checkLabelRange, classCountFromLabels } from './dataset.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Gzip's magic bytes: a .gz file, whatever its name. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
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

/** A parsed images file and labels file, with the names errors use for them. */
export interface IdxPair {
  images: IdxArray;
  labels: IdxArray;
  imageFile: string;
  labelFile: string;
  /** names both (a folder, or "a and b") where a message is about the pair */
  where: string;
}

export type IdxSplit = Split & { dims: number[]; labelFile: string };

/** Check an images/labels pair's ranks and counts and make a split of it. */
export function idxSplit(pair: IdxPair): IdxSplit {
  const { images: img, labels: lbl, imageFile, labelFile } = pair;
  if (img.dims.length !== 3) throw new DataFormatError(`${imageFile}: expected 3 dimensions (count, rows, columns); found ${img.dims.length}`);
  if (lbl.dims.length !== 1) throw new DataFormatError(`${labelFile}: expected 1 dimension (count); found ${lbl.dims.length}`);
  if (img.dims.some((d) => d === 0)) throw new DataFormatError(`${imageFile}: the header says ${img.dims.join('×')}; a dataset needs at least one image of at least 1×1 pixels`);
  if (img.dims[0] !== lbl.dims[0]) {
    throw new DataFormatError(`${pair.where}: ${img.dims[0]} images in ${imageFile} but ${lbl.dims[0]} labels in ${labelFile}`);
  }
  return { x: img.data, y: Int32Array.from(lbl.data), dims: img.dims, labelFile };
}

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Class counts fixed by the dataset's definition; other IDX sets number their classes by label. */
const KNOWN_CLASS_COUNTS: Record<string, number> = { mnist: 10, 'fashion-mnist': 10 };

/**
 * A Dataset from a training pair and an optional test pair. The test labels never add classes:
 * a test label the training set lacks is an error.
 */
export function idxDataset(trainPair: IdxPair, testPair: IdxPair | null, name: string, source: string): Dataset {
  const { dims, labelFile, ...train } = idxSplit(trainPair);
  let test: Split | null = null;
  let testLabelFile = '';
  if (testPair) {
    const { dims: testDims, labelFile: lf, ...rest } = idxSplit(testPair);
    if (testDims[1] !== dims[1] || testDims[2] !== dims[2]) {
      throw new DataFormatError(`${source}: test images are ${testDims[1]}×${testDims[2]} but training images are ${dims[1]}×${dims[2]}`);
    }
    test = rest;
    testLabelFile = lf;
  }
  const classes = Object.hasOwn(KNOWN_CLASS_COUNTS, name) ? KNOWN_CLASS_COUNTS[name] : classCountFromLabels(train.y, labelFile);
  checkLabelRange(train.y, classes, labelFile);
  if (test) checkLabelRange(test.y, classes, testLabelFile);
  const classNames = name === 'fashion-mnist' ? FASHION_CLASSES : Array.from({ length: classes }, (_, i) => String(i));
  return { name, source, shape: [dims[1], dims[2], 1], classes, classNames, train, test, scale: 1 / 255 };
}
