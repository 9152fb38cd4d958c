/**
 * The registry of random streams (src/tensor/streams.ts). Stream ids are part of every
 * checkpoint and of what a seed reproduces, so they are pinned here by value: a change to any
 * of them must fail this test, not silently change resumed runs and old experiments.
 */
import { describe, expect, it } from 'vitest';
import { STREAMS, augmentExampleStreamId, layerStreamId } from '../../src/tensor/streams.js';

describe('STREAMS', () => {
  it('keeps every id it ever had', () => {
    expect(STREAMS).toEqual({
      init: 1, shuffle: 2, dropout: 3, augmentLayer: 4, split: 5,
      subset: 6, imbalance: 7, labelNoise: 8, randomLabels: 9, extremeCorruption: 10,
      synthetic2d: 11, syntheticShapes: 12,
      ridgeTask: 77, biasVarianceRegression: 91, biasVarianceZeroOne: 92, memorizeSurface: 96, sharpness: 97,
    });
  });

  it('gives every purpose its own id, clear of the per-layer and per-example ranges', () => {
    const ids = Object.values(STREAMS);
    expect(new Set(ids).size).toBe(ids.length);
    // per-layer ids start at 3·65536 (dropout of layer 0); per-example ids at 0x41_0000_0000
    const lowest = Math.min(layerStreamId(STREAMS.dropout, 0), augmentExampleStreamId(0, 0));
    for (const id of ids) expect(id).toBeLessThan(lowest);
  });

  it('numbers per-layer and per-example streams as checkpoints recorded them', () => {
    expect(layerStreamId(STREAMS.dropout, 5)).toBe(3 * 65536 + 5);
    expect(layerStreamId(STREAMS.augmentLayer, 0)).toBe(4 * 65536);
    expect(augmentExampleStreamId(2, 7)).toBe(0x41_0000_0000 + 2 * 0x100_0000 + 7);
  });
});
