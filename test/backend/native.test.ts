/**
 * The conformance suite on the native backend, once per instruction set this CPU supports,
 * plus thread-count determinism and the raw addon's own argument checks.
 *
 * The addon keeps one kernel table and one thread pool per process, so setIsa/setThreads change
 * every backend object at once: each describe block selects what it needs in beforeAll, and
 * the blocks run in order.
 *
 * A missing addon FAILS this file (a broken build must not pass as green), unless
 * FITLAB_SKIP_NATIVE=1 says to skip it, which the skipped block's title then shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import type { ConvGeometry } from '../../src/backend/geometry.js';
import { convGeometry, poolGeometry } from '../../src/backend/geometry.js';
import type { Addon, Isa } from '../../src/backend/native/index.js';
import { createNativeBackend, loadAddon } from '../../src/backend/native/index.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { BackendError } from '../../src/errors.js';
import { runKernelSuite } from './kernel-suite.js';
import { expectBits, expectClose, nans, uniform } from './suite/helpers.js';

const loaded = loadAddon();

if (!loaded.addon) {
  if (process.env.FITLAB_SKIP_NATIVE === '1') {
    describe.skip(`native backend — skipped: FITLAB_SKIP_NATIVE=1 and the addon is unavailable (${loaded.error})`, () => {
      it('runs the kernel suite on every ISA', () => undefined);
    });
  } else {
    describe('native backend', () => {
      it('loads the addon (set FITLAB_SKIP_NATIVE=1 to skip on a machine without it)', () => {
        expect.fail(`the native addon is unavailable: ${loaded.error}`);
      });
    });
  }
} else {
  nativeTests(loaded.addon);
}

function nativeTests(addon: Addon): void {
  const native = createNativeBackend();
  const reference = createReferenceBackend();
  const isas = native.supportedIsas();
  const startIsa = native.isa as Isa;
  const startThreads = native.threads;
  afterAll(() => {
    native.setIsa(startIsa);
    native.setThreads(startThreads);
  });

  describe('native backend', () => {
    it('supports the generic ISA and starts on the best supported one', () => {
      expect(isas).toContain('generic');
      if (!process.env.FITLAB_ISA) expect(startIsa).toBe(isas[0]);
      expect(native.name).toBe('native');
    });

    it('kernels flush subnormal floats to zero, and JS arithmetic keeps its subnormals afterwards', () => {
      const sub = Math.fround(1e-39); // a float32 subnormal (below 1.18e-38)
      expect(sub).toBeGreaterThan(0);
      const big = 64; // many threads' worth of tasks, so pool workers run some of it
      const a = native.alloc(big * big).fill(sub);
      const b = native.alloc(big * big).fill(1);
      const c = native.alloc(big * big).fill(Number.NaN);
      native.gemm(false, false, big, big, big, 1, a, big, b, big, 0, c, big);
      // denormals-are-zero: the subnormal inputs count as 0, on every thread
      expect([...c].every((v) => v === 0)).toBe(true);
      const x = native.alloc(4).fill(1);
      native.scale(x, 1e-39); // flush-to-zero: a subnormal result becomes 0
      expect([...x]).toEqual([0, 0, 0, 0]);
      // the mode is restored on return: the main thread's own float math is IEEE again
      expect(Math.fround(1e-39)).toBe(sub);
      expect(Math.fround(Math.fround(1e-30) * Math.fround(1e-10))).toBeGreaterThan(0);
      expect(Number.MIN_VALUE / 2 + Number.MIN_VALUE).toBe(Number.MIN_VALUE);
      expect(2.2250738585072014e-308 / 4).toBeGreaterThan(0);
    });

    it('alloc returns zeroed, 64-byte aligned buffers', () => {
      for (const n of [1, 17, 1000]) {
        const buf = native.alloc(n);
        expect(buf.length).toBe(n);
        expect(buf.every((v) => v === 0)).toBe(true);
        expect(addon.addressMod64(buf)).toBe(0);
      }
    });

    it('setThreads refuses counts outside [1, 64] with a BackendError', () => {
      for (const bad of [0, -1, 65, 1.5]) expect(() => native.setThreads(bad)).toThrow(BackendError);
      expect(() => native.setThreads(0)).toThrow(/threads must be an integer in \[1, 64\]; received 0/);
    });
  });

  for (const isa of isas) {
    describe(`native/${isa}`, () => {
      beforeAll(() => native.setIsa(isa));
      it(`dispatches to ${isa}`, () => expect(native.isa).toBe(isa));
      runKernelSuite({ name: `native/${isa}`, backend: native, oracle: reference, skip: {} });
    });
  }

  describe('thread counts and determinism', () => {
    afterAll(() => native.setThreads(startThreads));
    for (const isa of isas) threadTests(native, reference, isa);
  });

  describe('raw addon: bad arguments throw instead of crashing the process', () => rawAddonTests(addon));
}

/** Big enough that conv backward splits dW over several tasks and dx over both threads. */
const DETERMINISM_CONVS: ConvGeometry[] = [
  convGeometry({ n: 4, h: 16, w: 16, c: 16, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 32 }),
  convGeometry({ n: 3, h: 15, w: 13, c: 5, kh: 5, kw: 5, sh: 2, sw: 2, padding: 'same', f: 17 }),
];

