/**
 * Data augmentation with Keras ImageDataGenerator semantics, plus random crop with padding and
 * cutout, applied to batches through the affine-warp kernel.
 *
 *   rotationRange      degrees: angle uniform in [−r, r]
 *   widthShiftRange    < 1: a fraction of the width; ≥ 1: pixels (uniform in [−r, r])
 *   heightShiftRange   likewise for the height
 *   shearRange         degrees (counter-clockwise)
 *   zoomRange          z → [1 − z, 1 + z], or [lo, hi]; x and y zoom drawn independently
 *   horizontalFlip / verticalFlip   each with probability ½
 *   fillMode           'nearest' (Keras' default), 'constant' (cval), 'reflect', 'wrap'
 *   cropPadding        random crop: a random integer shift of up to p pixels with zero fill
 *                      (the padded-crop augmentation of CIFAR papers)
 *   cutout             a square of this size zeroed at a random position
 *
 * Sampling and applying are separate (STYLE §7): `sampleTransform` draws one image's parameters
 * from a stream, `augmentBatch` applies a batch's. Every example's parameters come from its own
 * counter-based stream (seed, epoch, position in the epoch), so the same run re-draws the same
 * transforms on resume and no state has to be saved; a new epoch draws new ones.
 * Presets: digits never flip ("a 3 flipped is no 3").
 */
import { type Backend, type F32, FILL_MODES, type FillMode } from '../backend/backend.js';
import { ArgumentError, describe } from '../errors.js';
import { ConfigReader } from '../util/config-reader.js';
import { RandomStream } from '../tensor/prng.js';
import { augmentExampleStreamId } from '../tensor/streams.js';
import { type Affine, IDENTITY, compose, flip, rotation, shear, translation, zoom } from '../tensor/affine.js';

export interface AugmentSpec {
  rotationRange: number;
  widthShiftRange: number;
  heightShiftRange: number;
  shearRange: number;
  zoomRange: [number, number] | null;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  fillMode: FillMode;
  cval: number;
  cropPadding: number;
  cutout: number;
}

const NONE: AugmentSpec = {
  rotationRange: 0, widthShiftRange: 0, heightShiftRange: 0, shearRange: 0, zoomRange: null,
  horizontalFlip: false, verticalFlip: false, fillMode: 'nearest', cval: 0, cropPadding: 0, cutout: 0,
};

/** Presets per dataset family. */
export const AUGMENT_PRESETS: Record<string, { description: string; spec: AugmentSpec }> = {
  digits: {
    description: 'MNIST-style digits: rotation ±10°, shifts ±10%, zoom ±10%, no flips',
    spec: { ...NONE, rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: [0.9, 1.1] },
  },
  fashion: {
    description: 'Fashion-MNIST: horizontal flips, shifts ±10%, rotation ±8°',
    spec: { ...NONE, rotationRange: 8, widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true },
  },
  cifar10: {
    description: 'natural images (CIFAR): horizontal flips, rotation ±15°, shifts ±10%, zoom ±10%',
    spec: { ...NONE, rotationRange: 15, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: [0.9, 1.1], horizontalFlip: true },
  },
  'crop-flip': {
    description: 'the classic CIFAR recipe: random crop with 4 pixels of zero padding and horizontal flips',
    spec: { ...NONE, cropPadding: 4, horizontalFlip: true },
  },
};

/** The preset that suits a dataset name (digits never flip). */
export function presetForDataset(dataset: string): string {
  if (/fashion/.test(dataset)) return 'fashion';
  if (/mnist|digit|emnist/.test(dataset)) return 'digits';
  return 'cifar10';
}

/** Parse a preset name, 'none', or an ImageDataGenerator-style JSON object. */
export function parseAugment(value: unknown, dataset?: string): AugmentSpec | null {
  if (value === undefined || value === null || value === 'none' || value === false) return null;
  if (value === true || value === 'auto') return { ...AUGMENT_PRESETS[presetForDataset(dataset ?? '')].spec };
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{')) {
      try {
        return parseAugment(JSON.parse(trimmed) as unknown, dataset);
      } catch (err) {
        if (err instanceof ArgumentError) throw err;
        throw new ArgumentError(`--augment looks like JSON but does not parse: ${(err as Error).message}`);
      }
    }
    const preset = AUGMENT_PRESETS[trimmed];
    if (!preset) throw new ArgumentError(`augmentation must be a preset (${Object.keys(AUGMENT_PRESETS).join(', ')}), 'auto', 'none' or a JSON object; received ${describe(value)}`);
    return { ...preset.spec };
  }
  if (typeof value === 'object') {
    const r = new ConfigReader(value as Record<string, unknown>, 'augmentation');
    const zoomRaw = r.peek('zoomRange');
    let zoomRange: [number, number] | null = null;
    if (typeof zoomRaw === 'number') {
      const z = r.number('zoomRange', { min: 0, max: 1, maxOpen: true });
      zoomRange = z ? [1 - z, 1 + z] : null;
    } else if (zoomRaw !== undefined) {
      const pair = r.range('zoomRange', { min: 0.01 });
      zoomRange = pair;
    } else r.accept('zoomRange');
    const spec: AugmentSpec = {
      rotationRange: r.number('rotationRange', { min: 0, max: 180, default: 0 }),
      widthShiftRange: r.number('widthShiftRange', { min: 0, default: 0 }),
      heightShiftRange: r.number('heightShiftRange', { min: 0, default: 0 }),
      shearRange: r.number('shearRange', { min: 0, max: 89, default: 0 }),
      zoomRange,
      horizontalFlip: r.bool('horizontalFlip', false),
      verticalFlip: r.bool('verticalFlip', false),
      fillMode: r.oneOf('fillMode', FILL_MODES, 'nearest'),
      cval: r.number('cval', { default: 0 }),
      cropPadding: r.int('cropPadding', { min: 0, default: 0 }),
      cutout: r.int('cutout', { min: 0, default: 0 }),
    };
    r.done();
    return spec;
  }
  throw new ArgumentError(`augmentation must be a preset name or an object; received ${describe(value)}`);
}

