/*
 * BatchNormalization over x viewed as (rows, c) — Keras conventions: biased batch variance,
 * moving = moving·momentum + batch·(1 − momentum) ("momentum 0.99 keeps 99% of the old
 * moving mean"), epsilon inside the square root. ReLU can be fused into the same pass.
 *
 * Statistics: one pass of per-channel shifted sums in double, one partial per row chunk, summed
 * in chunk order (deterministic). Normalization is then y = (x − mean)·a + b per channel.
 */
#include <math.h>
#include <string.h>

#include "fl.h"

typedef struct bn_job {
  float *y, *dx;
  const float *x, *dy, *ymask;
  int rows, c, relu;
  double *partial;      /* chunk × 2c */
  const float *mu;      /* per-channel centre subtracted first (avoids cancellation) */
  const float *a, *b;   /* per-channel coefficients: y = (x − mu)·a + b */
  const float *a2;      /* backward: dx = a·dz + a2·(x − mu) + b */
} bn_job;

/* Σ(x − k) and Σ(x − k)² per channel with k = the first row: shifting by a value near the mean
 * keeps var = E[(x−k)²] − E[x−k]² free of cancellation even when |mean| ≫ std. */
FL_SPAN(moments_span) {
  (void)thread;
  const bn_job *j = arg;
  const int C = j->c;
  double *s = j->partial + (size_t)chunk * 2 * C, *q = s + C;
  const float *k = j->x;
  for (int ch = 0; ch < C; ch++) s[ch] = q[ch] = 0.0;
  for (size_t r = lo; r < hi; r++) {
    const float *xr = j->x + r * C;
    for (int ch = 0; ch < C; ch++) {
      const double v = (double)xr[ch] - k[ch];
      s[ch] += v;
      q[ch] += v * v;
    }
  }
}

FL_SPAN(affine_span) {
  FL_SPAN_UNUSED;
  const bn_job *j = arg;
  const int C = j->c;
  for (size_t r = lo; r < hi; r++) {
    const float *xr = j->x + r * C;
    float *yr = j->y + r * C;
    if (j->relu) {
      for (int ch = 0; ch < C; ch++) {
        yr[ch] = fl_relu((xr[ch] - j->mu[ch]) * j->a[ch] + j->b[ch]);
      }
    } else {
      for (int ch = 0; ch < C; ch++) yr[ch] = (xr[ch] - j->mu[ch]) * j->a[ch] + j->b[ch];
    }
  }
}

static size_t rows_min(int c) { return FL_PARALLEL_MIN / (size_t)(c > 0 ? c : 1) + 1; }

void FL_FN(fl_bn_train_fwd)(fl_ctx *ctx, float *y, float *mean, float *invstd, float *mmean,
                            float *mvar, const float *x, const float *gamma, const float *beta,
                            int rows, int c, float momentum, float eps, int relu) {
  const int parts = fl_range_parts(ctx, (size_t)rows, rows_min(c));
  /* shared: partial doubles (parts·2c) then coefficients a, b (2c floats) */
  float *shared = fl_shared(ctx, (size_t)parts * 4 * c + 2 * (size_t)c + 16);
  if (!shared) return;
  bn_job j = {.y = y, .x = x, .rows = rows, .c = c, .relu = relu, .partial = (double *)shared};
  fl_parallel_range(ctx, (size_t)rows, rows_min(c), moments_span, &j);
  float *a = shared + (size_t)parts * 4 * c, *b = a + c;
  for (int ch = 0; ch < c; ch++) {
    double s = 0, q = 0;
    for (int p = 0; p < parts; p++) {
      s += j.partial[(size_t)p * 2 * c + ch];
      q += j.partial[(size_t)p * 2 * c + c + ch];
    }
    const double shifted = s / rows;
    const double mu = x[ch] + shifted;
    double var = q / rows - shifted * shifted;
    if (var < 0) var = 0; /* rounding can leave a tiny negative */
    const double inv = 1.0 / sqrt(var + (double)eps);
    mean[ch] = (float)mu;
    invstd[ch] = (float)inv;
    /* in double from the unrounded statistics: one rounding per update, as the reference */
    mmean[ch] = (float)(mmean[ch] * (double)momentum + mu * (1.0 - (double)momentum));
    mvar[ch] = (float)(mvar[ch] * (double)momentum + var * (1.0 - (double)momentum));
    const double g = gamma ? gamma[ch] : 1.0;
    a[ch] = (float)(g * inv);
    b[ch] = beta ? beta[ch] : 0.0f;
  }
  j.mu = mean;
  j.a = a;
  j.b = b;
  fl_parallel_range(ctx, (size_t)rows, rows_min(c), affine_span, &j);
}

