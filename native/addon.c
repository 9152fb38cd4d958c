/*
 * N-API binding: the only file that knows N-API. It turns JS arguments into pointers and
 * dimensions, checks every buffer size again (a direct call with a wrong size throws instead of
 * reading out of bounds), calls the kernel table of the selected instruction set, and turns a
 * failed scratch allocation into a thrown Error. Kernels never abort the process.
 *
 * State (thread pool, scratch, kernel table) is per N-API environment, so each worker_thread
 * that loads the addon gets its own pool.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl.h"

typedef struct addon_state {
  fl_ctx ctx;
  const fl_kernels *k;
} addon_state;

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_state *s = data;
  fl_pool_destroy(s->ctx.pool);
  fl_scratch_free(&s->ctx);
  free(s);
}

static int default_threads(void) {
  const char *env = getenv("FITLAB_THREADS");
  if (env && *env) {
    int n = atoi(env);
    if (n >= 1) return n > FL_MAX_THREADS ? FL_MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > FL_MAX_THREADS ? FL_MAX_THREADS : (int)n;
}

/* ---- argument helpers: each returns 0 after throwing ---------------------------------------- */

typedef struct call {
  napi_env env;
  const char *fn;
  napi_value argv[16];
  size_t argc;
  addon_state *s;
} call;

static int fail(call *c, const char *kind, const char *fmt, ...) {
  char msg[320];
  char body[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s: %s", c->fn, body);
  if (strcmp(kind, "type") == 0) napi_throw_type_error(c->env, NULL, msg);
  else if (strcmp(kind, "range") == 0) napi_throw_range_error(c->env, NULL, msg);
  else napi_throw_error(c->env, NULL, msg);
  return 0;
}

static int begin(call *c, napi_env env, napi_callback_info info, const char *fn, size_t want) {
  c->env = env;
  c->fn = fn;
  c->argc = 16;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, NULL) != napi_ok) return 0;
  if (c->argc < want) return fail(c, "type", "expected %.0f arguments", (double)want);
  void *data = NULL;
  napi_get_instance_data(env, &data);
  c->s = data;
  return 1;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

static int typed(call *c, int i, const char *name, napi_typedarray_type want, const char *tname,
                 void **ptr, size_t *len, int nullable) {
  napi_value v = c->argv[i];
  if (nullable && is_nullish(c->env, v)) {
    *ptr = NULL;
    *len = 0;
    return 1;
  }
  bool is = false;
  napi_is_typedarray(c->env, v, &is);
  napi_typedarray_type type;
  if (!is || napi_get_typedarray_info(c->env, v, &type, len, ptr, NULL, NULL) != napi_ok || type != want) {
    char fmt[96];
    snprintf(fmt, sizeof fmt, "%%s must be a %s%s", tname, nullable ? " or null" : "");
    return fail(c, "type", fmt, name);
  }
  return 1;
}

static int f32(call *c, int i, const char *name, float **p, size_t need, int nullable) {
  size_t len;
  if (!typed(c, i, name, napi_float32_array, "Float32Array", (void **)p, &len, nullable)) return 0;
  if (*p && len != need) return fail(c, "range", "%s has the wrong length (expected %.0f)", name, (double)need);
  return 1;
}

static int i32(call *c, int i, const char *name, int32_t **p, size_t need) {
  size_t len;
  if (!typed(c, i, name, napi_int32_array, "Int32Array", (void **)p, &len, 0)) return 0;
  if (len != need) return fail(c, "range", "%s has the wrong length (expected %.0f)", name, (double)need);
  return 1;
}

static int num(call *c, int i, const char *name, double *out) {
  if (napi_get_value_double(c->env, c->argv[i], out) != napi_ok) return fail(c, "type", "%s must be a number", name);
  return 1;
}

static int integer(call *c, int i, const char *name, int min, int *out) {
  double d;
  if (!num(c, i, name, &d)) return 0;
  if (d != (double)(int64_t)d || d < min || d > 2147483647.0) {
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%%s must be an integer >= %d; received %%g", min);
    return fail(c, "range", fmt, name, d);
  }
  *out = (int)d;
  return 1;
}

static int flag(call *c, int i, int *out) {
  bool b = false;
  napi_valuetype t;
  napi_typeof(c->env, c->argv[i], &t);
  if (t == napi_boolean) napi_get_value_bool(c->env, c->argv[i], &b);
  else {
    double d = 0;
    napi_get_value_double(c->env, c->argv[i], &d);
    b = d != 0;
  }
  *out = b;
  return 1;
}

