/**
 * Where a job's artifacts (its latest checkpoint, its finished run directory) wait: in Redis,
 * next to the queue (the default: no shared file system needed), or in a shared folder
 * (`--store <dir>`, a path every machine mounts at the same place) when runs are big.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { FitlabError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { artifactFile, artifactKey } from './job.js';

export type ArtifactKind = 'checkpoint' | 'run';

export interface ArtifactStore {
  put(jobId: string, what: ArtifactKind, bytes: Uint8Array): Promise<{ kind: 'redis' | 'file'; where: string; bytes: number }>;
  get(jobId: string, what: ArtifactKind): Promise<Uint8Array | null>;
  remove(jobId: string, what: ArtifactKind): Promise<void>;
}

/** A finished run nobody collected is dropped from Redis after this long. */
const RUN_TTL_SECONDS = 7 * 24 * 3600;

export function redisStore(client: Redis): ArtifactStore {
  return {
    async put(jobId, what, bytes) {
      const key = artifactKey(jobId, what);
      if (what === 'run') await client.set(key, Buffer.from(bytes), 'EX', RUN_TTL_SECONDS);
      else await client.set(key, Buffer.from(bytes));
      return { kind: 'redis', where: key, bytes: bytes.length };
    },
    async get(jobId, what) {
      const b = await client.getBuffer(artifactKey(jobId, what));
      return b ? new Uint8Array(b.buffer, b.byteOffset, b.length) : null;
    },
    async remove(jobId, what) {
      await client.del(artifactKey(jobId, what));
    },
  };
}

export function folderStore(dir: string): ArtifactStore {
  return {
    put(jobId, what, bytes) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        return Promise.reject(new FitlabError(`cannot use the store folder ${dir}: ${(err as Error).message}`, 'every worker must see --store at the same path (a shared mount) and be allowed to write there'));
      }
      const file = artifactFile(dir, jobId, what);
      writeFileAtomic(file, bytes);
      return Promise.resolve({ kind: 'file' as const, where: file, bytes: bytes.length });
    },
    get(jobId, what) {
      const file = artifactFile(dir, jobId, what);
      return Promise.resolve(existsSync(file) ? new Uint8Array(readFileSync(file)) : null);
    },
    remove(jobId, what) {
      rmSync(artifactFile(dir, jobId, what), { force: true });
      return Promise.resolve();
    },
  };
}
