/**
 * Ownership of what fitlab writes (ARCHITECTURE decision 11: never destroy what fitlab did not
 * write). Every folder fitlab writes as a whole carries a marker file, `.fitlab-owned`, a small
 * JSON saying what kind of folder it is, when it was written and which entries fitlab put in it.
 * Before a writer fills a target, `checkDirTarget`/`checkFileTarget` decide whether it may:
 *
 *   absent, or an empty folder          → written (an empty folder is filled)
 *   a file, a symlink, a special file   → refused, always (never replaced by a folder)
 *   a non-empty folder without marker   → refused, always (it is the user's)
 *   a folder with the marker            → a user-named target (--out): refused unless --force,
 *                                          and even with --force only when it holds the same kind
 *                                          of content (an export never replaces a dataset cache or
 *                                          a report) and nothing but the entries fitlab wrote
 *
 * Fitlab's own fixed-name folders (checkpoint/, model-best/, model-final/, model-initial/,
 * snapshots inside a run directory) are written with `own: true`: their parent is a run
 * directory that this process created or holds the lock of, so an existing folder there is
 * fitlab's even when it predates markers (runs written by older versions); such a target is
 * still never replaced when it is a file or a symlink.
 *
 * Single files named by the user (a preview PNG) cannot carry a marker: an existing file is
 * replaced only with --force, as `cp -n` / Keras' `overwrite=False` would do; never a folder.
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { FitlabError } from '../errors.js';

/** Name of the marker file inside every folder fitlab writes as a whole. */
export const OWNED_MARKER = '.fitlab-owned';

/** What a marker says. */
export interface OwnedMarker {
  by: 'fitlab';
  /** what the folder holds: 'tfjs-model', 'checkpoint', 'dataset-cache', 'report', 'comparison' */
  kind: string;
  /** the fitlab version that wrote it */
  version: string;
  created: string;
  /** the entries fitlab wrote (the marker excluded) */
  files: string[];
}

/** How a writer names its target. */
export interface DirTarget {
  /** recorded in the marker; a user target is replaced only by a writer of the same kind */
  kind: string;
  /** a fixed-name folder inside a folder fitlab owns (see the file comment) */
  own?: boolean;
  /** the user passed --force: a fitlab-written folder of the same kind may be replaced */
  force?: boolean;
  /** how the target appears in messages, e.g. '--out' */
  label?: string;
}

/** What a writer may do with its target. */
export type TargetState = 'absent' | 'empty' | 'replace';

const KIND_NAMES: Record<string, string> = {
  'tfjs-model': 'a TF.js model',
  checkpoint: 'a checkpoint',
  'dataset-cache': 'a dataset cache',
  report: 'a report',
  comparison: 'a comparison',
};

const kindName = (kind: string): string => KIND_NAMES[kind] ?? `a ${kind}`;

/** The marker of `dir`, or null when it has none (or an unreadable one: then it is not fitlab's). */
export function readMarker(dir: string): OwnedMarker | null {
  try {
    const m = JSON.parse(readFileSync(`${dir}/${OWNED_MARKER}`, 'utf8')) as Partial<OwnedMarker>;
    if (m.by !== 'fitlab' || typeof m.kind !== 'string' || !Array.isArray(m.files)) return null;
    return m as OwnedMarker;
  } catch {
    return null;
  }
}

/** The marker text for a folder holding `files`. */
export function markerText(kind: string, version: string, files: string[]): string {
  const m: OwnedMarker = { by: 'fitlab', kind, version, created: new Date().toISOString(), files: files.filter((f) => f !== OWNED_MARKER).sort() };
  return JSON.stringify(m, null, 1) + '\n';
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FitlabError(`cannot inspect ${path}: ${(err as Error).message}`);
  }
}

/** Decide what a folder writer may do with `path`; throws a one-line FitlabError when it may not. */
export function checkDirTarget(path: string, target: DirTarget): TargetState {
  const named = target.label ? `${target.label} ${path}` : path;
  const what = kindName(target.kind);
  const st = lstatOrNull(path);
  if (!st) return 'absent';
  if (st.isSymbolicLink()) {
    throw new FitlabError(`${named} is a symbolic link; fitlab writes ${what} only into a new folder, an empty folder or one it wrote itself, and never replaces a link`);
  }
  if (!st.isDirectory()) {
    throw new FitlabError(`${named} is a file, not a folder; fitlab writes ${what} only into a new or empty folder and never replaces a file`, 'choose a new folder name');
  }
  const entries = readdirSync(path);
  if (entries.length === 0) return 'empty';
  const marker = readMarker(path);
  if (target.own) return 'replace';
  if (!marker) {
    throw new FitlabError(`${named} is a folder that already holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} fitlab did not write; fitlab writes ${what} only into a new or empty folder`, 'choose a new folder name, or empty the folder yourself');
  }
  if (marker.kind !== target.kind) {
    throw new FitlabError(`${named} holds ${kindName(marker.kind)} written by fitlab, not ${what}; fitlab replaces a folder only with the same kind of content`, 'choose a new folder name');
  }
  if (!target.force) {
    throw new FitlabError(`${named} already holds ${what} fitlab wrote (${marker.created ?? 'earlier'}); pass --force to replace it`);
  }
  const foreign = entries.filter((e) => e !== OWNED_MARKER && !marker.files.includes(e));
  if (foreign.length) {
    throw new FitlabError(`${named} holds ${what} fitlab wrote, but also ${foreign.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${foreign.length > 3 ? ', …' : ''} that fitlab did not write; not replaced, even with --force`, 'move those files out, or choose a new folder name');
  }
  return 'replace';
}

/** Decide whether a single-file writer may write `path` (an existing file needs --force). */
export function checkFileTarget(path: string, opts: { force?: boolean; label?: string } = {}): TargetState {
  const named = opts.label ? `${opts.label} ${path}` : path;
  const st = lstatOrNull(path);
  if (!st) return 'absent';
  if (st.isSymbolicLink()) throw new FitlabError(`${named} is a symbolic link; fitlab never writes through or replaces a link`, 'choose a new file name');
  if (st.isDirectory()) throw new FitlabError(`${named} is a folder; fitlab writes a file there only when no folder or file is in the way`, 'choose a new file name');
  if (!st.isFile()) throw new FitlabError(`${named} is not a regular file; fitlab does not replace it`);
  if (!opts.force) throw new FitlabError(`${named} already exists; pass --force to replace it`);
  return 'replace';
}
