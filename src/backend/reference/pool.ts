/** Reference pooling: windowed and global, max and average, forward and backward. */
import type { F32, I32 } from '../backend.js';
import type { PoolGeometry } from '../geometry.js';

/** Max with NaN propagation: a NaN candidate replaces a non-NaN best. */
function beats(v: number, best: number): boolean {
  return v > best || (Number.isNaN(v) && !Number.isNaN(best));
}

export function maxPoolForward(y: F32, argmax: I32, x: F32, g: PoolGeometry): void {
  const { n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow } = g;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let where = -1;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              const at = ((img * h + iy) * w + ix) * c + ch;
              if (where < 0 || beats(x[at], best)) {
                best = x[at];
                where = at;
              }
            }
          }
          const out = ((img * oh + oy) * ow + ox) * c + ch;
          y[out] = best;
          argmax[out] = where;
        }
      }
    }
  }
}

/** Every saved index must point into the same image as its output (else: RangeError). */
function checkArgmax(kernel: string, argmax: I32, perOut: number, perIn: number): void {
  for (let i = 0; i < argmax.length; i++) {
    const img = Math.floor(i / perOut);
    if (!(argmax[i] >= img * perIn && argmax[i] < (img + 1) * perIn)) {
      throw new RangeError(`${kernel}: argmax[${i}] = ${argmax[i]} does not point into its image (indices ${img * perIn}..${(img + 1) * perIn - 1})`);
    }
  }
}

export function maxPoolBackward(dx: F32, dy: F32, argmax: I32, g: PoolGeometry): void {
  checkArgmax('maxPoolBackward', argmax, g.oh * g.ow * g.c, g.h * g.w * g.c);
  dx.fill(0);
  for (let i = 0; i < dy.length; i++) dx[argmax[i]] += dy[i];
}

/** Visit each output cell's valid input cells: fn(outIndex, inIndex, count). */
function forEachAvgWindow(g: PoolGeometry, fn: (out: number, inputs: number[]) => void): void {
  const { n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow } = g;
  const cells: number[] = [];
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          cells.length = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              cells.push(((img * h + iy) * w + ix) * c + ch);
            }
          }
          fn(((img * oh + oy) * ow + ox) * c + ch, cells);
        }
      }
    }
  }
}

export function avgPoolForward(y: F32, x: F32, g: PoolGeometry): void {
  forEachAvgWindow(g, (out, cells) => {
    let s = 0;
    for (const at of cells) s += x[at];
    y[out] = s / cells.length;
  });
}

export function avgPoolBackward(dx: F32, dy: F32, g: PoolGeometry): void {
  const acc = new Float64Array(dx.length);
  forEachAvgWindow(g, (out, cells) => {
    const share = dy[out] / cells.length;
    for (const at of cells) acc[at] += share;
  });
  dx.set(acc);
}

export function globalMaxPoolForward(y: F32, argmax: I32, x: F32, n: number, hw: number, c: number): void {
  for (let img = 0; img < n; img++) {
    for (let ch = 0; ch < c; ch++) {
      let where = img * hw * c + ch;
      let best = x[where];
      for (let p = 1; p < hw; p++) {
        const at = (img * hw + p) * c + ch;
        if (beats(x[at], best)) {
          best = x[at];
          where = at;
        }
      }
      y[img * c + ch] = best;
      argmax[img * c + ch] = where;
    }
  }
}

export function globalMaxPoolBackward(dx: F32, dy: F32, argmax: I32, _n: number, hw: number, c: number): void {
  checkArgmax('globalMaxPoolBackward', argmax, c, hw * c);
  dx.fill(0);
  for (let i = 0; i < dy.length; i++) dx[argmax[i]] += dy[i];
}

export function globalAvgPoolForward(y: F32, x: F32, n: number, hw: number, c: number): void {
  for (let img = 0; img < n; img++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += x[(img * hw + p) * c + ch];
      y[img * c + ch] = s / hw;
    }
  }
}

export function globalAvgPoolBackward(dx: F32, dy: F32, n: number, hw: number, c: number): void {
  for (let img = 0; img < n; img++) {
    for (let p = 0; p < hw; p++) {
      for (let ch = 0; ch < c; ch++) dx[(img * hw + p) * c + ch] = dy[img * c + ch] / hw;
    }
  }
}