/* A geometry Int32Array(13); windows must touch the input and sizes stay below 2^31. */
static int geom(call *c, int i, fl_geom *g) {
  int32_t *p;
  if (!i32(c, i, "geometry", &p, 13)) return 0;
  g->n = p[0]; g->h = p[1]; g->w = p[2]; g->c = p[3]; g->kh = p[4]; g->kw = p[5]; g->f = p[6];
  g->sh = p[7]; g->sw = p[8]; g->pt = p[9]; g->pl = p[10]; g->oh = p[11]; g->ow = p[12];
  for (int k = 0; k < 13; k++) {
    if (p[k] < (k == 9 || k == 10 ? 0 : 1)) return fail(c, "range", "%s entries must be positive; found %g", "geometry", (double)p[k]);
  }
  if (g->pt >= g->kh || g->pl >= g->kw || (int64_t)(g->oh - 1) * g->sh - g->pt >= g->h ||
      (int64_t)(g->ow - 1) * g->sw - g->pl >= g->w) {
    return fail(c, "range", "%s does not describe windows inside the input", "geometry");
  }
  if ((int64_t)g->kh * g->kw > FL_MAX_TAPS) return fail(c, "range", "%s window has more than %.0f cells", "geometry", (double)FL_MAX_TAPS);
  const double big = 2147483647.0;
  if ((double)g->n * g->h * g->w * g->c > big || (double)g->n * g->oh * g->ow * g->f > big ||
      (double)g->n * g->oh * g->ow * g->c > big) {
    return fail(c, "range", "%s tensors must have fewer than 2^31 elements", "geometry");
  }
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

/* After a kernel: scratch exhaustion becomes an Error (the output is not trustworthy). */
static napi_value done(call *c, napi_value result) {
  if (c->s->ctx.oom) {
    c->s->ctx.oom = 0;
    napi_throw_error(c->env, "ENOMEM", "fitlab native: out of memory for kernel scratch buffers");
    return NULL;
  }
  return result ? result : undefined(c->env);
}

#define BEGIN(name, nargs)                             \
  FL_FLUSH_DENORMALS_IN_SCOPE;                         \
  call c;                                              \
  if (!begin(&c, env, info, name, nargs)) return NULL; \
  const fl_kernels *K = c.s->k;                        \
  fl_ctx *ctx = &c.s->ctx;                             \
  (void)K;                                             \
  (void)ctx

#define TRY(x) \
  if (!(x)) return NULL

/* ---- BLAS-1 ------------------------------------------------------------------------------ */

static size_t len_of(call *c, int i) {
  void *p;
  size_t len = 0;
  napi_typedarray_type t;
  bool is = false;
  napi_is_typedarray(c->env, c->argv[i], &is);
  if (is) napi_get_typedarray_info(c->env, c->argv[i], &t, &len, &p, NULL, NULL);
  return len;
}

static napi_value js_fill(napi_env env, napi_callback_info info) {
  BEGIN("fill", 2);
  float *y; double v;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(num(&c, 1, "value", &v));
  K->fill(ctx, y, n, (float)v);
  return done(&c, NULL);
}

static napi_value js_copy(napi_env env, napi_callback_info info) {
  BEGIN("copy", 2);
  float *y, *x;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(f32(&c, 1, "x", &x, n, 0));
  K->copy(ctx, y, x, n);
  return done(&c, NULL);
}

static napi_value js_add(napi_env env, napi_callback_info info) {
  BEGIN("add", 3);
  float *y, *a, *b;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(f32(&c, 1, "a", &a, n, 0)); TRY(f32(&c, 2, "b", &b, n, 0));
  K->add(ctx, y, a, b, n);
  return done(&c, NULL);
}

static napi_value js_axpy(napi_env env, napi_callback_info info) {
  BEGIN("axpy", 3);
  float *y, *x; double alpha;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(num(&c, 1, "alpha", &alpha)); TRY(f32(&c, 2, "x", &x, n, 0));
  K->axpy(ctx, y, (float)alpha, x, n);
  return done(&c, NULL);
}

static napi_value js_scale(napi_env env, napi_callback_info info) {
  BEGIN("scale", 2);
  float *y; double alpha;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(num(&c, 1, "alpha", &alpha));
  K->scale(ctx, y, (float)alpha, n);
  return done(&c, NULL);
}

static napi_value js_sumsq(napi_env env, napi_callback_info info) {
  BEGIN("sumSquares", 1);
  float *x;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "x", &x, n, 0));
  return done(&c, number(env, K->sumsq(ctx, x, n)));
}

/* ---- GEMM and Dense ------------------------------------------------------------------------ */

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  BEGIN("gemm", 13);
  int ta, tb, m, n, k, lda, ldb, ldc;
  double alpha, beta;
  float *a, *b, *cc;
  TRY(flag(&c, 0, &ta)); TRY(flag(&c, 1, &tb));
  TRY(integer(&c, 2, "m", 1, &m)); TRY(integer(&c, 3, "n", 1, &n)); TRY(integer(&c, 4, "k", 1, &k));
  TRY(num(&c, 5, "alpha", &alpha));
  TRY(integer(&c, 7, "lda", 1, &lda)); TRY(integer(&c, 9, "ldb", 1, &ldb));
  TRY(num(&c, 10, "beta", &beta)); TRY(integer(&c, 12, "ldc", 1, &ldc));
  const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  if (lda < ac || ldb < bc || ldc < n) return (void)fail(&c, "range", "%s leading dimension too small", "a, b or c"), NULL;
  size_t la = len_of(&c, 6), lb = len_of(&c, 8), lc = len_of(&c, 11);
  if (la < (size_t)(ar - 1) * lda + ac) return (void)fail(&c, "range", "%s is too short for its shape (%.0f elements needed)", "a", (double)((size_t)(ar - 1) * lda + ac)), NULL;
  if (lb < (size_t)(br - 1) * ldb + bc) return (void)fail(&c, "range", "%s is too short for its shape (%.0f elements needed)", "b", (double)((size_t)(br - 1) * ldb + bc)), NULL;
  if (lc < (size_t)(m - 1) * ldc + n) return (void)fail(&c, "range", "%s is too short for its shape (%.0f elements needed)", "c", (double)((size_t)(m - 1) * ldc + n)), NULL;
  TRY(f32(&c, 6, "a", &a, la, 0)); TRY(f32(&c, 8, "b", &b, lb, 0)); TRY(f32(&c, 11, "c", &cc, lc, 0));
  K->gemm(ctx, ta, tb, m, n, k, (float)alpha, a, lda, b, ldb, (float)beta, cc, ldc);
  return done(&c, NULL);
}

/* denseForward(y, x, w, b, batch, inF, outF, relu) */
static napi_value js_dense_fwd(napi_env env, napi_callback_info info) {
  BEGIN("denseForward", 8);
  int batch, in, out, relu;
  float *y, *x, *w, *b;
  TRY(integer(&c, 4, "batch", 1, &batch)); TRY(integer(&c, 5, "inF", 1, &in)); TRY(integer(&c, 6, "outF", 1, &out));
  TRY(flag(&c, 7, &relu));
  TRY(f32(&c, 0, "y", &y, (size_t)batch * out, 0)); TRY(f32(&c, 1, "x", &x, (size_t)batch * in, 0));
  TRY(f32(&c, 2, "w", &w, (size_t)in * out, 0)); TRY(f32(&c, 3, "b", &b, (size_t)out, 1));
  K->dense_fwd(ctx, y, x, w, b, batch, in, out, relu);
  return done(&c, NULL);
}

