/**
 * Seeded fuzzing of every data reader (issue 14): IDX images and labels, CIFAR-10 and CIFAR-100
 * binary batches, image folders (PNG, JPEG, grayscale JPEG) and .tar.gz archives. Each case
 * starts from a valid input written in the official layout and mutates it with a seeded
 * RandomStream (src/tensor/prng.ts): bytes set or flipped, header fields set to edge values
 * (0, 1, 2^31, 2^32−1), truncation, extension, a chunk cut out, a file emptied or renamed.
 * Every case must end in one of two ways:
 *   - a FitlabError with a one-line message (never a TypeError, RangeError or other crash);
 *   - a dataset that is self-consistent: every label in 0..classes−1, one class name per class,
 *     x holding exactly (examples × example size) values, a non-empty training split.
 * Loops are bounded by count; a hang would be caught by the test timeout, not by a clock here.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { readCifarFolder } from '../../src/data/cifar.js';
import { type Dataset, exampleSize } from '../../src/data/dataset.js';
import { parseIdx, readIdxDataset } from '../../src/data/idx.js';
import { decodeImage, readImageFolder } from '../../src/data/images.js';
import { readDatasetAt } from '../../src/data/locate.js';
import { FitlabError } from '../../src/errors.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { cifar100Records, cifar10Records, cleanup, grayJpeg16x8, idxBytes, jpegBytes, pngBytes, tempDir, tinyIdx, writeFile, writeIdxFolder } from '../data/data-helpers.js';
import { type TarEntry, tarBytes } from './tar-bytes.js';

afterAll(cleanup);

const CASES = 300;

// --- mutations -------------------------------------------------------------------------------

const EDGE_U32 = [0, 1, 2, 3, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff];

/** One seeded mutation of `bytes` (a new buffer; the input is not changed). `header` bounds the region most mutations aim at. */
function mutate(bytes: Uint8Array, r: RandomStream, header = bytes.length): Uint8Array {
  const out = Uint8Array.from(bytes);
  const at = (span: number): number => r.uniformInt(Math.max(1, Math.min(span, out.length)));
  switch (r.uniformInt(8)) {
    case 0: // a few bytes set at random, in the header
    case 1: // … or anywhere
      for (let k = 1 + r.uniformInt(4); k > 0 && out.length; k--) out[at(r.uniformInt(2) ? header : out.length)] = r.uniformInt(256);
      return out;
    case 2: // one bit flipped
      if (out.length) out[at(out.length)] ^= 1 << r.uniformInt(8);
      return out;
    case 3: { // a 4-byte big-endian field set to an edge value
      if (out.length < 4) return out;
      const p = Math.min(at(header), out.length - 4);
      new DataView(out.buffer).setUint32(p, EDGE_U32[r.uniformInt(EDGE_U32.length)], false);
      return out;
    }
    case 4: // truncated
      return out.subarray(0, r.uniformInt(out.length + 1));
    case 5: { // random bytes appended
      const extra = Uint8Array.from({ length: 1 + r.uniformInt(600) }, () => r.uniformInt(256));
      return Uint8Array.from([...out, ...extra]);
    }
    case 6: { // a chunk cut out of the middle
      const from = at(out.length);
      const to = Math.min(out.length, from + 1 + r.uniformInt(64));
      return Uint8Array.from([...out.subarray(0, from), ...out.subarray(to)]);
    }
    default: // emptied
      return new Uint8Array(0);
  }
}

// --- outcome checks --------------------------------------------------------------------------

/** How the cases of the current test ended: a fuzzer that only ever fails (or only succeeds) explores nothing. */
const tally = { ok: 0, refused: 0 };
beforeEach(() => {
  tally.ok = 0;
  tally.refused = 0;
});

/** Both outcomes occurred: some mutations were read, some refused. */
function expectBothOutcomes(): void {
  expect(tally.ok, 'cases read successfully').toBeGreaterThan(0);
  expect(tally.refused, 'cases refused').toBeGreaterThan(0);
}

/** Run `read`; a thrown error must be a FitlabError with a one-line message. */
async function outcome<T>(read: () => T | Promise<T>, what: string): Promise<T | null> {
  try {
    const got = await read();
    tally.ok++;
    return got;
  } catch (err) {
    tally.refused++;
    if (!(err instanceof FitlabError)) throw new Error(`${what}: uncaught ${(err as Error)?.name}: ${(err as Error)?.message}\n${(err as Error)?.stack}`);
    expect(err.message, what).toMatch(/\S/);
    expect(err.message, what).not.toContain('\n');
    return null;
  }
}

