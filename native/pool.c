/*
 * Pooling, NHWC: windowed max/average (any window, stride and padding) and global max/average.
 * Work is split by image: argmax indices of one image point into that image only, so the
 * backward scatters of different threads never touch the same cells.
 * Max follows the reference: the first cell in row-major window order wins ties, and a NaN
 * replaces a non-NaN best (NaN propagates). Average counts only cells inside the input (TF).
 */
#include <math.h>
#include <string.h>

#include "fl.h"

static inline int beats(float v, float best) { return v > best || (v != v && best == best); }

/* Clip the window of output (oy, ox) to the input: rows [*y0, *y1), columns [*x0, *x1). */
static inline void window(const fl_geom *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1) {
  int iy = oy * g->sh - g->pt, ix = ox * g->sw - g->pl;
  *y0 = iy < 0 ? 0 : iy;
  *y1 = iy + g->kh > g->h ? g->h : iy + g->kh;
  *x0 = ix < 0 ? 0 : ix;
  *x1 = ix + g->kw > g->w ? g->w : ix + g->kw;
}

typedef struct pool_job {
  const fl_geom *g;
  float *y, *dx;
  int32_t *arg;
  const int32_t *carg;
  const float *x, *dy;
  int hw, c;
} pool_job;

static void maxpool_fwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const fl_geom *g = j->g;
  const int C = g->c;
  const size_t xbase = (size_t)img * g->h * g->w * C;
  for (int oy = 0; oy < g->oh; oy++) {
    for (int ox = 0; ox < g->ow; ox++) {
      int y0, y1, x0, x1;
      window(g, oy, ox, &y0, &y1, &x0, &x1);
      const size_t o = (((size_t)img * g->oh + oy) * g->ow + ox) * C;
      float *yo = j->y + o;
      int32_t *ao = j->arg + o;
      const size_t first = xbase + ((size_t)y0 * g->w + x0) * C;
      for (int ch = 0; ch < C; ch++) {
        yo[ch] = j->x[first + ch];
        ao[ch] = (int32_t)(first + ch);
      }
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ix++) {
          const size_t at = xbase + ((size_t)iy * g->w + ix) * C;
          const float *xv = j->x + at;
          for (int ch = 0; ch < C; ch++) {
            if (beats(xv[ch], yo[ch])) {
              yo[ch] = xv[ch];
              ao[ch] = (int32_t)(at + ch);
            }
          }
        }
      }
    }
  }
}

static void maxpool_bwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const fl_geom *g = j->g;
  const size_t in = (size_t)g->h * g->w * g->c, out = (size_t)g->oh * g->ow * g->c;
  memset(j->dx + img * in, 0, sizeof(float) * in);
  const float *dy = j->dy + img * out;
  const int32_t *arg = j->carg + img * out;
  for (size_t i = 0; i < out; i++) j->dx[arg[i]] += dy[i];
}

static void avgpool_fwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const fl_geom *g = j->g;
  const int C = g->c;
  for (int oy = 0; oy < g->oh; oy++) {
    for (int ox = 0; ox < g->ow; ox++) {
      int y0, y1, x0, x1;
      window(g, oy, ox, &y0, &y1, &x0, &x1);
      float *yo = j->y + (((size_t)img * g->oh + oy) * g->ow + ox) * C;
      for (int ch = 0; ch < C; ch++) yo[ch] = 0.0f;
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
          const float *xv = j->x + (((size_t)img * g->h + iy) * g->w + ix) * C;
          for (int ch = 0; ch < C; ch++) yo[ch] += xv[ch];
        }
      const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
      for (int ch = 0; ch < C; ch++) yo[ch] *= inv;
    }
  }
}

static void avgpool_bwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const fl_geom *g = j->g;
  const int C = g->c;
  memset(j->dx + (size_t)img * g->h * g->w * C, 0, sizeof(float) * (size_t)g->h * g->w * C);
  for (int oy = 0; oy < g->oh; oy++) {
    for (int ox = 0; ox < g->ow; ox++) {
      int y0, y1, x0, x1;
      window(g, oy, ox, &y0, &y1, &x0, &x1);
      const float *dyo = j->dy + (((size_t)img * g->oh + oy) * g->ow + ox) * C;
      const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
          float *dxv = j->dx + (((size_t)img * g->h + iy) * g->w + ix) * C;
          for (int ch = 0; ch < C; ch++) dxv[ch] += dyo[ch] * inv;
        }
    }
  }
}

