/*
 * GEMM, row-major: C = alpha·op(A)·op(B) + beta·C, and the Dense layer built on it.
 *
 * BLIS-style blocking: for each KC slice of the reduction, op(B) is packed once into
 * NB_MAX-wide column panels (shared by all threads), then tasks — MC-row blocks of C, times
 * groups of column panels — pack their slice of op(A) (scaled by alpha) into GEMM_MR-row panels
 * and run the tile_packed microkernel. beta applies on the first slice only.
 */
#include <string.h>

#include "fl.h"
#include "micro.h"

#include <stdlib.h>
/* KC×NC floats of packed B (1 MB) stay in one core's L2; an MC×KC block of A (48 KB) in L1/L2.
 * Measured on the AVX-512 machine: MC 48 beats 96 by ~4% at 1024³ on two threads. */
static int KC = 256;
static int MC = 48; /* a multiple of GEMM_MR on every arch */
static int NC = 1024; /* a multiple of NB_MAX on every arch */
/* Accuracy: one float register sum over all KC values of k drifts (a 784-input Dense layer's
 * logits carried most of a float32 training step's error, test/backend/numerics.test.ts).
 * Summing GEMM_KSUB at a time into C keeps the serial chains at GEMM_KSUB + k/GEMM_KSUB for
 * the cost of one more load and store of the C tile per GEMM_KSUB steps. */
#define GEMM_KSUB 128
static void tune_from_env(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  const char *k = getenv("FL_KC"), *m = getenv("FL_MC"), *nc = getenv("FL_NC");
  if (k) KC = atoi(k);
  if (m) MC = atoi(m);
  if (nc) NC = atoi(nc);
}

typedef struct gemm_job {
  fl_ctx *ctx;
  int ta, tb;
  int m, n, kc, p0;
  float alpha, beta;
  const float *a, *b;
  int lda, ldb;
  float *c;
  int ldc;
  int jc;              /* first column of this NC block */
  float *bpk;          /* packed op(B) slice: block j at bpk + j·kc·NB_MAX */
  int nblocks;         /* column panels of op(B) */
  int row_blocks;      /* MC blocks of rows */
  int groups;          /* column-panel groups per row block */
} gemm_job;

static void pack_b_task(void *arg, int blk, int thread) {
  (void)thread;
  const gemm_job *j = arg;
  const int width = block_width(j->n, blk);
  const float *src;
  const int col0 = j->jc + blk * NB_MAX;
  int rs, cs;
  if (j->tb) { /* op(B)(p, col) = b[col·ldb + p] */
    src = j->b + j->p0;
    rs = 1;
    cs = j->ldb;
  } else {     /* op(B)(p, col) = b[p·ldb + col] */
    src = j->b + (size_t)j->p0 * j->ldb;
    rs = j->ldb;
    cs = 1;
  }
  pack_panel(j->bpk + (size_t)blk * j->kc * NB_MAX, src, j->kc, rs, cs, col0, width,
             block_nv(width) * FL_VL);
}

/* Pack rows [i0, i0+mc) × k [p0, p0+kc) of alpha·op(A) into GEMM_MR-row panels [kc][MR]. */
static void pack_a(float *ap, const gemm_job *j, int i0, int mc) {
  const int kc = j->kc;
  for (int r0 = 0; r0 < mc; r0 += GEMM_MR) {
    float *dst = ap + (size_t)(r0 / GEMM_MR) * kc * GEMM_MR;
    const int mr = mc - r0 < GEMM_MR ? mc - r0 : GEMM_MR;
    if (j->ta) { /* op(A)(i, p) = a[p·lda + i]: rows of the slice are contiguous in i */
      for (int p = 0; p < kc; p++) {
        const float *s = j->a + (size_t)(j->p0 + p) * j->lda + i0 + r0;
        float *d = dst + (size_t)p * GEMM_MR;
        for (int i = 0; i < mr; i++) d[i] = j->alpha * s[i];
        for (int i = mr; i < GEMM_MR; i++) d[i] = 0.0f;
      }
    } else {     /* op(A)(i, p) = a[i·lda + p] */
      for (int i = 0; i < GEMM_MR; i++) {
        if (i < mr) {
          const float *s = j->a + (size_t)(i0 + r0 + i) * j->lda + j->p0;
          for (int p = 0; p < kc; p++) dst[(size_t)p * GEMM_MR + i] = j->alpha * s[p];
        } else {
          for (int p = 0; p < kc; p++) dst[(size_t)p * GEMM_MR + i] = 0.0f;
        }
      }
    }
  }
}