/** A dataset a reader returned must hold together. */
function expectConsistent(ds: Dataset | null, what: string): void {
  if (!ds) return;
  expect(ds.classes, what).toBeGreaterThanOrEqual(1);
  expect(ds.classNames.length, what).toBe(ds.classes);
  expect(ds.shape.every((d) => Number.isInteger(d) && d >= 1), what).toBe(true);
  const per = exampleSize(ds.shape);
  expect(ds.train.y.length, what).toBeGreaterThan(0);
  for (const s of [ds.train, ds.test]) {
    if (!s) continue;
    expect(s.x.length, what).toBe(s.y.length * per);
    for (const l of s.y) if (!(l >= 0 && l < ds.classes)) throw new Error(`${what}: label ${l} with ${ds.classes} classes`);
  }
}

// --- IDX -------------------------------------------------------------------------------------

describe('IDX: mutated image and label files', () => {
  const t = tinyIdx(12, 4, 3, 4);
  const files = {
    'train-images-idx3-ubyte': idxBytes([12, 3, 4], t.trainX),
    'train-labels-idx1-ubyte': idxBytes([12], t.trainY),
    't10k-images-idx3-ubyte': idxBytes([4, 3, 4], t.testX),
    't10k-labels-idx1-ubyte': idxBytes([4], t.testY),
  };

  it(`parseIdx on ${CASES} mutated headers and bodies: dims agree with the data, or a FitlabError`, async () => {
    const r = new RandomStream(1401);
    for (let i = 0; i < CASES; i++) {
      const source = Object.values(files)[r.uniformInt(4)];
      const bytes = mutate(source, r, 16);
      const what = `case ${i}`;
      const idx = await outcome(() => parseIdx(bytes, 'x-idx-ubyte'), what);
      if (idx) expect(idx.data.length, what).toBe(idx.dims.reduce((a, b) => a * b, 1));
    }
    expectBothOutcomes();
  });

  it(`readIdxDataset on ${CASES} folders with one mutated file (plain or gzipped, named mnist or not)`, async () => {
    const r = new RandomStream(1402);
    const dir = tempDir('fuzz-idx');
    for (let i = 0; i < CASES; i++) {
      const gz = r.uniformInt(2) === 1;
      writeIdxFolder(dir, t, gz);
      const stems = Object.keys(files) as (keyof typeof files)[];
      const stem = stems[r.uniformInt(4)];
      const plain = mutate(files[stem], r, 16);
      // half the gzipped cases mutate the compressed stream itself
      const bytes = gz ? (r.uniformInt(2) ? gzipSync(plain) : mutate(gzipSync(files[stem]), r, 20)) : plain;
      writeFileSync(join(dir, gz ? `${stem}.gz` : stem), bytes);
      const name = r.uniformInt(2) ? 'mnist' : 'digits';
      expectConsistent(await outcome(() => readIdxDataset(dir, name), `case ${i} (${stem}, ${name})`), `case ${i}`);
      rmSync(dir, { recursive: true, force: true });
    }
    expectBothOutcomes();
  });
});

// --- CIFAR -----------------------------------------------------------------------------------