export interface SampledTransform {
  matrix: Affine;
  /** cutout square: top-left corner and size, or null */
  cutout: [number, number, number] | null;
}

const DEG = Math.PI / 180;

/** Draw one image's transform (ImageDataGenerator order: rotation · shift · shear · zoom). */
export function sampleTransform(spec: AugmentSpec, h: number, w: number, rng: RandomStream): SampledTransform {
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
  let m: Affine = IDENTITY;
  if (spec.rotationRange) m = compose(m, rotation(u(-spec.rotationRange, spec.rotationRange) * DEG, h, w));
  if (spec.widthShiftRange || spec.heightShiftRange) {
    const dx = spec.widthShiftRange < 1 ? u(-spec.widthShiftRange, spec.widthShiftRange) * w : Math.round(u(-spec.widthShiftRange, spec.widthShiftRange));
    const dy = spec.heightShiftRange < 1 ? u(-spec.heightShiftRange, spec.heightShiftRange) * h : Math.round(u(-spec.heightShiftRange, spec.heightShiftRange));
    m = compose(m, translation(dy, dx));
  }
  if (spec.shearRange) m = compose(m, shear(u(-spec.shearRange, spec.shearRange) * DEG, h, w));
  if (spec.zoomRange) m = compose(m, zoom(u(spec.zoomRange[0], spec.zoomRange[1]), u(spec.zoomRange[0], spec.zoomRange[1]), h, w));
  if (spec.cropPadding) {
    const p = spec.cropPadding;
    m = compose(m, translation(rng.uniformInt(2 * p + 1) - p, rng.uniformInt(2 * p + 1) - p));
  }
  const hf = spec.horizontalFlip && rng.uniform() < 0.5;
  const vf = spec.verticalFlip && rng.uniform() < 0.5;
  if (hf || vf) m = compose(m, flip(hf, vf, h, w));
  let cutout: SampledTransform['cutout'] = null;
  if (spec.cutout) {
    const s = Math.min(spec.cutout, h, w);
    cutout = [rng.uniformInt(h - s + 1), rng.uniformInt(w - s + 1), s];
  }
  return { matrix: m, cutout };
}

/** The stream of one example's transform: a pure function of (seed, epoch, position). */
export function exampleStream(seed: number, epoch: number, position: number): RandomStream {
  return new RandomStream(seed, augmentExampleStreamId(epoch, position));
}

/** The fill mode a crop uses: zero padding, whatever the spec says for the other transforms. */
function fillFor(spec: AugmentSpec): { fill: FillMode; cval: number } {
  const onlyCrop = spec.cropPadding > 0 && !spec.rotationRange && !spec.widthShiftRange && !spec.heightShiftRange && !spec.shearRange && !spec.zoomRange;
  return onlyCrop ? { fill: 'constant', cval: 0 } : { fill: spec.fillMode, cval: spec.cval };
}

/**
 * Augment a batch in place of `out`: x holds n images (h, w, c, already scaled), positions[i] is
 * example i's position in the epoch (for its stream). `matrices` is scratch of ≥ n·6.
 */
export function augmentBatch(
  backend: Backend, out: F32, x: F32, n: number, h: number, w: number, c: number, spec: AugmentSpec,
  seed: number, epoch: number, positions: ArrayLike<number>, matrices: Float64Array,
): void {
  const cutouts: SampledTransform['cutout'][] = [];
  for (let i = 0; i < n; i++) {
    const t = sampleTransform(spec, h, w, exampleStream(seed, epoch, positions[i]));
    matrices.set(t.matrix, i * 6);
    cutouts.push(t.cutout);
  }
  const { fill, cval } = fillFor(spec);
  const m = matrices.length === n * 6 ? matrices : matrices.subarray(0, n * 6);
  backend.affineWarp(out, x, m, n, h, w, c, fill, cval, 'bilinear');
  cutouts.forEach((cut, i) => {
    if (!cut) return;
    const [top, left, s] = cut;
    for (let yy = top; yy < top + s; yy++) out.fill(0, ((i * h + yy) * w + left) * c, ((i * h + yy) * w + left + s) * c);
  });
}

/** Does the spec change anything at all? */
export function isIdentity(spec: AugmentSpec | null): boolean {
  if (!spec) return true;
  return !spec.rotationRange && !spec.widthShiftRange && !spec.heightShiftRange && !spec.shearRange && !spec.zoomRange &&
    !spec.horizontalFlip && !spec.verticalFlip && !spec.cropPadding && !spec.cutout;
}
