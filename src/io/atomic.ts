/**
 * Atomic writes: data goes to a temporary file beside the target and is renamed into place only
 * when complete, so a crash never leaves a half-written file that a reader would trust.
 * Directories are written the same way: fill a temporary directory, then swap it in.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temporary name (readers ignore these; .gitignore lists them). */
export const TEMP_PREFIX = '.fitlab-tmp-';

function tempNameFor(target: string): string {
  return join(dirname(target), `${tempPrefixFor(target)}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Write `data` to `path` atomically (temp file + fsync + rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Write a directory atomically: `fill` writes into a fresh temporary directory, which then
 * replaces `path` (the old directory, if any, is moved aside first and removed after).
 */
export function writeDirAtomic(path: string, fill: (tmpDir: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  mkdirSync(tmp);
  try {
    fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | null = null;
  if (existsSync(path)) {
    old = tempNameFor(path);
    renameSync(path, old);
  }
  renameSync(tmp, path);
  if (old) rmSync(old, { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries that processes which died mid-write (killed, or a power cut) left in
 * `dir`: entries named `<prefix><pid>` or `<prefix><pid>-<8 hex>` whose process is gone. A
 * crash cannot clean up after itself, so the next writer of the same target does it.
 */
export function sweepStaleTemps(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)(-[0-9a-f]{8})?$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** The prefix of the temporaries `writeFileAtomic`/`writeDirAtomic` use for `target`. */
export function tempPrefixFor(target: string): string {
  return `${TEMP_PREFIX}${basename(target)}-`;
}
