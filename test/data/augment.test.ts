/**
 * Batch augmentation with ImageDataGenerator semantics (src/data/augment.ts on the affine-warp
 * kernel affineWarp, maps from src/tensor/affine.ts), on tiny images with hand-computed results, on the native and
 * the reference backend:
 *   - a 180° rotation maps pixel (i, j) to (H−1−i, W−1−j); a horizontal flip mirrors each row;
 *     flips happen to about half the images and both flips together are the 180° rotation
 *   - a one- and a two-pixel shift fill the uncovered columns per Keras' fill modes:
 *     constant kkkk|abcd|kkkk, nearest aaaa|abcd|dddd, reflect abcddcba|abcd|dcbaabcd,
 *     wrap abcdabcd|abcd|abcdabcd; shift ranges ≥ 1 are whole pixels, < 1 fractions of the size
 *   - rotation_range is in degrees; random crop shifts by whole pixels with zero padding;
 *     cutout zeroes one square
 *   - identity: a zero-strength spec copies the images exactly, 'none' means no augmentation,
 *     and the augmentation layers pass images through untouched when not training
 *   - seeded: the same (seed, epoch, position) gives the same output whatever the batch; a new
 *     epoch or seed gives new transforms; presets never flip digits.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, FillMode } from '../../src/backend/backend.js';
import { createBackend } from '../../src/backend/index.js';
import { loadAddon } from '../../src/backend/native/index.js';
import { AUGMENT_PRESETS, type AugmentSpec, augmentBatch, exampleStream, isIdentity, parseAugment, sampleTransform } from '../../src/data/augment.js';
import { rotation } from '../../src/tensor/affine.js';
import { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from '../../src/nn/layers/augment.js';
import { sequential } from '../../src/nn/model.js';
import { ArgumentError } from '../../src/errors.js';

const reference = createBackend({ backend: 'reference' });
const BACKENDS: Backend[] = loadAddon().addon ? [createBackend({ backend: 'native', threads: 1 }), reference] : [reference];

const NONE = parseAugment({}) as AugmentSpec;
const spec = (over: Partial<AugmentSpec>): AugmentSpec => ({ ...NONE, ...over });

/** n copies of an h×w×c image whose value at (y, x, ch) is 10·y + x + 1 + 100·ch (all distinct, nonzero). */
function images(n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[((i * h + y) * w + x) * c + ch] = 10 * y + x + 1 + 100 * ch;
  return out;
}
const at = (a: Float32Array, i: number, y: number, x: number, ch: number, h: number, w: number, c: number): number => a[((i * h + y) * w + x) * c + ch];

/** Run augmentBatch on n examples at positions 0..n−1. */
function run(backend: Backend, x: Float32Array, n: number, h: number, w: number, c: number, s: AugmentSpec, seed = 1, epoch = 0, positions?: number[]): Float32Array {
  const out = new Float32Array(x.length);
  augmentBatch(backend, out, x, n, h, w, c, s, seed, epoch, positions ?? Array.from({ length: n }, (_, i) => i), new Float64Array(n * 6));
  return out;
}

/** The inverse map example `pos` gets (input coordinate = m·output coordinate). */
const matrixOf = (s: AugmentSpec, h: number, w: number, pos: number, seed = 1, epoch = 0): number[] => sampleTransform(s, h, w, exampleStream(seed, epoch, pos)).matrix;

/** The row [1, 2, 3, 4] after moving its content by `move` pixels (+ right), per fill mode; cval 9. Written out by hand. */
const SHIFTED: Record<string, Record<FillMode, number[]>> = {
  '1': { constant: [9, 1, 2, 3], nearest: [1, 1, 2, 3], reflect: [1, 1, 2, 3], wrap: [4, 1, 2, 3] },
  '-1': { constant: [2, 3, 4, 9], nearest: [2, 3, 4, 4], reflect: [2, 3, 4, 4], wrap: [2, 3, 4, 1] },
  '2': { constant: [9, 9, 1, 2], nearest: [1, 1, 1, 2], reflect: [2, 1, 1, 2], wrap: [3, 4, 1, 2] },
  '-2': { constant: [3, 4, 9, 9], nearest: [3, 4, 4, 4], reflect: [3, 4, 4, 3], wrap: [3, 4, 1, 2] },
  '0': { constant: [1, 2, 3, 4], nearest: [1, 2, 3, 4], reflect: [1, 2, 3, 4], wrap: [1, 2, 3, 4] },
};
const FILLS: FillMode[] = ['constant', 'nearest', 'reflect', 'wrap'];