function convBackwardOnce(be: Backend, g: ConvGeometry, seed: number): Float32Array[] {
  const x = uniform(seed, g.n * g.h * g.w * g.c);
  const w = uniform(seed + 1, g.kh * g.kw * g.c * g.f);
  const y = nans(g.n * g.oh * g.ow * g.f);
  be.conv2dForward(y, x, w, uniform(seed + 2, g.f), g, 'relu');
  const out = [nans(x.length), nans(w.length), nans(g.f)];
  be.conv2dBackward(out[0], out[1], out[2], uniform(seed + 3, y.length), y, x, w, g, 'relu');
  return [y, ...out];
}

function threadTests(native: ReturnType<typeof createNativeBackend>, reference: Backend, isa: Isa): void {
  const refs = new Map<ConvGeometry, Float32Array[]>();
  const refOf = (g: ConvGeometry, seed: number): Float32Array[] => {
    if (!refs.has(g)) refs.set(g, convBackwardOnce(reference, g, seed));
    return refs.get(g) as Float32Array[];
  };
  const byThreads = new Map<number, Float32Array[][]>();

  for (const threads of [1, 2]) {
    describe(`${isa}, ${threads} thread(s)`, () => {
      beforeAll(() => {
        native.setIsa(isa);
        native.setThreads(threads);
      });

      it('conv2dBackward: two runs are bit-identical and match the reference', () => {
        expect(native.threads).toBe(threads);
        const runs: Float32Array[][] = [];
        DETERMINISM_CONVS.forEach((g, k) => {
          const first = convBackwardOnce(native, g, 9000 + 10 * k);
          const second = convBackwardOnce(native, g, 9000 + 10 * k);
          ['y', 'dx', 'dw', 'db'].forEach((name, i) => expectBits(second[i], first[i], `${name} run 2 vs run 1`));
          const ref = refOf(g, 9000 + 10 * k);
          // same bound as the suite's conv comparison (see test/backend/suite/layers.ts)
          ['y', 'dx', 'dw', 'db'].forEach((name, i) => expectClose(first[i], ref[i], 1e-5, `${name} vs reference`));
          runs.push(first);
        });
        byThreads.set(threads, runs);
      });

      it('gemm, dense backward, batch norm and reductions: deterministic and match the reference', () => {
        const twice = <T>(fn: () => T): [T, T] => [fn(), fn()];
        // gemm 64×200·600: several column blocks per thread
        const a = uniform(9100, 64 * 600);
        const b = uniform(9101, 600 * 200);
        const [c1, c2] = twice(() => {
          const c = nans(64 * 200);
          native.gemm(false, true, 64, 200, 600, 1, a, 600, b, 600, 0, c, 200);
          return c;
        });
        expectBits(c2, c1, 'gemm');
        const cRef = nans(64 * 200);
        reference.gemm(false, true, 64, 200, 600, 1, a, 600, b, 600, 0, cRef, 200);
        expectClose(c1, cRef, 1e-5, 'gemm vs reference');

        const x = uniform(9102, 4096 * 33, 1, 3);
        const [bn1, bn2] = twice(() => {
          const y = nans(x.length);
          const [mean, inv] = [nans(33), nans(33)];
          native.batchNormTrainForward(y, mean, inv, new Float32Array(33), new Float32Array(33), x, null, null, 4096, 33, 0.99, 1e-3, 'linear');
          const dx = nans(x.length);
          native.batchNormBackward(dx, nans(33), nans(33), uniform(9103, x.length), y, x, mean, inv, null, 4096, 33, 'linear');
          return [y, mean, inv, dx];
        });
        bn1.forEach((v, i) => expectBits(bn2[i], v, `batch norm output ${i}`));

        const big = uniform(9104, 100003);
        expect(native.sumSquares(big)).toBe(native.sumSquares(big));
        expect(native.penalty(big, 0.01, 0.02)).toBe(native.penalty(big, 0.01, 0.02));
        expect(Math.abs(native.sumSquares(big) / reference.sumSquares(big) - 1)).toBeLessThan(1e-12);
      });
    });
  }

  describe(`${isa}, 1 vs 2 threads`, () => {
    it('conv2dBackward agrees across thread counts within the suite tolerance', () => {
      const [one, two] = [byThreads.get(1), byThreads.get(2)];
      expect(one && two, 'both thread counts ran').toBeTruthy();
      one?.forEach((run, k) => run.forEach((v, i) => expectClose(two?.[k][i] ?? [], v, 1e-5, `conv ${k} output ${i}`)));
    });
  });
}

