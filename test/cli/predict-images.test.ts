/**
 * `fitlab predict <model> <pictures…>` through the real CLI: MNIST test digits written as PNG files
 * get the same probabilities as the same examples predicted from the dataset; an enlarged colour
 * copy (RGB → luma, area-average shrink) keeps its class; a non-image is one error line while the
 * others are still predicted; a folder gives a CSV (never over a file without --force); a run's
 * class names (a folder dataset's) name the predictions; the conversion itself is checked on
 * tiny pictures by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageToInput } from '../../src/data/image-input.js';
import { ensureBuilt, fitlab, jsonOf, testDataRoot } from './cli-helpers.js';

const KERAS = join(import.meta.dirname, '..', 'io', 'fixtures', 'keras', 'dnn-repair-mnist-c-epoch01.hdf5');
const data = testDataRoot();
let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-predict-img-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function png(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      img.data.set([r, g, b, 255], 4 * (y * width + x));
    }
  }
  return PNG.sync.write(img);
}

interface Picture { file: string; top: { class: number; name: string; probability: number }[] }
interface PictureOut { predictions: Picture[]; errors: string[] }

describe('image conversion (src/data/image-input.ts)', () => {
  it('RGB → gray is BT.601 luma; gray → RGB copies', () => {
    const x = imageToInput({ width: 1, height: 1, channels: 3, pixels: Uint8Array.of(200, 100, 50) }, [1, 1, 1]);
    expect(x[0]).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 4);
    expect(Array.from(imageToInput({ width: 1, height: 1, channels: 1, pixels: Uint8Array.of(9) }, [1, 1, 3]))).toEqual([9, 9, 9]);
  });
  it('shrinking averages each block; enlarging interpolates with half-pixel centres', () => {
    const four = imageToInput({ width: 4, height: 2, channels: 1, pixels: Uint8Array.of(0, 10, 20, 30, 40, 50, 60, 70) }, [1, 2, 1]);
    expect(Array.from(four)).toEqual([(0 + 10 + 40 + 50) / 4, (20 + 30 + 60 + 70) / 4]);
    const two = imageToInput({ width: 2, height: 1, channels: 1, pixels: Uint8Array.of(0, 100) }, [1, 4, 1]);
    expect(Array.from(two)).toEqual([0, 25, 75, 100]);
  });
});

describe.skipIf(!data.root)('predict on MNIST digits saved as pictures (real Keras model)', () => {
  let dir = '';
  beforeAll(() => {
    const images = gunzipSync(readFileSync(join(data.root!, 'mnist', 't10k-images-idx3-ubyte.gz')));
    dir = join(tmp, 'digits');
    mkdirSync(dir);
    for (let i = 0; i < 6; i++) {
      const px = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
      writeFileSync(join(dir, `digit${i}.png`), png(28, 28, (x, y) => [px[y * 28 + x], px[y * 28 + x], px[y * 28 + x]]));
    }
    // the first digit, twice the size and tinted: RGB that the model must turn into gray
    const px = images.subarray(16, 16 + 784);
    writeFileSync(join(tmp, 'big-seven.png'), png(56, 56, (x, y) => {
      const v = px[Math.floor(y / 2) * 28 + Math.floor(x / 2)];
      return [v, v, Math.round(v * 0.9)];
    }));
    writeFileSync(join(tmp, 'notes.txt'), 'not a picture');
  });

  it('gives the probabilities the dataset examples get, with top-k classes', () => {
    const pics = jsonOf<PictureOut>(fitlab(['predict', KERAS, dir, '--input-range', '0-255', '--top', '10', '--json']));
    const ds = jsonOf<{ predictions: { predicted: number; confidence: number; actual: number }[] }>(
      fitlab(['predict', KERAS, '--dataset', 'mnist', '--data-dir', data.root!, '--input-range', '0-255', '--limit', '6', '--json']));
    expect(pics.predictions.map((p) => p.file.split('/').pop())).toEqual(['digit0.png', 'digit1.png', 'digit2.png', 'digit3.png', 'digit4.png', 'digit5.png']);
    pics.predictions.forEach((p, i) => {
      expect(p.top).toHaveLength(10);
      expect(p.top[0].class).toBe(ds.predictions[i].predicted);
      expect(p.top[0].probability).toBeCloseTo(ds.predictions[i].confidence, 6);
      expect(p.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 5);
    });
    expect(pics.predictions.map((p) => p.top[0].class)).toEqual([7, 2, 1, 0, 4, 1]); // the MNIST test labels
  });

  it('an enlarged colour picture keeps its class; a non-image is one error line and the rest still run', () => {
    const r = fitlab(['predict', KERAS, join(tmp, 'notes.txt'), join(tmp, 'big-seven.png'), '--input-range', '0-255']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`fitlab: error: ${join(tmp, 'notes.txt')}: unreadable image (neither PNG nor JPEG by its first bytes)`]);
    expect(r.stdout).toMatch(/big-seven\.png: 7 \d+\.\d+%/);
    expect(r.stdout).toContain('area average when shrinking');
  });

  it('a folder gives a CSV; an existing CSV is replaced only with --force', () => {
    const csv = join(tmp, 'out.csv');
    expect(fitlab(['predict', KERAS, dir, '--input-range', '0-255', '--csv', csv]).status).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('file,predicted,probability,top1,top1_probability,top2,top2_probability,top3,top3_probability');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['7', '2', '1', '0', '4', '1']);
    const again = fitlab(['predict', KERAS, dir, '--input-range', '0-255', '--csv', csv]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/--csv .*out\.csv already exists; pass --force to replace it/);
    expect(fitlab(['predict', KERAS, dir, '--input-range', '0-255', '--csv', csv, '--force']).status).toBe(0);
  });
});

describe('a run names its predictions with its dataset\'s class names', () => {
  it('folder dataset → config.json classNames → predict and the confusion matrix', () => {
    const ds = join(tmp, 'shapes');
    for (const [cls, color] of [['red square', [220, 30, 30]], ['blue square', [30, 30, 220]]] as const) {
      for (const split of ['train', 'test']) {
        mkdirSync(join(ds, split, cls), { recursive: true });
        for (let i = 0; i < 6; i++) {
          writeFileSync(join(ds, split, cls, `${i}.png`), png(8, 8, () => [color[0] + i, color[1] + i, color[2] + i]));
        }
      }
    }
    const run = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', ds, '--epochs', '30', '--val', '0', '--seed', '3', '--out', join(tmp, 'runs'), '--json']));
    const config = JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')) as { dataset: { classNames: string[]; inputScale: number } };
    expect(config.dataset.classNames).toEqual(['blue square', 'red square']);
    expect(config.dataset.inputScale).toBeCloseTo(1 / 255, 12);
    const pic = join(tmp, 'reddish.png');
    writeFileSync(pic, png(16, 16, () => [210, 40, 35]));
    const out = jsonOf<PictureOut>(fitlab(['predict', run.runDir, pic, '--json']));
    expect(out.predictions[0].top[0].name).toBe('red square');
    const cm = fitlab(['predict', run.runDir]);
    expect(cm.status).toBe(0);
    expect(cm.stdout).toMatch(/confusion matrix[\s\S]*blue square[\s\S]*red square/);
  });
});
