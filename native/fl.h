/*
 * fitlab native kernels: shared declarations.
 *
 * Every kernel family lives in one file (gemm.c, conv.c, pool.c, norm.c, act.c, loss.c,
 * optim.c, blas.c) and is compiled three times, once per instruction set (AVX-512, AVX2,
 * generic), with FL_FN() giving each copy its own name. ctx.c picks a table at run time;
 * addon.c is the only file that knows N-API.
 *
 * Conventions (STYLE.md): outputs first, then saved buffers, then inputs/weights, then
 * dimensions. Tensors are NHWC float32. Kernels overwrite their outputs unless the comment says
 * they accumulate. Kernels never allocate on the hot path except through fl_scratch(), whose
 * buffers only grow; they never exit() or abort(): argument errors are caught in addon.c.
 */
#ifndef FL_H
#define FL_H

#include <stddef.h>
#include <stdint.h>

#define FL_MAX_THREADS 64

/* ---- subnormal floats ------------------------------------------------------------------------
 * Kernels run with flush-to-zero and denormals-are-zero (as TensorFlow's executor does): L2 and
 * weight decay drive unused weights (an MNIST border pixel's) toward zero geometrically, and once
 * they are subnormal every multiply that touches them takes a microcode assist, which made whole
 * training epochs ~4x slower. Values below 1.2e-38 become 0; nothing else changes. Pool workers
 * set the mode once; a call from JS sets it for its own duration and restores it, so the JS
 * engine's arithmetic on the main thread keeps IEEE subnormals. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <xmmintrin.h>
#define FL_MXCSR_FTZ_DAZ 0x8040u
static inline unsigned fl_flush_denormals(void) {
  unsigned old = _mm_getcsr();
  _mm_setcsr(old | FL_MXCSR_FTZ_DAZ);
  return old;
}
static inline void fl_restore_fp_mode(unsigned *old) { _mm_setcsr(*old); }
/* in a function body: flush subnormals until the function returns */
#define FL_FLUSH_DENORMALS_IN_SCOPE \
  __attribute__((cleanup(fl_restore_fp_mode))) unsigned fl_saved_fp_mode_ = fl_flush_denormals()
#else
static inline unsigned fl_flush_denormals(void) { return 0; }
#define FL_FLUSH_DENORMALS_IN_SCOPE (void)0
#endif

/* ---- thread pool (threadpool.c) ------------------------------------------------------------ */

typedef struct fl_pool fl_pool;
/* One task of a parallel loop: `task` in [0, ntasks), `thread` in [0, threads) (for scratch). */
typedef void (*fl_task_fn)(void *arg, int task, int thread);

fl_pool *fl_pool_create(int threads);
void fl_pool_destroy(fl_pool *pool);
int fl_pool_threads(const fl_pool *pool);
/* Run fn for every task; returns when all are done. The calling thread takes part.
 * Tasks are handed out dynamically, so results must not depend on which thread runs a task. */
void fl_pool_run(fl_pool *pool, int ntasks, fl_task_fn fn, void *arg);

/* ---- context: pool and scratch ------------------------------------------------------------- */

#define FL_SCRATCH_SLOTS 3

typedef struct fl_ctx {
  fl_pool *pool;
  int threads;
  /* per-thread scratch: only thread t touches row t, so growth inside a task is safe */
  float *scratch[FL_MAX_THREADS][FL_SCRATCH_SLOTS];
  size_t scratch_len[FL_MAX_THREADS][FL_SCRATCH_SLOTS];
  /* shared scratch, sized between parallel regions (partial sums, packed panels) */
  float *shared;
  size_t shared_len;
  int oom; /* set when a scratch allocation failed; addon.c turns it into an Error */
} fl_ctx;

/* Per-thread scratch slot of at least n floats, 64-byte aligned, contents undefined.
 * Returns NULL (and sets ctx->oom) when memory runs out. */
float *fl_scratch(fl_ctx *ctx, int thread, int slot, size_t n);
/* Shared scratch of at least n floats; call only outside parallel regions. */
float *fl_shared(fl_ctx *ctx, size_t n);
/* Release all scratch (thread count change, teardown). */
void fl_scratch_free(fl_ctx *ctx);

/* Largest kernel window (kh·kw) the conv kernels accept. */
#define FL_MAX_TAPS 4096

/* Split [0, total) into `parts` contiguous ranges; range i is [*lo, *hi). */
static inline void fl_split(int64_t total, int parts, int i, int64_t *lo, int64_t *hi) {
  int64_t base = total / parts, rem = total % parts;
  *lo = i * base + (i < rem ? i : rem);
  *hi = *lo + base + (i < rem ? 1 : 0);
}


/* ---- parallel ranges ---------------------------------------------------------------------- */

/* chunk: index of this contiguous chunk (for per-chunk partial results); thread: for scratch */
typedef void (*fl_range_fn)(void *arg, size_t lo, size_t hi, int chunk, int thread);

typedef struct fl_range_job {
  fl_range_fn fn;
  void *arg;
  size_t n;
  int parts;
} fl_range_job;