void FL_FN(fl_bn_infer_fwd)(fl_ctx *ctx, float *y, const float *x, const float *gamma,
                            const float *beta, const float *mmean, const float *mvar, int rows,
                            int c, float eps, int relu) {
  float *a = fl_shared(ctx, 2 * (size_t)c);
  if (!a) return;
  float *b = a + c;
  for (int ch = 0; ch < c; ch++) {
    const double inv = 1.0 / sqrt((double)mvar[ch] + (double)eps);
    const double g = gamma ? gamma[ch] : 1.0;
    a[ch] = (float)(g * inv);
    b[ch] = beta ? beta[ch] : 0.0f;
  }
  bn_job j = {.y = y, .x = x, .rows = rows, .c = c, .relu = relu, .mu = mmean, .a = a, .b = b};
  fl_parallel_range(ctx, (size_t)rows, rows_min(c), affine_span, &j);
}

/* Σ dz and Σ dz·x per channel, dz = dy masked by relu(y). */
FL_SPAN(grad_sums_span) {
  (void)thread;
  const bn_job *j = arg;
  const int C = j->c;
  double *s = j->partial + (size_t)chunk * 2 * C, *q = s + C;
  for (int ch = 0; ch < C; ch++) s[ch] = q[ch] = 0.0;
  for (size_t r = lo; r < hi; r++) {
    const float *xr = j->x + r * C, *gr = j->dy + r * C;
    const float *mr = j->ymask ? j->ymask + r * C : NULL;
    for (int ch = 0; ch < C; ch++) {
      const double dz = (mr && !(mr[ch] > 0.0f)) ? 0.0 : gr[ch];
      s[ch] += dz;
      q[ch] += dz * xr[ch];
    }
  }
}

/* dx = a·dz + a2·(x − mu) + b per channel */
FL_SPAN(grad_apply_span) {
  FL_SPAN_UNUSED;
  const bn_job *j = arg;
  const int C = j->c;
  for (size_t r = lo; r < hi; r++) {
    const float *xr = j->x + r * C, *gr = j->dy + r * C;
    const float *mr = j->ymask ? j->ymask + r * C : NULL;
    float *dxr = j->dx + r * C;
    for (int ch = 0; ch < C; ch++) {
      const float dz = (mr && !(mr[ch] > 0.0f)) ? 0.0f : gr[ch];
      dxr[ch] = j->a[ch] * dz + j->a2[ch] * (xr[ch] - j->mu[ch]) + j->b[ch];
    }
  }
}

void FL_FN(fl_bn_bwd)(fl_ctx *ctx, float *dx, float *dgamma, float *dbeta, const float *dy,
                      const float *y, const float *x, const float *mean, const float *invstd,
                      const float *gamma, int rows, int c, int relu) {
  const int parts = fl_range_parts(ctx, (size_t)rows, rows_min(c));
  float *shared = fl_shared(ctx, (size_t)parts * 4 * c + 3 * (size_t)c + 16);
  if (!shared) return;
  bn_job j = {.dx = dx, .x = x, .dy = dy, .ymask = relu ? y : NULL, .rows = rows, .c = c,
              .partial = (double *)shared};
  fl_parallel_range(ctx, (size_t)rows, rows_min(c), grad_sums_span, &j);
  float *a = shared + (size_t)parts * 4 * c, *a2 = a + c, *b = a2 + c;
  for (int ch = 0; ch < c; ch++) {
    double sdz = 0, sdzx = 0;
    for (int p = 0; p < parts; p++) {
      sdz += j.partial[(size_t)p * 2 * c + ch];
      sdzx += j.partial[(size_t)p * 2 * c + c + ch];
    }
    const double inv = invstd[ch], mu = mean[ch];
    const double sdzxhat = (sdzx - mu * sdz) * inv; /* Σ dz·xhat */
    if (dgamma) dgamma[ch] = (float)sdzxhat;
    if (dbeta) dbeta[ch] = (float)sdz;
    /* dx = k·(rows·dz − Σdz − xhat·Σdz·xhat), k = gamma·invstd/rows, xhat = (x − mu)·invstd */
    const double k = (gamma ? gamma[ch] : 1.0) * inv / rows;
    a[ch] = (float)(k * rows);
    a2[ch] = (float)(-k * inv * sdzxhat);
    b[ch] = (float)(-k * sdz);
  }
  j.mu = mean;
  j.a = a;
  j.a2 = a2;
  j.b = b;
  fl_parallel_range(ctx, (size_t)rows, rows_min(c), grad_apply_span, &j);
}
