/**
 * Atomic writes: data goes to a temporary file beside the target and is renamed into place only
 * when complete, so a crash never leaves a half-written file that a reader would trust.
 * Directories are written the same way: fill a temporary directory, then swap it in; and no
 * writer replaces what fitlab did not write (owned.ts decides what may be replaced).
 */
import { randomBytes } from 'node:crypto';
import { type Dirent, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FitlabError } from '../errors.js';
import { packageVersion } from './paths.js';
import { type DirTarget, OWNED_MARKER, checkDirTarget, checkFileTarget, markerText } from './owned.js';
import { WriteError, toWriteError } from './write-error.js';

export type { DirTarget } from './owned.js';

/** Prefix of every temporary name (readers ignore these; .gitignore lists them). */
export const TEMP_PREFIX = '.fitlab-tmp-';

function tempNameFor(target: string): string {
  return join(dirname(target), `${tempPrefixFor(target)}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Write `data` to `path` atomically (temp file + fsync + rename). When the file system refuses
 * (a full disk, a quota, read-only, no permission) the temporary is removed, the old file stays
 * as it was, and the error is a WriteError naming the file and its size (write-error.ts).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempNameFor(path);
  let fd: number | null = null;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    // close can report a delayed write error too (NFS), so it counts as part of the write
    const open = fd;
    fd = null;
    closeSync(open);
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) closeQuietly(fd);
    rmSync(tmp, { force: true });
    throw toWriteError(err, path, bytes.length);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing: the first error is the one to report
  }
}

/**
 * Write a directory atomically: `fill` writes into a fresh temporary directory, which then takes
 * the place of `path`. The folder gets the ownership marker (owned.ts), and what may stand
 * at `path` already is decided there first: nothing, an empty folder, or a folder fitlab wrote
 * (`target.own`, or a same-kind folder with --force); anything else is refused before any work.
 * A replaced folder is moved aside first and removed after the new one is in place.
 */
export function writeDirAtomic(path: string, fill: (tmpDir: string) => void, target: DirTarget): void {
  const state = checkDirTarget(path, target);
  makeParent(path);
  // a write of this target killed half-way left a temporary beside it: remove it now
  sweepStaleTemps(dirname(path), tempPrefixFor(path));
  const tmp = tempNameFor(path);
  try {
    mkdirSync(tmp);
    fill(tmp);
    writeFileSync(join(tmp, OWNED_MARKER), markerText(target.kind, packageVersion(), readdirSync(tmp)));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw dirWriteError(err, tmp, path);
  }
  let old: string | null = null;
  if (state === 'replace' && existsSync(path)) {
    old = tempNameFor(path);
    renameSync(path, old);
  }
  try {
    // over an empty folder, rename replaces it (POSIX); over anything else it fails
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (old) renameSync(old, path);
    throw new FitlabError(`cannot write ${path}: ${(err as Error).message} (something appeared there while fitlab was writing; nothing was replaced)`);
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

/**
 * A failed fill of temporary folder `tmp` as the user will look for it: a WriteError about
 * `<tmp>/x` names `<path>/x`; a bare full-disk (or permission) error names the folder `path`.
 */
function dirWriteError(err: unknown, tmp: string, path: string): unknown {
  if (err instanceof WriteError) return err.file.startsWith(tmp) ? err.renamed(path + err.file.slice(tmp.length)) : err;
  return toWriteError(err, path, null);
}

/**
 * Write a file the user named (e.g. --out preview.png) atomically: an existing file is replaced
 * only with `force`, a folder, link or special file never (owned.ts).
 */
export function writeUserFile(path: string, data: string | Uint8Array, opts: { force?: boolean; label?: string } = {}): void {
  checkFileTarget(path, opts);
  makeParent(path);
  writeFileAtomic(path, data);
}

function makeParent(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new FitlabError(`cannot create the folder ${dirname(path)} for ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Whether process `pid` exists on this host (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries that processes which died mid-write (killed, or a power cut) left in
 * `dir`: entries named `<prefix><pid>` or `<prefix><pid>-<8 hex>` whose process is gone (with
 * `anyTarget`, `<prefix><any target name>-<pid>-<8 hex>`). A crash cannot clean up after
 * itself, so the next writer of the same target does it.
 */
export function sweepStaleTemps(dir: string, prefix: string, anyTarget = false): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const m = anyTarget ? /-(\d+)(-[0-9a-f]{8})$/.exec(rest) : /^(\d+)(-[0-9a-f]{8})?$/.exec(rest);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Remove every temporary a dead process left in `dir` and in its immediate sub-folders
 * (`.fitlab-tmp-<target>-<pid>-<8 hex>`), whatever target it was for: what a run directory
 * needs when it is opened again for resume or diagnose after a crash.
 */
export function sweepAllStaleTemps(dir: string): void {
  sweepStaleTemps(dir, TEMP_PREFIX, true);
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory() && !e.name.startsWith(TEMP_PREFIX)) sweepStaleTemps(join(dir, e.name), TEMP_PREFIX, true);
}

/** The prefix of the temporaries `writeFileAtomic`/`writeDirAtomic` use for `target`. */
export function tempPrefixFor(target: string): string {
  return `${TEMP_PREFIX}${basename(target)}-`;
}
