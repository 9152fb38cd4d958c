/**
 * Downloads from the canonical sources — only when asked (`fitlab data download <name>` or
 * `--download`); nothing else in fitlab touches the network. Each file streams to a temporary
 * file while its MD5 is computed, is checked against the published checksum, and only then is
 * the dataset parsed and written to the cache (atomically). A failed or corrupt download leaves
 * nothing behind.
 *
 * FITLAB_DATA_MIRROR=<base URL> fetches every file from `<base>/<dataset>/<file name>` instead
 * (a local mirror, a proxy, or a test server), e.g. http://mirror.lan/fitlab/mnist/
 * train-images-idx3-ubyte.gz; the files are still checked against the published checksums.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FitlabError } from '../errors.js';
import { TEMP_PREFIX, sweepStaleTemps } from '../util/atomic.js';
import { type CacheMeta, writeCache } from './cache.js';
import { readCifarFolder } from './cifar.js';
import type { Dataset } from './dataset.js';
import { readIdxDataset } from './idx.js';
import { WriteError, toWriteError } from '../util/write-error.js';

export interface RemoteFile {
  url: string;
  md5: string;
  name: string;
}

export interface Remote {
  kind: 'idx' | 'cifar';
  files: RemoteFile[];
}

const MNIST = 'https://storage.googleapis.com/cvdf-datasets/mnist/';
const FASHION = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const idx = (base: string, md5s: [string, string, string, string]): RemoteFile[] =>
  ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    .map((name, i) => ({ url: base + name, md5: md5s[i], name }));

/** Canonical sources and their published MD5 checksums. */
export const REMOTES: Record<string, Remote> = {
  mnist: { kind: 'idx', files: idx(MNIST, ['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c']) },
  'fashion-mnist': { kind: 'idx', files: idx(FASHION, ['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310']) },
  cifar10: { kind: 'cifar', files: [{ url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', name: 'cifar-10-binary.tar.gz' }] },
  cifar100: { kind: 'cifar', files: [{ url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', name: 'cifar-100-binary.tar.gz' }] },
};

/** The remote of `name`, its URLs moved under FITLAB_DATA_MIRROR when that is set. */
export function remoteFor(name: string): Remote | undefined {
  const remote = Object.hasOwn(REMOTES, name) ? REMOTES[name] : undefined;
  const mirror = process.env.FITLAB_DATA_MIRROR?.trim();
  if (!remote || !mirror) return remote;
  if (!/^https?:\/\/[^/]/i.test(mirror)) throw new FitlabError(`FITLAB_DATA_MIRROR must be an http:// or https:// URL; received ${JSON.stringify(mirror)}`);
  const base = mirror.replace(/\/+$/, '');
  return { ...remote, files: remote.files.map((f) => ({ ...f, url: `${base}/${name}/${f.name}` })) };
}

export type ProgressFn = (file: string, received: number, total: number | null) => void;

/** Stream one URL to `dest` while hashing; returns the MD5 hex digest. */
async function fetchTo(url: string, dest: string, onProgress?: ProgressFn): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new FitlabError(`could not download ${url}: ${(err as Error).message}`, 'check the network connection (or get the files another way and use `fitlab data import`)');
  }
  if (!res.ok || !res.body) throw new FitlabError(`could not download ${url}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || null;
  const md5 = createHash('md5');
  const fd = openSync(dest, 'w');
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      md5.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      received += chunk.length;
      onProgress?.(url, received, total);
    }
  } catch (err) {
    // the disk filled up (or refused) while saving: say so, not "the transfer broke off"
    const disk = toWriteError(err, dest, total);
    if (disk instanceof WriteError) throw disk;
    // the connection broke off mid-file (fetch reports "terminated")
    const cause = (err as Error & { cause?: Error }).cause?.message;
    throw new FitlabError(
      `could not download ${url}: the transfer broke off after ${received} of ${total ?? 'an unknown number of'} bytes (${(err as Error).message}${cause ? `: ${cause}` : ''}); nothing was kept`,
      'try again, or get the files another way and use `fitlab data import`',
    );
  } finally {
    closeSync(fd);
  }
  return md5.digest('hex');
}

export interface DownloadOptions {
  onProgress?: ProgressFn;
  /** tests: replace the canonical sources */
  remote?: Remote;
  /** replace a dataset cache fitlab wrote at `cacheDir` before (src/util/owned.ts) */
  force?: boolean;
}

/** Download `name`, verify it and write it to `cacheDir` (atomically). */
export async function downloadDataset(name: string, cacheDir: string, options: DownloadOptions = {}): Promise<{ dataset: Dataset; meta: CacheMeta }> {
  const remote = options.remote ?? remoteFor(name);
  if (!remote) throw new FitlabError(`no download source is known for ${JSON.stringify(name)}; downloadable: ${Object.keys(REMOTES).join(', ')}`);
  const parent = join(cacheDir, '..');
  mkdirSync(parent, { recursive: true });
  // downloads killed half-way left their temporaries here: remove them
  sweepStaleTemps(parent, `${TEMP_PREFIX}download-${name}-`);
  const tmp = join(parent, `${TEMP_PREFIX}download-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of remote.files) {
      const md5 = await fetchTo(f.url, join(tmp, f.name), options.onProgress);
      if (md5 !== f.md5) {
        throw new FitlabError(`${f.url}: checksum mismatch (MD5 ${md5}, published ${f.md5}); the download is corrupt or was changed, nothing was kept`);
      }
    }
    let dataset: Dataset;
    if (remote.kind === 'idx') {
      dataset = readIdxDataset(tmp, name);
    } else {
      const { readCifarTarball } = await import('./cifar.js');
      const ds = await readCifarTarball(join(tmp, remote.files[0].name));
      if (!ds) throw new FitlabError(`${remote.files[0].url}: the archive holds no CIFAR binary files`);
      dataset = ds;
    }
    dataset.source = remote.files.length === 1 ? remote.files[0].url : remote.files[0].url.replace(/[^/]+$/, '');
    const meta = writeCache(cacheDir, dataset, { force: options.force });
    return { dataset, meta };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** MD5 of a file (for `fitlab data info` on raw files). */
export function md5File(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

export { readCifarFolder };