function rawAddonTests(a: Addon): void {
  const f32 = (n: number): Float32Array => new Float32Array(n);
  const pool = poolGeometry({ n: 2, h: 4, w: 4, c: 2, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
  const conv = convGeometry({ n: 1, h: 4, w: 4, c: 2, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 3 });
  const packed = (g: Int32Array, edits: Record<number, number>): Int32Array => {
    const p = g.slice();
    for (const [i, v] of Object.entries(edits)) p[Number(i)] = v;
    return p;
  };
  // pool: x is 2·4·4·2 = 64, y 2·2·2·2 = 16; image 0 owns x[0, 32), image 1 x[32, 64)
  const argmax = (edit: Record<number, number>): Int32Array => {
    const arg = Int32Array.from({ length: 16 }, (_, i) => (i < 8 ? i : 32 + i));
    for (const [i, v] of Object.entries(edit)) arg[Number(i)] = v;
    return arg;
  };
  const draw = (): Uint32Array => Uint32Array.of(1, 2, 3, 4, 0, 0);

  /** [kernel, what is wrong, the call, a fragment the message must contain] */
  const cases: Array<[string, string, () => unknown, RegExp]> = [
    ['fill', 'a string for y', () => a.fill('nope', 1), /y must be a Float32Array/],
    ['fill', 'a string for value', () => a.fill(f32(3), 'x'), /value must be a number/],
    ['copy', 'x shorter than y', () => a.copy(f32(4), f32(3)), /x has the wrong length/],
    ['add', 'a Float64Array', () => a.add(f32(4), new Float64Array(4), f32(4)), /a must be a Float32Array/],
    ['gemm', 'no arguments', () => a.gemm(), /expected 13 arguments/],
    ['gemm', 'a Float64Array for a', () => a.gemm(false, false, 2, 2, 2, 1, new Float64Array(4), 2, f32(4), 2, 0, f32(4), 2), /a must be a Float32Array/],
    ['gemm', 'c too short', () => a.gemm(false, false, 2, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(3), 2), /c is too short/],
    ['gemm', 'b too short for its leading dimension', () => a.gemm(false, false, 2, 2, 2, 1, f32(4), 2, f32(4), 3, 0, f32(4), 2), /b is too short/],
    ['gemm', 'negative m', () => a.gemm(false, false, -1, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(4), 2), /m must be an integer >= 1; received -1/],
    ['gemm', 'lda < k', () => a.gemm(false, false, 2, 2, 3, 1, f32(6), 2, f32(6), 2, 0, f32(4), 2), /leading dimension too small/],
    ['denseForward', 'negative batch', () => a.denseForward(f32(4), f32(4), f32(4), null, -2, 2, 2, false), /batch must be an integer >= 1; received -2/],
    ['denseForward', 'batch 2^31', () => a.denseForward(f32(4), f32(4), f32(4), null, 2 ** 31, 2, 2, false), /batch must be an integer/],
    ['denseForward', 'x too short', () => a.denseForward(f32(4), f32(3), f32(4), null, 2, 2, 2, false), /x has the wrong length/],
    ['denseForward', 'an Int32Array for w', () => a.denseForward(f32(4), f32(4), new Int32Array(4), null, 2, 2, 2, false), /w must be a Float32Array/],
    ['denseBackward', 'relu without y', () => a.denseBackward(f32(4), f32(4), f32(2), f32(4), null, f32(4), f32(4), 2, 2, 2, true), /y must be a Float32Array/],
    ['conv2dForward', 'x too short', () => a.conv2dForward(f32(48), f32(31), f32(54), null, conv.packed, false), /x has the wrong length/],
    ['conv2dForward', 'a geometry of 12 entries', () => a.conv2dForward(f32(48), f32(32), f32(54), null, conv.packed.slice(0, 12), false), /geometry has the wrong length/],
    ['conv2dForward', 'a plain array for the geometry', () => a.conv2dForward(f32(48), f32(32), f32(54), null, Array.from(conv.packed), false), /geometry must be a Int32Array|geometry must be an Int32Array/],
    ['conv2dForward', 'a negative geometry entry', () => a.conv2dForward(f32(48), f32(32), f32(54), null, packed(conv.packed, { 1: -4 }), false), /geometry entries must be positive/],
    ['conv2dForward', 'windows below the input (oh too large)', () => a.conv2dForward(f32(7 * 4 * 3), f32(32), f32(54), null, packed(conv.packed, { 11: 7 }), false), /geometry does not describe windows inside the input/],
    ['conv2dForward', 'padTop ≥ kh', () => a.conv2dForward(f32(48), f32(32), f32(54), null, packed(conv.packed, { 9: 3 }), false), /geometry does not describe windows inside the input/],
    ['conv2dForward', 'tensors of 2^31 elements', () => a.conv2dForward(f32(48), f32(32), f32(54), null, packed(conv.packed, { 0: 65536, 1: 65536 }), false), /geometry/],
    ['conv2dBackward', 'dw too long', () => a.conv2dBackward(null, f32(55), null, f32(48), null, f32(32), f32(54), conv.packed, false), /dw has the wrong length/],
    ['maxPoolForward', 'argmax as Float32Array', () => a.maxPoolForward(f32(16), f32(16), f32(64), pool.packed), /argmax must be a Int32Array|argmax must be an Int32Array/],
    ['maxPoolBackward', 'argmax pointing into the next image', () => a.maxPoolBackward(f32(64), f32(16), argmax({ 3: 40 }), pool.packed), /argmax\[3\] does not point into its image/],
    ['maxPoolBackward', 'argmax pointing into the previous image', () => a.maxPoolBackward(f32(64), f32(16), argmax({ 12: 5 }), pool.packed), /argmax\[12\] does not point into its image/],
    ['maxPoolBackward', 'a negative argmax', () => a.maxPoolBackward(f32(64), f32(16), argmax({ 0: -1 }), pool.packed), /argmax\[0\] does not point into its image/],
    ['maxPoolBackward', 'argmax past the end', () => a.maxPoolBackward(f32(64), f32(16), argmax({ 15: 64 }), pool.packed), /argmax\[15\] does not point into its image/],
    ['globalMaxPoolBackward', 'argmax in another image', () => a.globalMaxPoolBackward(f32(12), f32(4), Int32Array.of(0, 1, 2, 11), 2, 3, 2), /argmax\[2\] does not point into its image/],
    ['globalAvgPoolForward', 'negative hw', () => a.globalAvgPoolForward(f32(4), f32(12), 2, -3, 2), /hw must be an integer >= 1/],
    ['batchNormTrainForward', 'negative rows', () => a.batchNormTrainForward(f32(6), f32(2), f32(2), f32(2), f32(2), f32(6), null, null, -3, 2, 0.9, 1e-3, false), /rows must be an integer >= 1/],
    ['batchNormBackward', 'mean too short', () => a.batchNormBackward(f32(6), null, null, f32(6), null, f32(6), f32(1), f32(2), null, 3, 2, false), /mean has the wrong length/],
    ['activationForward', 'unknown kind', () => a.activationForward('gelu', f32(3), f32(3), 0), /kind must be linear, relu/],
    ['activationForward', 'a number for kind', () => a.activationForward(5, f32(3), f32(3), 0), /kind must be a string/],
    ['softmaxForward', 'y too short', () => a.softmaxForward(f32(5), f32(6), 2, 3), /y has the wrong length/],
    ['dropoutForward', 'a draw of 5 words', () => a.dropoutForward(f32(5), new Uint8Array(5), f32(5), 0.5, new Uint32Array(5)), /draw must be a Uint32Array\(6\)/],
    ['dropoutForward', 'a short mask', () => a.dropoutForward(f32(5), new Uint8Array(4), f32(5), 0.5, draw()), /mask must have the same length/],
    ['dropoutForward', 'rate 1.5', () => a.dropoutForward(f32(5), new Uint8Array(5), f32(5), 1.5, draw()), /rate must be in \[0, 1\); received 1.5/],
    ['dropoutForward', 'rate NaN', () => a.dropoutForward(f32(5), new Uint8Array(5), f32(5), Number.NaN, draw()), /rate must be in \[0, 1\)/],
    ['dropoutBackward', 'a Float32Array mask', () => a.dropoutBackward(f32(5), f32(5), f32(5), 0.5), /mask must be a Uint8Array/],
    ['softmaxCrossEntropy', 'a label ≥ cols', () => a.softmaxCrossEntropy(f32(6), null, f32(6), Int32Array.of(0, 3), null, 2, 3, 1), /labels\[1\] is not a class index/],
    ['softmaxCrossEntropy', 'a negative label', () => a.softmaxCrossEntropy(f32(6), null, f32(6), Int32Array.of(-1, 0), null, 2, 3, 1), /labels\[0\] is not a class index/],
    ['countCorrect', 'k = 0', () => a.countCorrect(f32(6), Int32Array.of(0, 1), 2, 3, 0), /k must be an integer >= 1/],
    ['countCorrect', 'a label ≥ cols', () => a.countCorrect(f32(6), Int32Array.of(0, 9), 2, 3, 1), /labels\[1\] is not a class index/],
    ['sgdUpdate', 'momentum without velocity', () => a.sgdUpdate(f32(3), f32(3), null, 0.1, 0.9, false, 0), /velocity is needed when momentum is 0.9/],
    ['adamUpdate', 'step 0', () => a.adamUpdate(f32(3), f32(3), f32(3), f32(3), null, 0.1, 0.9, 0.999, 1e-7, 0, 0), /step must be an integer >= 1; received 0/],
    ['adamUpdate', 'v too short', () => a.adamUpdate(f32(3), f32(3), f32(3), f32(2), null, 0.1, 0.9, 0.999, 1e-7, 1, 0), /v has the wrong length/],
    ['rmspropUpdate', 'momentum without its buffer', () => a.rmspropUpdate(f32(3), f32(3), f32(3), null, null, 0.1, 0.9, 0.5, 1e-7, 0), /mom is needed when momentum is 0.5/],
    ['setThreads', 'zero threads', () => a.setThreads(0), /threads must be an integer >= 1; received 0/],
    ['setThreads', '1000 threads', () => a.setThreads(1000), /threads must be at most 64/],
    ['setIsa', 'an unknown ISA', () => a.setIsa('sse9'), /isa is not supported/],
  ];

  for (const [kernel, what, call, fragment] of cases) {
    it(`${kernel}: ${what}`, () => {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(caught, 'it must throw').toBeInstanceOf(Error);
      expect((caught as Error).message).toMatch(new RegExp(`^${kernel}: `));
      expect((caught as Error).message).toMatch(fragment);
    });
  }

  it('after all of that, valid calls still work', () => {
    const y = f32(4);
    a.denseForward(y, Float32Array.of(1, 2), Float32Array.of(1, 0, 0, 1, 1, 1, 2, 2), null, 1, 2, 4, false);
    expect(Array.from(y)).toEqual([3, 2, 4, 5]);
  });
}
