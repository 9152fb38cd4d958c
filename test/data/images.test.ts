/**
 * Image folders (`<root>/<class>/*.png|jpg`, or `<root>/{train,test}/<class>/…`) on images the
 * test writes: classes are the sorted folder names (numeric-aware, as Keras does), examples go
 * class by class in file-name order, pixels arrive exactly (PNG) or within JPEG's error;
 * grayscale images (PNG colour type 0, and a one-component JPEG built byte by byte) give one
 * channel, colour gives three (alpha dropped) and a mix gives three with gray replicated;
 * there is no resizing: an image of another size is an error naming it. An empty folder, a
 * folder of images with no class folders, a truncated or garbage image, and a folder of class
 * folders without images are each a clear error naming the folder or file — on the command
 * line without a stack trace.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/data/idx.js';
import { decodeImage, readImageFolder, readImageTarball } from '../../src/data/images.js';
import { detectFormat, loadDataset } from '../../src/data/locate.js';
import { STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';
import { arr, cleanup, grayJpeg16x8, jpegBytes, pngBytes, tempDir, writeFile } from './data-helpers.js';

afterAll(cleanup);

/** A 3×2 RGB image whose every value is base + position (distinct per image). */
const rgb = (base: number): number[] => Array.from({ length: 3 * 2 * 3 }, (_, i) => base + i);
const gray = (base: number): number[] => Array.from({ length: 3 * 2 }, (_, i) => base + 10 * i);

