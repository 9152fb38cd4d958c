/**
 * The dataset cache: a folder `<cache>/<name>/` with `meta.json` and `data.bin` (uint8 pixels,
 * int32 labels, split by split). `fitlab data import` writes it once — atomically, so a crash
 * or a bad file never leaves a half-written cache — and later loads read one file (well under a
 * second even for CIFAR-10's 180 MB). The SHA-256 of data.bin is recorded at import and checked
 * at every load (about 0.15 s for CIFAR-10), so a damaged cache is refused, never used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FitlabError } from '../errors.js';
import { TEMP_PREFIX, writeDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { OWNED_MARKER, checkDirTarget, markerText, readMarker } from '../util/owned.js';
import { type Dataset, type Split, classCounts, exampleSize } from './dataset.js';
import { DataFormatError } from './idx.js';

export const CACHE_FORMAT = 'fitlab-dataset-1';
/** The kind its ownership marker records (src/util/owned.ts). */
const CACHE_KIND = 'dataset-cache';

interface SplitMeta {
  n: number;
  xOffset: number;
  yOffset: number;
  classCounts: number[];
}

export interface CacheMeta {
  format: typeof CACHE_FORMAT;
  name: string;
  shape: number[];
  classes: number;
  classNames: string[];
  /** where the data came from (path of the imported folder/archive, or URL) */
  source: string;
  created: string;
  /** pixel storage: uint8 (scaled by 1/255) or float32 */
  dtype: 'uint8' | 'float32';
  scale: number;
  splits: { train: SplitMeta; test: SplitMeta | null };
  bytes: number;
  sha256: string;
}

export function isCacheDir(dir: string): boolean {
  return existsSync(join(dir, 'meta.json')) && existsSync(join(dir, 'data.bin'));
}

/**
 * Write a dataset into `dir` as a fitlab cache (atomically). Returns the meta. An existing
 * folder there is replaced only when it is a dataset cache fitlab wrote and `force` is set
 * (src/util/owned.ts); anything else is refused before the data is touched.
 */
export function writeCache(dir: string, ds: Dataset, target: { force?: boolean; label?: string } = {}): CacheMeta {
  checkCacheTarget(dir, target);
  const per = exampleSize(ds.shape);
  const dtype = ds.train.x instanceof Uint8Array ? 'uint8' : 'float32';
  const xBytes = (s: Split): number => s.x.byteLength;
  const parts: Uint8Array[] = [];
  let offset = 0;
  const place = (s: Split | null): SplitMeta | null => {
    if (!s) return null;
    if (s.x.length !== s.y.length * per) throw new DataFormatError(`${ds.name}: ${s.y.length} labels but ${s.x.length} values`);
    const xOffset = offset;
    parts.push(new Uint8Array(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    offset += xBytes(s);
    const pad = (4 - (offset % 4)) % 4; // labels start 4-byte aligned
    if (pad) {
      parts.push(new Uint8Array(pad));
      offset += pad;
    }
    const yOffset = offset;
    parts.push(new Uint8Array(s.y.buffer, s.y.byteOffset, s.y.byteLength));
    offset += s.y.byteLength;
    return { n: s.y.length, xOffset, yOffset, classCounts: classCounts(s.y, ds.classes) };
  };
  const train = place(ds.train) as SplitMeta;
  const test = place(ds.test);
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  const meta: CacheMeta = {
    format: CACHE_FORMAT, name: ds.name, shape: ds.shape, classes: ds.classes, classNames: ds.classNames, source: ds.source,
    created: new Date().toISOString(), dtype, scale: ds.scale, splits: { train, test }, bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  writeDirAtomic(dir, (tmp) => {
    writeFileAtomic(join(tmp, 'data.bin'), data);
    writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  }, { ...target, kind: CACHE_KIND });
  return meta;
}

/**
 * Say before any work whether `writeCache(dir)` may write there (throws the one-line refusal).
 * A cache written before fitlab marked its folders (meta.json of our format and data.bin,
 * nothing else) is recognized as fitlab's and gets its marker now.
 */
export function checkCacheTarget(dir: string, target: { force?: boolean; label?: string } = {}): void {
  if (isCacheDir(dir) && !readMarker(dir)) {
    const entries = readdirSync(dir).filter((e) => !e.startsWith(TEMP_PREFIX));
    let ours = false;
    try {
      ours = (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { format?: unknown }).format === CACHE_FORMAT;
    } catch {
      // not readable: not recognizably ours
    }
    if (ours && entries.every((e) => e === 'meta.json' || e === 'data.bin')) {
      writeFileAtomic(join(dir, OWNED_MARKER), markerText(CACHE_KIND, 'legacy', entries));
    }
  }
  checkDirTarget(dir, { ...target, kind: CACHE_KIND });
}

export function readCacheMeta(dir: string): CacheMeta {
  const file = join(dir, 'meta.json');
  let meta: CacheMeta;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as CacheMeta;
  } catch (err) {
    throw new FitlabError(`${file}: unreadable cache metadata (${(err as Error).message})`, 're-import the dataset with `fitlab data import` (with --force to replace this cache)');
  }
  if (meta.format !== CACHE_FORMAT) throw new FitlabError(`${file}: unknown cache format ${JSON.stringify(meta.format)}`);
  return meta;
}

/** Load a cached dataset (no copy of the pixels: views into the file buffer). */
export function readCache(dir: string): Dataset {
  const meta = readCacheMeta(dir);
  const file = join(dir, 'data.bin');
  const size = statSync(file).size;
  if (size !== meta.bytes) {
    throw new FitlabError(`${file}: ${size} bytes, the metadata says ${meta.bytes} (truncated or replaced)`, 're-import the dataset with `fitlab data import` (with --force to replace this cache)');
  }
  const buf = readFileSync(file);
  // the right size is not enough (blocks lost in a crash, a disk error): check the content too
  const sha256 = createHash('sha256').update(buf).digest('hex');
  if (sha256 !== meta.sha256) {
    throw new FitlabError(`${file}: checksum mismatch (SHA-256 ${sha256}, recorded at import ${meta.sha256}); the cache is corrupted`, 're-import the dataset with `fitlab data import` (with --force to replace this cache)');
  }
  const per = exampleSize(meta.shape);
  const split = (s: SplitMeta | null): Split | null => {
    if (!s) return null;
    const x = meta.dtype === 'uint8'
      ? new Uint8Array(buf.buffer, buf.byteOffset + s.xOffset, s.n * per)
      : new Float32Array(buf.buffer.slice(buf.byteOffset + s.xOffset, buf.byteOffset + s.xOffset + s.n * per * 4));
    const y = new Int32Array(buf.buffer.slice(buf.byteOffset + s.yOffset, buf.byteOffset + s.yOffset + s.n * 4));
    return { x, y };
  };
  return {
    name: meta.name, source: `${dir} (imported from ${meta.source})`, shape: meta.shape, classes: meta.classes,
    classNames: meta.classNames, train: split(meta.splits.train) as Split, test: split(meta.splits.test), scale: meta.scale,
  };
}

/** Recompute the checksum of a cache (what `fitlab data info --verify` checks). */
export function verifyCache(dir: string): { ok: boolean; expected: string; actual: string } {
  const meta = readCacheMeta(dir);
  const actual = createHash('sha256').update(readFileSync(join(dir, 'data.bin'))).digest('hex');
  return { ok: actual === meta.sha256, expected: meta.sha256, actual };
}