static void gemm_task(void *arg, int task, int thread) {
  const gemm_job *j = arg;
  const int rb = task / j->groups, grp = task % j->groups;
  const int i0 = rb * MC;
  const int mc = j->m - i0 < MC ? j->m - i0 : MC;
  int64_t blo, bhi;
  fl_split(j->nblocks, j->groups, grp, &blo, &bhi);
  if (bhi <= blo) return;
  float *ap = fl_scratch(j->ctx, thread, 0, (size_t)MC * j->kc);
  if (!ap) return;
  pack_a(ap, j, i0, mc);
  for (int64_t blk = blo; blk < bhi; blk++) {
    const int width = block_width(j->n, (int)blk);
    const int nv = block_nv(width);
    const float *bp = j->bpk + (size_t)blk * j->kc * NB_MAX;
    for (int r0 = 0; r0 < mc; r0 += GEMM_MR) {
      const int mr = mc - r0 < GEMM_MR ? mc - r0 : GEMM_MR;
      const float *apr = ap + (size_t)(r0 / GEMM_MR) * j->kc * GEMM_MR;
      float *cr = j->c + (size_t)(i0 + r0) * j->ldc + j->jc + (size_t)blk * NB_MAX;
      /* the register sums run over GEMM_KSUB values of k at most, then land in C */
      for (int k0 = 0; k0 < j->kc; k0 += GEMM_KSUB) {
        const int ks = j->kc - k0 < GEMM_KSUB ? j->kc - k0 : GEMM_KSUB;
        tile_packed(nv, ks, apr + (size_t)k0 * GEMM_MR, bp + (size_t)k0 * block_nv(width) * FL_VL, cr,
                    j->ldc, mr, width, k0 == 0 ? j->beta : 1.0f);
      }
    }
  }
}

static void scale_c(float *c, int m, int n, int ldc, float beta) {
  for (int i = 0; i < m; i++) {
    float *r = c + (size_t)i * ldc;
    if (beta == 0.0f) memset(r, 0, sizeof(float) * (size_t)n);
    else for (int x = 0; x < n; x++) r[x] *= beta;
  }
}

void FL_FN(fl_gemm)(fl_ctx *ctx, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  tune_from_env();
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(c, m, n, ldc, beta);
    return;
  }
  const int threads = fl_pool_threads(ctx->pool);
  const int row_blocks = (m + MC - 1) / MC;
  const double work = (double)m * n * k;
  const int single = work < 64.0 * 64 * 64 || threads == 1;
  const int kc_max = k < KC ? k : KC;
  const int nc_max = n < NC ? n : NC;
  float *bpk = fl_shared(ctx, (size_t)col_blocks(nc_max) * kc_max * NB_MAX);
  if (!bpk) return;
  gemm_job j = {
    .ctx = ctx, .ta = ta, .tb = tb, .m = m, .alpha = alpha, .a = a, .b = b, .lda = lda,
    .ldb = ldb, .c = c, .ldc = ldc, .bpk = bpk, .row_blocks = row_blocks,
  };
  for (int jc = 0; jc < n; jc += NC) {
    j.jc = jc;
    j.n = n - jc < NC ? n - jc : NC;
    j.nblocks = col_blocks(j.n);
    /* enough tasks to keep every thread busy: split columns when there are few row blocks */
    j.groups = 1;
    if (!single) {
      const int want = 2 * threads;
      j.groups = (want + row_blocks - 1) / row_blocks;
      if (j.groups > j.nblocks) j.groups = j.nblocks;
    }
    for (int p0 = 0; p0 < k; p0 += KC) {
      j.p0 = p0;
      j.kc = k - p0 < KC ? k - p0 : KC;
      j.beta = p0 == 0 ? beta : 1.0f;
      if (single) {
        for (int blk = 0; blk < j.nblocks; blk++) pack_b_task(&j, blk, 0);
        for (int t = 0; t < row_blocks * j.groups; t++) gemm_task(&j, t, 0);
      } else {
        fl_pool_run(ctx->pool, j.nblocks, pack_b_task, &j);
        fl_pool_run(ctx->pool, row_blocks * j.groups, gemm_task, &j);
      }
      if (ctx->oom) return;
    }
  }
}

