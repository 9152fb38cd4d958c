/**
 * One seeded, counter-based PRNG for everything random in fitlab (ARCHITECTURE decision 5).
 *
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
 * keyed bijection of a 128-bit counter. Value i of a stream is a pure function of
 * (key, stream id, i), so
 *   - the native backend computes the same bits in C (dropout masks) without sharing state,
 *   - a stream is saved and resumed exactly by storing its position,
 *   - threads can draw disjoint ranges without coordination.
 *
 * Layout of the counter: (c0, c1) = 64-bit block index, (c2, c3) = 64-bit stream id; each block
 * yields four uint32 lanes. Element i of a bulk draw that starts at block p uses block
 * p + floor(i / 4), lane i % 4; the draw then advances the position by ceil(n / 4) blocks.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a*b (a, b uint32). */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const hiLo = aHi * bLo;
  const loHi = aLo * bHi;
  // middle column: carries out of the low 32 bits (all terms < 2^32, sum < 2^34: exact in doubles)
  const mid = (loLo >>> 16) + (hiLo & 0xffff) + loHi;
  return (aHi * bHi + (hiLo >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/**
 * Philox4x32-10 block function. Writes four uint32 into `out` (length ≥ 4).
 * Counter words c0..c3 and key words k0, k1 are uint32.
 */
export function philox4x32(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const TWO_POW_32 = 4294967296;
/** 2^-24: uint32 >>> 8 times this is a float32-exact uniform in [0, 1). */
const INV_2_24 = 1 / 16777216;

/** Split a non-negative integer below 2^53 into (lo32, hi32). */
export function splitU64(value: number): [number, number] {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`expected a non-negative safe integer; received ${value}`);
  }
  return [value % TWO_POW_32 >>> 0, Math.floor(value / TWO_POW_32) >>> 0];
}

/** Convert a uint32 to a uniform float in [0, 1) with 24 bits (exact in float32). */
export function uint32ToUniform(r: number): number {
  return (r >>> 8) * INV_2_24;
}

/** Everything needed to continue a stream exactly (saved in checkpoints). */
export interface StreamState {
  seed: number;
  stream: number;
  /** Next block index. */
  position: number;
  /** Unused lanes of the current block, for scalar draws (0–3 values). */
  pending: number[];
}

/**
 * A stream of random numbers: a key (from the seed), a stream id and a position.
 * Scalar draws (`nextUint32`, `uniform`, `normal`) use up lanes one at a time; bulk fills start
 * at a fresh block so their layout matches the native kernels.
 */
export class RandomStream {
  readonly seed: number;
  readonly stream: number;
  private readonly k0: number;
  private readonly k1: number;
  private readonly s0: number;
  private readonly s1: number;
  private position = 0;
  private readonly block = new Uint32Array(4);
  private pending: number[] = [];

  constructor(seed: number, stream = 0) {
    [this.k0, this.k1] = splitU64(seed);
    [this.s0, this.s1] = splitU64(stream);
    this.seed = seed;
    this.stream = stream;
  }

  /** Key words, for kernels that draw in C. */
  get key(): [number, number] {
    return [this.k0, this.k1];
  }

  /** Stream words, for kernels that draw in C. */
  get streamWords(): [number, number] {
    return [this.s0, this.s1];
  }

  /** A new independent stream with the same seed (e.g. one per layer). */
  fork(stream: number): RandomStream {
    return new RandomStream(this.seed, stream);
  }

  getState(): StreamState {
    return { seed: this.seed, stream: this.stream, position: this.position, pending: [...this.pending] };
  }

  static fromState(state: StreamState): RandomStream {
    const s = new RandomStream(state.seed, state.stream);
    s.position = state.position;
    s.pending = [...state.pending];
    return s;
  }

  /** Reserve `blocks` blocks for a bulk draw done elsewhere (native); returns the first block. */
  reserveBlocks(blocks: number): number {
    const first = this.position;
    this.position += blocks;
    return first;
  }

  private fillBlock(index: number): void {
    const [lo, hi] = splitU64(index);
    philox4x32(this.block, lo, hi, this.s0, this.s1, this.k0, this.k1);
  }

  nextUint32(): number {
    if (this.pending.length === 0) {
      this.fillBlock(this.position++);
      this.pending = [this.block[3], this.block[2], this.block[1], this.block[0]];
    }
    return this.pending.pop() as number;
  }

  /** Uniform in [0, 1), 24-bit resolution. */
  uniform(): number {
    return uint32ToUniform(this.nextUint32());
  }

  /** Uniform integer in [0, n) (n ≤ 2^32), unbiased by rejection. */
  uniformInt(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32)) throw new RangeError(`uniformInt: n must be in [1, 2^32]; received ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal by Box–Muller (one value per call; the pair's partner is discarded). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Bulk uniform fill in [lo, hi): element i from block start + floor(i/4), lane i%4. */
  fillUniform(out: Float32Array, lo = 0, hi = 1): void {
    const n = out.length;
    const start = this.reserveBlocks(Math.ceil(n / 4));
    const span = hi - lo;
    for (let b = 0; b * 4 < n; b++) {
      this.fillBlock(start + b);
      for (let lane = 0; lane < 4 && b * 4 + lane < n; lane++) {
        out[b * 4 + lane] = lo + span * uint32ToUniform(this.block[lane]);
      }
    }
  }

  /** Normal fill: pairs of lanes through Box–Muller (cos and sin both used). */
  fillNormal(out: Float32Array, mean = 0, std = 1): void {
    const n = out.length;
    const start = this.reserveBlocks(Math.ceil(n / 2));
    for (let b = 0; b * 2 < n; b++) {
      this.fillBlock(start + b);
      for (let pair = 0; pair < 2; pair++) {
        const i = b * 2 + pair;
        if (i >= n) break;
        const u1 = 1 - uint32ToUniform(this.block[pair * 2]);
        const u2 = uint32ToUniform(this.block[pair * 2 + 1]);
        out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      }
    }
  }

  /**
   * Truncated normal as in Keras/TF: draws further than 2 std from the mean are discarded and
   * drawn again. Sequential by nature (redraws), so it uses scalar draws.
   */
  fillTruncatedNormal(out: Float32Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) {
      let z: number;
      do z = this.normal();
      while (z < -2 || z > 2);
      out[i] = mean + std * z;
    }
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.uniformInt(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}

/**
 * Dropout keep-mask exactly as the native kernel draws it: element i keeps iff its uniform
 * (block start + floor(i/4), lane i%4) is ≥ rate.
 */
export function dropoutKeep(
  mask: Uint8Array,
  rate: number,
  key: [number, number],
  stream: [number, number],
  startBlock: number,
): void {
  const block = new Uint32Array(4);
  const n = mask.length;
  for (let b = 0; b * 4 < n; b++) {
    const [lo, hi] = splitU64(startBlock + b);
    philox4x32(block, lo, hi, stream[0], stream[1], key[0], key[1]);
    for (let lane = 0; lane < 4 && b * 4 + lane < n; lane++) {
      mask[b * 4 + lane] = uint32ToUniform(block[lane]) >= rate ? 1 : 0;
    }
  }
}
