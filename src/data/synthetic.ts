/**
 * Built-in data that needs no download (TensorFlow Playground's 2-D sets, gaussian blobs, and a
 * small procedural image set), so every command has an embedded default and tests run offline.
 * All generators are seeded; `labelNoise` flips that fraction of labels to another class and
 * `noise` is positional jitter (Playground's "noise").
 */
import { ArgumentError, describe } from '../errors.js';
import { RandomStream } from '../tensor/prng.js';
import { STREAMS } from '../tensor/streams.js';
import type { Dataset, Split } from './dataset.js';

export type Synthetic2D = 'spirals' | 'moons' | 'circles' | 'xor' | 'blobs';
export const SYNTHETIC_2D: readonly Synthetic2D[] = ['spirals', 'moons', 'circles', 'xor', 'blobs'];
export const SYNTHETIC_IMAGES = 'shapes';

export interface SyntheticOptions {
  /** total examples (train + test); default 400 */
  n?: number;
  /** positional noise (standard deviation, in data units); default 0.1 */
  noise?: number;
  /** fraction of labels replaced by another class; default 0 */
  labelNoise?: number;
  /** fraction used for training; default 0.5 (Playground's ratio) */
  trainRatio?: number;
  /** classes for blobs and spirals (arms); default 2 (blobs 3) */
  classes?: number;
  seed?: number;
}

function point(kind: Synthetic2D, label: number, classes: number, rng: RandomStream): [number, number] {
  switch (kind) {
    case 'spirals': {
      const t = rng.uniform();
      const r = 0.2 + 4.8 * t;
      const angle = 1.75 * t * 2 * Math.PI + (2 * Math.PI * label) / classes;
      return [r * Math.cos(angle), r * Math.sin(angle)];
    }
    case 'circles': {
      const r = label === 0 ? 2.5 * rng.uniform() : 3.5 + 1.5 * rng.uniform();
      const a = 2 * Math.PI * rng.uniform();
      return [r * Math.cos(a), r * Math.sin(a)];
    }
    case 'moons': {
      const a = Math.PI * rng.uniform();
      return label === 0 ? [2.5 * Math.cos(a) - 1.25, 2.5 * Math.sin(a) - 0.6] : [1.25 - 2.5 * Math.cos(a), 0.6 - 2.5 * Math.sin(a)];
    }
    case 'xor': {
      for (;;) {
        const x = 10 * rng.uniform() - 5;
        const y = 10 * rng.uniform() - 5;
        if ((x * y >= 0 ? 0 : 1) === label && Math.abs(x) > 0.3 && Math.abs(y) > 0.3) return [x, y];
      }
    }
    case 'blobs': {
      const a = (2 * Math.PI * label) / classes;
      return [3 * Math.cos(a) + rng.normal(), 3 * Math.sin(a) + rng.normal()];
    }
  }
}

function splitShuffled(x: Float32Array | Uint8Array, y: Int32Array, per: number, trainRatio: number, rng: RandomStream): { train: Split; test: Split } {
  const n = y.length;
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const nTrain = Math.round(n * trainRatio);
  const make = (idx: Int32Array): Split => {
    const xs = x instanceof Uint8Array ? new Uint8Array(idx.length * per) : new Float32Array(idx.length * per);
    const ys = new Int32Array(idx.length);
    idx.forEach((j, i) => {
      xs.set(x.subarray(j * per, (j + 1) * per), i * per);
      ys[i] = y[j];
    });
    return { x: xs, y: ys };
  };
  return { train: make(order.subarray(0, nTrain)), test: make(order.subarray(nTrain)) };
}

function checkOptions(o: SyntheticOptions): Required<Omit<SyntheticOptions, 'classes'>> & { classes?: number } {
  const n = o.n ?? 400;
  if (!Number.isInteger(n) || n < 4) throw new ArgumentError(`synthetic n must be an integer ≥ 4; received ${describe(o.n)}`);
  const labelNoise = o.labelNoise ?? 0;
  if (!(labelNoise >= 0 && labelNoise <= 1)) throw new ArgumentError(`labelNoise must be in [0, 1]; received ${describe(o.labelNoise)}`);
  const trainRatio = o.trainRatio ?? 0.5;
  if (!(trainRatio > 0 && trainRatio < 1)) throw new ArgumentError(`trainRatio must be in (0, 1); received ${describe(o.trainRatio)}`);
  const noise = o.noise ?? 0.1;
  if (!(noise >= 0)) throw new ArgumentError(`noise must be ≥ 0; received ${describe(o.noise)}`);
  return { n, noise, labelNoise, trainRatio, seed: o.seed ?? 1, classes: o.classes };
}

