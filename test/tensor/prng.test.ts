/**
 * Philox4x32-10 and RandomStream: known-answer vectors from the Random123 distribution
 * (kat_vectors, philox4x32_10), distribution checks with 5σ bounds, and exact resumption.
 */
import { describe, expect, it } from 'vitest';
import { RandomStream, dropoutKeep, philox4x32, splitU64, uint32ToUniform } from '../../src/tensor/prng.js';

const hex = (out: Uint32Array): string[] => Array.from(out, (v) => v.toString(16).padStart(8, '0'));

function block(c: number[], k: number[]): string[] {
  const out = new Uint32Array(4);
  philox4x32(out, c[0], c[1], c[2], c[3], k[0], k[1]);
  return hex(out);
}

function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let q = 0;
  for (let i = 0; i < a.length; i++) q += (a[i] - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}

describe('philox4x32 (Random123 known answers)', () => {
  it('counter 0, key 0', () => {
    expect(block([0, 0, 0, 0], [0, 0])).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });
  it('all-ones counter and key', () => {
    const ones = 0xffffffff;
    expect(block([ones, ones, ones, ones], [ones, ones])).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  });
  it('the digits of pi', () => {
    expect(block([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))
      .toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

describe('conversions', () => {
  it('uint32ToUniform keeps the top 24 bits: [0, 1 − 2^-24]', () => {
    expect(uint32ToUniform(0)).toBe(0);
    expect(uint32ToUniform(0xff)).toBe(0);
    expect(uint32ToUniform(0x100)).toBe(2 ** -24);
    expect(uint32ToUniform(0xffffffff)).toBe(1 - 2 ** -24);
    expect(Math.fround(uint32ToUniform(0xdeadbeef))).toBe(uint32ToUniform(0xdeadbeef));
  });
  it('splitU64 splits below 2^53 and refuses the rest', () => {
    expect(splitU64(2 ** 40 + 5)).toEqual([5, 256]);
    expect(splitU64(2 ** 32 - 1)).toEqual([0xffffffff, 0]);
    expect(() => splitU64(-1)).toThrow(RangeError);
    expect(() => splitU64(2 ** 53)).toThrow(RangeError);
    expect(() => splitU64(1.5)).toThrow(RangeError);
  });
});

describe('RandomStream', () => {
  it('bulk fills use block start + i/4, lane i%4 of the stream (the layout native dropout relies on)', () => {
    const s = new RandomStream(2 ** 40 + 123, 2 ** 35 + 9);
    s.reserveBlocks(5);
    const u = new Float32Array(11);
    s.fillUniform(u);
    const [k0, k1] = splitU64(2 ** 40 + 123);
    const [s0, s1] = splitU64(2 ** 35 + 9);
    expect(s.key).toEqual([k0, k1]);
    expect(s.streamWords).toEqual([s0, s1]);
    const out = new Uint32Array(4);
    for (let i = 0; i < 11; i++) {
      philox4x32(out, 5 + Math.floor(i / 4), 0, s0, s1, k0, k1);
      expect(u[i], `element ${i}`).toBe(uint32ToUniform(out[i % 4]));
    }
    expect(s.getState().position, 'the fill advanced by ceil(11/4) blocks').toBe(8);
  });

  it('dropoutKeep draws exactly the bulk uniforms, compared with the rate', () => {
    const u = new Float32Array(1001);
    new RandomStream(5, 1).fillUniform(u);
    const mask = new Uint8Array(1001);
    const s = new RandomStream(5, 1);
    dropoutKeep(mask, 0.3, s.key, s.streamWords, 0);
    expect(Array.from(mask)).toEqual(Array.from(u, (v) => (v >= 0.3 ? 1 : 0)));
  });

  it('uniform: range, mean 1/2 and variance 1/12 (5σ bounds), scalar and bulk', () => {
    const n = 200_000;
    const bulk = new Float32Array(n);
    new RandomStream(1).fillUniform(bulk);
    const s = new RandomStream(2);
    const scalar = Float64Array.from({ length: n }, () => s.uniform());
    for (const a of [bulk, scalar]) {
      expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
      const { mean, std } = meanStd(a);
      expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n)); // 0.0032
      expect(Math.abs(std * std - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n)); // var of U² terms
    }
    const ranged = new Float32Array(10_000);
    new RandomStream(3).fillUniform(ranged, -3, 5);
    expect(ranged.every((v) => v >= -3 && v < 5)).toBe(true);
    expect(Math.min(...ranged)).toBeLessThan(-2.99);
    expect(Math.max(...ranged)).toBeGreaterThan(4.99);
  });

  it('uniformInt: in range, every value reached, bad n refused', () => {
    const s = new RandomStream(4);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[s.uniformInt(7)]++;
    // binomial(70000, 1/7): σ ≈ 92.6, 5σ ≈ 463
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(463);
    expect(s.uniformInt(1)).toBe(0);
    expect(s.uniformInt(2 ** 32)).toBeLessThan(2 ** 32);
    expect(() => s.uniformInt(0)).toThrow(RangeError);
    expect(() => s.uniformInt(2 ** 32 + 1)).toThrow(RangeError);
  });

  it('normal: mean and std, scalar and bulk (5σ bounds)', () => {
    const n = 200_000;
    const bulk = new Float32Array(n);
    new RandomStream(6).fillNormal(bulk, 3, 2);
    const s = new RandomStream(7);
    const scalar = Float64Array.from({ length: n }, () => s.normal());
    const b = meanStd(bulk);
    expect(Math.abs(b.mean - 3)).toBeLessThan(5 * 2 / Math.sqrt(n)); // 0.022
    expect(Math.abs(b.std - 2)).toBeLessThan(5 * 2 / Math.sqrt(2 * n)); // 0.016
    const c = meanStd(scalar);
    expect(Math.abs(c.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(c.std - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
    expect(bulk.every(Number.isFinite)).toBe(true);
  });

  it('truncated normal stays within ±2σ and has std ≈ 0.8796σ', () => {
    const n = 100_000;
    const out = new Float32Array(n);
    new RandomStream(8).fillTruncatedNormal(out, 1, 2);
    expect(out.every((v) => v >= 1 - 4 && v <= 1 + 4)).toBe(true);
    const { mean, std } = meanStd(out);
    // std of a ±2σ truncated normal: σ·sqrt(1 − 2·2φ(2)/(2Φ(2) − 1)) = 0.87963σ
    expect(Math.abs(mean - 1)).toBeLessThan(5 * 1.76 / Math.sqrt(n)); // 0.028
    expect(Math.abs(std - 0.87963 * 2)).toBeLessThan(0.02);
    // values near the bounds do occur (the cut is at 2σ, not tighter)
    expect(out.some((v) => v > 4.9)).toBe(true);
  });

  it('shuffle: a permutation, reproducible by seed, different for another seed, uniform over 3! orders', () => {
    const perm = (seed: number): number[] => Array.from(new RandomStream(seed).shuffle(Int32Array.from({ length: 100 }, (_, i) => i)));
    const a = perm(11);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(perm(11)).toEqual(a);
    expect(perm(12)).not.toEqual(a);
    expect(a).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    const s = new RandomStream(13);
    const seen = new Map<string, number>();
    for (let t = 0; t < 60_000; t++) {
      const key = Array.from(s.shuffle(Int32Array.of(0, 1, 2))).join('');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size).toBe(6);
    // binomial(60000, 1/6): σ ≈ 91.3, 5σ ≈ 456
    for (const c of seen.values()) expect(Math.abs(c - 10_000)).toBeLessThan(456);
  });

  it('getState/fromState resumes exactly, including mid-block scalar draws and JSON round trips', () => {
    const s = new RandomStream(99, 4);
    s.nextUint32();
    s.uniform();
    s.normal(); // a normal uses two lanes: four so far, one whole block
    s.nextUint32(); // five: one lane into the second block, three pending
    const saved = JSON.parse(JSON.stringify(s.getState())) as ReturnType<RandomStream['getState']>;
    expect(saved.pending.length).toBe(3);
    const resumed = RandomStream.fromState(saved);
    const draw = (r: RandomStream): number[] => {
      const bulk = new Float32Array(9);
      r.fillUniform(bulk);
      return [r.nextUint32(), r.uniform(), r.normal(), ...bulk, r.uniformInt(1000), r.nextUint32()];
    };
    expect(draw(resumed)).toEqual(draw(s));
    expect(resumed.seed).toBe(99);
    expect(resumed.stream).toBe(4);
    // the saved state is a copy: drawing from the stream does not change it
    expect(saved.pending.length).toBe(3);
    expect(draw(RandomStream.fromState(saved))).toEqual(draw(RandomStream.fromState(saved)));
  });

  it('streams: different ids differ, the same seed and id repeat, fork(id) is the stream id', () => {
    const first = (seed: number, id: number): number[] => {
      const s = new RandomStream(seed, id);
      return Array.from({ length: 8 }, () => s.nextUint32());
    };
    expect(first(1, 0)).toEqual(first(1, 0));
    expect(first(1, 1)).not.toEqual(first(1, 0));
    expect(first(1, 2 ** 32)).not.toEqual(first(1, 0)); // the high stream word counts
    expect(first(2, 0)).not.toEqual(first(1, 0));
    expect(first(2 ** 32 + 1, 0)).not.toEqual(first(1, 0)); // the high key word counts
    const f = new RandomStream(1, 0).fork(3);
    expect(Array.from({ length: 8 }, () => f.nextUint32())).toEqual(first(1, 3));
  });
});
