/**
 * Verified downloads, served by a local HTTP server on 127.0.0.1 (no network needed): a good
 * download of IDX files and of a CIFAR-10 binary tarball lands complete in the cache, equal to
 * the files served, with progress reported up to the full size; a checksum mismatch, an HTTP
 * 404 and a connection that breaks off mid-file are each refused with a clear error and leave
 * no file behind (no cache, no `.fitlab-tmp-*`, an older cache untouched); a dead process's
 * download temporary is swept. The command line (`fitlab data download`) is pointed at the
 * server with FITLAB_DATA_MIRROR and checked against the canonical MNIST checksums: errors
 * print without a stack trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCache, writeCache } from '../../src/data/cache.js';
import { type Remote, REMOTES, downloadDataset, remoteFor } from '../../src/data/download.js';
import { readIdxDataset } from '../../src/data/idx.js';
import { FitlabError } from '../../src/errors.js';
import { BIN, HANG_GUARD, ROOT, STACK_FRAME, ensureBuilt } from '../cli/cli-helpers.js';
import { arr, cifar10Records, cleanup, tempDir, tempLeftovers, tinyIdx, writeIdxFolder } from './data-helpers.js';

/** path → what the server answers: bytes (200), or bytes it cuts off after `cutAfter` */
const routes = new Map<string, { body: Buffer; cutAfter?: number }>();
let server: Server;
let base = '';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    res.writeHead(200, { 'content-length': route.body.length, 'content-type': 'application/octet-stream' });
    if (route.cutAfter === undefined) {
      res.end(route.body);
      return;
    }
    res.write(route.body.subarray(0, route.cutAfter), () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanup();
});

const IDX_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** Serve a tiny gzipped IDX dataset under /<prefix>/ and describe it as a Remote with its MD5s. */
function serveTinyIdx(prefix: string): { remote: Remote; src: string; sizes: number[] } {
  const src = join(tempDir('dl-src'), prefix);
  writeIdxFolder(src, tinyIdx(40, 10, 6, 5), true);
  const files = IDX_NAMES.map((stem) => {
    const name = `${stem}.gz`;
    const body = readFileSync(join(src, name));
    routes.set(`/${prefix}/${name}`, { body });
    return { url: `${base}/${prefix}/${name}`, md5: md5(body), name };
  });
  return { remote: { kind: 'idx', files }, src, sizes: files.map((f) => readFileSync(join(src, f.name)).length) };
}