describe('CIFAR binary: mutated batches, 10 and 100 layouts', () => {
  function cifar10(dir: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    for (let b = 1; b <= 5; b++) files.set(`data_batch_${b}.bin`, cifar10Records([{ label: b % 10, seed: b }, { label: (b + 5) % 10, seed: 10 + b }]));
    files.set('test_batch.bin', cifar10Records([{ label: 3, seed: 99 }]));
    files.set('batches.meta.txt', Buffer.from(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'].join('\n')));
    for (const [f, bytes] of files) writeFile(join(dir, f), bytes);
    return files;
  }
  function cifar100(dir: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    files.set('train.bin', cifar100Records([{ coarse: 4, fine: 30, seed: 1 }, { coarse: 19, fine: 99, seed: 2 }, { coarse: 0, fine: 0, seed: 3 }]));
    files.set('test.bin', cifar100Records([{ coarse: 11, fine: 50, seed: 4 }]));
    files.set('fine_label_names.txt', Buffer.from(Array.from({ length: 100 }, (_, k) => `f${k}`).join('\n')));
    for (const [f, bytes] of files) writeFile(join(dir, f), bytes);
    return files;
  }

  for (const [layout, make] of [['CIFAR-10', cifar10], ['CIFAR-100', cifar100]] as const) {
    it(`${layout}: ${CASES} folders with one mutated file (label bytes, record length, names file)`, async () => {
      const r = new RandomStream(layout === 'CIFAR-10' ? 1403 : 1404);
      const dir = tempDir('fuzz-cifar');
      for (let i = 0; i < CASES; i++) {
        const files = make(dir);
        const names = [...files.keys()];
        const f = names[r.uniformInt(names.length)];
        // aim at the label bytes of the first records half the time
        writeFileSync(join(dir, f), mutate(files.get(f) as Buffer, r, r.uniformInt(2) ? 2 : 3074 * 2));
        const labels = r.uniformInt(2) ? 'fine' : 'coarse';
        expectConsistent(await outcome(() => readCifarFolder(dir, labels), `case ${i} (${f})`), `case ${i}`);
        rmSync(dir, { recursive: true, force: true });
      }
      expectBothOutcomes();
    });
  }
});

// --- images ----------------------------------------------------------------------------------

const rgb = (seed: number, n: number): number[] => Array.from({ length: 3 * n }, (_, k) => (seed * 31 + k * 7) % 256);
const IMAGES: [string, Buffer][] = [
  ['png', pngBytes(16, 8, rgb(1, 128), 3)],
  ['gray.png', pngBytes(16, 8, Array.from({ length: 128 }, (_, k) => k), 1)],
  ['jpg', jpegBytes(16, 8, rgb(2, 128))],
  ['gray.jpg', grayJpeg16x8()],
];

describe('images: mutated PNG and JPEG bytes, image folders with a broken file', () => {
  it(`decodeImage on ${CASES} mutated PNGs and JPEGs: the right pixel count, or a FitlabError`, async () => {
    const r = new RandomStream(1405);
    for (let i = 0; i < CASES; i++) {
      const [kind, source] = IMAGES[r.uniformInt(IMAGES.length)];
      const bytes = mutate(source, r, 256); // 256: past the JPEG quantisation tables to the frame header
      const img = await outcome(() => decodeImage(bytes, `case-${i}.${kind}`), `case ${i} (${kind})`);
      if (img) expect(img.pixels.length, `case ${i}`).toBe(img.width * img.height * img.channels);
    }
    expectBothOutcomes();
  });

  it(`readImageFolder on ${CASES} folders with one file mutated, emptied or given the wrong extension`, async () => {
    const r = new RandomStream(1406);
    const warnings: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const root = tempDir('fuzz-img');
      const paths: [string, Buffer][] = [
        [join(root, 'train', 'cat', '1.png'), IMAGES[0][1]],
        [join(root, 'train', 'cat', '2.jpg'), IMAGES[2][1]],
        [join(root, 'train', 'dog', '1.png'), IMAGES[1][1]],
        [join(root, 'train', 'dog', '2.jpg'), IMAGES[3][1]],
        [join(root, 'test', 'dog', '1.png'), IMAGES[0][1]],
      ];
      for (const [p, bytes] of paths) writeFile(p, bytes);
      const [victim, bytes] = paths[r.uniformInt(paths.length)];
      writeFileSync(victim, mutate(bytes, r, 256));
      // sometimes the mutated file also changes its extension: to the other image type, or away
      const rename = r.uniformInt(4);
      if (rename === 1) renameSync(victim, victim.replace(/\.(png|jpg)$/, (m) => (m === '.png' ? '.jpg' : '.png')));
      if (rename === 2) renameSync(victim, `${victim}.txt`);
      expectConsistent(await outcome(() => readImageFolder(root, 'pets', undefined, (l) => warnings.push(l)), `case ${i} (${victim})`), `case ${i}`);
      rmSync(root, { recursive: true, force: true });
    }
    expect(warnings).toEqual([]);
    expectBothOutcomes();
  });
});

// --- archives --------------------------------------------------------------------------------

describe('archives: mutated, truncated and hostile .tar.gz', () => {
  const entries: TarEntry[] = [
    { name: 'ds/', type: '5' },
    { name: 'ds/train/cat/1.png', data: IMAGES[0][1] },
    { name: 'ds/train/dog/1.jpg', data: IMAGES[2][1] },
    { name: 'ds/test/cat/1.png', data: IMAGES[0][1] },
  ];
  const cifarEntries: TarEntry[] = [
    { name: 'cifar-100-binary/train.bin', data: cifar100Records([{ coarse: 1, fine: 2, seed: 1 }, { coarse: 3, fine: 4, seed: 2 }]) },
    { name: 'cifar-100-binary/test.bin', data: cifar100Records([{ coarse: 1, fine: 2, seed: 3 }]) },
  ];

  it(`${CASES} mutated image and CIFAR archives (the tar inside, or the gzip stream): a consistent dataset, null, or a FitlabError`, async () => {
    const r = new RandomStream(1407);
    const dir = tempDir('fuzz-tar');
    for (let i = 0; i < CASES; i++) {
      const tar = tarBytes(r.uniformInt(3) ? entries : cifarEntries);
      // mostly the tar (aimed at a header block: names, sizes, type flags, checksums), gzipped
      // or plain (.tar is read too); else the gzip stream
      const how = r.uniformInt(4);
      const bytes = how === 0 ? mutate(gzipSync(tar), r, 24) : mutate(tar, r, 512 * (1 + r.uniformInt(4)));
      const file = join(dir, how === 1 ? 'ds.tar' : 'ds.tar.gz');
      writeFileSync(file, how >= 2 ? gzipSync(bytes) : bytes);
      expectConsistent(await outcome(() => readDatasetAt(file, 'ds'), `case ${i}`), `case ${i}`);
    }
    expectBothOutcomes();
  });

  it('regular files of old (v7, type flag NUL) and contiguous (7) archives are read, not skipped', async () => {
    const file = join(tempDir('tar-v7'), 'ds.tar.gz');
    const old = entries.map((e): TarEntry => (e.type === '5' ? e : { ...e, type: e.name.includes('dog') ? '7' : '\0' }));
    writeFileSync(file, gzipSync(tarBytes(old)));
    const ds = await readDatasetAt(file, 'ds');
    expect(ds?.classNames).toEqual(['cat', 'dog']);
    expect(ds?.train.y.length).toBe(2);
    expect(ds?.test?.y.length).toBe(1);
  });

  it('every hostile member name or link is refused, wherever it sits in the archive', async () => {
    const r = new RandomStream(1408);
    const dir = tempDir('fuzz-tar-hostile');
    const file = join(dir, 'ds.tar.gz');
    const hostile: TarEntry[] = [
      { name: 'ds/train/cat/../../../x.png', data: IMAGES[0][1] },
      { name: '../ds/train/cat/2.png', data: IMAGES[0][1] },
      { name: '/ds/train/cat/2.png', data: IMAGES[0][1] },
      { name: 'ds\\train\\..\\..\\cat\\2.png', data: IMAGES[0][1] },
      { name: 'C:/ds/train/cat/2.png', data: IMAGES[0][1] },
      { name: 'ds/train/cat/2.png', type: '2', linkname: '/etc/passwd' },
      { name: 'ds/train/cat/2.png', type: '2', linkname: '../../../../etc/passwd' },
      { name: 'ds/link', type: '2', linkname: '../..' },
      { name: 'ds/train/cat/2.png', type: '1', linkname: 'ds/train/cat/1.png' },
    ];
    for (let i = 0; i < 60; i++) {
      const bad = hostile[i % hostile.length];
      const list = [...entries];
      list.splice(r.uniformInt(list.length + 1), 0, bad);
      writeFileSync(file, gzipSync(tarBytes(list)));
      const got = await outcome(() => readDatasetAt(file, 'ds'), `case ${i}`);
      expect(got, `case ${i} (${bad.name})`).toBeNull();
      await expect(readDatasetAt(file, 'ds')).rejects.toThrow(/archive entry .* (has a '\.\.' segment|is an absolute path|is a link)/);
    }
    // the same archive without them reads
    writeFileSync(file, gzipSync(tarBytes(entries)));
    const clean = await readDatasetAt(file, 'ds');
    expect(clean?.train.y.length).toBe(2);
    expectConsistent(clean, 'clean archive');
  });
});