describe('image folders', () => {
  it('class folders at the top: sorted classes (class10 after class2), class by class, files in numeric name order; exact PNG pixels', () => {
    const root = tempDir('img');
    writeFile(join(root, 'class2', 'img10.png'), pngBytes(3, 2, rgb(40), 3));
    writeFile(join(root, 'class2', 'img9.png'), pngBytes(3, 2, rgb(20), 3));
    writeFile(join(root, 'class10', 'a.png'), pngBytes(3, 2, rgb(60), 3));
    writeFile(join(root, 'class1', 'only.PNG'), pngBytes(3, 2, rgb(0), 3));
    writeFile(join(root, 'class1', 'notes.txt'), 'not an image');
    writeFile(join(root, '.hidden', 'x.png'), pngBytes(3, 2, rgb(100), 3));
    const ds = readImageFolder(root, 'mine');
    expect(ds.classNames).toEqual(['class1', 'class2', 'class10']);
    expect(ds.shape).toEqual([2, 3, 3]);
    expect(arr(ds.train.y)).toEqual([0, 1, 1, 2]);
    expect(ds.test).toBeNull();
    // class2: img9 before img10 (numeric order)
    expect(arr(ds.train.x)).toEqual([...rgb(0), ...rgb(20), ...rgb(40), ...rgb(60)]);
    expect(ds.scale).toBeCloseTo(1 / 255, 12);
  });

  it('train/ and test/ sub-folders give both splits with the same class indices', async () => {
    const root = join(tempDir('img-split'), 'pets');
    writeFile(join(root, 'train', 'dog', '1.png'), pngBytes(3, 2, gray(1), 1));
    writeFile(join(root, 'train', 'cat', '1.png'), pngBytes(3, 2, gray(2), 1));
    writeFile(join(root, 'train', 'cat', '2.png'), pngBytes(3, 2, gray(3), 1));
    writeFile(join(root, 'test', 'dog', '1.png'), pngBytes(3, 2, gray(4), 1));
    expect(detectFormat(root)).toBe('images');
    const ds = await loadDataset(root);
    expect(ds.name).toBe('pets');
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.shape).toEqual([2, 3, 1]);
    expect(arr(ds.train.y)).toEqual([0, 0, 1]);
    expect(arr(ds.test!.y)).toEqual([1]);
    expect(arr(ds.train.x)).toEqual([...gray(2), ...gray(3), ...gray(1)]);
    expect(arr(ds.test!.x)).toEqual(gray(4));
  });

  it('grayscale PNGs give one channel; RGBA drops alpha; gray mixed with colour is replicated to three channels', () => {
    const root = tempDir('img-mix');
    const rgba = Array.from({ length: 6 * 4 }, (_, i) => (i % 4 === 3 ? 7 : 100 + i));
    writeFile(join(root, 'a', '1.png'), pngBytes(3, 2, gray(5), 1));
    writeFile(join(root, 'b', '1.png'), pngBytes(3, 2, rgba, 4));
    const ds = readImageFolder(root, 'mix');
    expect(ds.shape).toEqual([2, 3, 3]);
    const g = gray(5);
    expect(arr(ds.train.x.subarray(0, 18))).toEqual(g.flatMap((v) => [v, v, v]));
    expect(arr(ds.train.x.subarray(18))).toEqual(rgba.filter((_, i) => i % 4 !== 3));
  });

  it('JPEG: colour within the codec error; a one-component (grayscale) JPEG gives one channel', () => {
    const flat = new Array<number>(8 * 8 * 3).fill(0).map((_, i) => [200, 100, 50][i % 3]);
    const c = decodeImage(jpegBytes(8, 8, flat), 'c.jpg');
    expect(c.channels).toBe(3);
    expect([c.width, c.height]).toEqual([8, 8]);
    for (let i = 0; i < 64; i++) for (let k = 0; k < 3; k++) expect(Math.abs(c.pixels[3 * i + k] - [200, 100, 50][k])).toBeLessThanOrEqual(3);
    const g = decodeImage(grayJpeg16x8(), 'g.jpg');
    expect([g.width, g.height, g.channels]).toEqual([16, 8, 1]);
    expect(g.pixels).toHaveLength(128);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 16; x++) expect(Math.abs(g.pixels[y * 16 + x] - (x < 8 ? 128 : 192)), `(${x}, ${y})`).toBeLessThanOrEqual(1);
    }
    // a folder of grayscale JPEGs is a one-channel dataset
    const root = tempDir('img-gray-jpeg');
    writeFile(join(root, 'a', '1.jpg'), grayJpeg16x8());
    writeFile(join(root, 'b', '1.jpeg'), grayJpeg16x8());
    const ds = readImageFolder(root, 'g');
    expect(ds.shape).toEqual([8, 16, 1]);
    expect(ds.train.x).toHaveLength(2 * 128);
  });

  it('no resizing: an image of another size is an error naming it and both sizes', () => {
    const root = tempDir('img-size');
    writeFile(join(root, 'a', '1.png'), pngBytes(3, 2, rgb(0), 3));
    writeFile(join(root, 'b', '1.png'), pngBytes(2, 3, rgb(0), 3));
    expect(() => readImageFolder(root, 'x')).toThrow(`${join(root, 'b', '1.png')}: 2×3 pixels, but earlier images are 3×2; all images must have the same size`);
  });

  it('images in a .tar.gz (<top>/train|test/<class>/<file>) read like the folder', async () => {
    const root = tempDir('img-tar');
    writeFile(join(root, 'set', 'train', 'b', '1.png'), pngBytes(3, 2, rgb(9), 3));
    writeFile(join(root, 'set', 'train', 'a', '1.png'), pngBytes(3, 2, rgb(3), 3));
    writeFile(join(root, 'set', 'test', 'a', '7.png'), pngBytes(3, 2, rgb(5), 3));
    const file = join(root, 'set.tar.gz');
    await tar.c({ gzip: true, file, cwd: root }, ['set']);
    const ds = await readImageTarball(file, 'set');
    expect(ds.classNames).toEqual(['a', 'b']);
    expect(arr(ds.train.y)).toEqual([0, 1]);
    expect(arr(ds.train.x)).toEqual([...rgb(3), ...rgb(9)]);
    expect(arr(ds.test!.x)).toEqual(rgb(5));
  });
});