/** Flip `fraction` of labels to a different class (seeded). */
function corruptLabels(y: Int32Array, classes: number, fraction: number, rng: RandomStream): void {
  const n = y.length;
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const k = Math.round(fraction * n);
  for (let i = 0; i < k; i++) {
    const j = order[i];
    y[j] = (y[j] + 1 + rng.uniformInt(classes - 1)) % classes;
  }
}

/** A 2-D Playground-style dataset. */
export function synthetic2d(kind: Synthetic2D, options: SyntheticOptions = {}): Dataset {
  if (!SYNTHETIC_2D.includes(kind)) throw new ArgumentError(`synthetic dataset must be one of ${SYNTHETIC_2D.join(', ')}; received ${describe(kind)}`);
  const o = checkOptions(options);
  const classes = o.classes ?? (kind === 'blobs' ? 3 : 2);
  if (classes < 2 || ((kind === 'moons' || kind === 'circles' || kind === 'xor') && classes !== 2)) {
    throw new ArgumentError(`${kind} has exactly 2 classes${kind === 'blobs' || kind === 'spirals' ? ' or more' : ''}; received ${classes}`);
  }
  const rng = new RandomStream(o.seed, STREAMS.synthetic2d);
  const x = new Float32Array(o.n * 2);
  const y = new Int32Array(o.n);
  for (let i = 0; i < o.n; i++) {
    const label = i % classes;
    const [px, py] = point(kind, label, classes, rng);
    x[2 * i] = px + o.noise * rng.normal();
    x[2 * i + 1] = py + o.noise * rng.normal();
    y[i] = label;
  }
  corruptLabels(y, classes, o.labelNoise, rng);
  const { train, test } = splitShuffled(x, y, 2, o.trainRatio, rng);
  return {
    name: kind, source: `synthetic (seed ${o.seed}, n ${o.n}, noise ${o.noise}, label noise ${o.labelNoise})`,
    shape: [2], classes, classNames: Array.from({ length: classes }, (_, i) => `class ${i}`), train, test, scale: 1,
  };
}

const SHAPE_NAMES = ['circle', 'square', 'triangle', 'cross', 'bar'];

/** Draw one shape into a size×size uint8 image. */
function drawShape(img: Uint8Array, size: number, kind: number, rng: RandomStream): void {
  const r = size * (0.18 + 0.14 * rng.uniform());
  const cx = r + (size - 2 * r) * rng.uniform();
  const cy = r + (size - 2 * r) * rng.uniform();
  const angle = kind === 4 ? Math.PI * rng.uniform() : 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      let inside = false;
      switch (kind) {
        case 0: inside = dx * dx + dy * dy <= r * r; break;
        case 1: inside = Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85; break;
        case 2: inside = dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= (dy + r) * 0.6; break;
        case 3: inside = (Math.abs(dx) <= r * 0.28 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.28 && Math.abs(dx) <= r); break;
        case 4: {
          const u = dx * Math.cos(angle) + dy * Math.sin(angle);
          const v = -dx * Math.sin(angle) + dy * Math.cos(angle);
          inside = Math.abs(u) <= r * 1.1 && Math.abs(v) <= r * 0.25;
          break;
        }
      }
      const noise = 30 * rng.uniform();
      img[y * size + x] = Math.min(255, (inside ? 200 : 0) + noise);
    }
  }
}

/** "shapes": small grayscale images of circles, squares, triangles, crosses and bars. */
export function syntheticShapes(options: SyntheticOptions & { size?: number } = {}): Dataset {
  const o = checkOptions({ n: 1000, ...options });
  const size = options.size ?? 16;
  const classes = o.classes ?? 5;
  if (!(classes >= 2 && classes <= 5)) throw new ArgumentError(`shapes has 2 to 5 classes; received ${classes}`);
  const rng = new RandomStream(o.seed, STREAMS.syntheticShapes);
  const per = size * size;
  const x = new Uint8Array(o.n * per);
  const y = new Int32Array(o.n);
  for (let i = 0; i < o.n; i++) {
    y[i] = i % classes;
    drawShape(x.subarray(i * per, (i + 1) * per), size, y[i], rng);
  }
  corruptLabels(y, classes, o.labelNoise, rng);
  const { train, test } = splitShuffled(x, y, per, o.trainRatio, rng);
  return {
    name: SYNTHETIC_IMAGES, source: `synthetic (seed ${o.seed}, n ${o.n}, ${size}×${size}, label noise ${o.labelNoise})`,
    shape: [size, size, 1], classes, classNames: SHAPE_NAMES.slice(0, classes), train, test, scale: 1 / 255,
  };
}