/* denseBackward(dx, dw, db, dy, y, x, w, batch, inF, outF, relu) */
static napi_value js_dense_bwd(napi_env env, napi_callback_info info) {
  BEGIN("denseBackward", 11);
  int batch, in, out, relu;
  float *dx, *dw, *db, *dy, *y, *x, *w;
  TRY(integer(&c, 7, "batch", 1, &batch)); TRY(integer(&c, 8, "inF", 1, &in)); TRY(integer(&c, 9, "outF", 1, &out));
  TRY(flag(&c, 10, &relu));
  TRY(f32(&c, 0, "dx", &dx, (size_t)batch * in, 1)); TRY(f32(&c, 1, "dw", &dw, (size_t)in * out, 1));
  TRY(f32(&c, 2, "db", &db, (size_t)out, 1)); TRY(f32(&c, 3, "dy", &dy, (size_t)batch * out, 0));
  TRY(f32(&c, 4, "y", &y, (size_t)batch * out, !relu)); TRY(f32(&c, 5, "x", &x, (size_t)batch * in, 0));
  TRY(f32(&c, 6, "w", &w, (size_t)in * out, 0));
  K->dense_bwd(ctx, dx, dw, db, dy, y, x, w, batch, in, out, relu);
  return done(&c, NULL);
}

/* ---- Conv2D ------------------------------------------------------------------------------ */

#define XN(g) ((size_t)(g).n * (g).h * (g).w * (g).c)
#define YN(g) ((size_t)(g).n * (g).oh * (g).ow * (g).f)
#define WN(g) ((size_t)(g).kh * (g).kw * (g).c * (g).f)
#define PN(g) ((size_t)(g).n * (g).oh * (g).ow * (g).c)

/* conv2dForward(y, x, w, b, geometry, relu) */
static napi_value js_conv_fwd(napi_env env, napi_callback_info info) {
  BEGIN("conv2dForward", 6);
  fl_geom g;
  int relu;
  float *y, *x, *w, *b;
  TRY(geom(&c, 4, &g)); TRY(flag(&c, 5, &relu));
  TRY(f32(&c, 0, "y", &y, YN(g), 0)); TRY(f32(&c, 1, "x", &x, XN(g), 0));
  TRY(f32(&c, 2, "w", &w, WN(g), 0)); TRY(f32(&c, 3, "b", &b, (size_t)g.f, 1));
  K->conv_fwd(ctx, y, x, w, b, &g, relu);
  return done(&c, NULL);
}

/* conv2dBackward(dx, dw, db, dy, y, x, w, geometry, relu) */
static napi_value js_conv_bwd(napi_env env, napi_callback_info info) {
  BEGIN("conv2dBackward", 9);
  fl_geom g;
  int relu;
  float *dx, *dw, *db, *dy, *y, *x, *w;
  TRY(geom(&c, 7, &g)); TRY(flag(&c, 8, &relu));
  TRY(f32(&c, 0, "dx", &dx, XN(g), 1)); TRY(f32(&c, 1, "dw", &dw, WN(g), 1));
  TRY(f32(&c, 2, "db", &db, (size_t)g.f, 1)); TRY(f32(&c, 3, "dy", &dy, YN(g), 0));
  TRY(f32(&c, 4, "y", &y, YN(g), !relu)); TRY(f32(&c, 5, "x", &x, XN(g), 0));
  TRY(f32(&c, 6, "w", &w, WN(g), 0));
  K->conv_bwd(ctx, dx, dw, db, dy, y, x, w, &g, relu);
  return done(&c, NULL);
}

/* ---- pooling ----------------------------------------------------------------------------- */

/* maxPoolForward(y, argmax, x, geometry) */
static napi_value js_maxpool_fwd(napi_env env, napi_callback_info info) {
  BEGIN("maxPoolForward", 4);
  fl_geom g;
  float *y, *x;
  int32_t *arg;
  TRY(geom(&c, 3, &g));
  TRY(f32(&c, 0, "y", &y, PN(g), 0)); TRY(i32(&c, 1, "argmax", &arg, PN(g))); TRY(f32(&c, 2, "x", &x, XN(g), 0));
  K->maxpool_fwd(ctx, y, arg, x, &g);
  return done(&c, NULL);
}

/* maxPoolBackward(dx, dy, argmax, geometry): argmax entries must index dx's own image */
static napi_value js_maxpool_bwd(napi_env env, napi_callback_info info) {
  BEGIN("maxPoolBackward", 4);
  fl_geom g;
  float *dx, *dy;
  int32_t *arg;
  TRY(geom(&c, 3, &g));
  TRY(f32(&c, 0, "dx", &dx, XN(g), 0)); TRY(f32(&c, 1, "dy", &dy, PN(g), 0)); TRY(i32(&c, 2, "argmax", &arg, PN(g)));
  const size_t per_in = (size_t)g.h * g.w * g.c, per_out = (size_t)g.oh * g.ow * g.c;
  for (size_t i = 0; i < PN(g); i++) {
    const size_t img = i / per_out;
    if (arg[i] < 0 || (size_t)arg[i] < img * per_in || (size_t)arg[i] >= (img + 1) * per_in) {
      return (void)fail(&c, "range", "%s[%.0f] does not point into its image", "argmax", (double)i), NULL;
    }
  }
  K->maxpool_bwd(ctx, dx, dy, arg, &g);
  return done(&c, NULL);
}

static napi_value js_avgpool_fwd(napi_env env, napi_callback_info info) {
  BEGIN("avgPoolForward", 3);
  fl_geom g;
  float *y, *x;
  TRY(geom(&c, 2, &g));
  TRY(f32(&c, 0, "y", &y, PN(g), 0)); TRY(f32(&c, 1, "x", &x, XN(g), 0));
  K->avgpool_fwd(ctx, y, x, &g);
  return done(&c, NULL);
}

static napi_value js_avgpool_bwd(napi_env env, napi_callback_info info) {
  BEGIN("avgPoolBackward", 3);
  fl_geom g;
  float *dx, *dy;
  TRY(geom(&c, 2, &g));
  TRY(f32(&c, 0, "dx", &dx, XN(g), 0)); TRY(f32(&c, 1, "dy", &dy, PN(g), 0));
  K->avgpool_bwd(ctx, dx, dy, &g);
  return done(&c, NULL);
}

static int dims3(call *c, int i, int *n, int *hw, int *ch) {
  return integer(c, i, "n", 1, n) && integer(c, i + 1, "hw", 1, hw) && integer(c, i + 2, "c", 1, ch);
}

