/**
 * A name given at import works wherever a dataset name does (data info, train --dataset), and
 * `data list` turns a known dataset's archive it found into the one command that imports it
 * instead of calling that dataset "not found".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir, tinyIdx, writeIdxFolder } from '../data/data-helpers.js';
import { STACK_FRAME, ensureBuilt, fitlab } from './cli-helpers.js';

let cache = '';
let dataDir = '';
let env: Record<string, string> = {};

beforeAll(() => {
  ensureBuilt();
  cache = tempDir('names-cache');
  dataDir = tempDir('names-data');
  // the user cache goes to a fresh folder; FITLAB_DATA points at this test's own folder
  env = { XDG_CACHE_HOME: cache, FITLAB_DATA: dataDir };
  const src = join(dataDir, 'src-idx');
  writeIdxFolder(src, tinyIdx(60, 12, 4, 4), false);
  const r = fitlab(['data', 'import', src, '--name', 'tiny-digits'], { env });
  expect(r.status, r.stderr).toBe(0);
});
afterAll(() => cleanup());

describe('dataset names', () => {
  it('data info knows a dataset by the name it was imported under', () => {
    const r = fitlab(['data', 'info', 'tiny-digits', '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { name: string; classes: number };
    expect(info.name).toBe('tiny-digits');
    expect(info.classes).toBe(3);
  });

  it('train --dataset takes that name too', () => {
    const spec = { name: 'flat', input: [4, 4, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 3, activation: 'softmax' }] };
    writeFileSync(join(dataDir, 'flat.json'), JSON.stringify(spec));
    const r = fitlab(['train', '--dataset', 'tiny-digits', '--model', join(dataDir, 'flat.json'), '--epochs', '1', '--threads', '1', '--quiet', '--out', join(dataDir, 'runs')], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('flat on tiny-digits: 1 epochs');
  });

  it('an unknown name is still one error line naming it', () => {
    const r = fitlab(['data', 'info', 'no-such-set'], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown dataset "no-such-set"/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('data list: a CIFAR-10 archive that is found but not imported gets its import command, not "not found: cifar10"', () => {
    const archives = join(dataDir, 'archives');
    mkdirSync(archives);
    // the listing goes by the archive's name (it is not decoded); a small valid .tar.gz all the same
    const header = Buffer.alloc(1024);
    header.write('cifar/readme.txt', 0);
    header.write('ustar', 257);
    writeFileSync(join(archives, 'cifar10-jpeg.tar.gz'), gzipSync(header));
    const r = fitlab(['data', 'list', '--data-dir', archives], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`fitlab data import ${join(archives, 'cifar10-jpeg.tar.gz')} --name cifar10`);
    expect(r.stdout).not.toMatch(/not found: [^\n]*cifar10\b(?!0)/);
    // cifar100 is not that archive's
    expect(r.stdout).toMatch(/not found: [^\n]*cifar100/);
    // and training on cifar10 there names the same one command, not the generic ways to get it
    const t = fitlab(['data', 'info', 'cifar10', '--data-dir', archives], { env });
    expect(t.status).toBe(1);
    expect(t.stderr).toContain(`fitlab data import ${join(archives, 'cifar10-jpeg.tar.gz')} --name cifar10`);
    expect(t.stderr).not.toContain('fitlab data download cifar10');
    expect(t.stderr).not.toMatch(STACK_FRAME);
  });
});
