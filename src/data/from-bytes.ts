/**
 * Datasets from bytes the user picked, with no Node module (issue 21: the static site reads
 * files from an <input type=file> or a URL beside the page). The formats are the ones the CLI
 * reads from disk, through the same parsers: IDX (src/data/idx-format.ts), CIFAR binary
 * (src/data/cifar-format.ts) and an image folder, here zipped (src/data/image-assemble.ts, the
 * rules of `fitlab data import <folder>`). gzip and zip are inflated with fflate.
 *
 * A zip is hostile input: its entry count and the sizes its entries declare are capped before
 * anything is inflated (fflate inflates an entry into a buffer of its declared size, so an entry
 * that lies about its size cannot grow past it).
 */
import { gunzipSync, unzipSync } from 'fflate';
import { ArgumentError } from '../errors.js';
import { type CifarFiles, CIFAR_FILES, type Cifar100Labels, assembleCifar, cifarKindOf } from './cifar-format.js';
import { type Dataset, DataFormatError } from './dataset.js';
import { IMAGE_EXT, type ImageEntry, type Warn, assembleImagesAsync } from './image-assemble.js';
import { type RgbaImage, checkImageHeader, fromRgba, headerChannels } from './image-decode.js';
import { type IdxPair, idxDataset, isGzip, parseIdx } from './idx-format.js';

export { decodeImageBytes, type RgbaImage } from './image-decode.js';

/** An IDX images file and its labels file, each raw or gzipped. */
export interface IdxBytes {
  images: Uint8Array;
  labels: Uint8Array;
}

function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataFormatError(`${file}: the gzip stream is corrupt or truncated (${(err as Error).message})`);
  }
}

function idxPair(pair: IdxBytes, name: string, which: 'train' | 'test'): IdxPair {
  const imageFile = `${name} ${which} images`;
  const labelFile = `${name} ${which} labels`;
  return {
    images: parseIdx(gunzipIfNeeded(pair.images, imageFile), imageFile),
    labels: parseIdx(gunzipIfNeeded(pair.labels, labelFile), labelFile),
    imageFile, labelFile, where: `${name} ${which}`,
  };
}

/**
 * A dataset from IDX training and (optional) test pairs, as `readIdxDataset` reads a folder:
 * names 'mnist' and 'fashion-mnist' get their 10 classes (and Fashion's class names); any other
 * name numbers its classes by the training labels.
 * @example datasetFromIdxSplits({ images: trainImg, labels: trainLbl }, { images: testImg, labels: testLbl }, 'mnist')
 */
export function datasetFromIdxSplits(train: IdxBytes, test: IdxBytes | null, name: string): Dataset {
  return idxDataset(idxPair(train, name, 'train'), test ? idxPair(test, name, 'test') : null, name, `${name} (IDX files)`);
}

/** A dataset of one IDX pair (its train split; no test split). */
export function datasetFromIdx(images: Uint8Array, labels: Uint8Array, name: string): Dataset {
  return datasetFromIdxSplits({ images, labels }, null, name);
}

/**
 * CIFAR-10 (data_batch_1..5.bin, test_batch.bin, batches.meta.txt) or CIFAR-100 (train.bin,
 * test.bin, fine/coarse_label_names.txt) binary files as the official tarballs hold them; names
 * may carry folders (only the last part counts). Other files are ignored. `name` is unused by
 * the reader: the dataset is named cifar10 / cifar100 / cifar100-coarse as the CLI names it.
 */
export function datasetFromCifarBinary(files: { name: string; bytes: Uint8Array }[], name: string, labels: Cifar100Labels = 'fine'): Dataset {
  const byName: CifarFiles = new Map();
  for (const f of files) {
    const base = f.name.split(/[\\/]/).pop() as string;
    if (CIFAR_FILES.has(base)) byName.set(base, f.bytes);
  }
  const kind = cifarKindOf(byName);
  if (!kind) {
    throw new DataFormatError(`${name}: none of the ${files.length} files picked is a CIFAR binary batch (data_batch_1.bin… test_batch.bin for CIFAR-10, train.bin and test.bin for CIFAR-100); received ${files.slice(0, 4).map((f) => f.name).join(', ')}${files.length > 4 ? ', …' : ''}`);
  }
  return assembleCifar(kind, byName, name, labels);
}

