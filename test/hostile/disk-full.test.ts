/**
 * A disk that fills up (or is read-only) while fitlab writes: one line naming the file, the bytes
 * it needed and the free space, plus the run's last complete checkpoint during a training; exit
 * 1; no stack trace; the previous checkpoint and files intact and no temporaries left behind.
 * A PNG chart that cannot be written is a warning, not the end of the command.
 *
 * The full disk is real: a small tmpfs mounted for the test (root may mount; CI runs as root).
 * Where mounting is refused, those tests are skipped with the reason, and the /dev/full test
 * (a device whose every write fails with ENOSPC) still checks the error itself.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Remote, downloadDataset } from '../../src/data/download.js';
import { writePngCopy } from '../../src/diagnose/run-report.js';
import { TEMP_PREFIX, writeDirAtomic, writeFileAtomic } from '../../src/util/atomic.js';
import { WriteError, toWriteError } from '../../src/util/write-error.js';
import { STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'fitlab-disk-full-'));
const mounts: string[] = [];
let made = 0;

/** A fresh tmpfs of `size` (e.g. '4m') at a new folder, or null with why it cannot be mounted. */
function mountTmpfs(size: string, options = ''): string | null {
  const dir = join(tmp, `mnt-${++made}`);
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${options}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

// one probe decides whether this machine lets the test mount (root in a sandbox may not)
const probe = mountTmpfs('64k');
const noMount = probe === null ? 'mount -t tmpfs is not permitted here (needs root and mount rights)' : '';

afterAll(() => {
  for (const dir of mounts.reverse()) spawnSync('umount', [dir]);
  rmSync(tmp, { recursive: true, force: true });
});

const freeOn = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** Fill the file system of `dir` until only `leave` bytes are free. */
function fillUntil(dir: string, leave: number): string {
  const filler = join(dir, 'filler');
  writeFileSync(filler, Buffer.alloc(Math.max(0, freeOn(dir) - leave)));
  return filler;
}

/** Every temporary (.fitlab-tmp-*) left anywhere under `dir`. */
function temporaries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.split('/').some((part) => part.startsWith(TEMP_PREFIX)));
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** "40 KiB" / "512 bytes" back to bytes (the message rounds; good enough to compare). */
function bytesOf(text: string): number {
  const m = /^([\d.]+) (bytes?|KiB|MiB|GiB)$/.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * { byte: 1, bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'KiB'];
}