/* ---- Dense -------------------------------------------------------------------------------- */

typedef struct rows_job {
  float *y;
  const float *b;
  const float *dy, *mask;
  int out;
} rows_job;

FL_SPAN(bias_rows) {
  FL_SPAN_UNUSED;
  const rows_job *r = arg;
  for (size_t i = lo; i < hi; i++) memcpy(r->y + i * r->out, r->b, sizeof(float) * (size_t)r->out);
}

FL_SPAN(relu_span) {
  FL_SPAN_UNUSED;
  const rows_job *r = arg;
  for (size_t i = lo; i < hi; i++) r->y[i] = fl_relu(r->y[i]);
}

FL_SPAN(mask_span) {
  FL_SPAN_UNUSED;
  const rows_job *r = arg;
  for (size_t i = lo; i < hi; i++) r->y[i] = r->mask[i] > 0.0f ? r->dy[i] : 0.0f;
}

void FL_FN(fl_dense_fwd)(fl_ctx *ctx, float *y, const float *x, const float *w, const float *b,
                         int batch, int in, int out, int relu) {
  rows_job r = {.y = y, .b = b, .out = out};
  if (b) fl_parallel_range(ctx, (size_t)batch, FL_PARALLEL_MIN / (size_t)(out > 0 ? out : 1) + 1, bias_rows, &r);
  FL_FN(fl_gemm)(ctx, 0, 0, batch, out, in, 1.0f, x, in, w, out, b ? 1.0f : 0.0f, y, out);
  if (relu) fl_parallel_range(ctx, (size_t)batch * out, FL_PARALLEL_MIN, relu_span, &r);
}

void FL_FN(fl_dense_bwd)(fl_ctx *ctx, float *dx, float *dw, float *db, const float *dy,
                         const float *y, const float *x, const float *w, int batch, int in, int out,
                         int relu) {
  const float *dz = dy;
  if (relu) {
    /* thread 0's slot 2 is not used by gemm (which packs A in slot 0) */
    float *buf = fl_scratch(ctx, 0, 2, (size_t)batch * out);
    if (!buf) return;
    rows_job r = {.y = buf, .dy = dy, .mask = y};
    fl_parallel_range(ctx, (size_t)batch * out, FL_PARALLEL_MIN, mask_span, &r);
    dz = buf;
  }
  if (dx) FL_FN(fl_gemm)(ctx, 0, 1, batch, in, out, 1.0f, dz, out, w, out, 0.0f, dx, in);
  if (dw) FL_FN(fl_gemm)(ctx, 1, 0, in, out, batch, 1.0f, x, in, dz, out, 0.0f, dw, out);
  if (db) {
    /* column sums in double, 64 columns at a time (a float sum down a long batch drifts) */
    for (int o0 = 0; o0 < out; o0 += 64) {
      const int nc = out - o0 < 64 ? out - o0 : 64;
      double acc[64] = {0};
      for (int r = 0; r < batch; r++) {
        const float *row = dz + (size_t)r * out + o0;
        for (int o = 0; o < nc; o++) acc[o] += row[o];
      }
      for (int o = 0; o < nc; o++) db[o0 + o] = (float)acc[o];
    }
  }
}
