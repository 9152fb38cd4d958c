/* BLAS-1 helpers: fill, copy, add, axpy, scale, sum of squares. Plain loops the compiler
 * vectorizes for each instruction set; large arrays are split across threads. */
#include <string.h>

#include "fl.h"

typedef struct vec_job {
  float *y;
  const float *a, *b;
  float alpha;
  double partial[FL_MAX_THREADS];
} vec_job;

FL_SPAN(fill_span) {
  FL_SPAN_UNUSED;
  vec_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->y[i] = j->alpha;
}
FL_SPAN(copy_span) {
  FL_SPAN_UNUSED;
  vec_job *j = arg;
  memmove(j->y + lo, j->a + lo, sizeof(float) * (hi - lo));
}
FL_SPAN(add_span) {
  FL_SPAN_UNUSED;
  vec_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->y[i] = j->a[i] + j->b[i];
}
FL_SPAN(axpy_span) {
  FL_SPAN_UNUSED;
  vec_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->y[i] += j->alpha * j->a[i];
}
FL_SPAN(scale_span) {
  FL_SPAN_UNUSED;
  vec_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->y[i] *= j->alpha;
}
/* Σ x² with double accumulators; one partial per chunk, summed in chunk order. */
FL_SPAN(sumsq_span) {
  (void)thread;
  vec_job *j = arg;
  double s[8] = {0};
  size_t i = lo;
  for (; i + 8 <= hi; i += 8)
    for (int l = 0; l < 8; l++) s[l] += (double)j->a[i + l] * j->a[i + l];
  for (; i < hi; i++) s[0] += (double)j->a[i] * j->a[i];
  j->partial[chunk] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void FL_FN(fl_fill)(fl_ctx *ctx, float *y, size_t n, float v) {
  vec_job j = {.y = y, .alpha = v};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN * 4, fill_span, &j);
}
void FL_FN(fl_copy)(fl_ctx *ctx, float *y, const float *x, size_t n) {
  vec_job j = {.y = y, .a = x};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN * 4, copy_span, &j);
}
void FL_FN(fl_add)(fl_ctx *ctx, float *y, const float *a, const float *b, size_t n) {
  vec_job j = {.y = y, .a = a, .b = b};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, add_span, &j);
}
void FL_FN(fl_axpy)(fl_ctx *ctx, float *y, float alpha, const float *x, size_t n) {
  vec_job j = {.y = y, .a = x, .alpha = alpha};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, axpy_span, &j);
}
void FL_FN(fl_scale)(fl_ctx *ctx, float *y, float alpha, size_t n) {
  vec_job j = {.y = y, .alpha = alpha};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, scale_span, &j);
}
double FL_FN(fl_sumsq)(fl_ctx *ctx, const float *x, size_t n) {
  vec_job j = {.a = x};
  const int parts = fl_range_parts(ctx, n, FL_PARALLEL_MIN);
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, sumsq_span, &j);
  double total = 0;
  for (int p = 0; p < parts; p++) total += j.partial[p];
  return total;
}