describe.skipIf(noMount !== '')(`a full disk (tmpfs)${noMount ? ` — skipped: ${noMount}` : ''}`, () => {
  beforeAll(() => ensureBuilt());

  it('a training that runs out of space: one line with the file, needed and free bytes and the last checkpoint; that checkpoint intact; resume finishes once there is space', () => {
    const disk = mountTmpfs('4m') as string;
    const out = join(disk, 'runs');
    // --checkpoint none: no model-best/ writes, so the first write too big for the space left
    // is the checkpoint itself
    const first = fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '2', '--checkpoint', 'none', '--out', out, '--quiet']);
    expect(first.status).toBe(0);
    const run = join(out, readdirSync(out)[0]);
    const files = ['arrays.bin', 'state.json'].map((f) => join(run, 'checkpoint', f));
    const before = files.map(sha);
    // room for history.jsonl and weights.jsonl, not for a second copy of the 40 KiB arrays.bin
    const filler = fillUntil(disk, 32 * 1024);

    const r = fitlab(['train', '--resume', run, '--epochs', '4']);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const line = new RegExp(`^fitlab: error: cannot write ${run}/checkpoint/arrays\\.bin: no space left on the device \\(ENOSPC\\): needs (\\S+ \\S+), (\\S+ \\S+) free on that file system; the last complete checkpoint is the end of epoch 2 \\(${run}/checkpoint\\)$`, 'm');
    const m = line.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(bytesOf((m as RegExpExecArray)[1])).toBeGreaterThan(bytesOf((m as RegExpExecArray)[2]));
    expect(r.stderr).toContain(`fitlab: hint: free some space, then continue with: fitlab train --resume ${run}`);
    // nothing lost: the checkpoint is the one of epoch 2, byte for byte, and no temporary remains
    expect(files.map(sha)).toEqual(before);
    expect(temporaries(run)).toEqual([]);

    rmSync(filler);
    const resumed = fitlab(['train', '--resume', run, '--epochs', '4', '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(run, 'history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(existsSync(join(run, 'model-final', 'model.json'))).toBe(true);
  });

  it('a new training on a full disk: one line naming what could not be written, exit 1', () => {
    const disk = mountTmpfs('1m') as string;
    fillUntil(disk, 0);
    const r = fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '2', '--out', join(disk, 'runs')]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toMatch(new RegExp(`^fitlab: error: cannot (write|create) \\S*${disk}/runs\\S*.*\\bENOSPC\\b`, 'm'));
    expect(temporaries(disk)).toEqual([]);
  });

  it('writeFileAtomic: a file too big for the space left throws a WriteError; the old file stays, the temporary goes', () => {
    const disk = mountTmpfs('64k') as string;
    const file = join(disk, 'data.bin');
    writeFileAtomic(file, Buffer.alloc(1000, 7));
    let err: unknown;
    try {
      writeFileAtomic(file, Buffer.alloc(200 * 1024, 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ file, bytes: 200 * 1024, code: 'ENOSPC' });
    expect((err as Error).message).toMatch(new RegExp(`^cannot write ${file}: no space left on the device \\(ENOSPC\\): needs 200 KiB, \\d+ KiB free on that file system$`));
    expect(readFileSync(file)).toEqual(Buffer.alloc(1000, 7));
    expect(readdirSync(disk)).toEqual(['data.bin']);
  });

  it('writeDirAtomic: a fill that runs out of space names the file at its final place; the old folder stays', () => {
    const disk = mountTmpfs('64k') as string;
    const dir = join(disk, 'model');
    const target = { kind: 'test-dir', own: true };
    writeDirAtomic(dir, (t) => writeFileAtomic(join(t, 'small.bin'), Buffer.alloc(100, 3)), target);
    const before = readdirSync(dir).sort();
    expect(() => writeDirAtomic(dir, (t) => writeFileAtomic(join(t, 'big.bin'), Buffer.alloc(200 * 1024)), target))
      .toThrow(new RegExp(`^cannot write ${dir}/big\\.bin: no space left on the device \\(ENOSPC\\)`));
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(join(dir, 'small.bin'))).toEqual(Buffer.alloc(100, 3));
    expect(temporaries(disk)).toEqual([]);
  });

  it('a read-only file system: a WriteError saying so, and a training refused in one line', () => {
    const disk = mountTmpfs('1m') as string;
    mkdirSync(join(disk, 'runs'));
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    const file = join(disk, 'x.json');
    expect(() => writeFileAtomic(file, '{}')).toThrow(`cannot write ${file} (2 bytes): the file system is read-only (EROFS)`);
    ensureBuilt();
    const r = fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '1', '--out', join(disk, 'runs')]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^fitlab: error: .*\bEROFS\b/);
  });

  it('a download that fills the disk says so (not "the transfer broke off") and keeps nothing', async () => {
    const disk = mountTmpfs('64k') as string;
    const body = Buffer.alloc(200 * 1024, 5);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.gz`;
      const remote: Remote = { kind: 'idx', files: [{ url, md5: '0'.repeat(32), name: 'big.gz' }] };
      const err = await downloadDataset('tiny', join(disk, 'cache', 'tiny'), { remote }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteError);
      expect((err as Error).message).toMatch(/^cannot write \S+\/big\.gz: no space left on the device \(ENOSPC\): needs 200 KiB, \S+ \S+ free on that file system$/);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
    expect(temporaries(disk)).toEqual([]);
  });

  it('a PNG chart that does not fit is one warning line and false, not an exception', () => {
    const disk = mountTmpfs('64k') as string;
    fillUntil(disk, 0);
    const warnings: string[] = [];
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300" fill="#fff"/><text x="20" y="40">loss</text></svg>';
    expect(writePngCopy(join(disk, 'loss.png'), svg, (l) => warnings.push(l))).toBe(false);
    expect(warnings).toEqual([`fitlab: warning: the chart ${join(disk, 'loss.png')} was not written: no space left on the device (ENOSPC); the SVG beside it has the same chart`]);
    expect(temporaries(disk)).toEqual([]);
  });
});

describe('errors from a real ENOSPC without mounting anything (/dev/full)', () => {
  it('toWriteError turns the ENOSPC of a write to /dev/full into one line naming the file and bytes', () => {
    const fd = openSync('/dev/full', 'w');
    let raw: unknown;
    try {
      writeSync(fd, Buffer.alloc(4096));
    } catch (e) {
      raw = e;
    } finally {
      closeSync(fd);
    }
    expect((raw as NodeJS.ErrnoException).code).toBe('ENOSPC');
    const err = toWriteError(raw, '/dev/full', 4096);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).message).toMatch(/^cannot write \/dev\/full: no space left on the device \(ENOSPC\): needs 4\.0 KiB(, \S+ \S+ free on that file system)?$/);
    expect((err as WriteError).withNote('the last complete checkpoint is the initial state').message).toMatch(/; the last complete checkpoint is the initial state$/);
  });

  it('permission and quota errors read the same way (codes as Node reports them)', () => {
    const errno = (code: string): Error => Object.assign(new Error(`${code}: from the kernel`), { code });
    expect((toWriteError(errno('EACCES'), '/srv/runs/x.json', 10) as Error).message).toBe('cannot write /srv/runs/x.json (10 bytes): permission denied (EACCES)');
    expect((toWriteError(errno('EDQUOT'), tmp, 2048) as Error).message).toMatch(/^cannot write \S+: the disk quota is exceeded \(EDQUOT\): needs 2\.0 KiB, \S+ \S+ free on that file system$/);
  });

  it('other errors pass through unchanged (a bug keeps its stack)', () => {
    const bug = new TypeError('x is not a function');
    expect(toWriteError(bug, '/some/file', 1)).toBe(bug);
  });
});

describe('a chart PNG that cannot be written, through the CLI', () => {
  beforeAll(() => ensureBuilt());

  it('diagnose --write warns about the one PNG, writes everything else and exits 0', () => {
    const out = join(tmp, 'png-runs');
    expect(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '2', '--out', out, '--quiet']).status).toBe(0);
    const run = join(out, readdirSync(out)[0]);
    // a folder where loss.png belongs: the rename of the finished PNG onto it fails
    rmSync(join(run, 'loss.png'));
    mkdirSync(join(run, 'loss.png'));
    rmSync(join(run, 'report.html'));
    const r = fitlab(['diagnose', run, '--write']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^fitlab: warning: the chart ${run}/loss\\.png was not written: EISDIR; the SVG beside it has the same chart$`, 'm'));
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(join(run, 'report.html'))).toBe(true);
    expect(existsSync(join(run, 'accuracy.png'))).toBe(true);
    expect(temporaries(run)).toEqual([]);
  });
});
