/**
 * Reading members of a .tar.gz in memory (node-tar), without extracting anything to disk.
 * Member paths are the dataset's structure (split and class folders), so a path that climbs out
 * (`ds/train/cat/../../../x.jpg` would be a phantom class '..'), an absolute path, or a link
 * pointing out of the archive or standing in for a wanted file is refused, never interpreted.
 */
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import * as tar from 'tar';
import { FitlabError } from '../errors.js';

export interface TarMember {
  path: string;
  data: Buffer;
}

/** Regular files: '0', and '\0' of pre-POSIX (v7) archivers, and '7' (contiguous). */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

const isAbsolutePath = (p: string): boolean => p.startsWith('/') || /^[A-Za-z]:/.test(p);
const climbs = (p: string): boolean => p.split('/').includes('..');

/** Forward slashes, no "./" or "." segments. */
function normalise(raw: string): string {
  return raw.replace(/\\/g, '/').split('/').filter((s, i, all) => s !== '.' && (s !== '' || i === 0 || i === all.length - 1)).join('/');
}

/** Why an entry is refused, or null when it is safe to read or skip. */
function refusal(type: string, path: string, linkpath: string | undefined, want: (path: string) => boolean): string | null {
  if (isAbsolutePath(path)) return 'is an absolute path';
  if (climbs(path)) return "has a '..' segment";
  if (type !== 'SymbolicLink' && type !== 'Link') return null;
  const link = normalise(linkpath ?? '');
  // a symbolic link is relative to its own folder, a hard link to the archive's top
  const target = type === 'SymbolicLink' ? posix.normalize(posix.join(posix.dirname(path), link)) : posix.normalize(link);
  if (isAbsolutePath(link) || climbs(target)) return `is a link to ${JSON.stringify(linkpath)}, outside the archive`;
  if (want(path)) return `is a link (to ${JSON.stringify(linkpath)}); fitlab reads archives without extracting them and does not follow links`;
  return null;
}

/**
 * Call `onMember` for every regular file whose path `want` accepts, with its bytes, and
 * `onDirectory` for every folder entry (without its trailing slash). Paths are
 * normalised to forward slashes without a leading "./".
 */
export async function readTarMembers(
  file: string, want: (path: string) => boolean, onMember: (m: TarMember) => void, onDirectory?: (path: string) => void,
): Promise<void> {
  if (!existsSync(file)) throw new FitlabError(`${file} does not exist`);
  const pending: Promise<void>[] = [];
  let refused: string | null = null;
  try {
    await tar.t({
      file,
      onReadEntry: (entry) => {
        const path = normalise(entry.path);
        const why = refused ? null : refusal(entry.type, path, entry.linkpath, want);
        if (why) refused = `${file}: archive entry ${JSON.stringify(entry.path)} ${why}; entries must be plain files and folders inside the archive`;
        if (!refused && entry.type === 'Directory') onDirectory?.(path.replace(/\/+$/, ''));
        if (refused || !FILE_TYPES.has(entry.type) || !want(path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        pending.push(new Promise<void>((resolve, reject) => {
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => {
            try {
              onMember({ path, data: Buffer.concat(chunks) });
              resolve();
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
          entry.on('error', reject);
        }));
      },
    });
  } catch (err) {
    if (err instanceof FitlabError) throw err;
    throw new FitlabError(`${file}: not a readable .tar.gz (${(err as Error).message})`, 'the archive may be truncated or corrupted');
  }
  await Promise.all(pending);
  if (refused) throw new FitlabError(refused);
}

export function isTarball(path: string): boolean {
  return /\.(tar\.gz|tgz|tar)$/i.test(path);
}
