/**
 * Finding a dataset by name or path. Search order (SPEC §2): an explicit path → --data-dir /
 * FITLAB_DATA → the user cache (XDG_CACHE_HOME or ~/.cache, under fitlab/) → known system
 * locations (/usr/share/datasets/<name>, where Debian's dataset-fashion-mnist installs) → an
 * error that lists every place tried and how to get the data. Built-in synthetic sets need
 * nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FitlabError, describe } from '../errors.js';
import type { Dataset } from './dataset.js';
import { isIdxFolder, readIdxDataset } from './idx.js';
import { SYNTHETIC_2D, SYNTHETIC_IMAGES, type Synthetic2D, type SyntheticOptions, synthetic2d, syntheticShapes } from './synthetic.js';

export class DatasetNotFoundError extends FitlabError {}

export interface LocateOptions {
  /** --data-dir */
  dataDir?: string;
  /** options for synthetic sets */
  synthetic?: SyntheticOptions;
}

interface KnownDataset {
  folders: string[];
  howToGet: string;
}

export const KNOWN_DATASETS: Record<string, KnownDataset> = {
  mnist: {
    folders: ['mnist'],
    howToGet: 'download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into one folder, then pass --dataset <that folder> (or --data-dir <its parent>)',
  },
  'fashion-mnist': {
    folders: ['fashion-mnist', 'fashion_mnist'],
    howToGet: 'sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu: installs /usr/share/datasets/fashion-mnist)',
  },
};

/** Folders searched for a named dataset, in order. */
export function searchRoots(options: LocateOptions = {}): string[] {
  const roots: string[] = [];
  if (options.dataDir) roots.push(resolve(options.dataDir));
  if (process.env.FITLAB_DATA) roots.push(resolve(process.env.FITLAB_DATA));
  roots.push(userCacheDir());
  roots.push('/usr/share/datasets');
  return roots;
}

export function userCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'fitlab');
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Read a dataset from a folder whose format is recognised. */
export function readDatasetFolder(dir: string, name: string): Dataset | null {
  if (isIdxFolder(dir)) return readIdxDataset(dir, name);
  return null;
}

/** Load `spec`: a synthetic name, a path, or a known dataset name. */
export function loadDataset(spec: string, options: LocateOptions = {}): Dataset {
  if (typeof spec !== 'string' || !spec) throw new DatasetNotFoundError(`dataset must be a name or a path; received ${describe(spec)}`);
  if ((SYNTHETIC_2D as readonly string[]).includes(spec)) return synthetic2d(spec as Synthetic2D, options.synthetic);
  if (spec === SYNTHETIC_IMAGES) return syntheticShapes(options.synthetic);

  const looksLikePath = spec.includes('/') || spec.startsWith('.') || existsSync(spec);
  if (looksLikePath) {
    const dir = resolve(spec);
    if (!existsSync(dir)) throw new DatasetNotFoundError(`dataset path ${dir} does not exist`);
    if (!isDir(dir)) throw new DatasetNotFoundError(`dataset path ${dir} is a file; pass the folder that holds the dataset files`);
    const name = dir.split('/').filter(Boolean).pop() ?? 'dataset';
    const ds = readDatasetFolder(dir, knownName(name) ?? name);
    if (ds) return ds;
    throw new DatasetNotFoundError(
      `${dir} holds no dataset fitlab can read`,
      'expected the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…)',
    );
  }

  const known = KNOWN_DATASETS[spec];
  if (!known) {
    const names = [...Object.keys(KNOWN_DATASETS), ...SYNTHETIC_2D, SYNTHETIC_IMAGES];
    throw new DatasetNotFoundError(`unknown dataset ${describe(spec)}; use one of ${names.join(', ')} or a folder path`);
  }
  const tried: string[] = [];
  for (const root of searchRoots(options)) {
    for (const folder of known.folders) {
      const dir = join(root, folder);
      tried.push(dir);
      if (!isDir(dir)) continue;
      const ds = readDatasetFolder(dir, spec);
      if (ds) return ds;
    }
  }
  throw new DatasetNotFoundError(
    `dataset '${spec}' was not found. Looked in:\n${tried.map((t) => `  ${t}`).join('\n')}\nTo get it: ${known.howToGet}`,
  );
}

function knownName(folder: string): string | undefined {
  return Object.entries(KNOWN_DATASETS).find(([, k]) => k.folders.includes(folder))?.[0];
}
