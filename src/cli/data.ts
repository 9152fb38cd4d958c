/** `fitlab data …`: import, list, info, download and preview datasets. */
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { getBackend } from '../backend/index.js';
import { AUGMENT_PRESETS, parseAugment, presetForDataset } from '../data/augment.js';
import { checkCacheTarget, isCacheDir, readCacheMeta, verifyCache, writeCache } from '../data/cache.js';
import { parseLabelsOption } from '../data/cifar.js';
import { type Dataset, classCounts, exampleSize } from '../data/dataset.js';
import { REMOTES, downloadDataset } from '../data/download.js';
import { KNOWN_DATASETS, archiveOf, detectFormat, loadDataset, readDatasetAt, searchRoots, userCacheDir } from '../data/locate.js';
import { previewGrid } from '../data/preview.js';
import { SYNTHETIC_2D, SYNTHETIC_IMAGES } from '../data/synthetic.js';
import { ArgumentError, FitlabError } from '../errors.js';
import { writeUserFile } from '../io/atomic.js';
import { checkFileTarget } from '../io/owned.js';
import { intOption, makeOutput } from './common.js';

function summarize(ds: Dataset): Record<string, unknown> {
  const split = (s: Dataset['train'] | null) => (s ? { examples: s.y.length, perClass: classCounts(s.y, ds.classes) } : null);
  return { name: ds.name, source: ds.source, shape: ds.shape, classes: ds.classes, classNames: ds.classNames, train: split(ds.train), test: split(ds.test) };
}

