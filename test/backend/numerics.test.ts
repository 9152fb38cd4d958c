/**
 * Float32 accuracy against a float64 truth (issue 16 §6).
 *
 * 1. Three SGD steps of Conv2D → BatchNormalization → MaxPooling2D → Flatten → Dense(softmax)
 *    on 24 MNIST images, replayed from test/backend/fixtures/numerics-truth.json (written by
 *    bench/numerics-truth.py with PyTorch): every weight tensor's max |w − truth| must stay
 *    within 2× the error of PyTorch's own float32 run of the same steps, on the reference backend
 *    and on the native one for every instruction set this CPU runs, at 1, 2 and the default
 *    number of kernel threads.
 * 2. Long reductions whose float rounding is systematic: the weight and bias gradients of a
 *    64×64 convolution and a 4096-row dense layer, on inputs whose partial sums are exact in
 *    float32 below 512 and lose bits above it. Summed in runs of at most a few hundred values
 *    and accumulated in double, they equal the reference's (double, one rounding) result; one
 *    float sum over an image or a batch drifts by hundreds of units in the last place.
 *
 * `npx tsx bench/numerics.ts` prints the whole error table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/geometry.js';
import type { Isa } from '../../src/backend/native/index.js';
import { createNativeBackend, loadAddon } from '../../src/backend/native/index.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { errors, loadFixture, replay } from './numerics-replay.js';

const fx = loadFixture();
const reference = createReferenceBackend();

function expectWithinTorch(backend: Backend): void {
  const measured = errors(fx, replay(fx, backend));
  expect([...measured.keys()].sort()).toEqual([...fx.torch.keys()].sort());
  for (const [name, torch] of fx.torch) {
    const mine = measured.get(name)?.maxAbs ?? Infinity;
    // the message names the tensor and both errors when it fails
    expect(mine, `${name}: max |w − truth| ${mine.toExponential(2)} vs PyTorch float32 ${torch.maxAbs.toExponential(2)}`)
      .toBeLessThanOrEqual(2 * torch.maxAbs);
  }
}

describe('the fixture', () => {
  it('holds three steps that moved every trainable weight, and PyTorch float32 errors above zero', () => {
    expect(fx.steps).toBe(3);
    expect(fx.images.length).toBe(fx.steps * fx.batch * 784);
    for (const [name, truth] of fx.truth) {
      const init = fx.initial.get(name) as Float32Array;
      const moved = truth.some((t, i) => Math.abs(t - init[i]) > 1e-6);
      expect(moved, `${name} moved`).toBe(true);
      expect(fx.torch.get(name)?.maxAbs ?? 0, name).toBeGreaterThan(0);
    }
  });
});

describe('three SGD steps against the float64 truth: error ≤ 2× PyTorch float32', () => {
  it('reference backend', () => expectWithinTorch(reference));
});

const loaded = loadAddon();
describe.skipIf(!loaded.addon)(`native backend${loaded.addon ? '' : ` — skipped: ${loaded.error}`}`, () => {
  if (!loaded.addon) return;
  const native = createNativeBackend();
  const startIsa = native.isa as Isa;
  const startThreads = native.threads;
  afterAll(() => {
    native.setIsa(startIsa);
    native.setThreads(startThreads);
  });
  const threadCounts = [...new Set([1, 2, startThreads])];

  for (const isa of native.supportedIsas()) {
    describe(isa, () => {
      for (const threads of threadCounts) {
        it(`three SGD steps within 2× PyTorch float32's error, ${threads} thread(s)`, () => {
          native.setIsa(isa);
          native.setThreads(threads);
          expectWithinTorch(native);
        });
      }

      it('conv2dBackward: dW and db of a 64×64 image pair match the double-accumulated reference', () => {
        native.setIsa(isa);
        native.setThreads(1);
        const g = convGeometry({ n: 2, h: 64, w: 64, c: 1, f: 16, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' });
        const x = new Float32Array(2 * 64 * 64).fill(1);
        const w = new Float32Array(9 * 16).fill(0.5);
        // 1 + 3·2^-14: a sum of these is exact in float32 below 512, inexact above
        const dy = new Float32Array(2 * 64 * 64 * 16).fill(1 + 3 * 2 ** -14);
        const got = { dw: new Float32Array(9 * 16), db: new Float32Array(16) };
        const want = { dw: new Float32Array(9 * 16), db: new Float32Array(16) };
        native.conv2dBackward(null, got.dw, got.db, dy, null, x, w, g, 'linear');
        reference.conv2dBackward(null, want.dw, want.db, dy, null, x, w, g, 'linear');
        expectUlps(got.dw, want.dw, 2, 'dw');
        expectUlps(got.db, want.db, 2, 'db');
      });

      it('denseBackward: db over 4096 rows matches the double-accumulated reference', () => {
        native.setIsa(isa);
        native.setThreads(1);
        const batch = 4096, inF = 2, outF = 16;
        const x = new Float32Array(batch * inF).fill(1);
        const w = new Float32Array(inF * outF).fill(0.5);
        const dy = new Float32Array(batch * outF).fill(1 + 3 * 2 ** -14);
        const got = new Float32Array(outF), want = new Float32Array(outF);
        native.denseBackward(null, null, got, dy, null, x, w, batch, inF, outF, 'linear');
        reference.denseBackward(null, null, want, dy, null, x, w, batch, inF, outF, 'linear');
        expectUlps(got, want, 2, 'db');
      });
    });
  }
});

/** |a − e| ≤ ulps units in the last place of e, elementwise. */
function expectUlps(actual: Float32Array, expected: Float32Array, ulps: number, what: string): void {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(e))) - 23);
    worst = Math.max(worst, Math.abs(actual[i] - e) / ulp);
  }
  expect(worst, `${what}: worst error in units of the last place`).toBeLessThanOrEqual(ulps);
}
