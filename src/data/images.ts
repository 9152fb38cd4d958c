/**
 * A user's own images: `<root>/{train,test}/<class>/*.png|jpg`, or one level of class folders
 * `<root>/<class>/*` (split later with --val), in a folder or a .tar.gz. PNG is decoded with
 * pngjs, JPEG with jpeg-js (both pure JavaScript). Classes are the sorted folder names (as
 * Keras' image_dataset_from_directory does); every image must have the same size; grayscale
 * images give one channel, anything else three (alpha is dropped).
 */
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { constants, inflateSync } from 'node:zlib';
import { readTarMembers } from './archive.js';
import type { Dataset, Split } from './dataset.js';
import { DataFormatError } from './idx.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

interface Frame {
  width: number;
  height: number;
  /** colour components (JPEG only) */
  components: number | null;
}

/** What a JPEG's frame header (SOFn) declares, or null if none is found. */
function jpegFrame(data: Uint8Array): Frame | null {
  let i = 2;
  while (i + 4 <= data.length && data[i] === 0xff) {
    const marker = data[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // FF Cn, length (2), precision (1), height (2), width (2), components (1)
      if (i + 9 >= data.length) return null;
      return { height: (data[i + 5] << 8) | data[i + 6], width: (data[i + 7] << 8) | data[i + 8], components: data[i + 9] };
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2; // markers without a length
      continue;
    }
    i += 2 + ((data[i + 2] << 8) | data[i + 3]);
  }
  return null;
}

/** What a PNG's IHDR (the first chunk: width, height as big-endian uint32 at bytes 16 and 20) declares. */
function pngFrame(data: Uint8Array): Frame | null {
  if (data.length < 24) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { width: view.getUint32(16, false), height: view.getUint32(20, false), components: null };
}

const CHANNELS_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: column start, row start, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** The filtered bytes a PNG's IHDR calls for (a filter byte per row, per pass when interlaced), or null. */
function pngRawBytes(data: Uint8Array): number | null {
  const frame = pngFrame(data);
  const channels = CHANNELS_BY_COLOR_TYPE[data[25]];
  if (!frame || !channels || data.length < 29) return null;
  const bits = channels * data[24];
  const rows = (w: number, h: number): number => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (data[28] === 0) return rows(frame.width, frame.height);
  const pass = ([x0, y0, dx, dy]: number[]): number => rows(Math.ceil((frame.width - x0) / dx), Math.ceil((frame.height - y0) / dy));
  return ADAM7.reduce((sum, p) => sum + pass(p), 0);
}

/**
 * Refuse a PNG whose image data is shorter than its header declares: pngjs fills the missing
 * rows with zeros (a 2×2 image re-signed as 2×3 decodes with a black row), so a cut or
 * tampered file would be learned as a different picture.
 */
function checkPngData(data: Uint8Array, file: string): void {
  const expected = pngRawBytes(data);
  if (expected === null) return;
  const idat: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 8; at + 8 <= data.length;) {
    const length = view.getUint32(at, false);
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(data.subarray(at + 8, Math.min(data.length, at + 8 + length)));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  let held: number;
  try {
    held = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1, finishFlush: constants.Z_SYNC_FLUSH }).length;
  } catch {
    return; // corrupt or oversized streams: the decoder says what is wrong
  }
  if (held < expected) throw new DataFormatError(`${file}: unreadable image (its data holds ${held} of the ${expected} bytes its header declares: truncated or corrupt PNG)`);
}

/** 8192×8192: far above any image a dataset held in memory uses, far below what exhausts it. */
const MAX_PIXELS = 1 << 26;
/**
 * The most pixels one byte of a valid file can carry: a JPEG codes at least one bit per 8×8
 * block (512 pixels a byte); deflate packs at most 1032 bytes in one, and a 1-bit PNG has 8
 * pixels a byte. Both with a 2× margin.
 */
const PIXELS_PER_BYTE = { png: 16_384, jpeg: 1_024 };

/**
 * Refuse a header declaring more pixels than the file can hold, before a decoder allocates for
 * them: a 300-byte JPEG claiming 10000×10000 pixels took 13 s and 1 GB to fail, a PNG claiming
 * as much decoded as zeros.
 */
