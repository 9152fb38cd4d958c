/**
 * Reference Dense and Conv2D, forward and backward. Written for clarity: one output element
 * per innermost sum, double accumulation, no blocking. Layouts are Keras': dense w is (in, out),
 * conv w is (kh, kw, cin, cout), tensors NHWC.
 */
import type { F32, FusedActivation } from '../backend.js';
import type { ConvGeometry } from '../geometry.js';

/** dz = dy masked by the fused activation's derivative (relu: y > 0). */
export function maskedGradient(dy: F32, y: F32 | null, act: FusedActivation): F32 {
  if (act === 'linear') return dy;
  const dz = new Float32Array(dy.length);
  const out = y as F32;
  for (let i = 0; i < dy.length; i++) dz[i] = out[i] > 0 ? dy[i] : 0;
  return dz;
}

/** relu keeps NaN (TensorFlow's relu(NaN) = NaN): a diverged layer stays visible. */
export function relu(v: number): number {
  return v > 0 || Number.isNaN(v) ? v : 0;
}

function activate(v: number, act: FusedActivation): number {
  return act === 'relu' ? relu(v) : v;
}

export function denseForward(
  y: F32, x: F32, w: F32, b: F32 | null, batch: number, inF: number, outF: number,
  act: FusedActivation,
): void {
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[i * outF + o];
      y[r * outF + o] = activate(s, act);
    }
  }
}

export function denseBackward(
  dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, y: F32 | null, x: F32, w: F32,
  batch: number, inF: number, outF: number, act: FusedActivation,
): void {
  const dz = maskedGradient(dy, y, act);
  if (dx) {
    for (let r = 0; r < batch; r++) {
      for (let i = 0; i < inF; i++) {
        let s = 0;
        for (let o = 0; o < outF; o++) s += dz[r * outF + o] * w[i * outF + o];
        dx[r * inF + i] = s;
      }
    }
  }
  if (dw) {
    for (let i = 0; i < inF; i++) {
      for (let o = 0; o < outF; o++) {
        let s = 0;
        for (let r = 0; r < batch; r++) s += x[r * inF + i] * dz[r * outF + o];
        dw[i * outF + o] = s;
      }
    }
  }
  if (db) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let r = 0; r < batch; r++) s += dz[r * outF + o];
      db[o] = s;
    }
  }
}

export function conv2dForward(
  y: F32, x: F32, w: F32, b: F32 | null, g: ConvGeometry, act: FusedActivation,
): void {
  const { n, h, w: wd, c, kh, kw, f, sh, sw, padTop, padLeft, oh, ow } = g;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < f; o++) {
          let s = b ? b[o] : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx;
              if (ix < 0 || ix >= wd) continue;
              const xBase = ((img * h + iy) * wd + ix) * c;
              const wBase = (ky * kw + kx) * c * f;
              for (let ci = 0; ci < c; ci++) s += x[xBase + ci] * w[wBase + ci * f + o];
            }
          }
          y[((img * oh + oy) * ow + ox) * f + o] = activate(s, act);
        }
      }
    }
  }
}

export function conv2dBackward(
  dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, y: F32 | null, x: F32, w: F32,
  g: ConvGeometry, act: FusedActivation,
): void {
  const { n, h, w: wd, c, kh, kw, f, sh, sw, padTop, padLeft, oh, ow } = g;
  const dz = maskedGradient(dy, y, act);
  // Accumulate in doubles, store once: the reference is exact up to one float32 rounding.
  const dxAcc = dx ? new Float64Array(dx.length) : null;
  const dwAcc = dw ? new Float64Array(dw.length) : null;
  const dbAcc = db ? new Float64Array(db.length) : null;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const zBase = ((img * oh + oy) * ow + ox) * f;
        if (dbAcc) for (let o = 0; o < f; o++) dbAcc[o] += dz[zBase + o];
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx;
            if (ix < 0 || ix >= wd) continue;
            const xBase = ((img * h + iy) * wd + ix) * c;
            const wBase = (ky * kw + kx) * c * f;
            for (let ci = 0; ci < c; ci++) {
              let sx = 0;
              for (let o = 0; o < f; o++) {
                const g0 = dz[zBase + o];
                sx += g0 * w[wBase + ci * f + o];
                if (dwAcc) dwAcc[wBase + ci * f + o] += x[xBase + ci] * g0;
              }
              if (dxAcc) dxAcc[xBase + ci] += sx;
            }
          }
        }
      }
    }
  }
  if (dx && dxAcc) dx.set(dxAcc);
  if (dw && dwAcc) dw.set(dwAcc);
  if (db && dbAcc) db.set(dbAcc);
}
