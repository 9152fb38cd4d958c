/*
 * N-API binding: the only file that knows N-API. One generic binder (js_kernel) serves every
 * kernel, driven by the descriptors generated from the signature table (native/kernels.gen.h):
 * it turns JS arguments into pointers and dimensions, checks every buffer size again (a direct
 * call with a wrong size throws instead of reading out of bounds), calls the kernel table of the
 * selected instruction set, and turns a failed scratch allocation into a thrown Error. Kernels
 * never abort the process.
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

/* ---- the generic kernel binder --------------------------------------------------------------
 * One N-API function serves every kernel of the signature table (src/backend/kernels.ts). The
 * generated native/kernels.gen.h describes each kernel's arguments (fl_arg_spec) and gives a
 * thunk that passes the checked values to the C kernel. The binder reads the scalars and the
 * geometry first (sizes come from them), then every buffer with its length, then the relations
 * between arguments, and only then calls the kernel. */

#include "binding.h"

#define FL_BINDING
#include "kernels.gen.h"

#define XN(g) ((size_t)(g).n * (g).h * (g).w * (g).c)
#define YN(g) ((size_t)(g).n * (g).oh * (g).ow * (g).f)
#define WN(g) ((size_t)(g).kh * (g).kw * (g).c * (g).f)

static const struct { napi_typedarray_type type; const char *name; } TYPED[] = {
  [FLA_F32] = {napi_float32_array, "Float32Array"}, [FLA_I32] = {napi_int32_array, "Int32Array"},
  [FLA_U8] = {napi_uint8_array, "Uint8Array"},      [FLA_U32] = {napi_uint32_array, "Uint32Array"},
  [FLA_F64] = {napi_float64_array, "Float64Array"},
};

/* A string argument from a fixed list; its index is the C code. */
static int enum_arg(call *c, int i, const fl_arg_spec *s, int *out) {
  char name[32];
  size_t len = 0;
  if (napi_get_value_string_utf8(c->env, c->argv[i], name, sizeof name, &len) != napi_ok) {
    return fail(c, "type", "%s must be a string", s->name);
  }
  for (int k = 0; k < s->nvalues; k++) {
    if (strcmp(name, s->values[k]) == 0) {
      *out = k;
      return 1;
    }
  }
  char allowed[160] = ""; /* "a, b or c" */
  for (int k = 0; k < s->nvalues; k++) {
    strncat(allowed, k == 0 ? "" : k == s->nvalues - 1 ? " or " : ", ", sizeof allowed - strlen(allowed) - 1);
    strncat(allowed, s->values[k], sizeof allowed - strlen(allowed) - 1);
  }
  return fail(c, "range", "%s must be %s", s->name, allowed);
}

static int scalar(call *c, int i, const fl_arg_spec *s, fl_val *v, fl_geom *g) {
  switch (s->kind) {
    case FLA_INT: return integer(c, i, s->name, 1, &v->i);
    case FLA_FLAG: case FLA_FUSED: return flag(c, i, &v->i);
    case FLA_ENUM: return enum_arg(c, i, s, &v->i);
    case FLA_GEOM: return geom(c, i, g);
    case FLA_NUM:
      if (!num(c, i, s->name, &v->d)) return 0;
      if (s->range != FLR_NONE && !(v->d >= s->lo && (s->range == FLR_OPEN ? v->d < s->hi : v->d <= s->hi))) {
        return fail(c, "range", "%s must be in [%g, %g%s; received %g", s->name, s->lo, s->hi, s->range == FLR_OPEN ? ")" : "]", v->d);
      }
      return 1;
    default: return 1;
  }
}

/* The length a buffer must have (SIZE_MAX: any, checked elsewhere). */
static size_t expected(const fl_arg_spec *s, const fl_val *a, size_t len, const fl_geom *g) {
  switch (s->size) {
    case FLS_LEN: return len;
    case FLS_CONST: return (size_t)s->scale;
    case FLS_X: return XN(*g);
    case FLS_Y: return YN(*g); /* pooling geometries carry f = c */
    case FLS_W: return WN(*g);
    case FLS_F: return (size_t)g->f;
    case FLS_PROD: {
      size_t n = (size_t)s->scale;
      for (int k = 0; k < 4; k++) if (s->op[k] >= 0) n *= (size_t)a[s->op[k]].i;
      return n;
    }
    default: return SIZE_MAX;
  }
}

static int buffer(call *c, int i, const fl_binding *b, fl_val *a, size_t *lens, size_t *len, const fl_geom *g, int relu) {
  const fl_arg_spec *s = &b->args[i];
  int nullable = s->nullable == FLN_NULL || (s->nullable == FLN_NULL_UNLESS_RELU && !relu);
  void *p;
  if (!typed(c, i, s->name, TYPED[s->kind].type, TYPED[s->kind].name, &p, &lens[i], nullable)) return 0;
  a[i].f = p; /* every pointer member shares the storage */
  if (!p) return 1;
  if (s->size == FLS_SETS_LEN) {
    *len = lens[i];
    return 1;
  }
  const size_t need = expected(s, a, *len, g);
  if (need == SIZE_MAX || lens[i] == need) return 1;
  if (s->kind == FLA_U32) return fail(c, "range", "%s must be a Uint32Array(%d); length %.0f", s->name, s->scale, (double)lens[i]);
  if (s->kind == FLA_U8 && s->size == FLS_LEN) {
    return fail(c, "range", "%s must have the same length as %s (%.0f)", s->name, b->args[s->op[0]].name, (double)need);
  }
  return fail(c, "range", "%s has the wrong length (expected %.0f)", s->name, (double)need);
}