/* globalMaxPoolForward(y, argmax, x, n, hw, c) */
static napi_value js_gmaxpool_fwd(napi_env env, napi_callback_info info) {
  BEGIN("globalMaxPoolForward", 6);
  int n, hw, ch;
  float *y, *x;
  int32_t *arg;
  TRY(dims3(&c, 3, &n, &hw, &ch));
  TRY(f32(&c, 0, "y", &y, (size_t)n * ch, 0)); TRY(i32(&c, 1, "argmax", &arg, (size_t)n * ch));
  TRY(f32(&c, 2, "x", &x, (size_t)n * hw * ch, 0));
  K->gmaxpool_fwd(ctx, y, arg, x, n, hw, ch);
  return done(&c, NULL);
}

/* globalMaxPoolBackward(dx, dy, argmax, n, hw, c) */
static napi_value js_gmaxpool_bwd(napi_env env, napi_callback_info info) {
  BEGIN("globalMaxPoolBackward", 6);
  int n, hw, ch;
  float *dx, *dy;
  int32_t *arg;
  TRY(dims3(&c, 3, &n, &hw, &ch));
  TRY(f32(&c, 0, "dx", &dx, (size_t)n * hw * ch, 0)); TRY(f32(&c, 1, "dy", &dy, (size_t)n * ch, 0));
  TRY(i32(&c, 2, "argmax", &arg, (size_t)n * ch));
  for (size_t i = 0; i < (size_t)n * ch; i++) {
    const size_t img = i / ch, per = (size_t)hw * ch;
    if (arg[i] < 0 || (size_t)arg[i] < img * per || (size_t)arg[i] >= (img + 1) * per) {
      return (void)fail(&c, "range", "%s[%.0f] does not point into its image", "argmax", (double)i), NULL;
    }
  }
  K->gmaxpool_bwd(ctx, dx, dy, arg, n, hw, ch);
  return done(&c, NULL);
}

static napi_value js_gavgpool_fwd(napi_env env, napi_callback_info info) {
  BEGIN("globalAvgPoolForward", 5);
  int n, hw, ch;
  float *y, *x;
  TRY(dims3(&c, 2, &n, &hw, &ch));
  TRY(f32(&c, 0, "y", &y, (size_t)n * ch, 0)); TRY(f32(&c, 1, "x", &x, (size_t)n * hw * ch, 0));
  K->gavgpool_fwd(ctx, y, x, n, hw, ch);
  return done(&c, NULL);
}

static napi_value js_gavgpool_bwd(napi_env env, napi_callback_info info) {
  BEGIN("globalAvgPoolBackward", 5);
  int n, hw, ch;
  float *dx, *dy;
  TRY(dims3(&c, 2, &n, &hw, &ch));
  TRY(f32(&c, 0, "dx", &dx, (size_t)n * hw * ch, 0)); TRY(f32(&c, 1, "dy", &dy, (size_t)n * ch, 0));
  K->gavgpool_bwd(ctx, dx, dy, n, hw, ch);
  return done(&c, NULL);
}

/* ---- batch norm -------------------------------------------------------------------------- */

/* batchNormTrainForward(y, mean, invStd, movingMean, movingVar, x, gamma, beta, rows, c, momentum, eps, relu) */
static napi_value js_bn_train(napi_env env, napi_callback_info info) {
  BEGIN("batchNormTrainForward", 13);
  int rows, ch, relu;
  double mom, eps;
  float *y, *mean, *inv, *mm, *mv, *x, *gamma, *beta;
  TRY(integer(&c, 8, "rows", 1, &rows)); TRY(integer(&c, 9, "c", 1, &ch));
  TRY(num(&c, 10, "momentum", &mom)); TRY(num(&c, 11, "epsilon", &eps)); TRY(flag(&c, 12, &relu));
  const size_t N = (size_t)rows * ch;
  TRY(f32(&c, 0, "y", &y, N, 0)); TRY(f32(&c, 1, "mean", &mean, ch, 0)); TRY(f32(&c, 2, "invStd", &inv, ch, 0));
  TRY(f32(&c, 3, "movingMean", &mm, ch, 0)); TRY(f32(&c, 4, "movingVar", &mv, ch, 0));
  TRY(f32(&c, 5, "x", &x, N, 0)); TRY(f32(&c, 6, "gamma", &gamma, ch, 1)); TRY(f32(&c, 7, "beta", &beta, ch, 1));
  K->bn_train_fwd(ctx, y, mean, inv, mm, mv, x, gamma, beta, rows, ch, (float)mom, (float)eps, relu);
  return done(&c, NULL);
}

/* batchNormInferForward(y, x, gamma, beta, movingMean, movingVar, rows, c, eps, relu) */
static napi_value js_bn_infer(napi_env env, napi_callback_info info) {
  BEGIN("batchNormInferForward", 10);
  int rows, ch, relu;
  double eps;
  float *y, *x, *gamma, *beta, *mm, *mv;
  TRY(integer(&c, 6, "rows", 1, &rows)); TRY(integer(&c, 7, "c", 1, &ch));
  TRY(num(&c, 8, "epsilon", &eps)); TRY(flag(&c, 9, &relu));
  const size_t N = (size_t)rows * ch;
  TRY(f32(&c, 0, "y", &y, N, 0)); TRY(f32(&c, 1, "x", &x, N, 0)); TRY(f32(&c, 2, "gamma", &gamma, ch, 1));
  TRY(f32(&c, 3, "beta", &beta, ch, 1)); TRY(f32(&c, 4, "movingMean", &mm, ch, 0)); TRY(f32(&c, 5, "movingVar", &mv, ch, 0));
  K->bn_infer_fwd(ctx, y, x, gamma, beta, mm, mv, rows, ch, (float)eps, relu);
  return done(&c, NULL);
}