/** What an image zip may hold; past either limit, reading stops with an error naming the limit. */
export interface ZipLimits {
  /** entries in the zip's directory (files and folders) */
  maxEntries: number;
  /** total bytes the read entries declare once inflated */
  maxBytes: number;
}

/** 200,000 entries (CIFAR-10 as PNGs is 60,000), 1 GiB inflated (well inside a browser tab's memory). */
export const ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxBytes: 2 ** 30 };

/** macOS's resource-fork copies (`__MACOSX/…`, `._name`) and hidden files: never data. */
const isJunk = (path: string): boolean => path.split('/').some((p) => p === '__MACOSX' || p.startsWith('.'));

const noWarn: Warn = () => undefined;

export interface ImageZipOptions {
  /** one line per thing skipped (non-image entries) */
  warn?: Warn;
  onProgress?: (done: number, total: number) => void;
  limits?: Partial<ZipLimits>;
}

/** The image files and folder entries of a zip, limits enforced; non-images skipped with one warning. */
function unzipImages(zip: Uint8Array, source: string, limits: ZipLimits, warn: Warn): { files: [string, Uint8Array][]; folders: string[] } {
  const folders: string[] = [];
  const skipped: string[] = [];
  let count = 0;
  let bytes = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (++count > limits.maxEntries) throw new DataFormatError(`${source}: the zip holds more than ${limits.maxEntries.toLocaleString('en-US')} entries; fitlab reads at most ${limits.maxEntries.toLocaleString('en-US')}`);
        if (f.name.endsWith('/')) {
          if (!isJunk(f.name)) folders.push(f.name.replace(/\/+$/, ''));
          return false;
        }
        if (isJunk(f.name)) return false;
        if (!IMAGE_EXT.test(f.name)) {
          skipped.push(f.name);
          return false;
        }
        if (f.compression !== 0 && f.compression !== 8) throw new DataFormatError(`${source}:${f.name}: zip compression method ${f.compression} is not supported (only stored and deflate)`);
        bytes += f.originalSize;
        if (bytes > limits.maxBytes) {
          throw new DataFormatError(`${source}: its images inflate to more than ${limits.maxBytes.toLocaleString('en-US')} bytes (at ${f.name}); fitlab reads at most ${limits.maxBytes.toLocaleString('en-US')} bytes of images from a zip`);
        }
        return true;
      },
    });
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    throw new DataFormatError(`${source}: not a readable zip file (${(err as Error).message})`);
  }
  if (skipped.length) warn(`${source}: ${skipped.length} entr${skipped.length === 1 ? 'y is' : 'ies are'} not PNG/JPEG images and ${skipped.length === 1 ? 'was' : 'were'} skipped (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''})`);
  return { files: Object.entries(files), folders };
}

/**
 * The zip's images as the folder importer sees a folder (readImageFolder): a top folder all
 * images share (the zipped folder itself) is stripped; then, when a train/ folder exists, only
 * train|test/<class>/<file> are images of the dataset, else only <class>/<file>. Files elsewhere
 * are skipped with one warning; an empty training class folder is an error, as in a folder.
 */
