/**
 * `fitlab site` without a browser: what it writes (the bundle, data/index.json, IDX files that
 * read back as the dataset they came from), what it refuses (a folder fitlab did not write; its
 * own site without --force; a dataset that is not grayscale images), and what it prints (the
 * COOP/COEP headers for threads). The page itself is tested in test/browser/site.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetFromIdxSplits } from '../../src/data/from-bytes.js';
import { syntheticShapes } from '../../src/data/synthetic.js';
import { writeSiteData } from '../../src/cli/site.js';
import { ROOT, ensureBuilt, fitlab } from './cli-helpers.js';

const WASM = join(ROOT, 'dist', 'wasm', 'fitlab.wasm');
const { buildSite } = createRequire(import.meta.url)('../../scripts/build-site.cjs') as { buildSite: (out?: string) => Promise<string> };

describe.skipIf(!existsSync(WASM))(`fitlab site${existsSync(WASM) ? '' : ` (skipped: ${WASM} is absent; node scripts/build-wasm.cjs needs clang and lld)`}`, () => {
  let tmp: string;
  beforeAll(async () => {
    ensureBuilt();
    await buildSite();
    tmp = mkdtempSync(join(tmpdir(), 'fitlab-site-cli-'));
  }, 300_000);

  it('writes the site with a dataset as IDX files that read back as the same examples, and prints the headers for threads', () => {
    const out = join(tmp, 'site');
    const r = fitlab(['site', '--out', out, '--with-data', 'shapes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote the static site to ${out}`);
    expect(r.stdout).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(r.stdout).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(r.stdout).toContain('without them the site works on one thread');
    for (const f of ['index.html', 'app.js', 'worker.js', 'fitlab.wasm', 'style.css', 'site.css', 'uPlot.min.css', '.fitlab-owned']) expect(existsSync(join(out, f)), f).toBe(true);
    // relative asset paths: the site works from any folder of any host
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('src="./app.js"');
    expect(html).not.toContain('/assets/');
    const index = JSON.parse(readFileSync(join(out, 'data', 'index.json'), 'utf8')) as { datasets: { name: string; files: Record<string, string>; train: number; test: number }[] };
    const entry = index.datasets[0];
    const want = syntheticShapes();
    expect(entry).toMatchObject({ name: 'shapes', format: 'idx', train: want.train.y.length, test: want.test?.y.length });
    const bytes = (f: string): Uint8Array => readFileSync(join(out, 'data', f));
    const back = datasetFromIdxSplits({ images: bytes(entry.files.trainImages), labels: bytes(entry.files.trainLabels) }, { images: bytes(entry.files.testImages), labels: bytes(entry.files.testLabels) }, 'shapes');
    expect(back.shape).toEqual(want.shape);
    expect(Buffer.from(back.train.x).equals(Buffer.from(want.train.x))).toBe(true);
    expect([...back.train.y]).toEqual([...want.train.y]);
    expect([...(back.test?.y ?? [])]).toEqual([...(want.test?.y ?? [])]);

    // its own site is replaced only with --force
    const again = fitlab(['site', '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds a site fitlab wrote .*pass --force/);
    const forced = fitlab(['site', '--out', out, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(existsSync(join(out, 'data'))).toBe(false);
  }, 300_000);

  it('never writes into a folder it did not write, and refuses colour data beside the page', () => {
    const mine = join(tmp, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const r = fitlab(['site', '--out', mine]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: --out .*mine is a folder that already holds 1 entry fitlab did not write/m);
    expect(readdirSync(mine)).toEqual(['notes.txt']);
    const bad = fitlab(['site', '--out', join(tmp, 'x'), '--with-data', 'no/such']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--with-data takes a dataset name such as mnist; received "no\/such"/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    const rgb = { name: 'tiny-rgb', source: 'test', shape: [2, 2, 3], classes: 2, classNames: ['a', 'b'], train: { x: new Uint8Array(24), y: Int32Array.from([0, 1]) }, test: null, scale: 1 / 255 };
    expect(() => writeSiteData(join(tmp, 'rgb'), 'tiny-rgb', rgb)).toThrow(/--with-data tiny-rgb: its images are 2×2×3; the site reads grayscale sets/);
    expect(existsSync(join(tmp, 'rgb'))).toBe(false);
  }, 120_000);
});
