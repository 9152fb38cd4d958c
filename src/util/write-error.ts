/**
 * A write the file system refused for a reason the user can fix — a full disk, a quota, a
 * read-only mount, missing permission — as one FitlabError naming the file, the bytes it needed
 * and the free space there, instead of a Node stack trace. Callers that know more (the training
 * loop knows the last complete checkpoint) append it with `withNote`.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { FitlabError } from '../errors.js';

/** errno codes that mean "the user's disk or permissions", with the words for them. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** The words for a user-fixable write failure ("no space left on the device (ENOSPC)"), else null. */
export function writeCause(code: unknown): string | null {
  return typeof code === 'string' && code in CAUSES ? `${CAUSES[code]} (${code})` : null;
}

/** Space problems, where the free space is worth printing. */
const SPACE = new Set(['ENOSPC', 'EDQUOT']);

export class WriteError extends FitlabError {
  constructor(
    message: string,
    /** the file (or folder) being written */
    readonly file: string,
    /** bytes being written, when known */
    readonly bytes: number | null,
    /** the errno code: ENOSPC, EDQUOT, EROFS, EACCES or EPERM */
    readonly code: string,
    hint?: string,
  ) {
    super(message, hint);
  }

  /** The cause in words, e.g. "no space left on the device (ENOSPC)". */
  get reason(): string {
    return `${CAUSES[this.code] ?? 'refused'} (${this.code})`;
  }

  /** The same error with a clause appended to its line, e.g. the run's last complete checkpoint. */
  withNote(note: string, hint?: string): WriteError {
    return new WriteError(`${this.message}; ${note}`, this.file, this.bytes, this.code, hint ?? this.hint);
  }

  /** The same error about another name (a file written inside a temporary folder → its final place). */
  renamed(file: string): WriteError {
    return new WriteError(this.message.split(this.file).join(file), file, this.bytes, this.code, this.hint);
  }
}

/** "40 KiB", "1.5 MiB", "512 bytes". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** Bytes an unprivileged writer may still use on the file system holding `path`, or null. */
export function freeBytes(path: string): number | null {
  // the target (or its folder) may not exist yet: ask about the nearest folder that does
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      if (dirname(p) === p) return null;
    }
  }
}

/**
 * `err` as a WriteError when its errno code is one of the user-fixable ones; any other error is
 * returned unchanged (a bug should still show its stack).
 */
export function toWriteError(err: unknown, file: string, bytes: number | null): unknown {
  if (err instanceof WriteError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !(code in CAUSES)) return err;
  let message: string;
  if (SPACE.has(code)) {
    // what it needs against what is left: the user decides how much to free
    const free = freeBytes(file);
    const need = bytes === null ? '' : `needs ${formatBytes(bytes)}`;
    const have = free === null ? '' : `${formatBytes(free)} free on that file system`;
    message = `cannot write ${file}: ${CAUSES[code]} (${code})${need || have ? `: ${[need, have].filter(Boolean).join(', ')}` : ''}`;
  } else {
    message = `cannot write ${file}${bytes === null ? '' : ` (${formatBytes(bytes)})`}: ${CAUSES[code]} (${code})`;
  }
  const hint = SPACE.has(code) ? 'free some space (or write elsewhere) and run the command again' : undefined;
  return new WriteError(message, file, bytes, code, hint);
}
