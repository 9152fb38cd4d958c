/**
 * Data loss: no command deletes or replaces what fitlab did not write (src/util/owned.ts). Every
 * writer that takes a user-named target — export, data import, compare --out, diagnose --write
 * --out (folders) and data preview --out (a file) — is pointed, through the real CLI, at an
 * existing user file, a non-empty user folder, a symlink, an empty folder, a folder it wrote
 * before (with and without --force), a fitlab folder of another kind and a fitlab folder the
 * user added a file to. What the user had must be byte-identical afterwards, and every refusal
 * is exit 1 with one `fitlab: error:` line and no stack trace.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNED_MARKER } from '../../src/util/owned.js';
import { type CliResult, STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { tinyIdx, writeIdxFolder } from '../data/data-helpers.js';

let tmp = '';
let run = '';
let idxSrc = '';
let n = 0;
/** A fresh path under the test folder (nothing there yet). */
const fresh = (tag: string): string => join(tmp, `${tag}-${++n}`);

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-writes-'));
  run = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '2', '--out', join(tmp, 'runs'), '--quiet', '--json'])).runDir;
  idxSrc = join(tmp, 'idx-src');
  writeIdxFolder(idxSrc, tinyIdx(6, 2, 4, 4), true);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Every file, folder and link under `path` with its bytes: what must not change. */