describe.each(BACKENDS.map((b) => [b.name, b] as const))('augmentBatch on %s', (_name, backend) => {
  it('180° rotation: pixel (i, j) lands at (H−1−i, W−1−j), every fill mode', () => {
    const [h, w, c] = [3, 4, 2];
    const x = images(1, h, w, c);
    for (const fill of FILLS) {
      const out = new Float32Array(x.length);
      backend.affineWarp(out, x, Float64Array.from(rotation(Math.PI, h, w)), 1, h, w, c, fill, 0, 'bilinear');
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          for (let ch = 0; ch < c; ch++) expect(at(out, 0, h - 1 - i, w - 1 - j, ch, h, w, c)).toBeCloseTo(at(x, 0, i, j, ch, h, w, c), 5);
        }
      }
      // hand check of two corners: (0,0) holds the old (2,3) = 24, (2,3) the old (0,0) = 1
      expect(out[0]).toBeCloseTo(24, 5);
      expect(at(out, 0, 2, 3, 0, h, w, c)).toBeCloseTo(1, 5);
    }
  });

  for (const range of [1, 2]) {
    it(`width shift of whole pixels (widthShiftRange ${range}): each fill mode fills the uncovered columns as Keras does`, () => {
      const [h, w, c] = [2, 4, 1];
      const n = 40;
      const x = new Float32Array(n * h * w);
      for (let i = 0; i < n * h; i++) x.set([1, 2, 3, 4], i * w);
      const seen = new Set<number>();
      for (const fill of FILLS) {
        const out = run(backend, x, n, h, w, c, spec({ widthShiftRange: range, fillMode: fill, cval: 9 }));
        for (let i = 0; i < n; i++) {
          const m = matrixOf(spec({ widthShiftRange: range }), h, w, i);
          const move = -m[2] + 0; // input x = output x − move (+ 0 turns −0 into 0)
          expect(Number.isInteger(move), `shift ${move}`).toBe(true);
          expect([m[0], m[1], m[3], m[4], m[5]].map((v) => v + 0)).toEqual([1, 0, 0, 1, 0]);
          seen.add(move);
          for (let y = 0; y < h; y++) expect(Array.from(out.subarray((i * h + y) * w, (i * h + y + 1) * w)), `${fill}, move ${move}`).toEqual(SHIFTED[String(move)][fill]);
        }
      }
      // every shift in [−range, range] occurred
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * range + 1 }, (_, k) => k - range));
    });
  }

  it('height shift of one pixel: rows move, fill per mode (column [1, 2, 3, 4] read top to bottom)', () => {
    const [h, w, c] = [4, 1, 1];
    const n = 24;
    const x = new Float32Array(n * h);
    for (let i = 0; i < n; i++) x.set([1, 2, 3, 4], i * h);
    for (const fill of FILLS) {
      const out = run(backend, x, n, h, w, c, spec({ heightShiftRange: 1, fillMode: fill, cval: 9 }));
      for (let i = 0; i < n; i++) {
        const move = -matrixOf(spec({ heightShiftRange: 1 }), h, w, i)[5];
        expect(Array.from(out.subarray(i * h, (i + 1) * h)), `${fill}, move ${move}`).toEqual(SHIFTED[String(move)][fill]);
      }
    }
  });

  it('a shift range below 1 is a fraction of the size: 0.25 of width 8 moves by up to 2 pixels, not only whole ones', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => matrixOf(spec({ widthShiftRange: 0.25 }), 5, 8, i)[2]);
    expect(Math.max(...offsets.map(Math.abs))).toBeLessThanOrEqual(2);
    expect(Math.max(...offsets.map(Math.abs))).toBeGreaterThan(1.5);
    expect(offsets.some((o) => !Number.isInteger(o))).toBe(true);
  });

  it('horizontal flip mirrors each row for about half the images; both flips together are the 180° rotation', () => {
    const [h, w, c] = [3, 4, 2];
    const n = 200;
    const x = images(n, h, w, c);
    const classify = (out: Float32Array, i: number): string => {
      const same = (f: (y: number, xx: number) => [number, number]): boolean => {
        for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
          const [sy, sx] = f(y, xx);
          if (Math.abs(at(out, i, y, xx, ch, h, w, c) - at(x, i, sy, sx, ch, h, w, c)) > 1e-5) return false;
        }
        return true;
      };
      if (same((y, xx) => [y, xx])) return 'none';
      if (same((y, xx) => [y, w - 1 - xx])) return 'h';
      if (same((y, xx) => [h - 1 - y, xx])) return 'v';
      if (same((y, xx) => [h - 1 - y, w - 1 - xx])) return 'hv';
      return 'other';
    };
    const hOnly = run(backend, x, n, h, w, c, spec({ horizontalFlip: true }));
    const kinds = Array.from({ length: n }, (_, i) => classify(hOnly, i));
    expect(kinds.filter((k) => k !== 'none' && k !== 'h')).toEqual([]);
    const flipped = kinds.filter((k) => k === 'h').length;
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
    // by hand: a flipped 3×4 image's first row reads 4 3 2 1 (channel 0)
    const i = kinds.indexOf('h');
    expect([0, 1, 2, 3].map((xx) => at(hOnly, i, 0, xx, 0, h, w, c))).toEqual([4, 3, 2, 1]);
    const both = run(backend, x, n, h, w, c, spec({ horizontalFlip: true, verticalFlip: true }));
    const kb = Array.from({ length: n }, (_, k) => classify(both, k));
    expect(kb.filter((k) => k === 'other')).toEqual([]);
    for (const k of ['none', 'h', 'v', 'hv']) expect(kb.filter((v) => v === k).length, k).toBeGreaterThan(25);
  });

  it('rotation_range is in degrees: 30 gives angles within ±30°, spread over the range', () => {
    const angles = Array.from({ length: 300 }, (_, i) => {
      const m = matrixOf(spec({ rotationRange: 30 }), 9, 9, i);
      return (Math.atan2(m[3], m[0]) * 180) / Math.PI;
    });
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(30 + 1e-9);
    expect(Math.max(...angles)).toBeGreaterThan(25);
    expect(Math.min(...angles)).toBeLessThan(-25);
  });

  it('random crop with padding 1: whole-pixel shifts with zero fill, even when fillMode says nearest', () => {
    const [h, w, c] = [3, 3, 1];
    const n = 30;
    const x = images(n, h, w, c);
    const s = spec({ cropPadding: 1, fillMode: 'nearest' });
    const out = run(backend, x, n, h, w, c, s);
    for (let i = 0; i < n; i++) {
      const m = matrixOf(s, h, w, i);
      const [ox, oy] = [m[2], m[5]];
      expect([-1, 0, 1]).toContain(ox);
      expect([-1, 0, 1]).toContain(oy);
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const sy = y + oy;
          const sx = xx + ox;
          const want = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : at(x, i, sy, sx, 0, h, w, c);
          expect(at(out, i, y, xx, 0, h, w, c)).toBe(want);
        }
      }
    }
  });

  it('cutout 2 zeroes exactly one 2×2 square, in every channel, and nothing else', () => {
    const [h, w, c] = [4, 5, 3];
    const n = 12;
    const x = images(n, h, w, c);
    const out = run(backend, x, n, h, w, c, spec({ cutout: 2 }));
    for (let i = 0; i < n; i++) {
      const zeros: string[] = [];
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const vals = [0, 1, 2].map((ch) => at(out, i, y, xx, ch, h, w, c));
          if (vals.every((v) => v === 0)) zeros.push(`${y},${xx}`);
          else expect(vals).toEqual([0, 1, 2].map((ch) => at(x, i, y, xx, ch, h, w, c)));
        }
      }
      expect(zeros).toHaveLength(4);
      const [y0, x0] = zeros[0].split(',').map(Number);
      expect(zeros).toEqual([`${y0},${x0}`, `${y0},${x0 + 1}`, `${y0 + 1},${x0}`, `${y0 + 1},${x0 + 1}`]);
    }
  });

  it('identity: a zero-strength spec copies the batch exactly, whatever the fill mode', () => {
    const [h, w, c] = [5, 4, 3];
    const x = images(3, h, w, c).map((v, i) => v + 0.37 * (i % 7));
    expect(isIdentity(NONE)).toBe(true);
    for (const fill of FILLS) expect(run(backend, x, 3, h, w, c, spec({ fillMode: fill, cval: 5 }))).toEqual(x);
  });

  it('seeded: same seed, epoch and position → same output whatever the batch around it; a new epoch or seed → new transforms', () => {
    const [h, w, c] = [8, 8, 3];
    const x = images(8, h, w, c).map((v, i) => v + (i % 13));
    const s = AUGMENT_PRESETS.cifar10.spec;
    const a = run(backend, x, 8, h, w, c, s, 5, 2);
    expect(run(backend, x, 8, h, w, c, s, 5, 2)).toEqual(a);
    // example 3 alone, at position 3, gets the same transform as inside the batch
    const one = run(backend, x.slice(3 * h * w * c, 4 * h * w * c), 1, h, w, c, s, 5, 2, [3]);
    expect(one).toEqual(a.slice(3 * h * w * c, 4 * h * w * c));
    expect(run(backend, x, 8, h, w, c, s, 5, 3)).not.toEqual(a);
    expect(run(backend, x, 8, h, w, c, s, 6, 2)).not.toEqual(a);
    // every example differs from the original (a fresh transform per example)
    for (let i = 0; i < 8; i++) expect(a.slice(i * h * w * c, (i + 1) * h * w * c)).not.toEqual(x.slice(i * h * w * c, (i + 1) * h * w * c));
  });
});