/* batchNormBackward(dx, dgamma, dbeta, dy, y, x, mean, invStd, gamma, rows, c, relu) */
static napi_value js_bn_bwd(napi_env env, napi_callback_info info) {
  BEGIN("batchNormBackward", 12);
  int rows, ch, relu;
  float *dx, *dg, *dbt, *dy, *y, *x, *mean, *inv, *gamma;
  TRY(integer(&c, 9, "rows", 1, &rows)); TRY(integer(&c, 10, "c", 1, &ch)); TRY(flag(&c, 11, &relu));
  const size_t N = (size_t)rows * ch;
  TRY(f32(&c, 0, "dx", &dx, N, 0)); TRY(f32(&c, 1, "dgamma", &dg, ch, 1)); TRY(f32(&c, 2, "dbeta", &dbt, ch, 1));
  TRY(f32(&c, 3, "dy", &dy, N, 0)); TRY(f32(&c, 4, "y", &y, N, !relu)); TRY(f32(&c, 5, "x", &x, N, 0));
  TRY(f32(&c, 6, "mean", &mean, ch, 0)); TRY(f32(&c, 7, "invStd", &inv, ch, 0)); TRY(f32(&c, 8, "gamma", &gamma, ch, 1));
  K->bn_bwd(ctx, dx, dg, dbt, dy, y, x, mean, inv, gamma, rows, ch, relu);
  return done(&c, NULL);
}

/* ---- activations, softmax, dropout --------------------------------------------------------- */

static int act_kind(call *c, int i, int *kind) {
  char name[32];
  size_t len = 0;
  if (napi_get_value_string_utf8(c->env, c->argv[i], name, sizeof name, &len) != napi_ok) {
    return fail(c, "type", "%s must be a string", "kind");
  }
  static const char *names[] = {"linear", "relu", "elu", "leaky_relu", "sigmoid", "tanh"};
  for (int k = 0; k < 6; k++) {
    if (strcmp(name, names[k]) == 0) {
      *kind = k;
      return 1;
    }
  }
  return fail(c, "range", "%s must be linear, relu, elu, leaky_relu, sigmoid or tanh", "kind");
}

/* activationForward(kind, y, x, alpha) */
static napi_value js_act_fwd(napi_env env, napi_callback_info info) {
  BEGIN("activationForward", 4);
  int kind;
  double alpha;
  float *y, *x;
  TRY(act_kind(&c, 0, &kind));
  size_t n = len_of(&c, 1);
  TRY(f32(&c, 1, "y", &y, n, 0)); TRY(f32(&c, 2, "x", &x, n, 0)); TRY(num(&c, 3, "alpha", &alpha));
  K->act_fwd(ctx, kind, y, x, n, (float)alpha);
  return done(&c, NULL);
}

/* activationBackward(kind, dx, dy, x, y, alpha) */
static napi_value js_act_bwd(napi_env env, napi_callback_info info) {
  BEGIN("activationBackward", 6);
  int kind;
  double alpha;
  float *dx, *dy, *x, *y;
  TRY(act_kind(&c, 0, &kind));
  size_t n = len_of(&c, 1);
  TRY(f32(&c, 1, "dx", &dx, n, 0)); TRY(f32(&c, 2, "dy", &dy, n, 0)); TRY(f32(&c, 3, "x", &x, n, 0));
  TRY(f32(&c, 4, "y", &y, n, 0)); TRY(num(&c, 5, "alpha", &alpha));
  K->act_bwd(ctx, kind, dx, dy, x, y, n, (float)alpha);
  return done(&c, NULL);
}

static napi_value js_softmax_fwd(napi_env env, napi_callback_info info) {
  BEGIN("softmaxForward", 4);
  int rows, cols;
  float *y, *x;
  TRY(integer(&c, 2, "rows", 1, &rows)); TRY(integer(&c, 3, "cols", 1, &cols));
  TRY(f32(&c, 0, "y", &y, (size_t)rows * cols, 0)); TRY(f32(&c, 1, "x", &x, (size_t)rows * cols, 0));
  K->softmax_fwd(ctx, y, x, rows, cols);
  return done(&c, NULL);
}

static napi_value js_softmax_bwd(napi_env env, napi_callback_info info) {
  BEGIN("softmaxBackward", 5);
  int rows, cols;
  float *dx, *dy, *y;
  TRY(integer(&c, 3, "rows", 1, &rows)); TRY(integer(&c, 4, "cols", 1, &cols));
  const size_t N = (size_t)rows * cols;
  TRY(f32(&c, 0, "dx", &dx, N, 0)); TRY(f32(&c, 1, "dy", &dy, N, 0)); TRY(f32(&c, 2, "y", &y, N, 0));
  K->softmax_bwd(ctx, dx, dy, y, rows, cols);
  return done(&c, NULL);
}

static int rate_arg(call *c, int i, double *rate) {
  if (!num(c, i, "rate", rate)) return 0;
  if (!(*rate >= 0 && *rate < 1)) return fail(c, "range", "%s must be in [0, 1); received %g", "rate", *rate);
  return 1;
}

/* dropoutForward(y, mask, x, rate, draw) */
static napi_value js_dropout_fwd(napi_env env, napi_callback_info info) {
  BEGIN("dropoutForward", 5);
  float *y, *x;
  uint8_t *mask;
  uint32_t *draw;
  size_t mlen, dlen;
  double rate;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "y", &y, n, 0)); TRY(f32(&c, 2, "x", &x, n, 0)); TRY(rate_arg(&c, 3, &rate));
  TRY(typed(&c, 1, "mask", napi_uint8_array, "Uint8Array", (void **)&mask, &mlen, 0));
  TRY(typed(&c, 4, "draw", napi_uint32_array, "Uint32Array", (void **)&draw, &dlen, 0));
  if (mlen != n) return (void)fail(&c, "range", "%s must have the same length as x (%.0f)", "mask", (double)n), NULL;
  if (dlen != 6) return (void)fail(&c, "range", "%s must be a Uint32Array(6); length %.0f", "draw", (double)dlen), NULL;
  K->dropout_fwd(ctx, y, mask, x, n, rate, draw);
  return done(&c, NULL);
}