function snapshot(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(p)}`;
    else if (st.isDirectory()) {
      out[rel] = 'dir';
      for (const e of readdirSync(p)) walk(join(p, e), `${rel}/${e}`);
    } else out[rel] = readFileSync(p).toString('base64');
  };
  walk(path, '.');
  return out;
}

/** A refusal: exit 1, exactly one error line (a hint line may follow), no stack trace. */
function expectRefused(r: CliResult, message: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  const lines = r.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('fitlab: error: '))).toHaveLength(1);
  expect(lines.every((l) => l.startsWith('fitlab: error: ') || l.startsWith('fitlab: hint: ')), r.stderr).toBe(true);
  expect(r.stderr).toMatch(message);
}

interface DirWriter {
  name: string;
  kind: string;
  /** the command line writing into `out` */
  args: (out: string) => string[];
  /** a file the written folder must hold */
  product: string;
}

const writers: DirWriter[] = [
  { name: 'export --format tfjs', kind: 'tfjs-model', args: (out) => ['export', run, '--format', 'tfjs', '--out', out], product: 'model.json' },
  { name: 'data import', kind: 'dataset-cache', args: (out) => ['data', 'import', idxSrc, '--name', 'tiny', '--out', out], product: 'data.bin' },
  { name: 'compare --out', kind: 'comparison', args: (out) => ['compare', run, run, '--labels', 'a,b', '--out', out], product: 'compare.html' },
  { name: 'diagnose --write --out', kind: 'report', args: (out) => ['diagnose', run, '--write', '--out', out, '--no-chart'], product: 'report.html' },
];

/** A folder of the user's: a file and a sub-folder with a file. */
function userFolder(path: string): void {
  mkdirSync(join(path, 'notes'), { recursive: true });
  writeFileSync(join(path, 'thesis.txt'), 'four years of work\n');
  writeFileSync(join(path, 'notes', 'a.md'), '# keep me\n');
}

describe.each(writers)('$name', (w) => {
  it('an existing file of the user\'s is refused, also with --force, and stays byte-identical', () => {
    const out = fresh('file');
    writeFileSync(out, 'the user\'s file\n');
    for (const force of [[], ['--force']]) {
      expectRefused(fitlab([...w.args(out), ...force]), new RegExp(`--out ${out} is a file, not a folder`));
      expect(readFileSync(out, 'utf8')).toBe('the user\'s file\n');
    }
  });

  it('a non-empty folder of the user\'s is refused, also with --force, and stays byte-identical', () => {
    const out = fresh('folder');
    userFolder(out);
    const before = snapshot(out);
    for (const force of [[], ['--force']]) {
      expectRefused(fitlab([...w.args(out), ...force]), new RegExp(`--out ${out} is a folder that already holds 2 entries fitlab did not write`));
      expect(snapshot(out)).toEqual(before);
    }
  });

  it('a symlink (to a folder of the user\'s) is refused, also with --force; link and folder unchanged', () => {
    const target = fresh('linked');
    userFolder(target);
    const out = fresh('link');
    symlinkSync(target, out);
    const before = snapshot(target);
    expectRefused(fitlab([...w.args(out), '--force']), new RegExp(`--out ${out} is a symbolic link`));
    expect(readlinkSync(out)).toBe(target);
    expect(snapshot(target)).toEqual(before);
  });

  it('an empty folder is filled; a second write needs --force; --force replaces what fitlab wrote', () => {
    const out = fresh('empty');
    mkdirSync(out);
    expect(fitlab(w.args(out)).status).toBe(0);
    expect(existsSync(join(out, w.product))).toBe(true);
    const marker = JSON.parse(readFileSync(join(out, OWNED_MARKER), 'utf8')) as { by: string; kind: string; files: string[] };
    expect(marker).toMatchObject({ by: 'fitlab', kind: w.kind });
    expect(marker.files).toContain(w.product);
    const before = snapshot(out);
    expectRefused(fitlab(w.args(out)), new RegExp(`--out ${out} already holds .* fitlab wrote .*; pass --force to replace it`));
    expect(snapshot(out)).toEqual(before);
    const forced = fitlab([...w.args(out), '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(existsSync(join(out, w.product))).toBe(true);
    expect(readdirSync(tmp).filter((e) => e.startsWith('.fitlab-tmp-'))).toEqual([]);
  });

  it('with --force, a fitlab folder holding a file the user added is refused; the file is kept', () => {
    const out = fresh('added');
    expect(fitlab(w.args(out)).status).toBe(0);
    writeFileSync(join(out, 'my-notes.txt'), 'added by the user\n');
    const before = snapshot(out);
    expectRefused(fitlab([...w.args(out), '--force']), /"my-notes\.txt" that fitlab did not write; not replaced, even with --force/);
    expect(snapshot(out)).toEqual(before);
  });

  it('with --force, a folder fitlab wrote for another command is refused (an export never replaces a report)', () => {
    const other = writers.find((x) => x.kind !== w.kind) as DirWriter;
    const out = fresh('other-kind');
    expect(fitlab(other.args(out)).status).toBe(0);
    const before = snapshot(out);
    expectRefused(fitlab([...w.args(out), '--force']), /written by fitlab, not .*; fitlab replaces a folder only with the same kind of content/);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('a run directory is never a target', () => {
  it('export --force and diagnose --write --out onto a run of another run: refused, the run unchanged', () => {
    const other = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '1', '--out', join(tmp, 'runs2'), '--quiet', '--json'])).runDir;
    const before = snapshot(other);
    expectRefused(fitlab(['export', run, '--out', other, '--force']), /fitlab did not write/);
    expectRefused(fitlab(['diagnose', run, '--write', '--out', other, '--force', '--no-chart']), /fitlab did not write/);
    expect(snapshot(other)).toEqual(before);
  });
});

describe('data preview --out (a single file)', () => {
  const preview = (out: string, ...more: string[]): CliResult => fitlab(['data', 'preview', 'shapes', '--out', out, '--rows', '2', '--copies', '1', ...more]);

  it('an existing file is refused without --force (unchanged) and replaced with it', () => {
    const out = `${fresh('png')}.png`;
    writeFileSync(out, 'the user\'s picture');
    expectRefused(preview(out), new RegExp(`--out ${out} already exists; pass --force to replace it`));
    expect(readFileSync(out, 'utf8')).toBe('the user\'s picture');
    expect(preview(out, '--force').status).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a folder or a symlink at --out is refused, even with --force, and left as it was', () => {
    const dir = fresh('png-dir');
    userFolder(dir);
    const before = snapshot(dir);
    expectRefused(preview(dir, '--force'), new RegExp(`--out ${dir} is a folder`));
    expect(snapshot(dir)).toEqual(before);
    const file = fresh('png-target');
    writeFileSync(file, 'linked file');
    const link = `${fresh('png-link')}.png`;
    symlinkSync(file, link);
    expectRefused(preview(link, '--force'), new RegExp(`--out ${link} is a symbolic link`));
    expect(readFileSync(file, 'utf8')).toBe('linked file');
    expect(readlinkSync(link)).toBe(file);
  });

  it('a new file is written', () => {
    const out = `${fresh('new')}.png`;
    expect(preview(out).status).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('the default dataset cache (~/.cache/fitlab/<name>, here under XDG_CACHE_HOME)', () => {
  it('data import and data download refuse a folder of the user\'s there before reading or downloading anything', () => {
    const cacheHome = fresh('xdg');
    const env = { XDG_CACHE_HOME: cacheHome };
    for (const name of ['tiny', 'mnist']) userFolder(join(cacheHome, 'fitlab', name));
    const before = snapshot(cacheHome);
    expectRefused(fitlab(['data', 'import', idxSrc, '--name', 'tiny', '--force'], { env }), new RegExp(`${join(cacheHome, 'fitlab', 'tiny')} is a folder that already holds 2 entries fitlab did not write`));
    expectRefused(fitlab(['data', 'download', 'mnist', '--force', '--quiet'], { env }), new RegExp(`${join(cacheHome, 'fitlab', 'mnist')} is a folder that already holds 2 entries fitlab did not write`));
    expect(snapshot(cacheHome)).toEqual(before);
  });

  it('re-importing over the cache fitlab wrote there needs --force', () => {
    const env = { XDG_CACHE_HOME: fresh('xdg-own') };
    expect(fitlab(['data', 'import', idxSrc, '--name', 'tiny'], { env }).status).toBe(0);
    expectRefused(fitlab(['data', 'import', idxSrc, '--name', 'tiny'], { env }), /already holds a dataset cache fitlab wrote .*; pass --force to replace it/);
    expect(fitlab(['data', 'import', idxSrc, '--name', 'tiny', '--force'], { env }).status).toBe(0);
  });
});