describe('downloadDataset from a local server', () => {
  it('a good IDX download lands complete: the cache equals the served files, progress reaches each full size, no temporaries', async () => {
    const { remote, src, sizes } = serveTinyIdx('good');
    const cacheRoot = tempDir('dl-cache');
    const last = new Map<string, [number, number | null]>();
    const { dataset, meta } = await downloadDataset('tiny', join(cacheRoot, 'tiny'), { remote, onProgress: (f, got, total) => last.set(f, [got, total]) });
    const direct = readIdxDataset(src, 'tiny');
    const cached = readCache(join(cacheRoot, 'tiny'));
    for (const ds of [dataset, cached]) {
      expect(arr(ds.train.x)).toEqual(arr(direct.train.x));
      expect(arr(ds.train.y)).toEqual(arr(direct.train.y));
      expect(arr(ds.test!.x)).toEqual(arr(direct.test!.x));
      expect(arr(ds.test!.y)).toEqual(arr(direct.test!.y));
    }
    expect(meta.splits.train.n).toBe(40);
    expect(dataset.source).toBe(`${base}/good/`);
    expect([...last.entries()]).toEqual(remote.files.map((f, i) => [f.url, [sizes[i], sizes[i]]]));
    expect(readdirSync(cacheRoot)).toEqual(['tiny']);
    expect(tempLeftovers(cacheRoot)).toEqual([]);
  });

  it('a CIFAR-10 binary tarball download is read from the archive into the cache', async () => {
    const root = tempDir('dl-cifar');
    const folder = join(root, 'cifar-10-batches-bin');
    mkdirSync(folder);
    for (let b = 1; b <= 5; b++) writeFileSync(join(folder, `data_batch_${b}.bin`), cifar10Records([{ label: b, seed: b }]));
    writeFileSync(join(folder, 'test_batch.bin'), cifar10Records([{ label: 0, seed: 9 }, { label: 9, seed: 8 }]));
    const file = join(root, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: root }, ['cifar-10-batches-bin']);
    const body = readFileSync(file);
    routes.set('/c/cifar-10-binary.tar.gz', { body });
    const cacheRoot = tempDir('dl-cifar-cache');
    const remote: Remote = { kind: 'cifar', files: [{ url: `${base}/c/cifar-10-binary.tar.gz`, md5: md5(body), name: 'cifar-10-binary.tar.gz' }] };
    const { dataset } = await downloadDataset('cifar10', join(cacheRoot, 'cifar10'), { remote });
    expect(arr(dataset.train.y)).toEqual([1, 2, 3, 4, 5]);
    expect(arr(dataset.test!.y)).toEqual([0, 9]);
    expect(dataset.source).toBe(`${base}/c/cifar-10-binary.tar.gz`);
    expect(arr(readCache(join(cacheRoot, 'cifar10')).train.y)).toEqual([1, 2, 3, 4, 5]);
    expect(tempLeftovers(cacheRoot)).toEqual([]);
  });

  it('a checksum mismatch (on the second file) is refused: both MD5s named, nothing kept, an older cache untouched', async () => {
    const { remote } = serveTinyIdx('mismatch');
    const wrong = { ...remote, files: remote.files.map((f, i) => (i === 1 ? { ...f, md5: '0123456789abcdef0123456789abcdef' } : f)) };
    const cacheRoot = tempDir('dl-mismatch');
    const target = join(cacheRoot, 'tiny');
    const older = writeCache(target, readIdxDataset(serveTinyIdx('older').src, 'tiny'));
    const err = await downloadDataset('tiny', target, { remote: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FitlabError);
    expect((err as Error).message).toBe(`${remote.files[1].url}: checksum mismatch (MD5 ${remote.files[1].md5}, published 0123456789abcdef0123456789abcdef); the download is corrupt or was changed, nothing was kept`);
    expect(readdirSync(cacheRoot)).toEqual(['tiny']);
    expect(tempLeftovers(cacheRoot)).toEqual([]);
    expect(JSON.parse(readFileSync(join(target, 'meta.json'), 'utf8'))).toMatchObject({ sha256: older.sha256 });
  });

  it('an HTTP 404 is a clear error and leaves nothing', async () => {
    const cacheRoot = tempDir('dl-404');
    const remote: Remote = { kind: 'idx', files: [{ url: `${base}/nowhere/train-images-idx3-ubyte.gz`, md5: '0'.repeat(32), name: 'train-images-idx3-ubyte.gz' }] };
    await expect(downloadDataset('tiny', join(cacheRoot, 'tiny'), { remote })).rejects.toThrow(`could not download ${base}/nowhere/train-images-idx3-ubyte.gz: HTTP 404 Not Found`);
    expect(readdirSync(cacheRoot)).toEqual([]);
  });

  it('a connection that breaks off mid-file is a clear error (not an internal one) and leaves nothing', async () => {
    const body = Buffer.alloc(200_000, 7);
    routes.set('/cut/train-images-idx3-ubyte.gz', { body, cutAfter: 50_000 });
    const cacheRoot = tempDir('dl-cut');
    const remote: Remote = { kind: 'idx', files: [{ url: `${base}/cut/train-images-idx3-ubyte.gz`, md5: md5(body), name: 'train-images-idx3-ubyte.gz' }] };
    const err = await downloadDataset('tiny', join(cacheRoot, 'tiny'), { remote }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FitlabError);
    expect((err as Error).message).toMatch(new RegExp(`^could not download ${base}/cut/train-images-idx3-ubyte\\.gz: the transfer broke off after \\d+ of 200000 bytes .*nothing was kept$`));
    expect(readdirSync(cacheRoot)).toEqual([]);
  });

  it('the temporary of a download whose process died is swept by the next download', async () => {
    const { remote } = serveTinyIdx('sweep');
    const cacheRoot = tempDir('dl-sweep');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const stale = join(cacheRoot, `.fitlab-tmp-download-tiny-${dead.stdout}`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'train-images-idx3-ubyte.gz'), 'half');
    await downloadDataset('tiny', join(cacheRoot, 'tiny'), { remote });
    expect(readdirSync(cacheRoot)).toEqual(['tiny']);
  });
});

