/*
 * Affine warp of NHWC float images for augmentation (rotation, shift, zoom, shear, flip, crop),
 * with TensorFlow's fill modes. Mirrors src/backend/reference/augment.ts operation for
 * operation in double precision — the coordinates, the fold into the image and the bilinear
 * weights — so both backends produce the same floats.
 *
 * y (n,h,w,c) ← x (n,h,w,c) through per-image 2×3 matrices m (n,6) mapping OUTPUT pixel (x, y)
 * to INPUT coordinates: xin = m0·x + m1·y + m2, yin = m3·x + m4·y + m5.
 * fill: 0 reflect, 1 wrap, 2 nearest, 3 constant (cval). interp: 0 nearest, 1 bilinear.
 */
#include <math.h>

#include "fl.h"

enum { FILL_REFLECT = 0, FILL_WRAP = 1, FILL_NEAREST = 2, FILL_CONSTANT = 3 };

/* JavaScript's Math.round: half-way cases go toward +infinity */
static inline double js_round(double v) { return floor(v + 0.5); }

/* Fold a coordinate into [0, len-1] (NaN: outside, for constant fill). Same as mapCoordinate. */
static inline double map_coord(double v, int len, int mode) {
  if (mode == FILL_CONSTANT) return (v < -0.5 || v > len - 0.5) ? NAN : v;
  if (len <= 1) return 0.0;
  if (mode == FILL_NEAREST) return fmin(fmax(v, 0.0), (double)(len - 1));
  if (mode == FILL_WRAP) {
    double r = fmod(v, (double)len);
    if (r < -0.5) r += len;
    return r > len - 0.5 ? r - len : r;
  }
  const double period = 2.0 * len;
  double r = fmod(v + 0.5, period);
  if (r < 0) r += period;
  r = r < len ? r : period - r;
  return fmin(fmax(r - 0.5, 0.0), (double)(len - 1));
}

static inline double sample(const float *img, int h, int w, int c, int yi, int xi, int ch, double cval) {
  if (yi < 0 || yi >= h || xi < 0 || xi >= w) return cval;
  return img[((size_t)yi * w + xi) * c + ch];
}

typedef struct warp_job {
  float *y;
  const float *x;
  const double *m;
  int h, w, c, fill, interp;
  double cval;
} warp_job;

static void warp_task(void *arg, int img, int thread) {
  (void)thread;
  const warp_job *j = arg;
  const size_t per = (size_t)j->h * j->w * j->c;
  const float *src = j->x + img * per;
  float *dst = j->y + img * per;
  const double *m = j->m + (size_t)img * 6;
  const int h = j->h, w = j->w, c = j->c;
  for (int yy = 0; yy < h; yy++) {
    for (int xx = 0; xx < w; xx++) {
      const double xs = map_coord(m[0] * xx + m[1] * yy + m[2], w, j->fill);
      const double ys = map_coord(m[3] * xx + m[4] * yy + m[5], h, j->fill);
      float *o = dst + ((size_t)yy * w + xx) * c;
      if (xs != xs || ys != ys) {
        for (int ch = 0; ch < c; ch++) o[ch] = (float)j->cval;
        continue;
      }
      if (j->interp == 0) {
        const int xi = (int)js_round(xs), yi = (int)js_round(ys);
        for (int ch = 0; ch < c; ch++) o[ch] = (float)sample(src, h, w, c, yi, xi, ch, j->cval);
        continue;
      }
      const double x0d = floor(xs), y0d = floor(ys);
      const int x0 = (int)x0d, y0 = (int)y0d;
      const double fx = xs - x0d, fy = ys - y0d;
      for (int ch = 0; ch < c; ch++) {
        const double a = sample(src, h, w, c, y0, x0, ch, j->cval);
        const double b = fx > 0 ? sample(src, h, w, c, y0, x0 + 1, ch, j->cval) : 0.0;
        const double d = fy > 0 ? sample(src, h, w, c, y0 + 1, x0, ch, j->cval) : 0.0;
        const double e = fx > 0 && fy > 0 ? sample(src, h, w, c, y0 + 1, x0 + 1, ch, j->cval) : 0.0;
        o[ch] = (float)((1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e));
      }
    }
  }
}

void FL_FN(fl_warp)(fl_ctx *ctx, float *y, const float *x, const double *m, int n, int h, int w, int c,
                    int fill, double cval, int interp) {
  warp_job j = {.y = y, .x = x, .m = m, .h = h, .w = w, .c = c, .fill = fill, .interp = interp, .cval = cval};
  fl_pool_run(ctx->pool, n, warp_task, &j);
}
