/**
 * The run-directory lock (ARCHITECTURE decision 11): while a process trains in a run directory,
 * `<run>/.fitlab-lock` names it (PID, host, start time), so a second trainer — another
 * `fitlab train --resume`, the dashboard, an experiment — is refused instead of writing the same
 * checkpoint and history at the same time.
 *
 * The lock file is written complete under a temporary name and then hard-linked into place:
 * link() fails with EEXIST when the lock exists, so taking it is atomic and a reader never sees
 * half a lock. A lock whose process is gone (same host, PID not alive: a kill -9, a power cut) is
 * stale and taken over with one line on stderr. A lock from another host cannot be checked and
 * is never taken over. Released on normal exit and on error (the caller's finally) and on
 * process.exit (a second Ctrl-C), by an exit handler.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { existsSync, linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FitlabError } from '../errors.js';
import { TEMP_PREFIX, isAlive } from './atomic.js';
import { WriteError, toWriteError } from './write-error.js';

export const LOCK_FILE = '.fitlab-lock';

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** The lock of `runDir` as written, or null when there is none (or it cannot be read). */
export function readRunLock(runDir: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(join(runDir, LOCK_FILE), 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host, started: String(v.started) } : null;
  } catch {
    return null;
  }
}

/** Whether a process may be training in `runDir` now: a lock of a live PID here, or any other host's. */
export function runInUse(runDir: string): boolean {
  const holder = readRunLock(runDir);
  if (!holder) return existsSync(join(runDir, LOCK_FILE));
  return holder.host !== hostname() || isAlive(holder.pid);
}

const held = new Set<string>();
let exitHook = false;

function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const file of held) removeIfOurs(file);
  });
}

function removeIfOurs(file: string): void {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (v.pid === process.pid && v.host === hostname()) unlinkSync(file);
  } catch {
    // gone already, or not ours to remove
  }
  held.delete(file);
}

/**
 * Remove `runDir`'s lock when this process wrote it. For a worker thread that trained there and
 * has ended: a terminated worker runs no cleanup of its own, and its lock carries the PID of the
 * process, which stays alive (the dashboard), so it would never look stale.
 */
export function releaseRunLock(runDir: string): void {
  removeIfOurs(join(runDir, LOCK_FILE));
}

/** Try to link a complete lock file into place; false when a lock is there already. */
function tryLink(file: string, text: string, runDir: string): boolean {
  const tmp = join(runDir, `${TEMP_PREFIX}lock-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // a full disk fails here: a one-line WriteError naming the lock file, and the temporary goes
    writeFileSync(tmp, text);
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    const disk = toWriteError(err, file, Buffer.byteLength(text));
    if (disk instanceof WriteError) throw disk;
    throw new FitlabError(`cannot lock the run ${runDir}: ${(err as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Lock `runDir` for this process; returns the function that releases it. Throws a one-line
 * FitlabError naming the run and the holder when another live process trains in it. `note`
 * receives the line said when a stale lock is taken over (default: stderr).
 */
export function lockRun(runDir: string, note: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): () => void {
  const file = join(runDir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const text = JSON.stringify(me) + '\n';
  // bounded: each round either takes the lock, refuses, or removes one stale lock
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryLink(file, text, runDir)) {
      held.add(file);
      releaseAllOnExit();
      return () => removeIfOurs(file);
    }
    const holder = readRunLock(runDir);
    if (!holder) {
      throw new FitlabError(`the run ${runDir} is locked (${file} exists but cannot be read)`, `if no fitlab process trains in it, delete ${file}`);
    }
    const stale = holder.host === me.host && holder.pid !== process.pid && !isAlive(holder.pid);
    if (!stale) {
      throw new FitlabError(
        `the run ${runDir} is in use: fitlab process ${holder.pid} on ${holder.host} has trained in it since ${holder.started}`,
        holder.host === me.host ? 'wait for it to finish (or stop it), then try again' : `if that process is gone, delete ${file}`,
      );
    }
    note(`fitlab: taking over the lock of ${runDir} from process ${holder.pid}, which is no longer running`);
    rmSync(file, { force: true });
  }
  throw new FitlabError(`could not lock the run ${runDir}: another process keeps taking the lock`);
}