describe('FITLAB_DATA_MIRROR', () => {
  it('moves every canonical URL to <mirror>/<dataset>/<file>, keeping the published checksums', () => {
    const saved = process.env.FITLAB_DATA_MIRROR;
    try {
      process.env.FITLAB_DATA_MIRROR = 'http://mirror.example/fitlab/';
      const r = remoteFor('mnist')!;
      expect(r.files.map((f) => f.url)).toEqual(IDX_NAMES.map((s) => `http://mirror.example/fitlab/mnist/${s}.gz`));
      expect(r.files.map((f) => f.md5)).toEqual(REMOTES.mnist.files.map((f) => f.md5));
      expect(remoteFor('cifar10')!.files[0].url).toBe('http://mirror.example/fitlab/cifar10/cifar-10-binary.tar.gz');
      process.env.FITLAB_DATA_MIRROR = 'ftp://elsewhere';
      expect(() => remoteFor('mnist')).toThrow('FITLAB_DATA_MIRROR must be an http:// or https:// URL; received "ftp://elsewhere"');
      delete process.env.FITLAB_DATA_MIRROR;
      expect(remoteFor('mnist')!.files[0].url).toBe('https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz');
      expect(remoteFor('toString')).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.FITLAB_DATA_MIRROR;
      else process.env.FITLAB_DATA_MIRROR = saved;
    }
  });
});

/** `fitlab …` without blocking this process (the server answers from its event loop). */
function fitlabAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000 * HANG_GUARD); // a hang guard
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('`fitlab data download` through FITLAB_DATA_MIRROR', () => {
  beforeAll(() => ensureBuilt());

  it('checksum mismatch against the published MNIST MD5: exit 1, both checksums, no stack trace, nothing in the cache', async () => {
    const bogus = Buffer.from('these bytes are not the MNIST training images');
    routes.set('/m1/mnist/train-images-idx3-ubyte.gz', { body: bogus });
    const xdg = tempDir('dl-cli');
    const r = await fitlabAsync(['data', 'download', 'mnist', '--quiet'], { FITLAB_DATA_MIRROR: `${base}/m1`, XDG_CACHE_HOME: xdg });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`fitlab: error: ${base}/m1/mnist/train-images-idx3-ubyte.gz: checksum mismatch (MD5 ${md5(bogus)}, published f68b3c2dcbeaaa9fbdd348bbdeb94873)`);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(join(xdg, 'fitlab', 'mnist'))).toBe(false);
    expect(tempLeftovers(xdg)).toEqual([]);
  });

  it('a 404 and a broken-off transfer: exit 1, a clear message, no stack trace', async () => {
    const xdg = tempDir('dl-cli-404');
    const missing = await fitlabAsync(['data', 'download', 'fashion-mnist', '--quiet'], { FITLAB_DATA_MIRROR: `${base}/m2/`, XDG_CACHE_HOME: xdg });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`fitlab: error: could not download ${base}/m2/fashion-mnist/train-images-idx3-ubyte.gz: HTTP 404 Not Found`);
    expect(missing.stderr).not.toMatch(STACK_FRAME);
    routes.set('/m3/mnist/train-images-idx3-ubyte.gz', { body: Buffer.alloc(300_000, 1), cutAfter: 100_000 });
    const cut = await fitlabAsync(['data', 'download', 'mnist', '--quiet'], { FITLAB_DATA_MIRROR: `${base}/m3`, XDG_CACHE_HOME: xdg });
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(/fitlab: error: could not download .*\/m3\/mnist\/train-images-idx3-ubyte\.gz: the transfer broke off after \d+ of 300000 bytes/);
    expect(cut.stderr).not.toMatch(STACK_FRAME);
    expect(cut.stderr).not.toContain('internal error');
    expect(tempLeftovers(xdg)).toEqual([]);
    expect(existsSync(join(xdg, 'fitlab', 'mnist'))).toBe(false);
  });
});