/* Relations between arguments: a buffer some scalar needs, labels in range, saved indexes inside
 * their own image, no aliasing. */
static int relations(call *c, const fl_binding *b, const fl_val *a, const size_t *lens, const fl_geom *g) {
  for (int i = 0; i < b->nargs; i++) {
    const fl_arg_spec *s = &b->args[i];
    if (s->needed_when && !a[i].f && a[s->needed_when - 1].d != 0) {
      return fail(c, "type", "%s is needed when %s is %g", s->name, b->args[s->needed_when - 1].name, a[s->needed_when - 1].d);
    }
    if (s->distinct && a[i].f == a[s->distinct - 1].f) return fail(c, "range", "%s must not alias %s", s->name, b->args[s->distinct - 1].name);
    if (s->classes) {
      for (size_t r = 0; r < lens[i]; r++) {
        if (a[i].i32[r] < 0 || a[i].i32[r] >= a[s->classes - 1].i) return fail(c, "range", "%s[%.0f] is not a class index", s->name, (double)r);
      }
    }
    if (s->indexes) {
      const size_t images = s->images ? (size_t)a[s->images - 1].i : (size_t)g->n;
      const size_t per_in = lens[s->indexes - 1] / images, per_out = lens[i] / images;
      for (size_t k = 0; k < lens[i]; k++) {
        const size_t img = k / per_out;
        const int32_t v = a[i].i32[k];
        if (v < 0 || (size_t)v < img * per_in || (size_t)v >= (img + 1) * per_in) {
          return fail(c, "range", "%s[%.0f] does not point into its image", s->name, (double)k);
        }
      }
    }
  }
  return 1;
}

/* gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): strided matrices */
static int check_gemm(call *c, const fl_val *a, const size_t *lens) {
  const int ta = a[0].i, tb = a[1].i, m = a[2].i, n = a[3].i, k = a[4].i, lda = a[7].i, ldb = a[9].i, ldc = a[12].i;
  const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  if (lda < ac || ldb < bc || ldc < n) return fail(c, "range", "%s leading dimension too small", "a, b or c");
  const struct { const char *name; size_t len, need; } mats[3] = {
    {"a", lens[6], (size_t)(ar - 1) * lda + ac}, {"b", lens[8], (size_t)(br - 1) * ldb + bc}, {"c", lens[11], (size_t)(m - 1) * ldc + n},
  };
  for (int i = 0; i < 3; i++) {
    if (mats[i].len < mats[i].need) return fail(c, "range", "%s is too short for its shape (%.0f elements needed)", mats[i].name, (double)mats[i].need);
  }
  return 1;
}

static napi_value js_kernel(napi_env env, napi_callback_info info) {
  FL_FLUSH_DENORMALS_IN_SCOPE;
  void *data = NULL;
  call c = {.env = env, .argc = 16};
  if (napi_get_cb_info(env, info, &c.argc, c.argv, NULL, &data) != napi_ok) return NULL;
  const fl_binding *b = data;
  c.fn = b->name;
  if (c.argc < (size_t)b->nargs) return (void)fail(&c, "type", "expected %.0f arguments", (double)b->nargs), NULL;
  void *state = NULL;
  napi_get_instance_data(env, &state);
  c.s = state;

  fl_val a[16];
  size_t lens[16] = {0};
  size_t len = 0;
  fl_geom g = {0};
  int relu = 0;
  for (int i = 0; i < b->nargs; i++) {
    if (!scalar(&c, i, &b->args[i], &a[i], &g)) return NULL;
    if (b->args[i].kind == FLA_FUSED) relu = a[i].i;
  }
  for (int i = 0; i < b->nargs; i++) {
    if (b->args[i].kind <= FLA_F64 && !buffer(&c, i, b, a, lens, &len, &g, relu)) return NULL;
  }
  if (!relations(&c, b, a, lens, &g)) return NULL;
  if (b->extra == FLX_GEMM && !check_gemm(&c, a, lens)) return NULL;
  const double result = b->call(c.s->k, &c.s->ctx, a, len, &g);
  return done(&c, b->returns ? number(env, result) : NULL);
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

  napi_property_descriptor props[FL_KERNEL_COUNT + 7] = {
    EXPORT("setThreads", js_set_threads), EXPORT("threads", js_threads), EXPORT("isa", js_isa),
    EXPORT("setIsa", js_set_isa), EXPORT("supports", js_supports),
    EXPORT("addressMod64", js_address_mod64), EXPORT("peakGflops", js_peak),
  };
  for (int i = 0; i < FL_KERNEL_COUNT; i++) {
    props[7 + i] = (napi_property_descriptor){fl_bindings[i].name, NULL, js_kernel, NULL, NULL, NULL, napi_enumerable,
                                              (void *)&fl_bindings[i]};
  }
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
