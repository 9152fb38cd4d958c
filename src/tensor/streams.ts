/**
 * Every random stream fitlab draws from, by name: one registry instead of numbers spread over
 * the code. A stream id is the second half of a Philox counter (prng.ts), so a run's random
 * numbers are a pure function of (seed, stream id, position).
 *
 * NEVER renumber or reuse an id: checkpoints store stream positions, resumed runs must draw
 * exactly what the uninterrupted run would have drawn, and a seed must reproduce old runs and
 * experiments bit for bit. A new purpose takes a new, unused id.
 *
 * Id space (all below 2^53):
 *   - small ids:            one stream per purpose (the table below)
 *   - purpose·65536 + i:    one stream per layer i for a per-layer purpose (layerStreamId)
 *   - 0x41_0000_0000 + …:   one stream per augmented example and epoch (augmentExampleStreamId)
 */
/**
 * The seed a run, an experiment and the dashboard use when none is given (`--seed`), and the
 * seed a model is built with when its caller names none. Data sets generated for a demo or a
 * preview keep their own fixed seeds (they are part of what the data set is).
 */
export const DEFAULT_SEED = 42;

export const STREAMS = {
  /** weight initialization, all layers in order (nn/model.ts) */
  init: 1,
  /** the permutation of the training set each epoch (train/fit.ts) */
  shuffle: 2,
  /** per layer (layerStreamId): a Dropout layer's masks */
  dropout: 3,
  /** per layer (layerStreamId): a Random* augmentation layer's transforms */
  augmentLayer: 4,
  /** the seeded, stratified validation split (data/splits.ts) */
  split: 5,
  /** dataset tools (data/transforms.ts): the order a per-class subset is taken in */
  subset: 6,
  /** … the examples an imbalance keeps */
  imbalance: 7,
  /** … which labels label noise flips, and to what */
  labelNoise: 8,
  /** … which labels are replaced by random ones */
  randomLabels: 9,
  /** … the wrong classes of the extreme-overfitting corruption */
  extremeCorruption: 10,
  /** the built-in 2-D sets: spirals, moons, circles, xor, blobs (data/synthetic.ts) */
  synthetic2d: 11,
  /** the built-in shapes images (data/synthetic.ts) */
  syntheticShapes: 12,
  /** the ridge-regression task of the double-descent experiment (experiments/ridge.ts) */
  ridgeTask: 77,
  /** bias-variance, regression half: training sets and bootstrap resamples */
  biasVarianceRegression: 91,
  /** bias-variance, 0-1 loss half: training set, label flips and resamples */
  biasVarianceZeroOne: 92,
  /** the memorization experiment's loss-surface directions (experiments/memorize.ts) */
  memorizeSurface: 96,
  /** the sharpness probe's random directions (experiments/landscape.ts) */
  sharpness: 97,
} as const;

export type StreamName = keyof typeof STREAMS;

/** Per-layer streams: layer `index`'s stream for a per-layer purpose (dropout, augmentLayer). */
export function layerStreamId(purpose: number, index: number): number {
  return purpose * 65536 + index;
}

/** Base of the per-example augmentation streams (data/augment.ts); 'A' in the top byte. */
const AUGMENT_EXAMPLE_BASE = 0x41_0000_0000;

/** The stream of one augmented example: a pure function of (epoch, position in the epoch). */
export function augmentExampleStreamId(epoch: number, position: number): number {
  return AUGMENT_EXAMPLE_BASE + epoch * 0x100_0000 + position;
}