describe('bad image folders: a clear error naming the folder or file', () => {
  it('an empty folder, and images with no class folders, are not datasets', async () => {
    const empty = tempDir('img-empty');
    expect(() => readImageFolder(empty, 'x')).toThrow(`${empty}: no images found (expected <class>/*.png|jpg`);
    await expect(loadDataset(empty)).rejects.toThrow(`${empty} holds no dataset fitlab can read`);
    const flat = tempDir('img-flat');
    writeFile(join(flat, '1.png'), pngBytes(3, 2, rgb(0), 3));
    writeFile(join(flat, '2.png'), pngBytes(3, 2, rgb(0), 3));
    expect(detectFormat(flat)).toBeNull();
    expect(() => readImageFolder(flat, 'x')).toThrow(`${flat}: no images found`);
    await expect(loadDataset(flat)).rejects.toThrow(`${flat} holds no dataset fitlab can read`);
    const noImages = tempDir('img-noimg');
    mkdirSync(join(noImages, 'cats'));
    writeFile(join(noImages, 'dogs', 'readme.txt'), 'hi');
    expect(() => readImageFolder(noImages, 'x')).toThrow(`${noImages}: no images found`);
  });

  it('a test/ folder without a train/ folder holding images', () => {
    const root = tempDir('img-notrain');
    mkdirSync(join(root, 'train'));
    writeFile(join(root, 'test', 'a', '1.png'), pngBytes(3, 2, rgb(0), 3));
    expect(() => readImageFolder(root, 'x')).toThrow(`${root}: no training images`);
  });

  it('garbage bytes, a truncated PNG, a truncated JPEG, a corrupted JPEG: each names the file', () => {
    const png = pngBytes(4, 4, Array.from({ length: 48 }, (_, i) => i), 3);
    const jpg = jpegBytes(16, 16, Array.from({ length: 768 }, (_, i) => (i * 37) % 256));
    const corrupt = Buffer.from(jpg);
    for (let i = 200; i < 260; i++) corrupt[i] ^= 0x55;
    const cases: [string, Buffer, RegExp][] = [
      ['garbage.png', Buffer.from('definitely not an image'), /neither PNG nor JPEG/],
      ['short.png', png.subarray(0, png.length - 20), /unreadable image/],
      ['short.jpg', jpg.subarray(0, jpg.length - 40), /unreadable image/],
      ['corrupt.jpg', corrupt, /unreadable image/],
    ];
    for (const [name, bytes, why] of cases) {
      const root = tempDir('img-bad');
      writeFile(join(root, 'a', 'good.png'), pngBytes(4, 4, Array.from({ length: 48 }, () => 1), 3));
      const bad = join(root, 'b', name);
      writeFile(bad, bytes);
      let err: unknown = null;
      try {
        readImageFolder(root, 'x');
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(DataFormatError);
      expect((err as Error).message, name).toContain(`${bad}: `);
      expect((err as Error).message, name).toMatch(why);
    }
  });

  describe('through the command line', () => {
    beforeAll(() => ensureBuilt());

    it('`fitlab data import` of a folder with a corrupt image: exit 1, the file named, no stack trace, nothing written', () => {
      const root = tempDir('img-cli');
      writeFile(join(root, 'src', 'a', '1.png'), pngBytes(3, 2, rgb(0), 3));
      writeFile(join(root, 'src', 'b', '1.png'), pngBytes(3, 2, rgb(0), 3).subarray(0, 30));
      const out = join(root, 'cache');
      const r = fitlab(['data', 'import', join(root, 'src'), '--name', 'mine', '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`fitlab: error: ${join(root, 'src', 'b', '1.png')}: unreadable image`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(() => readFileSync(join(out, 'meta.json'))).toThrow();
    });

    it('`fitlab data import` of an empty folder: exit 1, says it holds no dataset', () => {
      const root = tempDir('img-cli-empty');
      const r = fitlab(['data', 'import', root, '--name', 'mine', '--out', join(root, 'cache')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`fitlab: error: ${root} holds no dataset fitlab can import`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  });
});

