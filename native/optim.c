/*
 * Regularizer penalties and fused optimizer updates, Keras 3 formulas (see the Backend
 * interface in src/backend/backend.ts). Decoupled weight decay (w −= lr·wd·w) comes first, as
 * Keras' base optimizer applies it before update_step. Elementwise: split across threads.
 */
#include <math.h>

#include "fl.h"

typedef struct opt_job {
  float *w, *m, *v, *vhat, *extra;
  const float *g;
  float lr, b1c, b2c, eps, alpha_t, wd, momentum, coef_m, coef_g, v_corr, rho, rc, l1, l2;
  int nesterov;
  double partial[FL_MAX_THREADS];
} opt_job;

static inline float sgnf(float x) { return (float)((x > 0.0f) - (x < 0.0f)); }

FL_SPAN(penalty_span) {
  (void)thread;
  opt_job *j = arg;
  double a = 0, s = 0;
  for (size_t i = lo; i < hi; i++) {
    a += fabsf(j->g[i]);
    s += (double)j->g[i] * j->g[i];
  }
  j->partial[chunk] = j->l1 * a + j->l2 * s;
}

FL_SPAN(penalty_grad_span) {
  FL_SPAN_UNUSED;
  const opt_job *j = arg;
  for (size_t i = lo; i < hi; i++) j->w[i] += j->l1 * sgnf(j->g[i]) + 2.0f * j->l2 * j->g[i];
}

double FL_FN(fl_penalty)(fl_ctx *ctx, const float *w, size_t n, float l1, float l2) {
  opt_job j = {.g = w, .l1 = l1, .l2 = l2};
  const int parts = fl_range_parts(ctx, n, FL_PARALLEL_MIN);
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, penalty_span, &j);
  double total = 0;
  for (int p = 0; p < parts; p++) total += j.partial[p];
  return total;
}

void FL_FN(fl_penalty_grad)(fl_ctx *ctx, float *dw, const float *w, size_t n, float l1, float l2) {
  opt_job j = {.w = dw, .g = w, .l1 = l1, .l2 = l2};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, penalty_grad_span, &j);
}

FL_SPAN(sgd_span) {
  FL_SPAN_UNUSED;
  const opt_job *j = arg;
  float *w = j->w, *v = j->v;
  const float *g = j->g;
  const float lr = j->lr, mom = j->momentum, decay = j->lr * j->wd;
  for (size_t i = lo; i < hi; i++) {
    float wi = w[i] - w[i] * decay;
    if (v && mom != 0.0f) {
      v[i] = mom * v[i] - lr * g[i];
      wi += j->nesterov ? mom * v[i] - lr * g[i] : v[i];
    } else {
      wi -= lr * g[i];
    }
    w[i] = wi;
  }
}

FL_SPAN(adam_span) {
  FL_SPAN_UNUSED;
  const opt_job *j = arg;
  float *w = j->w, *m = j->m, *v = j->v, *vh = j->vhat;
  const float *g = j->g;
  const float b1c = j->b1c, b2c = j->b2c, decay = j->lr * j->wd;
  for (size_t i = lo; i < hi; i++) {
    const float wi = w[i] - w[i] * decay;
    m[i] += (g[i] - m[i]) * b1c;
    v[i] += (g[i] * g[i] - v[i]) * b2c;
    float second = v[i];
    if (vh) {
      vh[i] = vh[i] > v[i] ? vh[i] : v[i];
      second = vh[i];
    }
    w[i] = wi - j->alpha_t * m[i] / (sqrtf(second) + j->eps);
  }
}

FL_SPAN(nadam_span) {
  FL_SPAN_UNUSED;
  const opt_job *j = arg;
  float *w = j->w, *m = j->m, *v = j->v;
  const float *g = j->g;
  const float b1c = j->b1c, b2c = j->b2c, decay = j->lr * j->wd;
  for (size_t i = lo; i < hi; i++) {
    const float wi = w[i] - w[i] * decay;
    m[i] += (g[i] - m[i]) * b1c;
    v[i] += (g[i] * g[i] - v[i]) * b2c;
    const float mhat = j->coef_m * m[i] + j->coef_g * g[i];
    w[i] = wi - j->lr * mhat / (sqrtf(v[i] * j->v_corr) + j->eps);
  }
}

FL_SPAN(rmsprop_span) {
  FL_SPAN_UNUSED;
  const opt_job *j = arg;
  float *w = j->w, *ms = j->m, *mg = j->v, *mom = j->extra;
  const float *g = j->g;
  const float rho = j->rho, rc = j->rc, decay = j->lr * j->wd;
  for (size_t i = lo; i < hi; i++) {
    float wi = w[i] - w[i] * decay;
    ms[i] = rho * ms[i] + rc * g[i] * g[i];
    float denom;
    if (mg) {
      mg[i] = rho * mg[i] + rc * g[i];
      denom = ms[i] - mg[i] * mg[i] + j->eps;
    } else {
      denom = ms[i] + j->eps;
    }
    const float inc = j->lr * g[i] / sqrtf(denom);
    if (mom && j->momentum > 0.0f) {
      mom[i] = j->momentum * mom[i] + inc;
      wi -= mom[i];
    } else {
      wi -= inc;
    }
    w[i] = wi;
  }
}

void FL_FN(fl_sgd)(fl_ctx *ctx, float *w, const float *g, float *vel, size_t n, float lr,
                   float momentum, int nesterov, float wd) {
  opt_job j = {.w = w, .g = g, .v = vel, .lr = lr, .momentum = momentum, .nesterov = nesterov, .wd = wd};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, sgd_span, &j);
}

void FL_FN(fl_adam)(fl_ctx *ctx, float *w, const float *g, float *m, float *v, float *vhat, size_t n,
                    float lr, float b1c, float b2c, float eps, float alpha_t, float wd) {
  opt_job j = {.w = w, .g = g, .m = m, .v = v, .vhat = vhat, .lr = lr, .b1c = b1c, .b2c = b2c,
               .eps = eps, .alpha_t = alpha_t, .wd = wd};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, adam_span, &j);
}

void FL_FN(fl_nadam)(fl_ctx *ctx, float *w, const float *g, float *m, float *v, size_t n, float lr,
                     float b1c, float b2c, float eps, float coef_m, float coef_g, float v_corr, float wd) {
  opt_job j = {.w = w, .g = g, .m = m, .v = v, .lr = lr, .b1c = b1c, .b2c = b2c, .eps = eps,
               .coef_m = coef_m, .coef_g = coef_g, .v_corr = v_corr, .wd = wd};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, nadam_span, &j);
}

void FL_FN(fl_rmsprop)(fl_ctx *ctx, float *w, const float *g, float *ms, float *mg, float *mom,
                       size_t n, float lr, float rho, float rc, float momentum, float eps, float wd) {
  opt_job j = {.w = w, .g = g, .m = ms, .v = mg, .extra = mom, .lr = lr, .rho = rho, .rc = rc,
               .momentum = momentum, .eps = eps, .wd = wd};
  fl_parallel_range(ctx, n, FL_PARALLEL_MIN, rmsprop_span, &j);
}
