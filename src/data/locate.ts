/**
 * Finding a dataset by name or path. Search order (SPEC §2): an explicit path → --data-dir and
 * FITLAB_DATA → the user cache (XDG_CACHE_HOME or ~/.cache, under fitlab/) → known system
 * locations (/usr/share/datasets/<name>: Debian's dataset-fashion-mnist) → a download from the
 * canonical source, only when asked (--download). When everything fails, one message lists
 * every place tried and the exact commands that get the data. Built-in synthetic sets need
 * nothing.
 *
 * Formats recognised in a folder: a fitlab cache (meta.json + data.bin), the four IDX files,
 * CIFAR-10/100 binary files, or image folders; files: .tar.gz archives of CIFAR binaries or of
 * images.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { FitlabError, describe } from '../errors.js';
import { isTarball } from './archive.js';
import { isCacheDir, readCache } from './cache.js';
import { type Cifar100Labels, cifarKind, readCifarFolder, readCifarTarball } from './cifar.js';
import type { Dataset } from './dataset.js';
import { REMOTES, type ProgressFn, downloadDataset } from './download.js';
import { isIdxFolder, readIdxDataset } from './idx.js';
import { type Warn, isImageFolder, readImageFolder, readImageTarball } from './images.js';
import { SYNTHETIC_2D, SYNTHETIC_IMAGES, type Synthetic2D, type SyntheticOptions, synthetic2d, syntheticShapes } from './synthetic.js';

export class DatasetNotFoundError extends FitlabError {}

export interface LocateOptions {
  /** --data-dir */
  dataDir?: string;
  /** options for synthetic sets */
  synthetic?: SyntheticOptions;
  /** CIFAR-100 label set */
  labels?: Cifar100Labels;
  /** allowed to download from the canonical source when nothing local is found */
  download?: boolean;
  onProgress?: ProgressFn;
  /** where reader warnings go (a skipped link); stderr by default */
  warn?: Warn;
}

interface KnownDataset {
  folders: string[];
  howToGet: string[];
}

export const KNOWN_DATASETS: Record<string, KnownDataset> = {
  mnist: {
    folders: ['mnist'],
    howToGet: [
      'fitlab data download mnist            (when online: the four IDX files, checksums verified)',
      'fitlab data import <folder with the four IDX files> --name mnist',
    ],
  },
  'fashion-mnist': {
    folders: ['fashion-mnist', 'fashion_mnist'],
    howToGet: [
      'sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu: installs /usr/share/datasets/fashion-mnist)',
      'fitlab data download fashion-mnist    (when online)',
    ],
  },
  cifar10: {
    folders: ['cifar10', 'cifar-10-batches-bin', 'cifar-10'],
    howToGet: [
      'fitlab data download cifar10          (when online: the official binary version, 163 MB)',
      'fitlab data import <cifar-10-binary.tar.gz, its folder, or an image folder/archive> --name cifar10',
    ],
  },
  cifar100: {
    folders: ['cifar100', 'cifar-100-binary', 'cifar-100'],
    howToGet: [
      'fitlab data download cifar100         (when online: the official binary version, 161 MB)',
      'fitlab data import <cifar-100-binary.tar.gz or its folder> --name cifar100',
    ],
  },
};

export function userCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'fitlab');
}

/** Folders searched for a named dataset, in order. */
export function searchRoots(options: { dataDir?: string } = {}): string[] {
  const roots: string[] = [];
  if (options.dataDir) roots.push(resolve(options.dataDir));
  if (process.env.FITLAB_DATA) roots.push(resolve(process.env.FITLAB_DATA));
  roots.push(userCacheDir());
  roots.push('/usr/share/datasets');
  return roots;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The format of a folder or file, or null. */
export function detectFormat(path: string): 'cache' | 'idx' | 'cifar' | 'images' | 'tarball' | null {
  if (isDir(path)) {
    if (isCacheDir(path)) return 'cache';
    if (isIdxFolder(path)) return 'idx';
    if (cifarKind(path)) return 'cifar';
    if (isImageFolder(path)) return 'images';
    return null;
  }
  return existsSync(path) && isTarball(path) ? 'tarball' : null;
}

/** Read whatever dataset `path` holds (or null when its format is not recognised). */
export async function readDatasetAt(path: string, name: string, options: LocateOptions = {}): Promise<Dataset | null> {
  switch (detectFormat(path)) {
    case 'cache': return readCache(path);
    case 'idx': return readIdxDataset(path, name);
    case 'cifar': return readCifarFolder(path, options.labels);
    case 'images': return readImageFolder(path, name, undefined, options.warn);
    case 'tarball': return (await readCifarTarball(path, options.labels)) ?? readImageTarball(path, name);
    default: return null;
  }
}

function knownName(folder: string): string | undefined {
  return Object.entries(KNOWN_DATASETS).find(([, k]) => k.folders.includes(folder))?.[0];
}

/** Whether an archive's file name names the known dataset `key` (cifar10-jpeg.tar.gz is cifar10's, not cifar100's). */
export function archiveOf(key: string, file: string): boolean {
  const known = KNOWN_DATASETS[key];
  if (!known || !isTarball(file)) return false;
  const stem = file.toLowerCase().replace(/\.(tar\.gz|tgz|tar)$/, '');
  return [key, ...known.folders].some((n) => stem === n || (stem.startsWith(n) && !/^[0-9]/.test(stem.slice(n.length))));
}

/** Archives of the known dataset `key` lying in the searched folders, not imported. */
export function archivesOf(key: string, options: { dataDir?: string } = {}): string[] {
  const out: string[] = [];
  for (const root of searchRoots(options)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const e of entries) if (archiveOf(key, e) && !isDir(join(root, e))) out.push(join(root, e));
  }
  return out;
}

