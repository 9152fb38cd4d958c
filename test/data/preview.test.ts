/**
 * The augmentation preview grid (`fitlab data preview`, src/data/preview.ts): a PNG of the
 * size the layout gives — for 16×16 "shapes" enlarged 6× (96-pixel cells), 8 rows of the
 * original plus 6 copies with 4-pixel gaps: 708 × 804 — that pngjs decodes; its first column
 * holds the originals pixel for pixel (one example per class in turn), the copies differ from
 * them, and the picture is not one flat colour. Written through the command line as well.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { parseAugment } from '../../src/data/augment.js';
import { syntheticShapes } from '../../src/data/synthetic.js';
import { previewGrid } from '../../src/data/preview.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { cleanup, tempDir, tempLeftovers } from './data-helpers.js';

afterAll(cleanup);

/** Gray value of the grid at (x, y). */
const px = (png: PNG, x: number, y: number): number => png.data[(y * png.width + x) * 4];

describe('preview grid', () => {
  it('shapes with the digits preset: 708 × 804, originals in the first column pixel for pixel, augmented copies differ', () => {
    const ds = syntheticShapes();
    const png = PNG.sync.read(previewGrid(getBackend(), ds, parseAugment('digits')!, { seed: 3 }));
    expect([png.width, png.height]).toEqual([708, 804]);
    // row r shows a training example of class r mod 5: the first of its class, then the second…
    for (let r = 0; r < 8; r++) {
      const ofClass = Array.from(ds.train.y).flatMap((l, i) => (l === r % 5 ? [i] : []));
      const idx = ofClass[Math.floor(r / 5)];
      const top = 4 + r * 100;
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const want = ds.train.x[idx * 256 + y * 16 + x];
          // the centre of each 6×6 block, and its corner: nearest-neighbour enlargement
          expect(px(png, 4 + 6 * x + 3, top + 6 * y + 3)).toBe(want);
          expect(px(png, 4 + 6 * x, top + 6 * y + 5)).toBe(want);
        }
      }
      // the six copies (starting at x = 2·4 + (k+1)·100) are not all the original
      let differing = 0;
      for (let k = 0; k < 6; k++) {
        const left = 8 + (k + 1) * 100;
        let diff = 0;
        for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) diff += Math.abs(px(png, left + 6 * x + 3, top + 6 * y + 3) - ds.train.x[idx * 256 + y * 16 + x]);
        if (diff > 0) differing++;
      }
      expect(differing, `row ${r}`).toBeGreaterThanOrEqual(5);
    }
    // gaps are white; the picture is not one value
    expect(px(png, 0, 0)).toBe(255);
    expect(px(png, 104, 50)).toBe(255);
    expect(new Set(png.data.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(50);
  });

  it('rows and copies change the size: 3 rows × 2 copies of 16×16 at zoom 2 → 4 + 3·36 = 112 wide, 4 + 3·36 = 112 high', () => {
    const png = PNG.sync.read(previewGrid(getBackend(), syntheticShapes(), parseAugment('crop-flip')!, { rows: 3, copies: 2, zoom: 2 }));
    expect([png.width, png.height]).toEqual([4 + 3 * 36 + 4, 4 + 3 * 36]);
  });

  describe('through the command line', () => {
    beforeAll(() => ensureBuilt());

    it('`fitlab data preview shapes --out grid.png` writes a decodable PNG of the expected size; a vector dataset is refused', () => {
      const dir = tempDir('preview');
      const out = join(dir, 'grid.png');
      const r = jsonOf<{ out: string; preset: string; rows: number; copies: number }>(fitlab(['data', 'preview', 'shapes', '--out', out, '--rows', '5', '--copies', '3', '--json']));
      expect(r).toMatchObject({ out, preset: 'cifar10', rows: 5, copies: 3 });
      const png = PNG.sync.read(readFileSync(out));
      expect([png.width, png.height]).toEqual([4 + 4 * 100 + 4, 4 + 5 * 100]);
      expect(new Set(png.data.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(50);
      expect(tempLeftovers(dir)).toEqual([]);
      const bad = fitlab(['data', 'preview', 'spirals', '--out', join(dir, 'x.png')]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('fitlab: error: spirals holds 2 vectors, not images; preview needs images');
      expect(bad.stderr).not.toMatch(STACK_FRAME);
    });
  });
});
