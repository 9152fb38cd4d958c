/**
 * Seeded damage for the fuzzers and kill schedules in the tests (one copy, shared): text cut,
 * garbage bytes, a chunk dropped, digits changed; and a small seeded generator (mulberry32)
 * for schedules that need plain numbers in [0, 1).
 */
import type { RandomStream } from '../../src/tensor/prng.js';

/** Damage a file as a disk, an editor or a copy-paste would: cut it, insert bytes, drop a run, change digits. */
export function mutateText(text: string, r: RandomStream): string {
  const at = r.uniformInt(text.length + 1);
  switch (r.uniformInt(4)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + r.uniformInt(20) }, () => r.uniformInt(256))) + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + r.uniformInt(40)));
    default:
      return text.replace(/\d/g, (d) => (r.uniformInt(10) === 0 ? String(r.uniformInt(10)) : d));
  }
}

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