function folderEntries(zip: { files: [string, Uint8Array][]; folders: string[] }, source: string, warn: Warn): ImageEntry[] {
  const split = (p: string): string[] => p.split('/').filter(Boolean);
  const paths = zip.files.map(([p]) => split(p));
  // one folder holding everything, with class folders inside it (not a lone class of files)
  const top = paths.length && paths.every((p) => p.length >= 2 && p[0] === paths[0][0]) && paths.some((p) => p.length >= 3) ? paths[0][0] : null;
  const rel = (parts: string[]): string[] => (top !== null && parts[0] === top ? parts.slice(1) : parts);
  const hasSplits = paths.some((p) => rel(p)[0] === 'train' && rel(p).length >= 2) || zip.folders.some((f) => rel(split(f))[0] === 'train');
  const entries: ImageEntry[] = [];
  const elsewhere: string[] = [];
  zip.files.forEach(([path, data], i) => {
    const parts = rel(paths[i]);
    const ok = hasSplits ? parts.length === 3 && (parts[0] === 'train' || parts[0] === 'test') : parts.length === 2;
    if (!ok) {
      elsewhere.push(path);
      return;
    }
    entries.push({ split: hasSplits ? (parts[0] as 'train' | 'test') : null, className: parts.at(-2) as string, name: parts.at(-1) as string, path: `${source}:${path}`, data });
  });
  if (elsewhere.length) {
    const where = hasSplits ? 'train/<class>/ or test/<class>/' : 'a <class>/ folder';
    warn(`${source}: ${elsewhere.length} image${elsewhere.length === 1 ? ' is' : 's are'} not inside ${where} and ${elsewhere.length === 1 ? 'was' : 'were'} skipped (${elsewhere.slice(0, 3).join(', ')}${elsewhere.length > 3 ? ', …' : ''})`);
  }
  // an empty training class folder is a class with no examples (checked once there are images)
  const holding = new Set(entries.filter((e) => e.split !== 'test').map((e) => e.className));
  const empty = zip.folders.find((f) => {
    const parts = rel(split(f));
    return hasSplits ? parts.length === 2 && parts[0] === 'train' && !holding.has(parts[1]) : parts.length === 1 && !holding.has(parts[0]);
  });
  if (entries.length && empty !== undefined) {
    throw new DataFormatError(`${source}:${empty}: class folder holds no PNG/JPEG images; every class needs training images (add some, or remove the folder)`);
  }
  return entries;
}

/**
 * A dataset from a zip of an image folder, laid out as `fitlab data import <folder>` reads one:
 * `[top/][train/|test/]<class>/<image>.png|jpg` (see folderEntries). `decode` turns a file's bytes into RGBA (in a
 * page: createImageBitmap + OffscreenCanvas; anywhere: `decodeImageBytes`); grayscale files
 * (by their header, as the folder importer decides) keep one channel.
 * @example const ds = await datasetFromImageZip(bytes, 'pets', decodeImageBytes);
 */
export async function datasetFromImageZip(
  zip: Uint8Array, name: string, decode: (bytes: Uint8Array, file: string) => Promise<RgbaImage>, options: ImageZipOptions = {},
): Promise<Dataset> {
  const limits = { ...ZIP_LIMITS, ...options.limits };
  for (const [key, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`zip limit ${key} must be a positive integer; received ${String(v)}`);
  }
  const source = `${name}.zip`;
  const warn = options.warn ?? noWarn;
  const entries = folderEntries(unzipImages(zip, source, limits, warn), source, warn);
  return assembleImagesAsync(entries, source, name, async (e) => {
    checkImageHeader(e.data, e.path);
    const img = await decode(e.data, e.path);
    const data: unknown = img?.data;
    if (!img || !ArrayBuffer.isView(data) || (data as Uint8Array).length !== 4 * img.width * img.height || !(img.width > 0 && img.height > 0)) {
      throw new DataFormatError(`${e.path}: the decoder returned ${img ? `${String(img.width)}×${String(img.height)} with ${String((data as Uint8Array | undefined)?.length)} bytes` : String(img)}; expected width×height×4 RGBA bytes`);
    }
    return fromRgba({ width: img.width, height: img.height, data: data as Uint8Array }, headerChannels(e.data));
  }, options.onProgress);
}
