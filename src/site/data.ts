/**
 * The dataset of a run in the static site, from where the page says it is: a built-in set
 * (2-D sets, shapes), files the user picked (an IDX pair or four, CIFAR binary batches, an image
 * folder as a .zip), or IDX files beside the page listed in data/index.json (`fitlab site
 * --with-data`). Decoding is the library's (data/from-bytes); here only the choosing.
 */
import { datasetFromCifarBinary, datasetFromIdxSplits, datasetFromImageZip } from '../data/from-bytes.js';
import type { Dataset } from '../data/dataset.js';
import { SYNTHETIC_2D, type Synthetic2D, synthetic2d, syntheticShapes } from '../data/synthetic.js';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import type { SiteData, SiteDataEntry, SiteFile } from '../serve/protocol.js';

/** data/index.json beside the page: the datasets `fitlab site --with-data` copied. */
export async function readDataIndex(base: string): Promise<SiteDataEntry[]> {
  let res: Response;
  try {
    res = await fetch(new URL('data/index.json', base));
  } catch {
    return [];
  }
  if (!res.ok) return [];
  const json = (await res.json()) as { datasets?: SiteDataEntry[] };
  return Array.isArray(json.datasets) ? json.datasets : [];
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new FitlabError(`cannot fetch ${url.pathname}: ${res.status} ${res.statusText}`, 'the site was written with --with-data; are the data/ files still beside index.html?');
  return new Uint8Array(await res.arrayBuffer());
}

/** An IDX dataset of up to four files (train and test images and labels). */
function idxDataset(files: { trainImages: Uint8Array; trainLabels: Uint8Array; testImages?: Uint8Array; testLabels?: Uint8Array }, name: string): Dataset {
  const test = files.testImages && files.testLabels ? { images: files.testImages, labels: files.testLabels } : null;
  return datasetFromIdxSplits({ images: files.trainImages, labels: files.trainLabels }, test, name);
}

/** Which of the user's files is which IDX file, by the usual names (train-images-idx3-ubyte[.gz], t10k-…). */
function idxRoles(files: SiteFile[]): { trainImages?: SiteFile; trainLabels?: SiteFile; testImages?: SiteFile; testLabels?: SiteFile } {
  const find = (test: boolean, images: boolean): SiteFile | undefined =>
    files.find((f) => {
      const n = f.name.toLowerCase();
      const isTest = /t10k|test/.test(n);
      return isTest === test && (images ? /images?|idx3/.test(n) : /labels?|idx1/.test(n));
    });
  return { trainImages: find(false, true), trainLabels: find(false, false), testImages: find(true, true), testLabels: find(true, false) };
}

/** The few browser APIs the decoder uses (the project's TypeScript has Node's types, not the DOM's). */
interface Bitmap {
  width: number;
  height: number;
  close(): void;
}
interface Canvas2D {
  drawImage(image: Bitmap, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { width: number; height: number; data: Uint8ClampedArray };
}
interface WorkerGraphics {
  createImageBitmap(blob: Blob): Promise<Bitmap>;
  OffscreenCanvas: new (w: number, h: number) => { getContext(kind: '2d'): Canvas2D | null };
}

/** Decode an image file in a worker: the browser's decoder, drawn onto an OffscreenCanvas (RGBA bytes). */
async function decodeImage(bytes: Uint8Array, file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const gfx = globalThis as unknown as WorkerGraphics;
  let bitmap: Bitmap;
  try {
    bitmap = await gfx.createImageBitmap(new Blob([bytes]));
  } catch {
    throw new FitlabError(`${file}: the browser cannot decode this image (PNG, JPEG, GIF, WebP and BMP are read)`);
  }
  const ctx = new gfx.OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
  if (!ctx) throw new FitlabError(`${file}: this browser has no 2-D canvas in a worker to decode images with`);
  ctx.drawImage(bitmap, 0, 0);
  const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
}

/** The user's files as a dataset: a .zip of class folders, CIFAR .bin batches, or IDX files. */
async function filesDataset(files: SiteFile[]): Promise<Dataset> {
  if (!files.length) throw new ArgumentError('no files chosen: pick an IDX pair (or four), CIFAR binary batches (.bin) or a .zip of class folders');
  const zip = files.filter((f) => /\.zip$/i.test(f.name));
  if (zip.length) {
    if (files.length > 1) throw new ArgumentError(`an image folder comes as one .zip; received ${files.length} files (${files.map((f) => f.name).join(', ')})`);
    return datasetFromImageZip(zip[0].bytes, zip[0].name.replace(/\.zip$/i, ''), decodeImage);
  }
  // CIFAR batches (.bin), with the label-name .txt files the tarballs hold beside them
  if (files.some((f) => /\.bin$/i.test(f.name))) return datasetFromCifarBinary(files, 'cifar');
  const roles = idxRoles(files);
  if (!roles.trainImages || !roles.trainLabels) {
    throw new ArgumentError(`cannot tell the training images and labels among ${files.map((f) => describe(f.name)).join(', ')}`, 'IDX files are named like train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz), test ones t10k-…; CIFAR batches end in .bin; an image folder is one .zip');
  }
  // 'fashion-train-images…' names its set; the bare MNIST-style names do not
  const stem = roles.trainImages.name.replace(/[-_.]?train.*$/i, '') || 'your IDX files';
  return idxDataset({ trainImages: roles.trainImages.bytes, trainLabels: roles.trainLabels.bytes, testImages: roles.testImages?.bytes, testLabels: roles.testLabels?.bytes }, stem);
}

/** The dataset a run names (built-in sets as `fitlab train --dataset` makes them). `base` is the page's URL (data/ lies beside it). */
export async function loadSiteDataset(name: string, data: SiteData, base: string): Promise<Dataset> {
  if (data.kind === 'files') return filesDataset(data.files);
  if (data.kind === 'url') {
    const f = data.entry.files;
    const at = (file: string): URL => new URL(`data/${file}`, base);
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
      fetchBytes(at(f.trainImages)), fetchBytes(at(f.trainLabels)),
      f.testImages ? fetchBytes(at(f.testImages)) : undefined, f.testLabels ? fetchBytes(at(f.testLabels)) : undefined,
    ]);
    return idxDataset({ trainImages, trainLabels, testImages, testLabels }, data.entry.name);
  }
  if ((SYNTHETIC_2D as readonly string[]).includes(name)) return synthetic2d(name as Synthetic2D);
  if (name === 'shapes') return syntheticShapes();
  throw new ArgumentError(`unknown dataset ${describe(name)}; built in: ${[...SYNTHETIC_2D, 'shapes'].join(', ')}`);
}