describe('specs, presets and the training-only layers', () => {
  it('native and reference agree bit for bit on the cifar10 preset', () => {
    if (BACKENDS.length < 2) return;
    const [h, w, c] = [12, 10, 3];
    const x = images(6, h, w, c).map((v, i) => (v * 7 + i) % 255);
    expect(run(BACKENDS[0], x, 6, h, w, c, AUGMENT_PRESETS.cifar10.spec, 9, 4)).toEqual(run(reference, x, 6, h, w, c, AUGMENT_PRESETS.cifar10.spec, 9, 4));
  });

  it('presets: digits never flip, auto picks by dataset name, none is no augmentation', () => {
    expect(parseAugment('none')).toBeNull();
    expect(parseAugment(undefined)).toBeNull();
    const digits = parseAugment('auto', 'mnist')!;
    expect(digits).toEqual(AUGMENT_PRESETS.digits.spec);
    expect(digits.horizontalFlip || digits.verticalFlip).toBe(false);
    expect(parseAugment('auto', '/data/my-emnist')).toEqual(AUGMENT_PRESETS.digits.spec);
    expect(parseAugment('auto', 'fashion-mnist')).toEqual(AUGMENT_PRESETS.fashion.spec);
    expect(parseAugment('auto', 'cifar10')).toEqual(AUGMENT_PRESETS.cifar10.spec);
    expect(AUGMENT_PRESETS.cifar10.spec).toMatchObject({ rotationRange: 15, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: [0.9, 1.1], horizontalFlip: true });
  });

  it('ImageDataGenerator-style JSON: zoomRange 0.2 is [0.8, 1.2]; unknown fields and fill modes are refused by name', () => {
    const s = parseAugment('{"rotationRange": 20, "zoomRange": 0.2, "fillMode": "wrap"}')!;
    expect(s.zoomRange![0]).toBeCloseTo(0.8, 12);
    expect(s.zoomRange![1]).toBeCloseTo(1.2, 12);
    expect(s.fillMode).toBe('wrap');
    expect(parseAugment({ zoomRange: [0.5, 1.5] })!.zoomRange).toEqual([0.5, 1.5]);
    expect(() => parseAugment({ rotation_range: 20 })).toThrow(/augmentation: unknown field "rotation_range"; allowed fields: .*rotationRange/);
    expect(() => parseAugment({ fillMode: 'mirror' })).toThrow(ArgumentError);
    expect(() => parseAugment({ fillMode: 'mirror' })).toThrow(/"mirror"/);
    expect(() => parseAugment('{"rotationRange": }')).toThrow('--augment looks like JSON but does not parse');
    expect(() => parseAugment('sideways')).toThrow(/augmentation must be a preset .*received "sideways"/);
  });

  it('the augmentation layers pass images through untouched when not training, and change them when training', () => {
    const x = images(4, 6, 6, 2);
    const layers = [
      new RandomFlip({ seed: 1 }), new RandomRotation({ factor: 0.5, seed: 1 }), new RandomZoom({ heightFactor: 0.3, seed: 1 }),
      new RandomTranslation({ heightFactor: 0.3, widthFactor: 0.3, seed: 1 }),
    ];
    for (const layer of layers) {
      const model = sequential([6, 6, 2], [layer]).build({ batchSize: 4, backend: BACKENDS[0], seed: 1 });
      expect(model.forward(x, { training: false }), layer.type).toEqual(x);
      expect(model.forward(x, { training: true }), layer.type).not.toEqual(x);
    }
  });
});
