/**
 * CIFAR-10 and CIFAR-100, binary version (the official "suitable for C programs" files), from a
 * folder or a tarball; the format itself is src/data/cifar-format.ts:
 *   CIFAR-10:  data_batch_1..5.bin, test_batch.bin — records of 1 label byte + 3072 pixel bytes;
 *              batches.meta.txt — the class names
 *   CIFAR-100: train.bin, test.bin — records of a coarse label byte, a fine label byte, 3072
 *              pixel bytes; fine_label_names.txt, coarse_label_names.txt
 * Pixels are stored plane by plane (1024 red, 1024 green, 1024 blue, each row-major); fitlab
 * keeps images NHWC, so each record is interleaved on reading.
 * Read from the extracted folder or straight from the official .tar.gz.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { readTarMembers } from './archive.js';
import type { Dataset } from './dataset.js';
import { CIFAR10_CLASSES, CIFAR_FILES, type Cifar100Labels, type CifarFiles, assembleCifar, cifarKindOf, parseCifarRecords } from './cifar-format.js';
import { DataFormatError } from './idx.js';

export { CIFAR10_CLASSES, type Cifar100Labels, parseCifarRecords };

/** Which CIFAR release a folder holds, if any. */
export function cifarKind(dir: string): 'cifar10' | 'cifar100' | null {
  if (existsSync(join(dir, 'data_batch_1.bin'))) return 'cifar10';
  if (existsSync(join(dir, 'train.bin')) && existsSync(join(dir, 'test.bin'))) return 'cifar100';
  return null;
}

export function readCifarFolder(dir: string, labels: Cifar100Labels = 'fine'): Dataset {
  const kind = cifarKind(dir);
  if (!kind) throw new DataFormatError(`${dir} holds no CIFAR binary files (data_batch_1.bin… or train.bin/test.bin)`);
  const files: CifarFiles = new Map();
  for (const f of CIFAR_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) files.set(f, readFileSync(p));
  }
  return assembleCifar(kind, files, dir, labels);
}

/** Read the official cifar-10-binary.tar.gz / cifar-100-binary.tar.gz without extracting it. */
export async function readCifarTarball(file: string, labels: Cifar100Labels = 'fine'): Promise<Dataset | null> {
  const files: CifarFiles = new Map();
  await readTarMembers(file, (p) => CIFAR_FILES.has(basename(p)), (m) => files.set(basename(m.path), m.data));
  const kind = cifarKindOf(files);
  return kind ? assembleCifar(kind, files, file, labels) : null;
}

export function parseLabelsOption(value: unknown): Cifar100Labels {
  if (value === undefined || value === 'fine' || value === 'coarse') return (value) ?? 'fine';
  throw new ArgumentError(`--labels must be 'fine' or 'coarse'; received ${JSON.stringify(value)}`);
}
