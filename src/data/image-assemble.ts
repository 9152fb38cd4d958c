/**
 * How image files become a Dataset, without a file system: shared by the folder and tarball
 * importer (src/data/images.ts, which decodes with pngjs/jpeg-js as it goes) and the browser's
 * zip importer (src/data/from-bytes.ts, whose decoder is asynchronous: createImageBitmap in a
 * page). One set of rules for both: classes are the sorted training class names (as Keras'
 * image_dataset_from_directory does); a test class must be a training class; every image has the
 * same size; any colour image makes the dataset three-channel; examples go class by class,
 * files in natural name order.
 */
import type { Dataset, Split } from './dataset.js';
import { DataFormatError } from './dataset.js';
import type { DecodedImage } from './image-decode.js';

export const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface ImageEntry {
  split: 'train' | 'test' | null;
  className: string;
  /** sort key within its class */
  name: string;
  path: string;
  data: Uint8Array;
}

/** Where warnings go: the CLI's stderr, a list in tests, the page's log. */
export type Warn = (line: string) => void;

const naturalOrder = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
const parentOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));

/** The classes and splits of a set of entries, checked before anything is decoded. */
class ImageSet {
  readonly splits: readonly ('train' | 'test' | null)[];
  readonly classNames: string[];
  readonly classIndex: Map<string, number>;
  private shape: [number, number] | null = null;
  private gray = true;
  private readonly decoded = new Map<ImageEntry, DecodedImage>();

  constructor(readonly entries: ImageEntry[], readonly source: string) {
    if (entries.length === 0) throw new DataFormatError(`${source}: no images found (expected <class>/*.png|jpg, optionally under train/ and test/)`);
    this.splits = entries.some((e) => e.split !== null) ? ['train', 'test'] : [null];
    const trainEntries = entries.filter((e) => e.split === this.splits[0]);
    if (!trainEntries.length) throw new DataFormatError(`${source}: no training images (a train/ folder, or class folders at the top)`);
    // the classes are the training classes: a class seen only in test would be a class the model
    // can never predict, and would shift no label but inflate the output layer
    this.classNames = [...new Set(trainEntries.map((e) => e.className))].sort(naturalOrder);
    this.classIndex = new Map(this.classNames.map((c, i) => [c, i]));
    const stray = entries.find((e) => !this.classIndex.has(e.className));
    if (stray) {
      throw new DataFormatError(
        `${parentOf(stray.path)}: class ${JSON.stringify(stray.className)} has test images but no training images (no train/${stray.className}); every test class must be a training class`,
      );
    }
  }

  /** Record one decoded image (all must have the first one's size). */
  add(e: ImageEntry, img: DecodedImage): void {
    if (!this.shape) this.shape = [img.height, img.width];
    else if (img.height !== this.shape[0] || img.width !== this.shape[1]) {
      throw new DataFormatError(`${e.path}: ${img.width}×${img.height} pixels, but earlier images are ${this.shape[1]}×${this.shape[0]}; all images must have the same size`);
    }
    if (img.channels === 3) this.gray = false;
    this.decoded.set(e, img);
  }

  dataset(name: string): Dataset {
    const [h, w] = this.shape as [number, number];
    const c = this.gray ? 1 : 3;
    const per = h * w * c;
    const build = (which: 'train' | 'test' | null): Split | null => {
      const list = this.entries.filter((e) => e.split === which);
      if (!list.length) return null;
      // class by class, files in name order: a stable, reproducible example order
      list.sort((a, b) => (this.classIndex.get(a.className) as number) - (this.classIndex.get(b.className) as number) || naturalOrder(a.name, b.name));
      const x = new Uint8Array(list.length * per);
      const y = new Int32Array(list.length);
      list.forEach((e, i) => {
        const img = this.decoded.get(e) as DecodedImage;
        if (img.channels === c) x.set(img.pixels, i * per);
        else for (let p = 0; p < h * w; p++) x.fill(img.pixels[p], i * per + 3 * p, i * per + 3 * p + 3);
        y[i] = this.classIndex.get(e.className) as number;
      });
      return { x, y };
    };
    const train = build(this.splits[0]) as Split;
    const test = this.splits.length === 2 ? build('test') : null;
    return { name, source: this.source, shape: [h, w, c], classes: this.classNames.length, classNames: this.classNames, train, test, scale: 1 / 255 };
  }
}

/** Build a dataset from image entries, decoding each with `decode` (synchronous). */
export function assembleImagesWith(
  entries: ImageEntry[], source: string, name: string, decode: (e: ImageEntry) => DecodedImage, onProgress?: (done: number, total: number) => void,
): Dataset {
  const set = new ImageSet(entries, source);
  let done = 0;
  for (const e of entries) {
    set.add(e, decode(e));
    if (onProgress && ++done % 1000 === 0) onProgress(done, entries.length);
  }
  return set.dataset(name);
}

/** The same with an asynchronous decoder (one image at a time: memory stays one image deep). */
export async function assembleImagesAsync(
  entries: ImageEntry[], source: string, name: string, decode: (e: ImageEntry) => Promise<DecodedImage>, onProgress?: (done: number, total: number) => void,
): Promise<Dataset> {
  const set = new ImageSet(entries, source);
  let done = 0;
  for (const e of entries) {
    set.add(e, await decode(e));
    if (onProgress && ++done % 1000 === 0) onProgress(done, entries.length);
  }
  return set.dataset(name);
}

/**
 * An image inside an archive (tar or zip): its path ends in [train|test/]<class>/<file>; null
 * for a file at the archive's top (no class folder).
 */
export function archiveImageEntry(archive: string, path: string, data: Uint8Array): ImageEntry | null {
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) return null;
  const splitPart = parts.length >= 3 ? parts[parts.length - 3] : '';
  const split = splitPart === 'train' || splitPart === 'test' ? splitPart : null;
  return { split, className: parts[parts.length - 2], name: parts[parts.length - 1], path: `${archive}:${path}`, data };
}

/**
 * As in a folder: an empty train/<class>/ folder of an archive is a class with no training
 * images (only the split layout says for sure which archive folders are classes).
 */
export function checkArchiveTrainFolders(archive: string, entries: ImageEntry[], folders: string[]): void {
  if (!entries.some((e) => e.split === 'train')) return;
  const holding = new Set(entries.map((e) => parentOf(e.path)));
  const empty = folders.map((f) => f.replace(/\/+$/, '')).find((f) => f.split('/').at(-2) === 'train' && !holding.has(`${archive}:${f}`));
  if (empty) throw new DataFormatError(`${archive}:${empty}: class folder holds no PNG/JPEG images; every class needs training images (add some, or remove the folder)`);
}
