/**
 * CIFAR-10 and CIFAR-100, binary version (the official "suitable for C programs" files), without
 * a file system (shared by src/data/cifar.ts, which reads folders and tarballs, and the browser's
 * src/data/from-bytes.ts, which reads the files a user picks):
 *   CIFAR-10:  data_batch_1..5.bin, test_batch.bin — records of 1 label byte + 3072 pixel bytes;
 *              batches.meta.txt — the class names
 *   CIFAR-100: train.bin, test.bin — records of a coarse label byte, a fine label byte, 3072
 *              pixel bytes; fine_label_names.txt, coarse_label_names.txt
 * Pixels are stored plane by plane (1024 red, 1024 green, 1024 blue, each row-major); fitlab
 * keeps images NHWC, so each record is interleaved on reading.
 */
import type { Dataset, Split } from './dataset.js';
import { DataFormatError } from './dataset.js';

const utf8 = (bytes: Uint8Array): string => new TextDecoder('utf-8').decode(bytes);

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const PIXELS = 3072;
export const CIFAR10_TRAIN = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];

export type Cifar100Labels = 'fine' | 'coarse';

/** Parse one binary batch: labelBytes is 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
export function parseCifarRecords(bytes: Uint8Array, labelBytes: 1 | 2, file: string): { x: Uint8Array; labels: Uint8Array[] } {
  const record = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new DataFormatError(
      `${file}: ${bytes.length} bytes is not a whole number of ${record}-byte CIFAR records (truncated or corrupted, or not CIFAR-${labelBytes === 1 ? '10' : '100'})`,
    );
  }
  const n = bytes.length / record;
  const x = new Uint8Array(n * PIXELS);
  const labels = Array.from({ length: labelBytes }, () => new Uint8Array(n));
  for (let i = 0; i < n; i++) {
    const base = i * record;
    for (let k = 0; k < labelBytes; k++) labels[k][i] = bytes[base + k];
    const px = base + labelBytes;
    const out = i * PIXELS;
    for (let p = 0; p < 1024; p++) {
      x[out + 3 * p] = bytes[px + p];
      x[out + 3 * p + 1] = bytes[px + 1024 + p];
      x[out + 3 * p + 2] = bytes[px + 2048 + p];
    }
  }
  return { x, labels };
}

function checkLabels(labels: Uint8Array, classes: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) throw new DataFormatError(`${file}: record ${i} has label ${labels[i]}; CIFAR labels are 0..${classes - 1}`);
  }
}

function concatSplits(parts: { x: Uint8Array; y: Uint8Array }[]): Split {
  const n = parts.reduce((a, p) => a + p.y.length, 0);
  const x = new Uint8Array(n * PIXELS);
  const y = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * PIXELS);
    y.set(p.y, at);
    at += p.y.length;
  }
  return { x, y };
}

function names(text: string | undefined, count: number, fallback: string[]): string[] {
  const lines = (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length === count ? lines : fallback;
}

/** Files of a CIFAR-10 or CIFAR-100 binary release: name → bytes. */
export type CifarFiles = Map<string, Uint8Array>;

/** The Dataset of a CIFAR-10 or CIFAR-100 release's files (names without folders). */
export function assembleCifar(kind: 'cifar10' | 'cifar100', files: CifarFiles, source: string, labels: Cifar100Labels): Dataset {
  const get = (name: string): Uint8Array | undefined => files.get(name);
  if (kind === 'cifar10') {
    const missing = [...CIFAR10_TRAIN, 'test_batch.bin'].filter((f) => !files.has(f));
    if (missing.length) throw new DataFormatError(`${source}: CIFAR-10 files missing: ${missing.join(', ')}`);
    const parse = (f: string): { x: Uint8Array; y: Uint8Array } => {
      const r = parseCifarRecords(get(f) as Uint8Array, 1, `${source}/${f}`);
      checkLabels(r.labels[0], 10, `${source}/${f}`);
      return { x: r.x, y: r.labels[0] };
    };
    const meta = get('batches.meta.txt');
    return {
      name: 'cifar10', source, shape: [32, 32, 3], classes: 10,
      classNames: names(meta ? utf8(meta) : undefined, 10, CIFAR10_CLASSES),
      train: concatSplits(CIFAR10_TRAIN.map(parse)), test: concatSplits([parse('test_batch.bin')]), scale: 1 / 255,
    };
  }
  const missing = ['train.bin', 'test.bin'].filter((f) => !files.has(f));
  if (missing.length) throw new DataFormatError(`${source}: CIFAR-100 files missing: ${missing.join(', ')}`);
  const classes = labels === 'fine' ? 100 : 20;
  const which = labels === 'fine' ? 1 : 0;
  const parse = (f: string): { x: Uint8Array; y: Uint8Array } => {
    const r = parseCifarRecords(get(f) as Uint8Array, 2, `${source}/${f}`);
    checkLabels(r.labels[0], 20, `${source}/${f} (coarse)`);
    checkLabels(r.labels[1], 100, `${source}/${f} (fine)`);
    return { x: r.x, y: r.labels[which] };
  };
  const nameFile = labels === 'fine' ? 'fine_label_names.txt' : 'coarse_label_names.txt';
  const text = get(nameFile);
  return {
    name: labels === 'fine' ? 'cifar100' : 'cifar100-coarse', source, shape: [32, 32, 3], classes,
    classNames: names(text ? utf8(text) : undefined, classes, Array.from({ length: classes }, (_, i) => `class ${i}`)),
    train: concatSplits([parse('train.bin')]), test: concatSplits([parse('test.bin')]), scale: 1 / 255,
  };
}

/** Every file name a CIFAR binary release holds that fitlab reads. */
export const CIFAR_FILES = new Set([...CIFAR10_TRAIN, 'test_batch.bin', 'batches.meta.txt', 'train.bin', 'test.bin', 'fine_label_names.txt', 'coarse_label_names.txt']);

/** Which CIFAR release a set of files is, if any. */
export function cifarKindOf(files: CifarFiles): 'cifar10' | 'cifar100' | null {
  if (files.has('data_batch_1.bin')) return 'cifar10';
  if (files.has('train.bin')) return 'cifar100';
  return null;
}
