/*
 * Elementwise activations, row-wise softmax and inverted dropout.
 * Dropout draws its mask from Philox4x32-10 exactly as src/tensor/prng.ts does: element i uses
 * block start + i/4, lane i%4; keep iff (r >> 8)·2^-24 ≥ rate. Same bits on both backends.
 */
#include <math.h>
#include <string.h>

#include "fl.h"

typedef struct act_job {
  int kind;
  float *y;
  const float *x, *dy, *yv;
  float alpha;
  uint8_t *mask;
  const uint8_t *cmask;
  float scale;
  double rate;
  const uint32_t *draw;
} act_job;

FL_SPAN(act_fwd_span) {
  FL_SPAN_UNUSED;
  const act_job *j = arg;
  float *y = j->y;
  const float *x = j->x;
  const float a = j->alpha;
  switch (j->kind) {
    case FL_LINEAR: if (y != x) memmove(y + lo, x + lo, sizeof(float) * (hi - lo)); break;
    case FL_RELU: for (size_t i = lo; i < hi; i++) y[i] = fl_relu(x[i]); break;
    case FL_ELU: for (size_t i = lo; i < hi; i++) y[i] = x[i] > 0.0f ? x[i] : a * expm1f(x[i]); break;
    case FL_LEAKY_RELU: for (size_t i = lo; i < hi; i++) y[i] = x[i] > 0.0f ? x[i] : a * x[i]; break;
    case FL_SIGMOID: for (size_t i = lo; i < hi; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case FL_TANH: for (size_t i = lo; i < hi; i++) y[i] = tanhf(x[i]); break;
    default: break;
  }
}

FL_SPAN(act_bwd_span) {
  FL_SPAN_UNUSED;
  const act_job *j = arg;
  float *dx = j->y;
  const float *dy = j->dy, *x = j->x, *y = j->yv;
  const float a = j->alpha;
  switch (j->kind) {
    case FL_LINEAR: if (dx != dy) memmove(dx + lo, dy + lo, sizeof(float) * (hi - lo)); break;
    case FL_RELU: for (size_t i = lo; i < hi; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f; break;
    case FL_ELU: for (size_t i = lo; i < hi; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + a); break;
    case FL_LEAKY_RELU: for (size_t i = lo; i < hi; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * a; break;
    case FL_SIGMOID: for (size_t i = lo; i < hi; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]); break;
    case FL_TANH: for (size_t i = lo; i < hi; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]); break;
    default: break;
  }
}

void FL_FN(fl_act_fwd)(fl_ctx *ctx, int kind, float *y, const float *x, size_t n, float alpha) {
  act_job j = {.kind = kind, .y = y, .x = x, .alpha = alpha};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, act_fwd_span, &j);
}

void FL_FN(fl_act_bwd)(fl_ctx *ctx, int kind, float *dx, const float *dy, const float *x,
                       const float *y, size_t n, float alpha) {
  act_job j = {.kind = kind, .y = dx, .dy = dy, .x = x, .yv = y, .alpha = alpha};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, act_bwd_span, &j);
}

/* ---- softmax (rows are short: one thread) --------------------------------------------------- */

void FL_FN(fl_softmax_fwd)(fl_ctx *ctx, float *y, const float *x, int rows, int cols) {
  (void)ctx;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    float mx = -INFINITY;
    for (int j = 0; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
    double sum = 0;
    for (int j = 0; j < cols; j++) {
      yr[j] = expf(xr[j] - mx);
      sum += yr[j];
    }
    const float inv = (float)(1.0 / sum);
    for (int j = 0; j < cols; j++) yr[j] *= inv;
  }
}

void FL_FN(fl_softmax_bwd)(fl_ctx *ctx, float *dx, const float *dy, const float *y, int rows, int cols) {
  (void)ctx;
  for (int r = 0; r < rows; r++) {
    const size_t o = (size_t)r * cols;
    double dot = 0;
    for (int j = 0; j < cols; j++) dot += (double)dy[o + j] * y[o + j];
    for (int j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - (float)dot);
  }
}

/* ---- dropout -------------------------------------------------------------------------------- */

FL_SPAN(dropout_fwd_span) {
  FL_SPAN_UNUSED;
  const act_job *j = arg;
  const uint32_t *d = j->draw;
  const uint64_t start = (uint64_t)d[4] | ((uint64_t)d[5] << 32);
  uint32_t r[4];
  uint64_t have = UINT64_MAX;
  for (size_t i = lo; i < hi; i++) {
    const uint64_t blk = start + i / 4;
    if (blk != have) {
      fl_philox4x32(r, (uint32_t)blk, (uint32_t)(blk >> 32), d[2], d[3], d[0], d[1]);
      have = blk;
    }
    const double u = (double)(r[i & 3] >> 8) * (1.0 / 16777216.0);
    const int keep = u >= j->rate;
    j->mask[i] = (uint8_t)keep;
    j->y[i] = keep ? j->x[i] * j->scale : 0.0f;
  }
}

FL_SPAN(dropout_bwd_span) {
  FL_SPAN_UNUSED;
  const act_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->y[i] = j->cmask[i] ? j->dy[i] * j->scale : 0.0f;
}

void FL_FN(fl_dropout_fwd)(fl_ctx *ctx, float *y, uint8_t *mask, const float *x, size_t n,
                           double rate, const uint32_t *draw) {
  act_job j = {.y = y, .x = x, .mask = mask, .rate = rate, .draw = draw,
               .scale = (float)(1.0 / (1.0 - rate))};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, dropout_fwd_span, &j);
}

void FL_FN(fl_dropout_bwd)(fl_ctx *ctx, float *dx, const float *dy, const uint8_t *mask, size_t n,
                           double rate) {
  act_job j = {.y = dx, .dy = dy, .cmask = mask, .scale = (float)(1.0 / (1.0 - rate))};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, dropout_bwd_span, &j);
}
