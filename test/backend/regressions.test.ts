/**
 * Regressions found by the conformance suite, checked on every backend:
 * - batch-norm statistics stay accurate when |mean| ≫ std (shifted sums in the native kernel);
 * - relu keeps NaN, as TensorFlow does, in every place relu is applied (a diverged layer must
 *   stay visible instead of turning into zeros);
 * - Adam's 1 − β2 is exact enough for β2 = 0.9999.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/geometry.js';
import { createNativeBackend } from '../../src/backend/native/index.js';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import { RandomStream } from '../../src/tensor/prng.js';

const backends: [string, () => Backend][] = [['reference', createReferenceBackend]];
if (process.env.FITLAB_SKIP_NATIVE !== '1') {
  for (const isa of createNativeBackend().supportedIsas()) {
    backends.push([`native/${isa}`, () => {
      const b = createNativeBackend();
      b.setIsa(isa);
      return b;
    }]);
  }
}

describe.each(backends)('%s', (_name, make) => {
  it('batch norm: invStd of data at offset 1e4 with spread 0.01 is exact to 1e-5 relative', () => {
    const b = make();
    const rows = 4096;
    const c = 3;
    const x = new Float32Array(rows * c);
    new RandomStream(1).fillUniform(x, -0.01, 0.01);
    for (let i = 0; i < x.length; i++) x[i] += 1e4 * ((i % c) + 1);
    const mean = new Float32Array(c);
    const inv = new Float32Array(c);
    b.batchNormTrainForward(new Float32Array(x.length), mean, inv, new Float32Array(c), new Float32Array(c).fill(1), x, null, null, rows, c, 0.99, 1e-7, 'linear');
    for (let ch = 0; ch < c; ch++) {
      let m = 0;
      for (let r = 0; r < rows; r++) m += x[r * c + ch];
      m /= rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (x[r * c + ch] - m) ** 2;
      v /= rows;
      const expected = 1 / Math.sqrt(v + 1e-7);
      expect(Math.abs(inv[ch] - expected) / expected).toBeLessThan(1e-5);
    }
  });

  it('relu propagates NaN: activation, dense and conv fused relu, batch norm fused relu', () => {
    const b = make();
    const x = Float32Array.of(1, Number.NaN, -2, 0.5);
    const y = new Float32Array(4);
    b.activationForward('relu', y, x, 0);
    expect(Array.from(y)).toEqual([1, Number.NaN, 0, 0.5]);

    const yd = new Float32Array(2);
    b.denseForward(yd, Float32Array.of(Number.NaN, 1), Float32Array.of(1, 1, 1, 1), null, 1, 2, 2, 'relu');
    expect(yd.every((v) => Number.isNaN(v))).toBe(true);

    const g = convGeometry({ n: 1, h: 3, w: 3, c: 1, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'valid', f: 1 });
    const xc = new Float32Array(9).fill(1);
    xc[4] = Number.NaN;
    const yc = new Float32Array(1);
    b.conv2dForward(yc, xc, new Float32Array(9).fill(1), null, g, 'relu');
    expect(Number.isNaN(yc[0])).toBe(true);

    const ybn = new Float32Array(2);
    b.batchNormInferForward(ybn, Float32Array.of(Number.NaN, -1), null, null, new Float32Array(1), new Float32Array(1).fill(1), 2, 1, 1e-3, 'relu');
    expect(Number.isNaN(ybn[0])).toBe(true);
    expect(ybn[1]).toBe(0);
  });

  it('gemm wider than one NC block (n > 1024) matches the float64 reference in every transpose layout', () => {
    const b = make();
    const ref = createReferenceBackend();
    const rng = new RandomStream(3);
    for (const [ta, tb, m, n, k] of [[false, false, 20, 1500, 90], [true, true, 13, 1100, 40], [false, true, 9, 1030, 260], [true, false, 7, 1088, 270]] as const) {
      const a = new Float32Array(m * k);
      const bb = new Float32Array(k * n);
      const c1 = new Float32Array(m * n);
      rng.fillUniform(a, -1, 1);
      rng.fillUniform(bb, -1, 1);
      rng.fillUniform(c1, -1, 1);
      const c2 = c1.slice();
      b.gemm(ta, tb, m, n, k, 0.7, a, ta ? m : k, bb, tb ? k : n, 0.5, c1, n);
      ref.gemm(ta, tb, m, n, k, 0.7, a, ta ? m : k, bb, tb ? k : n, 0.5, c2, n);
      // fp32 sums of up to 270 products of magnitude ≤ 1: 1e-4 absolute is ~30× the expected error
      let d = 0;
      for (let i = 0; i < c1.length; i++) d = Math.max(d, Math.abs(c1[i] - c2[i]));
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('adam with beta2 = 0.9999: v after one step is (1 − β2)·g² to 1e-6 relative', () => {
    const b = make();
    const v = new Float32Array(1);
    b.adamUpdate(Float32Array.of(1), Float32Array.of(0.5), new Float32Array(1), v, null, 1e-3, 0.9, 0.9999, 1e-7, 1, 0);
    expect(Math.abs(v[0] - 0.0001 * 0.25) / (0.0001 * 0.25)).toBeLessThan(1e-6);
  });
});