function datasetChecksum(ds: Dataset): string {
  const h = createHash('sha256');
  for (const s of [ds.train, ds.test]) {
    if (!s) continue;
    h.update(new Uint8Array(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    h.update(new Uint8Array(s.y.buffer, s.y.byteOffset, s.y.byteLength));
  }
  return h.digest('hex');
}

function downloadBar(quiet: boolean): { onProgress: (f: string, got: number, total: number | null) => void; stop: () => void } {
  if (quiet || !process.stderr.isTTY) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: '{file} [{bar}] {percentage}% | {got} MB', stream: process.stderr, hideCursor: true }, cliProgress.Presets.legacy);
  let current = '';
  return {
    onProgress: (file, got, total) => {
      if (file !== current) {
        if (current) bar.stop();
        current = file;
        bar.start(total ?? got, 0, { file: file.split('/').pop(), got: '0' });
      }
      bar.update(got, { got: (got / 1e6).toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}

export function registerData(program: Command): void {
  const data = program.command('data').description('import, list, inspect, download and preview datasets');

  data
    .command('import <source>')
    .description('convert a dataset (image folder or .tar.gz, CIFAR binary files or tarball, IDX folder) into the fast local cache')
    .requiredOption('--name <name>', 'dataset name to store it under (e.g. cifar10)')
    .option('--labels <which>', 'CIFAR-100: fine (100 classes) or coarse (20)', 'fine')
    .option('--out <dir>', 'cache folder (default: the user cache, ~/.cache/fitlab/<name>); a new or empty folder')
    .option('--force', 'replace a dataset cache fitlab wrote there before (never anything else)')
    .option('--json', 'machine-readable output')
    .action(async (source: string, flags: { name: string; labels: string; out?: string; force?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      if (!/^[A-Za-z0-9._-]+$/.test(flags.name)) throw new ArgumentError(`--name must be letters, digits, '.', '_' or '-'; received ${JSON.stringify(flags.name)}`);
      const path = resolve(source);
      if (!detectFormat(path)) throw new FitlabError(`${path} holds no dataset fitlab can import`, 'an image folder or .tar.gz (class folders, optionally under train/ and test/), CIFAR binary files or their tarball, or an IDX folder');
      const dir = flags.out ? resolve(flags.out) : join(userCacheDir(), flags.name);
      const target = { force: flags.force, label: flags.out ? '--out' : undefined };
      // refuse a target that is not ours before reading (and before the source could be the target)
      checkCacheTarget(dir, target);
      if (dir === path || path.startsWith(dir + sep)) throw new ArgumentError(`the cache folder ${dir} holds the dataset being imported (${path}); importing would replace it`, 'choose another --out folder or --name');
      const t0 = performance.now();
      out.info(`reading ${path} …`);
      const ds = await readDatasetAt(path, flags.name, { labels: parseLabelsOption(flags.labels) });
      if (!ds) throw new FitlabError(`${path} could not be read`);
      ds.name = flags.name;
      const meta = writeCache(dir, ds, target);
      const secs = (performance.now() - t0) / 1000;
      if (out.jsonMode) {
        out.json({ ...summarize(ds), cache: dir, seconds: secs, sha256: meta.sha256, bytes: meta.bytes });
        return;
      }
      out.info(`imported ${flags.name}: ${ds.train.y.length.toLocaleString('en-US')} train / ${(ds.test?.y.length ?? 0).toLocaleString('en-US')} test, ${ds.shape.join('×')}, ${ds.classes} classes in ${secs.toFixed(1)}s`);
      out.info(`  per class (train): ${classCounts(ds.train.y, ds.classes).join(', ')}`);
      if (ds.test) out.info(`  per class (test):  ${classCounts(ds.test.y, ds.classes).join(', ')}`);
      out.info(`  cache: ${dir} (${(meta.bytes / 1e6).toFixed(0)} MB, sha256 ${meta.sha256.slice(0, 16)}…)`);
      out.info(`use it with: fitlab train --dataset ${flags.name} …`);
    });

  data
    .command('list')
    .description('datasets fitlab can find, and where')
    .option('--data-dir <dir>', 'an extra folder to search first')
    .option('--json', 'machine-readable output')
    .action((flags: { dataDir?: string; json?: boolean }) => {
      const out = makeOutput(flags);
      const found: { name: string; path: string; format: string }[] = [];
      for (const root of searchRoots(flags)) {
        let entries: string[] = [];
        try {
          entries = readdirSync(root);
        } catch {
          continue;
        }
        for (const e of entries) {
          if (e.startsWith('.')) continue;
          const fmt = detectFormat(join(root, e));
          if (fmt) found.push({ name: e, path: join(root, e), format: fmt });
        }
      }
      if (out.jsonMode) {
        out.json({ found, synthetic: [...SYNTHETIC_2D, SYNTHETIC_IMAGES], known: Object.keys(KNOWN_DATASETS), searched: searchRoots(flags) });
        return;
      }
      out.info(`searched: ${searchRoots(flags).join(', ')}`);
      if (!found.length) out.info('no datasets found there');
      for (const f of found) out.info(`  ${f.name.padEnd(18)} ${f.format.padEnd(8)} ${f.path}`);
      out.info(`built in: ${[...SYNTHETIC_2D, SYNTHETIC_IMAGES].join(', ')}`);
      const missing = Object.keys(KNOWN_DATASETS).filter((k) => !found.some((f) => KNOWN_DATASETS[k].folders.includes(f.name) || f.name === k));
      // a known dataset whose archive is here but not imported: the one command that imports it
      const archived = missing.flatMap((k) => {
        const archive = found.find((f) => f.format === 'tarball' && archiveOf(k, f.name));
        return archive ? [{ name: k, archive }] : [];
      });
      for (const { name, archive } of archived) {
        out.info(`${name}: not imported yet, but ${archive.name} above holds it; import it once (decoding it on every run is slow) with:`);
        out.info(`  fitlab data import ${archive.path} --name ${name}`);
      }
      const absent = missing.filter((k) => !archived.some((a) => a.name === k));
      if (absent.length) out.info(`not found: ${absent.join(', ')} (fitlab data info <name> says how to get them)`);
    });

  data
    .command('info <dataset>')
    .description('counts per class and split, shape, source and checksum of a dataset')
    .option('--data-dir <dir>', 'where to look for named datasets first')
    .option('--labels <which>', 'CIFAR-100: fine or coarse', 'fine')
    .option('--verify', 'recompute the cache checksum')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, flags: { dataDir?: string; labels: string; verify?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      const ds = await loadDataset(spec, { dataDir: flags.dataDir, labels: parseLabelsOption(flags.labels) });
      const cacheDir = ds.source.split(' (imported from')[0];
      const cached = isCacheDir(cacheDir);
      const sha256 = cached ? readCacheMeta(cacheDir).sha256 : datasetChecksum(ds);
      const verified = cached && flags.verify ? verifyCache(cacheDir) : null;
      if (verified && !verified.ok) throw new FitlabError(`${cacheDir}: checksum mismatch (stored ${verified.expected}, now ${verified.actual}); re-import the dataset with --force`);
      const info = { ...summarize(ds), checksum: { sha256, of: cached ? 'cache data.bin' : 'pixels and labels' }, ...(verified ? { verified: true } : {}) };
      if (out.jsonMode) {
        out.json(info);
        return;
      }
      out.info(`${ds.name}: ${ds.shape.join('×')}, ${ds.classes} classes, ${exampleSize(ds.shape)} values per example`);
      out.info(`  source: ${ds.source}`);
      for (const [label, s] of [['train', ds.train], ['test', ds.test]] as const) {
        if (!s) continue;
        out.info(`  ${label}: ${s.y.length.toLocaleString('en-US')} examples; per class: ${classCounts(s.y, ds.classes).map((c, k) => `${ds.classNames[k]} ${c}`).join(', ')}`);
      }
      out.info(`  sha256 (${info.checksum.of}): ${sha256}${verified ? ' — verified' : ''}`);
    });

  data
    .command('download <name>')
    .description(`download from the canonical source and verify the published checksum (${Object.keys(REMOTES).join(', ')})`)
    .option('--quiet', 'no progress bar')
    .option('--force', 'replace the dataset cache fitlab wrote there before (never anything else)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, flags: { quiet?: boolean; force?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      if (!REMOTES[name]) throw new ArgumentError(`no download source for ${JSON.stringify(name)}; downloadable: ${Object.keys(REMOTES).join(', ')}`);
      const dir = join(userCacheDir(), name);
      // refuse before downloading: the cache folder may hold the user's own files
      checkCacheTarget(dir, { force: flags.force });
      const bar = downloadBar(Boolean(flags.quiet));
      try {
        const { dataset, meta } = await downloadDataset(name, dir, { onProgress: bar.onProgress, force: flags.force });
        bar.stop();
        if (out.jsonMode) out.json({ ...summarize(dataset), cache: dir, sha256: meta.sha256 });
        else out.info(`downloaded ${name} (checksums verified) into ${dir}`);
      } finally {
        bar.stop();
      }
    });

  data
    .command('preview <dataset>')
    .description('write a PNG grid of examples (first column) and augmented copies, to check the augmentation keeps the class')
    .addOption(new Option('--augment <preset|json>', `${Object.keys(AUGMENT_PRESETS).join(', ')}, auto (by dataset) or an ImageDataGenerator-style JSON object`).default('auto'))
    .requiredOption('--out <file.png>', 'where to write the PNG (an existing file only with --force)')
    .option('--force', 'replace an existing file at --out')
    .option('--rows <n>', 'examples', intOption('--rows'), 8)
    .option('--copies <n>', 'augmented copies per example', intOption('--copies'), 6)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 1)
    .option('--data-dir <dir>', 'where to look for named datasets first')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, flags: { augment: string; out: string; rows: number; copies: number; seed: number; dataDir?: string; force?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      checkFileTarget(resolve(flags.out), { force: flags.force, label: '--out' });
      const ds = await loadDataset(spec, { dataDir: flags.dataDir });
      if (ds.shape.length !== 3) throw new ArgumentError(`${ds.name} holds ${ds.shape.join('×')} vectors, not images; preview needs images`);
      const aug = parseAugment(flags.augment, ds.name);
      if (!aug) throw new ArgumentError('--augment none has nothing to preview');
      const png = previewGrid(getBackend(), ds, aug, { rows: flags.rows, copies: flags.copies, seed: flags.seed });
      writeUserFile(resolve(flags.out), png, { force: flags.force, label: '--out' });
      const preset = flags.augment === 'auto' ? presetForDataset(ds.name) : flags.augment;
      if (out.jsonMode) out.json({ out: resolve(flags.out), dataset: ds.name, augment: aug, preset, rows: flags.rows, copies: flags.copies });
      else out.info(`wrote ${resolve(flags.out)}: ${flags.rows} ${ds.name} examples (left) and ${flags.copies} augmented copies each (${preset})`);
    });
}