function checkDeclaredSize(frame: Frame | null, bytes: number, kind: 'png' | 'jpeg', file: string): void {
  if (!frame) return;
  const pixels = frame.width * frame.height;
  const held = Math.max(1 << 20, PIXELS_PER_BYTE[kind] * bytes);
  if (pixels === 0) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels; an image needs at least 1×1`);
  if (pixels > MAX_PIXELS) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels; fitlab reads images of at most ${MAX_PIXELS.toLocaleString('en-US')} pixels`);
  if (pixels > held) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels, more than a ${bytes}-byte ${kind.toUpperCase()} can hold (corrupt header)`);
}

/** Decode a PNG or JPEG; errors name the file. */
export function decodeImage(data: Uint8Array, file: string): DecodedImage {
  const isPng = data.length > 8 && data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47;
  const isJpeg = data.length > 3 && data[0] === 0xff && data[1] === 0xd8;
  if (!isPng && !isJpeg) throw new DataFormatError(`${file}: unreadable image (neither PNG nor JPEG by its first bytes)`);
  checkDeclaredSize(isPng ? pngFrame(data) : jpegFrame(data), data.length, isPng ? 'png' : 'jpeg', file);
  if (isPng) checkPngData(data, file);
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const gray = png.colorType === 0 || png.colorType === 4;
      const n = png.width * png.height;
      const pixels = new Uint8Array(n * (gray ? 1 : 3));
      for (let i = 0; i < n; i++) {
        if (gray) pixels[i] = png.data[4 * i];
        else {
          pixels[3 * i] = png.data[4 * i];
          pixels[3 * i + 1] = png.data[4 * i + 1];
          pixels[3 * i + 2] = png.data[4 * i + 2];
        }
      }
      return { width: png.width, height: png.height, channels: gray ? 1 : 3, pixels };
    }
    const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 512 });
    const n = img.width * img.height;
    if (img.data.length !== 3 * n) throw new Error(`${img.data.length / n} channels`);
    // jpeg-js always returns RGB: a one-component (grayscale) JPEG comes back with R = G = B
    if (jpegFrame(data)?.components !== 1) return { width: img.width, height: img.height, channels: 3, pixels: img.data };
    const pixels = new Uint8Array(n);
    for (let i = 0; i < n; i++) pixels[i] = img.data[3 * i];
    return { width: img.width, height: img.height, channels: 1, pixels };
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    // the decoders throw plain Errors, and on some corrupt streams a TypeError from inside them:
    // all of it means the bytes are not a valid image
    throw new DataFormatError(`${file}: unreadable image (corrupt or truncated ${isPng ? 'PNG' : 'JPEG'} data: ${(err as Error).message})`);
  }
}

export interface ImageEntry {
  split: 'train' | 'test' | null;
  className: string;
  /** sort key within its class */
  name: string;
  path: string;
  data: Uint8Array;
}

const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name, 'en', { numeric: true });

/** Build a dataset from image entries (decoded here). */
export function assembleImages(entries: ImageEntry[], source: string, name: string, onProgress?: (done: number, total: number) => void): Dataset {
  if (entries.length === 0) throw new DataFormatError(`${source}: no images found (expected <class>/*.png|jpg, optionally under train/ and test/)`);
  const splits = entries.some((e) => e.split !== null) ? (['train', 'test'] as const) : ([null] as const);
  const trainEntries = entries.filter((e) => e.split === splits[0]);
  if (!trainEntries.length) throw new DataFormatError(`${source}: no training images (a train/ folder, or class folders at the top)`);
  // the classes are the training classes: a class seen only in test would be a class the model
  // can never predict, and would shift no label but inflate the output layer
  const classNames = [...new Set(trainEntries.map((e) => e.className))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const stray = entries.find((e) => !classIndex.has(e.className));
  if (stray) {
    throw new DataFormatError(
      `${dirname(stray.path)}: class ${JSON.stringify(stray.className)} has test images but no training images (no train/${stray.className}); every test class must be a training class`,
    );
  }
  let shape: [number, number] | null = null;
  let gray = true;
  const decoded = new Map<ImageEntry, DecodedImage>();
  let done = 0;
  for (const e of entries) {
    const img = decodeImage(e.data, e.path);
    if (!shape) shape = [img.height, img.width];
    else if (img.height !== shape[0] || img.width !== shape[1]) {
      throw new DataFormatError(`${e.path}: ${img.width}×${img.height} pixels, but earlier images are ${shape[1]}×${shape[0]}; all images must have the same size`);
    }
    if (img.channels === 3) gray = false;
    decoded.set(e, img);
    if (onProgress && ++done % 1000 === 0) onProgress(done, entries.length);
  }
  const [h, w] = shape as [number, number];
  const c = gray ? 1 : 3;
  const per = h * w * c;
  const build = (which: 'train' | 'test' | null): Split | null => {
    const list = entries.filter((e) => e.split === which);
    if (!list.length) return null;
    // class by class, files in name order: a stable, reproducible example order
    list.sort((a, b) => (classIndex.get(a.className) as number) - (classIndex.get(b.className) as number) || byName(a, b));
    const x = new Uint8Array(list.length * per);
    const y = new Int32Array(list.length);
    list.forEach((e, i) => {
      const img = decoded.get(e) as DecodedImage;
      if (img.channels === c) x.set(img.pixels, i * per);
      else for (let p = 0; p < h * w; p++) x.fill(img.pixels[p], i * per + 3 * p, i * per + 3 * p + 3);
      y[i] = classIndex.get(e.className) as number;
    });
    return { x, y };
  };
  const train = build(splits[0]) as Split;
  return { name, source, shape: [h, w, c], classes: classNames.length, classNames, train, test: splits.length === 2 ? build('test') : null, scale: 1 / 255 };
}

/** Where warnings go: the CLI's stderr by default, a list in tests. */
export type Warn = (line: string) => void;
export const stderrWarn: Warn = (line) => process.stderr.write(`fitlab: warning: ${line}\n`);

/** Is `path`'s real location inside the real folder `root`? (false for a dangling link) */
function insideRoot(path: string, root: string): boolean {
  try {
    const rel = relative(root, realpathSync(path));
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  } catch {
    return false;
  }
}

interface Listing {
  entries: ImageEntry[];
  /** class folders holding no image */
  empty: string[];
}

/**
 * The images of `<dir>/<class>/*`. Links are handled as Keras' image_dataset_from_directory
 * does by default (follow_links=False): a linked class folder is skipped; a linked image is
 * read only when it points inside the dataset folder `root`, so a link cannot pull a file from
 * elsewhere on the machine into the data. Each skip is a warning.
 */
function listClassFolders(dir: string, split: 'train' | 'test' | null, root: string, warn: Warn): Listing {
  const listing: Listing = { entries: [], empty: [] };
  for (const cls of readdirSync(dir, { withFileTypes: true })) {
    if (cls.name.startsWith('.')) continue;
    const clsPath = join(dir, cls.name);
    if (cls.isSymbolicLink()) {
      if (isDir(clsPath)) warn(`${clsPath} is a link to a folder; skipped (linked class folders are not followed)`);
      continue;
    }
    if (!cls.isDirectory()) continue;
    let found = 0;
    for (const f of readdirSync(clsPath, { withFileTypes: true })) {
      if (!IMAGE_EXT.test(f.name)) continue;
      const path = join(clsPath, f.name);
      if (f.isSymbolicLink() && !insideRoot(path, root)) {
        warn(`${path} is a link to a file outside ${root} (or to nothing); skipped`);
        continue;
      }
      if (!statSync(path).isFile()) continue;
      listing.entries.push({ split, className: cls.name, name: f.name, path, data: readFileSync(path) });
      found++;
    }
    if (!found) listing.empty.push(clsPath);
  }
  return listing;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Does this folder look like an image dataset? */
export function isImageFolder(dir: string): boolean {
  const probe = (d: string): boolean => readdirSync(d, { withFileTypes: true }).some((e) => e.isDirectory() && readdirSync(join(d, e.name)).some((f) => IMAGE_EXT.test(f)));
  if (!isDir(dir)) return false;
  if (isDir(join(dir, 'train'))) return probe(join(dir, 'train'));
  return probe(dir);
}

export function readImageFolder(dir: string, name: string, onProgress?: (done: number, total: number) => void, warn: Warn = stderrWarn): Dataset {
  const root = realpathSync(dir);
  const hasSplits = isDir(join(dir, 'train'));
  const train = listClassFolders(hasSplits ? join(dir, 'train') : dir, hasSplits ? 'train' : null, root, warn);
  const test = hasSplits && isDir(join(dir, 'test')) ? listClassFolders(join(dir, 'test'), 'test', root, warn) : { entries: [], empty: [] };
  // an empty training class folder is a class with no examples: Keras would make it a class the
  // model can never learn (checked once there are images at all, so an empty folder still says
  // "no images found")
  if (train.entries.length && train.empty.length) {
    throw new DataFormatError(`${train.empty[0]}: class folder holds no PNG/JPEG images; every class needs training images (add some, or remove the folder)`);
  }
  return assembleImages([...train.entries, ...test.entries], dir, name, onProgress);
}

/** Images inside a .tar.gz: paths ending in [train|test/]<class>/<file>. */
export async function readImageTarball(file: string, name: string, onProgress?: (done: number, total: number) => void): Promise<Dataset> {
  const entries: ImageEntry[] = [];
  const folders: string[] = [];
  await readTarMembers(file, (p) => IMAGE_EXT.test(p), (m) => {
    const parts = m.path.split('/').filter(Boolean);
    if (parts.length < 2) return;
    const splitPart = parts.length >= 3 ? parts[parts.length - 3] : '';
    const split = splitPart === 'train' || splitPart === 'test' ? splitPart : null;
    entries.push({ split, className: parts[parts.length - 2], name: parts[parts.length - 1], path: `${file}:${m.path}`, data: m.data });
  }, (folder) => folders.push(folder));
  // as in a folder: an empty train/<class>/ is a class with no training images (only the split
  // layout says for sure which archive folders are classes)
  if (entries.some((e) => e.split === 'train')) {
    const holding = new Set(entries.map((e) => dirname(e.path)));
    const empty = folders.find((f) => f.split('/').at(-2) === 'train' && !holding.has(`${file}:${f}`));
    if (empty) throw new DataFormatError(`${file}:${empty}: class folder holds no PNG/JPEG images; every class needs training images (add some, or remove the folder)`);
  }
  return assembleImages(entries, file, name, onProgress);
}
