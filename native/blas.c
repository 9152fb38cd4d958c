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

/* ---- peak FMA throughput probe (for the benchmark) ----------------------------------------- */

#include "simd.h"

typedef struct peak_job {
  long iters;
  float seed; /* runtime value: chains that start alike would be merged by the compiler */
  double sink[FL_MAX_THREADS];
} peak_job;

/* 12 independent accumulator chains. Enough to hide FMA latency × ports on every ISA here (4
 * cycles × 2 ports needs 8), and few enough that chains + the two constants fit in AVX2's 16
 * ymm registers: with 16 chains the compiler spilled three to the stack, and the reload/store
 * on every iteration made the probe latency-bound (59 instead of ~98 GFLOP/s on a Zen 3 core).
 * Each chain starts from a different runtime value so the compiler cannot merge them. */
#define PEAK_CHAINS 12
static void peak_task(void *arg, int task, int thread) {
  (void)thread;
  peak_job *j = arg;
  const float s0 = j->seed;
  vf a0 = v_set1(s0), a1 = v_set1(2 * s0), a2 = v_set1(3 * s0), a3 = v_set1(4 * s0);
  vf a4 = v_set1(5 * s0), a5 = v_set1(6 * s0), a6 = v_set1(7 * s0), a7 = v_set1(8 * s0);
  vf a8 = v_set1(9 * s0), a9 = v_set1(10 * s0), a10 = v_set1(11 * s0), a11 = v_set1(12 * s0);
  const vf m = v_set1(0.999999f), c = v_set1(1e-7f);
  for (long i = 0; i < j->iters; i++) {
    a0 = v_fma(a0, m, c); a1 = v_fma(a1, m, c); a2 = v_fma(a2, m, c); a3 = v_fma(a3, m, c);
    a4 = v_fma(a4, m, c); a5 = v_fma(a5, m, c); a6 = v_fma(a6, m, c); a7 = v_fma(a7, m, c);
    a8 = v_fma(a8, m, c); a9 = v_fma(a9, m, c); a10 = v_fma(a10, m, c); a11 = v_fma(a11, m, c);
  }
  vf s = v_add(v_add(v_add(a0, a1), v_add(a2, a3)), v_add(v_add(a4, a5), v_add(a6, a7)));
  s = v_add(s, v_add(v_add(a8, a9), v_add(a10, a11)));
  float tmp[FL_VL];
  v_store(tmp, s);
  j->sink[task] = tmp[0];
}

/* Runs `iters` iterations of PEAK_CHAINS vector FMAs on each of `tasks` threads; returns the
 * flops done. */
double FL_FN(fl_peak)(fl_ctx *ctx, long iters, int tasks) {
  peak_job j = {.iters = iters, .seed = 1.0f + (float)(iters & 7) * 1e-3f};
  if (tasks > FL_MAX_THREADS) tasks = FL_MAX_THREADS;
  fl_pool_run(ctx->pool, tasks, peak_task, &j);
  double guard = 0;
  for (int t = 0; t < tasks; t++) guard += j.sink[t];
  return guard == -1.0 ? 0 : (double)iters * tasks * PEAK_CHAINS * FL_VL * 2;
}