/* dropoutBackward(dx, dy, mask, rate) */
static napi_value js_dropout_bwd(napi_env env, napi_callback_info info) {
  BEGIN("dropoutBackward", 4);
  float *dx, *dy;
  uint8_t *mask;
  size_t mlen;
  double rate;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "dx", &dx, n, 0)); TRY(f32(&c, 1, "dy", &dy, n, 0)); TRY(rate_arg(&c, 3, &rate));
  TRY(typed(&c, 2, "mask", napi_uint8_array, "Uint8Array", (void **)&mask, &mlen, 0));
  if (mlen != n) return (void)fail(&c, "range", "%s must have the same length as dy (%.0f)", "mask", (double)n), NULL;
  K->dropout_bwd(ctx, dx, dy, mask, n, rate);
  return done(&c, NULL);
}

/* ---- losses -------------------------------------------------------------------------------- */

/* softmaxCrossEntropy(probs, dlogits, logits, labels, weights, rows, cols, gradScale) */
static napi_value js_softmax_xent(napi_env env, napi_callback_info info) {
  BEGIN("softmaxCrossEntropy", 8);
  int rows, cols;
  double gs;
  float *probs, *dl, *logits, *weights;
  int32_t *labels;
  TRY(integer(&c, 5, "rows", 1, &rows)); TRY(integer(&c, 6, "cols", 1, &cols)); TRY(num(&c, 7, "gradScale", &gs));
  const size_t N = (size_t)rows * cols;
  TRY(f32(&c, 0, "probs", &probs, N, 0)); TRY(f32(&c, 1, "dlogits", &dl, N, 1)); TRY(f32(&c, 2, "logits", &logits, N, 0));
  TRY(i32(&c, 3, "labels", &labels, (size_t)rows)); TRY(f32(&c, 4, "weights", &weights, (size_t)rows, 1));
  for (int r = 0; r < rows; r++) {
    if (labels[r] < 0 || labels[r] >= cols) return (void)fail(&c, "range", "%s[%.0f] is not a class index", "labels", (double)r), NULL;
  }
  return done(&c, number(env, K->softmax_xent(ctx, probs, dl, logits, labels, weights, rows, cols, (float)gs)));
}

/* categoricalCrossEntropy(probs, dlogits, logits, targets, weights, rows, cols, gradScale) */
static napi_value js_cat_xent(napi_env env, napi_callback_info info) {
  BEGIN("categoricalCrossEntropy", 8);
  int rows, cols;
  double gs;
  float *probs, *dl, *logits, *targets, *weights;
  TRY(integer(&c, 5, "rows", 1, &rows)); TRY(integer(&c, 6, "cols", 1, &cols)); TRY(num(&c, 7, "gradScale", &gs));
  const size_t N = (size_t)rows * cols;
  TRY(f32(&c, 0, "probs", &probs, N, 0)); TRY(f32(&c, 1, "dlogits", &dl, N, 1)); TRY(f32(&c, 2, "logits", &logits, N, 0));
  TRY(f32(&c, 3, "targets", &targets, N, 0)); TRY(f32(&c, 4, "weights", &weights, (size_t)rows, 1));
  return done(&c, number(env, K->cat_xent(ctx, probs, dl, logits, targets, weights, rows, cols, (float)gs)));
}

/* meanSquaredError(dpred, pred, target, weights, rows, cols, gradScale) */
static napi_value js_mse(napi_env env, napi_callback_info info) {
  BEGIN("meanSquaredError", 7);
  int rows, cols;
  double gs;
  float *dp, *pred, *target, *weights;
  TRY(integer(&c, 4, "rows", 1, &rows)); TRY(integer(&c, 5, "cols", 1, &cols)); TRY(num(&c, 6, "gradScale", &gs));
  const size_t N = (size_t)rows * cols;
  TRY(f32(&c, 0, "dpred", &dp, N, 1)); TRY(f32(&c, 1, "pred", &pred, N, 0)); TRY(f32(&c, 2, "target", &target, N, 0));
  TRY(f32(&c, 3, "weights", &weights, (size_t)rows, 1));
  return done(&c, number(env, K->mse(ctx, dp, pred, target, weights, rows, cols, (float)gs)));
}

/* countCorrect(scores, labels, rows, cols, k) */
static napi_value js_count_correct(napi_env env, napi_callback_info info) {
  BEGIN("countCorrect", 5);
  int rows, cols, k;
  float *scores;
  int32_t *labels;
  TRY(integer(&c, 2, "rows", 1, &rows)); TRY(integer(&c, 3, "cols", 1, &cols)); TRY(integer(&c, 4, "k", 1, &k));
  TRY(f32(&c, 0, "scores", &scores, (size_t)rows * cols, 0)); TRY(i32(&c, 1, "labels", &labels, (size_t)rows));
  for (int r = 0; r < rows; r++) {
    if (labels[r] < 0 || labels[r] >= cols) return (void)fail(&c, "range", "%s[%.0f] is not a class index", "labels", (double)r), NULL;
  }
  return done(&c, number(env, K->count_correct(ctx, scores, labels, rows, cols, k)));
}

/* ---- regularizers and optimizers ----------------------------------------------------------- */

static napi_value js_penalty(napi_env env, napi_callback_info info) {
  BEGIN("penalty", 3);
  float *w;
  double l1, l2;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "w", &w, n, 0)); TRY(num(&c, 1, "l1", &l1)); TRY(num(&c, 2, "l2", &l2));
  return done(&c, number(env, K->penalty(ctx, w, n, (float)l1, (float)l2)));
}

static napi_value js_penalty_grad(napi_env env, napi_callback_info info) {
  BEGIN("penaltyGrad", 4);
  float *dw, *w;
  double l1, l2;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "dw", &dw, n, 0)); TRY(f32(&c, 1, "w", &w, n, 0)); TRY(num(&c, 2, "l1", &l1)); TRY(num(&c, 3, "l2", &l2));
  K->penalty_grad(ctx, dw, w, n, (float)l1, (float)l2);
  return done(&c, NULL);
}

/* sgdUpdate(w, g, velocity, lr, momentum, nesterov, weightDecay) */
static napi_value js_sgd(napi_env env, napi_callback_info info) {
  BEGIN("sgdUpdate", 7);
  float *w, *g, *v;
  double lr, mom, wd;
  int nesterov;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "w", &w, n, 0)); TRY(f32(&c, 1, "g", &g, n, 0)); TRY(f32(&c, 2, "velocity", &v, n, 1));
  TRY(num(&c, 3, "lr", &lr)); TRY(num(&c, 4, "momentum", &mom)); TRY(flag(&c, 5, &nesterov)); TRY(num(&c, 6, "weightDecay", &wd));
  if (mom != 0 && !v) return (void)fail(&c, "type", "%s is needed when momentum is %g", "velocity", mom), NULL;
  K->sgd(ctx, w, g, v, n, (float)lr, (float)mom, nesterov, (float)wd);
  return done(&c, NULL);
}