/** The dataset stored under `name` in a searched folder (an imported cache, say), or null. */
async function readNamed(name: string, options: LocateOptions): Promise<Dataset | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return null;
  for (const root of searchRoots(options)) {
    const dir = join(root, name);
    if (!isDir(dir)) continue;
    const ds = await readDatasetAt(dir, name, options);
    if (ds) return ds;
  }
  return null;
}

/** Load `spec`: a synthetic name, a path, a known dataset name or the name of an imported one. */
export async function loadDataset(spec: string, options: LocateOptions = {}): Promise<Dataset> {
  if (typeof spec !== 'string' || !spec) throw new DatasetNotFoundError(`dataset must be a name or a path; received ${describe(spec)}`);
  if ((SYNTHETIC_2D as readonly string[]).includes(spec)) return synthetic2d(spec as Synthetic2D, options.synthetic);
  if (spec === SYNTHETIC_IMAGES) return syntheticShapes(options.synthetic);

  const looksLikePath = spec.includes('/') || spec.startsWith('.') || existsSync(spec);
  if (looksLikePath) {
    const path = resolve(spec);
    if (!existsSync(path)) throw new DatasetNotFoundError(`dataset path ${path} does not exist`);
    const folder = basename(path).replace(/\.(tar\.gz|tgz|tar)$/i, '');
    const ds = await readDatasetAt(path, knownName(folder) ?? folder, options);
    if (ds) return ds;
    throw new DatasetNotFoundError(
      `${path} holds no dataset fitlab can read`,
      'expected a fitlab cache, the four IDX files, CIFAR binary files (data_batch_1.bin… or train.bin/test.bin), class folders of PNG/JPEG images (optionally under train/ and test/), or a .tar.gz of those',
    );
  }

  const known = KNOWN_DATASETS[spec];
  if (!known) {
    // a name given at import (`fitlab data import … --name cifar10-jpeg`), or any dataset folder
    // of that name in a data folder, works wherever a dataset name does
    const imported = await readNamed(spec, options);
    if (imported) return imported;
    const names = [...Object.keys(KNOWN_DATASETS), ...SYNTHETIC_2D, SYNTHETIC_IMAGES];
    throw new DatasetNotFoundError(`unknown dataset ${describe(spec)}; use one of ${names.join(', ')} or a folder/archive path`);
  }
  const tried: string[] = [];
  const cacheName = spec === 'cifar100' && options.labels === 'coarse' ? 'cifar100' : spec;
  for (const root of searchRoots(options)) {
    for (const folder of [cacheName, ...known.folders.filter((f) => f !== cacheName)]) {
      const dir = join(root, folder);
      tried.push(dir);
      const ds = isDir(dir) ? await readDatasetAt(dir, spec, options) : null;
      if (ds) return ds;
    }
  }
  if (options.download && REMOTES[spec]) {
    const dir = join(userCacheDir(), spec);
    await downloadDataset(spec, dir, { onProgress: options.onProgress });
    return (await readDatasetAt(dir, spec, options)) as Dataset;
  }
  // its archive is here, just not imported: that one command is the way
  const archive = archivesOf(spec, options)[0];
  const howTo = archive ? [`fitlab data import ${archive} --name ${spec}   (found here; imported once, it loads fast)`] : known.howToGet;
  throw new DatasetNotFoundError(
    `dataset '${spec}' was not found. Looked in:\n${[...new Set(tried)].map((t) => `  ${t}`).join('\n')}\nTo get it:\n${howTo.map((h) => `  ${h}`).join('\n')}`,
  );
}