static inline void fl_range_task(void *arg, int task, int thread) {
  const fl_range_job *j = (const fl_range_job *)arg;
  int64_t lo, hi;
  fl_split((int64_t)j->n, j->parts, task, &lo, &hi);
  if (hi > lo) j->fn(j->arg, (size_t)lo, (size_t)hi, task, thread);
}

/* Defines a range callback; FL_SPAN_UNUSED silences the arguments a span does not need. */
#define FL_SPAN(name) static void name(void *arg, size_t lo, size_t hi, int chunk, int thread)
#define FL_SPAN_UNUSED ((void)chunk, (void)thread)

/* Run fn over [0, n) in one contiguous chunk per thread, or inline when n is small. Chunk
 * boundaries depend only on n and the thread count, so reductions by chunk are deterministic. */
static inline int fl_range_parts(fl_ctx *ctx, size_t n, size_t min_parallel) {
  int parts = fl_pool_threads(ctx->pool);
  return n < min_parallel ? 1 : parts;
}

static inline void fl_parallel_range(fl_ctx *ctx, size_t n, size_t min_parallel, fl_range_fn fn,
                                     void *arg) {
  int parts = fl_range_parts(ctx, n, min_parallel);
  if (n < min_parallel || parts <= 1) {
    if (n) fn(arg, 0, n, 0, 0);
    return;
  }
  fl_range_job j = {fn, arg, n, parts};
  fl_pool_run(ctx->pool, parts, fl_range_task, &j);
}

/* ---- geometry ----------------------------------------------------------------------------- */

/* Window geometry, the packed Int32Array(13) of src/backend/geometry.ts:
 * [n, h, w, c, kh, kw, f, sh, sw, pad_top, pad_left, oh, ow]; for pooling f == c. */
typedef struct fl_geom {
  int n, h, w, c, kh, kw, f, sh, sw, pt, pl, oh, ow;
} fl_geom;

/* ---- activations -------------------------------------------------------------------------- */

enum { FL_LINEAR = 0, FL_RELU = 1, FL_ELU = 2, FL_LEAKY_RELU = 3, FL_SIGMOID = 4, FL_TANH = 5 };

/* ---- the kernel table: one per instruction set --------------------------------------------- */

/* Every kernel's C signature comes from the signature table (src/backend/kernels.ts) through the
 * generated native/kernels.gen.h; each family file defines its kernels to match (the
 * declarations below make the compiler check it). The binding (addon.c) computes some scalars in
 * double before rounding: adam's and nadam's b1c, b2c and rmsprop's rc are the complements
 * 1 − β1, 1 − β2, 1 − ρ (rounding β to float first would cost 1e-5 relative in v for
 * β2 = 0.999), and adam's alpha_t = lr·sqrt(1 − β2^t)/(1 − β1^t). */
#include "kernels.gen.h"

#define FL_KERNEL_MEMBER(name, ret, params) ret(*name) params;

typedef struct fl_kernels {
  const char *isa;
  /* benchmark probe: 16 independent vector FMA chains per thread; returns flops executed */
  double (*peak)(fl_ctx *, long iters, int tasks);
  FL_KERNEL_LIST(FL_KERNEL_MEMBER)
} fl_kernels;

extern const fl_kernels fl_kernels_avx512;
extern const fl_kernels fl_kernels_avx2;
extern const fl_kernels fl_kernels_generic;

/* ctx.c: the best table this CPU supports, or the one named ("avx512", "avx2", "generic");
 * NULL when the named one is not supported here. */
const fl_kernels *fl_select_kernels(const char *name);
int fl_cpu_supports(const char *name);

/* philox.c-style helper shared by act.c (dropout) in every arch: Philox4x32-10. */
static inline uint32_t fl_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

static inline void fl_philox4x32(uint32_t out[4], uint32_t c0, uint32_t c1, uint32_t c2,
                                 uint32_t c3, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; r++) {
    uint32_t hi0, hi1;
    uint32_t lo0 = fl_mulhilo32(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = fl_mulhilo32(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* ReLU with NaN propagation (TensorFlow's relu(NaN) = NaN). */
static inline float fl_relu(float x) { return (x > 0.0f || x != x) ? x : 0.0f; }

/* ---- per-arch name mangling ---------------------------------------------------------------- */

#if defined(FL_ARCH_AVX512)
#define FL_FN(name) name##_avx512
#define FL_ISA "avx512"
#elif defined(FL_ARCH_AVX2)
#define FL_FN(name) name##_avx2
#define FL_ISA "avx2"
#else
#define FL_FN(name) name##_generic
#define FL_ISA "generic"
#endif

/* Every kernel's function in this instruction set, declared from the table (see above). */
#define FL_KERNEL_DECLARE(name, ret, params) ret FL_FN(fl_##name) params;
FL_KERNEL_LIST(FL_KERNEL_DECLARE)
double FL_FN(fl_peak)(fl_ctx *ctx, long iters, int tasks);

/* Work below this many elements runs on the calling thread: waking the pool costs more. */
#define FL_PARALLEL_MIN 32768

#endif /* FL_H */