/* adamUpdate(w, g, m, v, vhat, lr, beta1, beta2, epsilon, step, weightDecay) */
static napi_value js_adam(napi_env env, napi_callback_info info) {
  BEGIN("adamUpdate", 11);
  float *w, *g, *m, *v, *vh;
  double lr, b1, b2, eps, step, wd;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "w", &w, n, 0)); TRY(f32(&c, 1, "g", &g, n, 0)); TRY(f32(&c, 2, "m", &m, n, 0));
  TRY(f32(&c, 3, "v", &v, n, 0)); TRY(f32(&c, 4, "vhat", &vh, n, 1));
  TRY(num(&c, 5, "lr", &lr)); TRY(num(&c, 6, "beta1", &b1)); TRY(num(&c, 7, "beta2", &b2));
  TRY(num(&c, 8, "epsilon", &eps)); TRY(num(&c, 9, "step", &step)); TRY(num(&c, 10, "weightDecay", &wd));
  if (!(step >= 1)) return (void)fail(&c, "range", "%s must be >= 1; received %g", "step", step), NULL;
  const double alpha_t = lr * sqrt(1.0 - pow(b2, step)) / (1.0 - pow(b1, step));
  K->adam(ctx, w, g, m, v, vh, n, (float)lr, (float)(1.0 - b1), (float)(1.0 - b2), (float)eps, (float)alpha_t, (float)wd);
  return done(&c, NULL);
}

/* nadamUpdate(w, g, m, v, lr, beta1, beta2, epsilon, coefM, coefG, vCorrection, weightDecay) */
static napi_value js_nadam(napi_env env, napi_callback_info info) {
  BEGIN("nadamUpdate", 12);
  float *w, *g, *m, *v;
  double lr, b1, b2, eps, cm, cg, vc, wd;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "w", &w, n, 0)); TRY(f32(&c, 1, "g", &g, n, 0)); TRY(f32(&c, 2, "m", &m, n, 0)); TRY(f32(&c, 3, "v", &v, n, 0));
  TRY(num(&c, 4, "lr", &lr)); TRY(num(&c, 5, "beta1", &b1)); TRY(num(&c, 6, "beta2", &b2)); TRY(num(&c, 7, "epsilon", &eps));
  TRY(num(&c, 8, "coefM", &cm)); TRY(num(&c, 9, "coefG", &cg)); TRY(num(&c, 10, "vCorrection", &vc)); TRY(num(&c, 11, "weightDecay", &wd));
  K->nadam(ctx, w, g, m, v, n, (float)lr, (float)(1.0 - b1), (float)(1.0 - b2), (float)eps, (float)cm, (float)cg, (float)vc, (float)wd);
  return done(&c, NULL);
}

/* rmspropUpdate(w, g, ms, mg, mom, lr, rho, momentum, epsilon, weightDecay) */
static napi_value js_rmsprop(napi_env env, napi_callback_info info) {
  BEGIN("rmspropUpdate", 10);
  float *w, *g, *ms, *mg, *mom;
  double lr, rho, momentum, eps, wd;
  size_t n = len_of(&c, 0);
  TRY(f32(&c, 0, "w", &w, n, 0)); TRY(f32(&c, 1, "g", &g, n, 0)); TRY(f32(&c, 2, "ms", &ms, n, 0));
  TRY(f32(&c, 3, "mg", &mg, n, 1)); TRY(f32(&c, 4, "mom", &mom, n, 1));
  TRY(num(&c, 5, "lr", &lr)); TRY(num(&c, 6, "rho", &rho)); TRY(num(&c, 7, "momentum", &momentum));
  TRY(num(&c, 8, "epsilon", &eps)); TRY(num(&c, 9, "weightDecay", &wd));
  if (momentum > 0 && !mom) return (void)fail(&c, "type", "%s is needed when momentum is %g", "mom", momentum), NULL;
  K->rmsprop(ctx, w, g, ms, mg, mom, n, (float)lr, (float)rho, (float)(1.0 - rho), (float)momentum, (float)eps, (float)wd);
  return done(&c, NULL);
}

/* peakGflops(iterations): the FMA-only throughput of this ISA on all pool threads, in GFLOP/s */
static napi_value js_peak(napi_env env, napi_callback_info info) {
  BEGIN("peakGflops", 1);
  int iters;
  TRY(integer(&c, 0, "iterations", 1, &iters));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const double flops = K->peak(ctx, iters, ctx->threads);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  return number(env, flops / secs / 1e9);
}

/* ---- augmentation ---------------------------------------------------------------------------- */

/* affineWarp(y, x, matrices Float64Array(n·6), n, h, w, c, fill, cval, interp) */
static napi_value js_warp(napi_env env, napi_callback_info info) {
  BEGIN("affineWarp", 10);
  int n, h, w, ch, fill, interp;
  double cval;
  float *y, *x;
  double *m;
  size_t mlen;
  TRY(integer(&c, 3, "n", 1, &n)); TRY(integer(&c, 4, "h", 1, &h)); TRY(integer(&c, 5, "w", 1, &w));
  TRY(integer(&c, 6, "c", 1, &ch)); TRY(integer(&c, 7, "fill", 0, &fill)); TRY(num(&c, 8, "cval", &cval));
  TRY(integer(&c, 9, "interp", 0, &interp));
  if (fill > 3) return (void)fail(&c, "range", "%s must be 0..3 (reflect, wrap, nearest, constant); received %d", "fill", fill), NULL;
  if (interp > 1) return (void)fail(&c, "range", "%s must be 0 (nearest) or 1 (bilinear); received %d", "interp", interp), NULL;
  const size_t N = (size_t)n * h * w * ch;
  TRY(f32(&c, 0, "y", &y, N, 0)); TRY(f32(&c, 1, "x", &x, N, 0));
  TRY(typed(&c, 2, "matrices", napi_float64_array, "Float64Array", (void **)&m, &mlen, 0));
  if (mlen != (size_t)n * 6) return (void)fail(&c, "range", "%s must hold 6 numbers per image (%.0f)", "matrices", (double)n * 6), NULL;
  if (y == x) return (void)fail(&c, "range", "%s must not alias x", "y"), NULL;
  K->warp(ctx, y, x, m, n, h, w, ch, fill, cval, interp);
  return done(&c, NULL);
}