void FL_FN(fl_maxpool_fwd)(fl_ctx *ctx, float *y, int32_t *arg, const float *x, const fl_geom *g) {
  pool_job j = {.g = g, .y = y, .arg = arg, .x = x};
  fl_pool_run(ctx->pool, g->n, maxpool_fwd_img, &j);
}
void FL_FN(fl_maxpool_bwd)(fl_ctx *ctx, float *dx, const float *dy, const int32_t *arg, const fl_geom *g) {
  pool_job j = {.g = g, .dx = dx, .dy = dy, .carg = arg};
  fl_pool_run(ctx->pool, g->n, maxpool_bwd_img, &j);
}
void FL_FN(fl_avgpool_fwd)(fl_ctx *ctx, float *y, const float *x, const fl_geom *g) {
  pool_job j = {.g = g, .y = y, .x = x};
  fl_pool_run(ctx->pool, g->n, avgpool_fwd_img, &j);
}
void FL_FN(fl_avgpool_bwd)(fl_ctx *ctx, float *dx, const float *dy, const fl_geom *g) {
  pool_job j = {.g = g, .dx = dx, .dy = dy};
  fl_pool_run(ctx->pool, g->n, avgpool_bwd_img, &j);
}

/* ---- global pooling ------------------------------------------------------------------------ */

static void gmax_fwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const int C = j->c;
  float *yo = j->y + (size_t)img * C;
  int32_t *ao = j->arg + (size_t)img * C;
  const size_t base = (size_t)img * j->hw * C;
  for (int ch = 0; ch < C; ch++) {
    yo[ch] = j->x[base + ch];
    ao[ch] = (int32_t)(base + ch);
  }
  for (int p = 1; p < j->hw; p++) {
    const size_t at = base + (size_t)p * C;
    for (int ch = 0; ch < C; ch++) {
      if (beats(j->x[at + ch], yo[ch])) {
        yo[ch] = j->x[at + ch];
        ao[ch] = (int32_t)(at + ch);
      }
    }
  }
}

static void gmax_bwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const size_t in = (size_t)j->hw * j->c;
  memset(j->dx + img * in, 0, sizeof(float) * in);
  for (int ch = 0; ch < j->c; ch++) j->dx[j->carg[(size_t)img * j->c + ch]] += j->dy[(size_t)img * j->c + ch];
}

static void gavg_fwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const int C = j->c;
  float *yo = j->y + (size_t)img * C;
  for (int ch = 0; ch < C; ch++) yo[ch] = 0.0f;
  for (int p = 0; p < j->hw; p++) {
    const float *xv = j->x + ((size_t)img * j->hw + p) * C;
    for (int ch = 0; ch < C; ch++) yo[ch] += xv[ch];
  }
  const float inv = 1.0f / (float)j->hw;
  for (int ch = 0; ch < C; ch++) yo[ch] *= inv;
}

static void gavg_bwd_img(void *a, int img, int thread) {
  (void)thread;
  const pool_job *j = a;
  const int C = j->c;
  const float inv = 1.0f / (float)j->hw;
  const float *dyo = j->dy + (size_t)img * C;
  for (int p = 0; p < j->hw; p++) {
    float *dxv = j->dx + ((size_t)img * j->hw + p) * C;
    for (int ch = 0; ch < C; ch++) dxv[ch] = dyo[ch] * inv;
  }
}

void FL_FN(fl_gmaxpool_fwd)(fl_ctx *ctx, float *y, int32_t *arg, const float *x, int n, int hw, int c) {
  pool_job j = {.y = y, .arg = arg, .x = x, .hw = hw, .c = c};
  fl_pool_run(ctx->pool, n, gmax_fwd_img, &j);
}
void FL_FN(fl_gmaxpool_bwd)(fl_ctx *ctx, float *dx, const float *dy, const int32_t *arg, int n, int hw, int c) {
  pool_job j = {.dx = dx, .dy = dy, .carg = arg, .hw = hw, .c = c};
  fl_pool_run(ctx->pool, n, gmax_bwd_img, &j);
}
void FL_FN(fl_gavgpool_fwd)(fl_ctx *ctx, float *y, const float *x, int n, int hw, int c) {
  pool_job j = {.y = y, .x = x, .hw = hw, .c = c};
  fl_pool_run(ctx->pool, n, gavg_fwd_img, &j);
}
void FL_FN(fl_gavgpool_bwd)(fl_ctx *ctx, float *dx, const float *dy, int n, int hw, int c) {
  pool_job j = {.dx = dx, .dy = dy, .hw = hw, .c = c};
  fl_pool_run(ctx->pool, n, gavg_bwd_img, &j);
}
