/**
 * A user's own images: `<root>/{train,test}/<class>/*.png|jpg`, or one level of class folders
 * `<root>/<class>/*` (split later with --val), in a folder or a .tar.gz. PNG is decoded with
 * pngjs, JPEG with jpeg-js (both pure JavaScript). Classes are the sorted folder names (as
 * Keras' image_dataset_from_directory does); every image must have the same size; grayscale
 * images give one channel, anything else three (alpha is dropped).
 */
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { constants, inflateSync } from 'node:zlib';
import { readTarMembers } from './archive.js';
import type { Dataset } from './dataset.js';
import { IMAGE_EXT, type ImageEntry, type Warn, archiveImageEntry, assembleImagesWith, checkArchiveTrainFolders } from './image-assemble.js';
import { type DecodedImage, checkImageHeader, jpegFrame, pngRawBytes } from './image-decode.js';
import { DataFormatError } from './idx.js';

export type { DecodedImage, ImageEntry, Warn };

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

/** Decode a PNG or JPEG; errors name the file. */
export function decodeImage(data: Uint8Array, file: string): DecodedImage {
  const isPng = checkImageHeader(data, file) === 'png';
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

/** Build a dataset from image entries (decoded here). */
export function assembleImages(entries: ImageEntry[], source: string, name: string, onProgress?: (done: number, total: number) => void): Dataset {
  return assembleImagesWith(entries, source, name, (e) => decodeImage(e.data, e.path), onProgress);
}

/** The CLI's warnings go to stderr (tests pass a list). */
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
    const entry = archiveImageEntry(file, m.path, m.data);
    if (entry) entries.push(entry);
  }, (folder) => folders.push(folder));
  checkArchiveTrainFolders(file, entries, folders);
  return assembleImages(entries, file, name, onProgress);
}
