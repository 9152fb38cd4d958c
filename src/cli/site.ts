/**
 * `fitlab site --out <dir> [--with-data mnist]…`: write the static site (issue 21) — the
 * dashboard's Live, Network, Predictions and New run views training in the browser on the
 * WebAssembly kernels, with no server logic — into a new folder any static host can serve. The
 * page and worker are bundled at build time (scripts/build-site.cjs → dist/site); this command
 * copies them, and with --with-data the local copy of a dataset (found as `fitlab train
 * --dataset <name>` finds it) as IDX files under data/<name>/ listed in data/index.json.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { gzipSync } from 'fflate';
import type { Dataset, Split } from '../data/dataset.js';
import { IDX_FILES, findIdxFile } from '../data/idx.js';
import { type LocateOptions, detectFormat, loadDataset } from '../data/locate.js';
import { ArgumentError, FitlabError } from '../errors.js';
import { writeDirAtomic } from '../io/atomic.js';
import { ISOLATION_HEADERS, type SiteDataEntry } from '../serve/protocol.js';
import { packageRoot } from '../util/paths.js';

export const SITE_KIND = 'site';


export interface SiteFlags {
  out: string;
  withData?: string[];
  dataDir?: string;
  force?: boolean;
}

/** dist/site, built by `npm run build` (scripts/build-site.cjs). */
export function siteBundleDir(): string {
  const dir = join(packageRoot(), 'dist', 'site');
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'worker.js')) || !existsSync(join(dir, 'fitlab.wasm'))) {
    throw new FitlabError(`the static site is not built (${dir} lacks index.html, worker.js or fitlab.wasm)`, 'run `npm run build` (it bundles the site into dist/site)');
  }
  return dir;
}

/** An IDX file: magic (0, 0, type 0x08 = unsigned byte, dimensions), big-endian sizes, the bytes. */
function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function splitFiles(dir: string, split: Split, shape: number[], images: string, labels: string, what: string): void {
  if (!(split.x instanceof Uint8Array)) throw new ArgumentError(`--with-data ${what}: its pixels are not bytes (0–255); only byte images travel as IDX files`);
  writeFileSync(join(dir, `${images}.gz`), gzipSync(idxBytes([split.y.length, shape[0], shape[1]], split.x), { level: 6 }));
  writeFileSync(join(dir, `${labels}.gz`), gzipSync(idxBytes([split.y.length], Uint8Array.from(split.y)), { level: 6 }));
}

/** Put dataset `name` under `dir` as IDX files (the originals copied when it is an IDX folder); returns its index entry. */
export function writeSiteData(dir: string, name: string, ds: Dataset): SiteDataEntry {
  if (ds.shape.length !== 3 || ds.shape[2] !== 1) {
    throw new ArgumentError(`--with-data ${name}: its images are ${ds.shape.join('×')}; the site reads grayscale sets (h×w×1, e.g. mnist, fashion-mnist) from beside the page`, 'for CIFAR-10, pick its .bin batches in the page\'s New run view (“your files”)');
  }
  mkdirSync(dir, { recursive: true });
  const stems = [IDX_FILES.trainImages, IDX_FILES.trainLabels, IDX_FILES.testImages, IDX_FILES.testLabels];
  let names: string[];
  if (detectFormat(ds.source) === 'idx' && stems.every((s) => findIdxFile(ds.source, s))) {
    names = stems.map((s) => {
      const from = findIdxFile(ds.source, s) as string;
      const file = from.slice(from.lastIndexOf('/') + 1);
      copyFileSync(from, join(dir, file));
      return file;
    });
  } else {
    splitFiles(dir, ds.train, ds.shape, IDX_FILES.trainImages, IDX_FILES.trainLabels, name);
    if (ds.test) splitFiles(dir, ds.test, ds.shape, IDX_FILES.testImages, IDX_FILES.testLabels, name);
    names = stems.map((s) => `${s}.gz`);
  }
  const [trainImages, trainLabels, testImages, testLabels] = names.map((f) => `${name}/${f}`);
  return {
    name, format: 'idx', files: { trainImages, trainLabels, ...(ds.test ? { testImages, testLabels } : {}) },
    train: ds.train.y.length, test: ds.test?.y.length ?? 0,
  };
}

/** Write the site; returns the folder and what it holds. */
export async function writeSite(flags: SiteFlags): Promise<{ out: string; data: SiteDataEntry[] }> {
  const out = resolve(flags.out);
  const bundle = siteBundleDir();
  const names = [...new Set(flags.withData ?? [])];
  for (const n of names) if (!/^[A-Za-z0-9._-]+$/.test(n)) throw new ArgumentError(`--with-data takes a dataset name such as mnist; received ${JSON.stringify(n)}`);
  // load first: a missing dataset fails before anything is written
  const locate: LocateOptions = { dataDir: flags.dataDir };
  const sets = await Promise.all(names.map(async (n) => ({ name: n, ds: await loadDataset(n, locate) })));
  const data: SiteDataEntry[] = [];
  writeDirAtomic(out, (tmp) => {
    for (const f of readdirSync(bundle)) copyFileSync(join(bundle, f), join(tmp, f));
    if (!sets.length) return;
    mkdirSync(join(tmp, 'data'));
    for (const { name, ds } of sets) data.push(writeSiteData(join(tmp, 'data', name), name, ds));
    writeFileSync(join(tmp, 'data', 'index.json'), JSON.stringify({ datasets: data }, null, 1) + '\n');
  }, { kind: SITE_KIND, force: flags.force, label: '--out' });
  return { out, data };
}

export function registerSite(program: Command): void {
  program
    .command('site')
    .description('write the dashboard as a static site that trains in the browser (WebAssembly; no server, no install)')
    .requiredOption('--out <dir>', 'a new (or empty) folder to write the site into')
    .option('--with-data <name>', 'copy a local dataset beside the page (repeatable), e.g. mnist', (v: string, prev: string[] = []) => [...prev, v])
    .option('--data-dir <dir>', 'where to look for named datasets first')
    .option('--force', 'replace a site fitlab wrote there before')
    .addHelpText('after', `
Serve the folder with any static file server, e.g.  python3 -m http.server -d <dir>
For threads the host must send:
  ${ISOLATION_HEADERS.join('\n  ')}
Without them the page trains on one thread, and says so.

Examples:
  fitlab site --out site
  fitlab site --out site --with-data mnist`)
    .action(async (flags: SiteFlags) => {
      const { out, data } = await writeSite(flags);
      const log = (line: string): void => void process.stdout.write(line + '\n');
      log(`fitlab site: wrote the static site to ${out}${data.length ? ` (with ${data.map((d) => `${d.name}: ${d.train} training + ${d.test} test images`).join(', ')})` : ''}`);
      log('fitlab site: serve that folder with any static file server; open index.html through it (not as a file:// page)');
      log(`fitlab site: for multi-threaded training the host must send these headers (the page says which mode it runs in):\n  ${ISOLATION_HEADERS.join('\n  ')}`);
      log('fitlab site: without them the site works on one thread');
    });
}
