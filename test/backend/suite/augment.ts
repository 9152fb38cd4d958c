/**
 * Suite section: the affine warp used by augmentation. The native kernel mirrors the reference
 * in double precision, so the two must agree bit for bit; hand-computed cases pin the fill
 * modes (TensorFlow's reflect "d c b a | a b c d | d c b a", wrap, nearest, constant) and the
 * geometry (identity, 180° rotation, one-pixel shifts).
 */
import { expect, it } from 'vitest';
import type { FillMode, Interpolation } from '../../../src/backend/backend.js';
import { type Affine, IDENTITY, compose, flip, rotation, shear, translation, zoom } from '../../../src/tensor/affine.js';
import { RandomStream } from '../../../src/tensor/prng.js';
import type { SuiteContext } from './helpers.js';
import { expectBits, uniform } from './helpers.js';
import type { KernelName } from '../../../src/backend/kernels.js';
import type { Arg } from './args.js';
import { f, dim, num, lit } from './args.js';

/** One valid call per kernel, for the argument-error tests (suite/errors.ts). */
const VALID = {
  affineWarp: [f('y', 12), f('x', 12), lit(Float64Array.of(1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0)), dim('n', 2), dim('h', 2), dim('w', 3), dim('c', 1),
    lit('reflect'), num('cval', 0), lit('bilinear')],
} satisfies Partial<Record<KernelName, Arg[]>>;

const FILLS: FillMode[] = ['reflect', 'wrap', 'nearest', 'constant'];
const INTERPS: Interpolation[] = ['bilinear', 'nearest'];

function matrices(list: Affine[]): Float64Array {
  return Float64Array.from(list.flat());
}

/** One row image [1, 2, 3, 4] (h 1, w 4, c 1) warped by a horizontal shift of dx pixels. */
function shiftRow(ctx: SuiteContext, dx: number, fill: FillMode): number[] {
  const x = Float32Array.of(1, 2, 3, 4);
  const y = new Float32Array(4);
  ctx.backend.affineWarp(y, x, matrices([translation(0, dx)]), 1, 1, 4, 1, fill, 9, 'bilinear');
  return Array.from(y);
}

export function augmentSection(ctx: SuiteContext): void {
  ctx.kernel('affineWarp', VALID.affineWarp, () => {
    ctx.compare('matches the oracle bit for bit: rotations, zooms, shears, shifts, flips; every fill mode and interpolation', () => {
      const n = 5;
      const [h, w, c] = [9, 7, 3];
      const x = uniform(41, n * h * w * c, 0, 1);
      const rng = new RandomStream(42);
      const list: Affine[] = Array.from({ length: n }, () => compose(
        compose(rotation((rng.uniform() - 0.5) * 2, h, w), zoom(0.7 + 0.6 * rng.uniform(), 0.7 + 0.6 * rng.uniform(), h, w)),
        compose(shear((rng.uniform() - 0.5) * 0.6, h, w), translation((rng.uniform() - 0.5) * 6, (rng.uniform() - 0.5) * 6)),
      ));
      list[0] = flip(true, false, h, w);
      for (const fill of FILLS) {
        for (const interp of INTERPS) {
          const y = new Float32Array(x.length);
          const yr = new Float32Array(x.length);
          ctx.backend.affineWarp(y, x, matrices(list), n, h, w, c, fill, 0.25, interp);
          ctx.oracle.affineWarp(yr, x, matrices(list), n, h, w, c, fill, 0.25, interp);
          expectBits(y, yr, `${fill}/${interp}`);
        }
      }
    });

    it('identity copies the image; a 180° rotation reverses both axes', () => {
      const [h, w, c] = [4, 5, 2];
      const x = uniform(43, h * w * c, -1, 1);
      for (const fill of FILLS) {
        const y = new Float32Array(x.length);
        ctx.backend.affineWarp(y, x, matrices([IDENTITY]), 1, h, w, c, fill, 0, 'bilinear');
        expectBits(y, x, `identity, ${fill}`);
        const r = new Float32Array(x.length);
        ctx.backend.affineWarp(r, x, matrices([rotation(Math.PI, h, w)]), 1, h, w, c, fill, 0, 'bilinear');
        for (let yy = 0; yy < h; yy++) {
          for (let xx = 0; xx < w; xx++) {
            for (let ch = 0; ch < c; ch++) {
              // cos π is −1 up to 1.2e-16: the sampled coordinate is an integer to ~1e-15, so the result is exact to 1e-6
              expect(Math.abs(r[(yy * w + xx) * c + ch] - x[((h - 1 - yy) * w + (w - 1 - xx)) * c + ch])).toBeLessThan(1e-6);
            }
          }
        }
      }
    });

    it('a one-pixel shift right fills the first column per mode: reflect 1, wrap 4, nearest 1, constant cval', () => {
      expect(shiftRow(ctx, 1, 'reflect')).toEqual([1, 1, 2, 3]);
      expect(shiftRow(ctx, 1, 'wrap')).toEqual([4, 1, 2, 3]);
      expect(shiftRow(ctx, 1, 'nearest')).toEqual([1, 1, 2, 3]);
      expect(shiftRow(ctx, 1, 'constant')).toEqual([9, 1, 2, 3]);
    });

    it('a one-pixel shift left fills the last column per mode; two pixels reflect "b a | a b"', () => {
      expect(shiftRow(ctx, -1, 'reflect')).toEqual([2, 3, 4, 4]);
      expect(shiftRow(ctx, -1, 'wrap')).toEqual([2, 3, 4, 1]);
      expect(shiftRow(ctx, -1, 'nearest')).toEqual([2, 3, 4, 4]);
      expect(shiftRow(ctx, -1, 'constant')).toEqual([2, 3, 4, 9]);
      expect(shiftRow(ctx, 2, 'reflect')).toEqual([2, 1, 1, 2]);
      expect(shiftRow(ctx, 2, 'wrap')).toEqual([3, 4, 1, 2]);
    });

    it('refuses an output that overlaps the input (a warp reads pixels it would overwrite)', () => {
      const buf = new Float32Array(8);
      expect(() => ctx.backend.affineWarp(buf, buf, matrices([IDENTITY]), 1, 2, 4, 1, 'reflect', 0, 'bilinear')).toThrow(/^affineWarp: y must not overlap x$/);
      expect(() => ctx.backend.affineWarp(buf.subarray(0, 4), buf.subarray(2, 6), matrices([IDENTITY]), 1, 2, 2, 1, 'reflect', 0, 'bilinear')).toThrow(/overlap/);
    });

    it('half-pixel shift: bilinear averages neighbours, nearest rounds half up', () => {
      const x = Float32Array.of(1, 2, 3, 4);
      const y = new Float32Array(4);
      ctx.backend.affineWarp(y, x, matrices([translation(0, -0.5)]), 1, 1, 4, 1, 'nearest', 0, 'bilinear');
      expect(Array.from(y)).toEqual([1.5, 2.5, 3.5, 4]);
      ctx.backend.affineWarp(y, x, matrices([translation(0, -0.5)]), 1, 1, 4, 1, 'nearest', 0, 'nearest');
      expect(Array.from(y)).toEqual([2, 3, 4, 4]);
    });
  });
}
