/** Reading members of a .tar.gz in memory (node-tar), without extracting anything to disk. */
import { existsSync } from 'node:fs';
import * as tar from 'tar';
import { FitlabError } from '../errors.js';

export interface TarMember {
  path: string;
  data: Buffer;
}

/**
 * Call `onMember` for every regular file whose path `want` accepts, with its bytes. Paths are
 * normalised to forward slashes without a leading "./".
 */
export async function readTarMembers(file: string, want: (path: string) => boolean, onMember: (m: TarMember) => void): Promise<void> {
  if (!existsSync(file)) throw new FitlabError(`${file} does not exist`);
  const pending: Promise<void>[] = [];
  try {
    await tar.t({
      file,
      onReadEntry: (entry) => {
        const path = entry.path.replace(/\\/g, '/').replace(/^\.\//, '');
        if (entry.type !== 'File' || !want(path)) {
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
}

export function isTarball(path: string): boolean {
  return /\.(tar\.gz|tgz|tar)$/i.test(path);
}
