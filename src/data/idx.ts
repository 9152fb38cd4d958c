/**
 * IDX files (MNIST, Fashion-MNIST, EMNIST…) on disk: finds the four canonical files in a folder
 * (gzipped or not) and reads them. The format itself — header, checks, how a pair becomes a
 * Dataset — lives in src/data/idx-format.ts, shared with the browser's from-bytes reader.
 * Gzipped files (.gz, or gzip magic bytes) are inflated here with Node's zlib (faster than
 * fflate on the 47 MB of MNIST).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset } from './dataset.js';
import { DataFormatError } from './dataset.js';
import { FASHION_CLASSES, type IdxArray, type IdxPair, idxDataset, isGzip, parseIdx } from './idx-format.js';

export { DataFormatError, FASHION_CLASSES, type IdxArray, parseIdx };

function inflate(bytes: Uint8Array, file: string): Uint8Array {
  if (isGzip(bytes)) {
    try {
      return gunzipSync(bytes);
    } catch (err) {
      throw new DataFormatError(`${file}: the gzip stream is corrupt or truncated (${(err as Error).message})`);
    }
  }
  return bytes;
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

function readPair(dir: string, images: string, labels: string): IdxPair {
  const imageFile = findIdxFile(dir, images) as string;
  const labelFile = findIdxFile(dir, labels);
  if (!labelFile) throw new DataFormatError(`${dir}: ${labels}(.gz) is missing next to ${imageFile}`);
  return { images: readIdx(imageFile), labels: readIdx(labelFile), imageFile, labelFile, where: dir };
}

/** Read a folder holding the four IDX files (train, and test when present). */
export function readIdxDataset(dir: string, name: string): Dataset {
  const train = readPair(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = findIdxFile(dir, IDX_FILES.testImages) !== null ? readPair(dir, IDX_FILES.testImages, IDX_FILES.testLabels) : null;
  return idxDataset(train, test, name, dir);
}