/* ---- control ------------------------------------------------------------------------------- */

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  BEGIN("setThreads", 1);
  int n;
  TRY(integer(&c, 0, "threads", 1, &n));
  if (n > FL_MAX_THREADS) return (void)fail(&c, "range", "%s must be at most %.0f", "threads", (double)FL_MAX_THREADS), NULL;
  fl_pool *p = fl_pool_create(n);
  if (!p) return (void)fail(&c, "error", "%s: could not start the thread pool", "threads"), NULL;
  fl_pool_destroy(ctx->pool);
  ctx->pool = p;
  ctx->threads = fl_pool_threads(p);
  return number(env, ctx->threads);
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  BEGIN("threads", 0);
  return number(env, ctx->threads);
}

static napi_value js_isa(napi_env env, napi_callback_info info) {
  BEGIN("isa", 0);
  napi_value v;
  napi_create_string_utf8(env, K->isa, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* setIsa(name): use a lower instruction set (tests run every path the CPU supports) */
static napi_value js_set_isa(napi_env env, napi_callback_info info) {
  BEGIN("setIsa", 1);
  char name[32];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, c.argv[0], name, sizeof name, &len) != napi_ok) {
    return (void)fail(&c, "type", "%s must be a string", "isa"), NULL;
  }
  const fl_kernels *k = fl_select_kernels(name);
  if (!k) return (void)fail(&c, "range", "%s is not supported on this CPU (or unknown); use avx512, avx2 or generic", "isa"), NULL;
  c.s->k = k;
  return undefined(env);
}

static napi_value js_supports(napi_env env, napi_callback_info info) {
  BEGIN("supports", 1);
  char name[32];
  size_t len = 0;
  napi_get_value_string_utf8(env, c.argv[0], name, sizeof name, &len);
  napi_value v;
  napi_get_boolean(env, fl_cpu_supports(name) && fl_select_kernels(name) != NULL, &v);
  return v;
}

/* addressMod64(typedArray): where the data starts relative to a 64-byte line (for alignment) */
static napi_value js_address_mod64(napi_env env, napi_callback_info info) {
  BEGIN("addressMod64", 1);
  void *p;
  size_t len;
  napi_typedarray_type t;
  bool is = false;
  napi_is_typedarray(env, c.argv[0], &is);
  if (!is) return (void)fail(&c, "type", "%s must be a typed array", "array"), NULL;
  napi_get_typedarray_info(env, c.argv[0], &t, &len, &p, NULL, NULL);
  return number(env, (double)((uintptr_t)p % 64));
}

#define EXPORT(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

static napi_value init(napi_env env, napi_value exports) {
  addon_state *s = calloc(1, sizeof *s);
  if (!s) {
    napi_throw_error(env, NULL, "fitlab native: out of memory at load");
    return NULL;
  }
  const char *isa = getenv("FITLAB_ISA");
  s->k = fl_select_kernels(isa && *isa ? isa : NULL);
  if (!s->k) s->k = fl_select_kernels(NULL);
  s->ctx.pool = fl_pool_create(default_threads());
  s->ctx.threads = fl_pool_threads(s->ctx.pool);
  napi_set_instance_data(env, s, finalize_state, NULL);

  napi_property_descriptor props[] = {
    EXPORT("fill", js_fill), EXPORT("copy", js_copy), EXPORT("add", js_add), EXPORT("axpy", js_axpy),
    EXPORT("scale", js_scale), EXPORT("sumSquares", js_sumsq), EXPORT("gemm", js_gemm),
    EXPORT("denseForward", js_dense_fwd), EXPORT("denseBackward", js_dense_bwd),
    EXPORT("conv2dForward", js_conv_fwd), EXPORT("conv2dBackward", js_conv_bwd),
    EXPORT("maxPoolForward", js_maxpool_fwd), EXPORT("maxPoolBackward", js_maxpool_bwd),
    EXPORT("avgPoolForward", js_avgpool_fwd), EXPORT("avgPoolBackward", js_avgpool_bwd),
    EXPORT("globalMaxPoolForward", js_gmaxpool_fwd), EXPORT("globalMaxPoolBackward", js_gmaxpool_bwd),
    EXPORT("globalAvgPoolForward", js_gavgpool_fwd), EXPORT("globalAvgPoolBackward", js_gavgpool_bwd),
    EXPORT("batchNormTrainForward", js_bn_train), EXPORT("batchNormInferForward", js_bn_infer),
    EXPORT("batchNormBackward", js_bn_bwd), EXPORT("activationForward", js_act_fwd),
    EXPORT("activationBackward", js_act_bwd), EXPORT("softmaxForward", js_softmax_fwd),
    EXPORT("softmaxBackward", js_softmax_bwd), EXPORT("dropoutForward", js_dropout_fwd),
    EXPORT("dropoutBackward", js_dropout_bwd), EXPORT("softmaxCrossEntropy", js_softmax_xent),
    EXPORT("categoricalCrossEntropy", js_cat_xent), EXPORT("meanSquaredError", js_mse),
    EXPORT("countCorrect", js_count_correct), EXPORT("penalty", js_penalty),
    EXPORT("penaltyGrad", js_penalty_grad), EXPORT("sgdUpdate", js_sgd), EXPORT("adamUpdate", js_adam),
    EXPORT("nadamUpdate", js_nadam), EXPORT("rmspropUpdate", js_rmsprop),
    EXPORT("setThreads", js_set_threads), EXPORT("threads", js_threads), EXPORT("isa", js_isa),
    EXPORT("setIsa", js_set_isa), EXPORT("supports", js_supports),
    EXPORT("addressMod64", js_address_mod64), EXPORT("peakGflops", js_peak), EXPORT("affineWarp", js_warp),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
