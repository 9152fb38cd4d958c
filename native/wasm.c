/*
 * The WebAssembly entry: the same kernel sources (the generic 4-lane path, which clang lowers to
 * SIMD128) behind a small C interface that src/backend/wasm/core.ts drives.
 *
 * Built twice by scripts/build-wasm.cjs against wasi-libc (malloc, libm):
 *   - fitlab.wasm: single-threaded; the pool below runs every task on the calling thread
 *     (threadpool.c needs pthreads). The module imports nothing.
 *   - fitlab-threads.wasm (FL_WASM_THREADS, -matomics): a shared memory imported from the host
 *     (env.memory) and a pool whose workers are other instances of the same module on that
 *     memory, one per Web Worker / worker_threads thread (src/backend/wasm/threads.ts), each
 *     parked in fl_wasm_worker. See the pool's comment for why malloc takes a lock.
 *
 * The loader writes a kernel's arguments into `fl_wasm_args` (one fl_val per argument, in the
 * signature table's order, pointers into this module's memory) and its geometry into
 * `fl_wasm_geom`, then calls fl_wasm_call with the kernel's index in the table.
 */
#include <stdlib.h>

#include "binding.h"

#define FL_BINDING
#include "kernels.gen.h"

#ifndef FL_WASM_THREADS
/* ---- the serial pool ---------------------------------------------------------------------- */

struct fl_pool {
  int threads;
};

static fl_pool the_pool = {1};

fl_pool *fl_pool_create(int threads) {
  (void)threads;
  return &the_pool;
}
void fl_pool_destroy(fl_pool *pool) { (void)pool; }
int fl_pool_threads(const fl_pool *pool) {
  (void)pool;
  return 1;
}
void fl_pool_run(fl_pool *pool, int ntasks, fl_task_fn fn, void *arg) {
  (void)pool;
  for (int t = 0; t < ntasks; t++) fn(arg, t, 0);
}
static int pool_resize(int threads) {
  (void)threads;
  return 1;
}
#else
/* ---- the shared-memory pool (fitlab-threads.wasm) ------------------------------------------
 *
 * Like threadpool.c: one job at a time; the caller publishes (fn, arg, ntasks) under a new
 * generation and takes tasks itself; tasks are claimed with a compare-and-swap on a ticket word
 * (generation << 32 | next task), so a worker that still believes in an old generation never
 * runs a task of the new job with the old function. Workers spin briefly between jobs, then
 * sleep in memory.atomic.wait32 on `wake` (the generation's low 32 bits); the caller notifies
 * only when someone sleeps. The caller never waits (a browser's main thread may not): it spins
 * until the tasks it did not run itself are done, and since tasks are claimed dynamically a
 * worker that has not started yet (Worker start-up is asynchronous) costs nothing — the caller
 * runs its share.
 *
 * wasi-libc is built without atomics and is not thread-safe. Inside a task the kernels enter
 * libc only through fl_scratch (posix_memalign/free, ctx.c) and memcpy/memset/libm (no shared
 * state); getenv (gemm.c's tuning) runs on the calling thread before any task. So the build
 * links with --wrap for the allocator's entry points and the wrappers below serialize them
 * with a spinlock. Each worker instance gets its own stack (fl_wasm_set_stack) in memory the
 * caller allocated, and its own globals; data segments are initialized once, by the first
 * instance (wasm-ld's __wasm_init_memory). */
#include <stdatomic.h>

/* ~50-100 µs of spinning before a worker sleeps (training calls kernels back to back) */
#define SPIN_ROUNDS 20000

static atomic_int heap_lock;

static void heap_acquire(void) {
  while (atomic_exchange_explicit(&heap_lock, 1, memory_order_acquire)) {
    while (atomic_load_explicit(&heap_lock, memory_order_relaxed)) {
    }
  }
}
static void heap_release(void) { atomic_store_explicit(&heap_lock, 0, memory_order_release); }

void *__real_malloc(size_t n);
void __real_free(void *p);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);

void *__wrap_malloc(size_t n) {
  heap_acquire();
  void *p = __real_malloc(n);
  heap_release();
  return p;
}
void __wrap_free(void *p) {
  heap_acquire();
  __real_free(p);
  heap_release();
}
void *__wrap_calloc(size_t n, size_t size) {
  heap_acquire();
  void *p = __real_calloc(n, size);
  heap_release();
  return p;
}
void *__wrap_realloc(void *p, size_t n) {
  heap_acquire();
  void *q = __real_realloc(p, n);
  heap_release();
  return q;
}
int __wrap_posix_memalign(void **p, size_t align, size_t n) {
  heap_acquire();
  const int r = __real_posix_memalign(p, align, n);
  heap_release();
  return r;
}
void *__wrap_aligned_alloc(size_t align, size_t n) {
  heap_acquire();
  void *p = __real_aligned_alloc(align, n);
  heap_release();
  return p;
}

typedef struct job {
  fl_task_fn fn;
  void *arg;
  int ntasks;
} job;

struct fl_pool {
  _Atomic int threads;     /* the caller and the workers allowed to take tasks (ids below it) */
  job slots[2];            /* the job of generation g lives in slots[g & 1] */
  uint32_t gen;            /* the caller's copy of the current generation */
  _Atomic uint64_t ticket; /* (generation << 32) | next task index */
  _Atomic int done;        /* tasks finished in the current job */
  _Atomic int wake;        /* the generation's low bits, the word workers sleep on */
  _Atomic int sleepers;
  _Atomic int stop;
  _Atomic int running;     /* workers inside fl_wasm_worker */
  _Atomic int worker_tasks; /* tasks run by workers so far (tests: proof that they take part) */
};

static fl_pool the_pool = {.threads = 1};

/* Claim and run tasks of generation g until none are left. */
static void drain(fl_pool *p, uint32_t g, const job *j, int me) {
  for (;;) {
    uint64_t v = atomic_load_explicit(&p->ticket, memory_order_acquire);
    if ((uint32_t)(v >> 32) != g || (int)(uint32_t)v >= j->ntasks) return;
    if (atomic_compare_exchange_weak_explicit(&p->ticket, &v, v + 1, memory_order_acq_rel,
                                              memory_order_relaxed)) {
      j->fn(j->arg, (int)(uint32_t)v, me);
      if (me) atomic_fetch_add_explicit(&p->worker_tasks, 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
  }
}

fl_pool *fl_pool_create(int threads) {
  (void)threads;
  return &the_pool;
}
void fl_pool_destroy(fl_pool *pool) { (void)pool; }
int fl_pool_threads(const fl_pool *p) { return atomic_load_explicit(&p->threads, memory_order_relaxed); }

static int pool_resize(int threads) {
  if (threads < 1) threads = 1;
  if (threads > FL_MAX_THREADS) threads = FL_MAX_THREADS;
  atomic_store(&the_pool.threads, threads);
  return threads;
}

void fl_pool_run(fl_pool *p, int ntasks, fl_task_fn fn, void *arg) {
  if (ntasks <= 0) return;
  if (fl_pool_threads(p) == 1 || ntasks == 1) {
    for (int t = 0; t < ntasks; t++) fn(arg, t, 0);
    return;
  }
  uint32_t g = ++p->gen;
  if (g == 0) g = ++p->gen; /* generation 0 means "no job yet" to the workers */
  job *j = &p->slots[g & 1];
  j->fn = fn;
  j->arg = arg;
  j->ntasks = ntasks;
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_store(&p->ticket, (uint64_t)g << 32);
  atomic_store(&p->wake, (int)g); /* seq_cst: pairs with the sleepers count below */
  if (atomic_load(&p->sleepers) > 0) __builtin_wasm_memory_atomic_notify((int *)&p->wake, (unsigned)-1);
  job mine = *j;
  drain(p, g, &mine, 0);
  while (atomic_load_explicit(&p->done, memory_order_acquire) < ntasks) {
  }
}

/* A worker's loop (id in [1, 64)): returns only after fl_wasm_stop. Call on a thread that may
 * block (a Web Worker, a worker_threads thread), after fl_wasm_set_stack. */
__attribute__((export_name("fl_wasm_worker"))) int fl_wasm_worker(int id) {
  fl_pool *p = &the_pool;
  if (id < 1 || id >= FL_MAX_THREADS) return -1;
  atomic_fetch_add(&p->running, 1);
  uint32_t seen = 0;
  while (!atomic_load(&p->stop)) {
    uint32_t g = (uint32_t)(atomic_load(&p->ticket) >> 32);
    for (int spins = 0; g == seen && !atomic_load(&p->stop); g = (uint32_t)(atomic_load(&p->ticket) >> 32)) {
      if (++spins < SPIN_ROUNDS) continue;
      atomic_fetch_add(&p->sleepers, 1);
      /* sleeps only while wake still holds the generation already seen (no lost wake-up) */
      if (!atomic_load(&p->stop)) __builtin_wasm_memory_atomic_wait32((int *)&p->wake, (int)seen, -1);
      atomic_fetch_sub(&p->sleepers, 1);
      spins = 0;
    }
    if (g == seen) continue;
    seen = g;
    if (id >= fl_pool_threads(p)) continue; /* fewer threads asked for than workers started */
    /* the slot may be rewritten two generations later; drain() re-checks g before each claim */
    job j = p->slots[g & 1];
    drain(p, g, &j, id);
  }
  atomic_fetch_sub(&p->running, 1);
  return 0;
}

/* Workers inside fl_wasm_worker (started and not yet returned). */
__attribute__((export_name("fl_wasm_workers"))) int fl_wasm_workers(void) { return atomic_load(&the_pool.running); }

/* Tasks that workers (not the caller) have run since the module started. */
__attribute__((export_name("fl_wasm_worker_tasks"))) int fl_wasm_worker_tasks(void) { return atomic_load(&the_pool.worker_tasks); }

/* Ask every worker to return from fl_wasm_worker (before the host terminates them). */
__attribute__((export_name("fl_wasm_stop"))) void fl_wasm_stop(void) {
  atomic_store(&the_pool.stop, 1);
  atomic_fetch_add(&the_pool.wake, 1);
  __builtin_wasm_memory_atomic_notify((int *)&the_pool.wake, (unsigned)-1);
}

/* Point this instance's stack at [top − size, top), memory the caller allocated for it. Must
 * be the instance's first call: the new instance's __stack_pointer starts where the first
 * instance's does, and this function uses no stack itself. */
__attribute__((export_name("fl_wasm_set_stack"))) void fl_wasm_set_stack(void *top) {
  __asm__ volatile("local.get %0\n\tglobal.set __stack_pointer" : : "r"(top));
}
#endif /* FL_WASM_THREADS */

/* ---- the interface ------------------------------------------------------------------------ */

static fl_ctx ctx = {.pool = &the_pool, .threads = 1};
static fl_val args[16];
static fl_geom geom;

__attribute__((export_name("fl_wasm_args"))) fl_val *fl_wasm_args(void) { return args; }
__attribute__((export_name("fl_wasm_geom"))) fl_geom *fl_wasm_geom(void) { return &geom; }
__attribute__((export_name("fl_wasm_count"))) int fl_wasm_count(void) { return FL_KERNEL_COUNT; }
/* the JS name of kernel i (the loader checks the order against its table) */
__attribute__((export_name("fl_wasm_name"))) const char *fl_wasm_name(int i) {
  return i >= 0 && i < FL_KERNEL_COUNT ? fl_bindings[i].name : NULL;
}
__attribute__((export_name("fl_wasm_nargs"))) int fl_wasm_nargs(int i) {
  return i >= 0 && i < FL_KERNEL_COUNT ? fl_bindings[i].nargs : -1;
}

/* 64-byte aligned memory for the loader's argument arena; NULL when memory runs out */
__attribute__((export_name("fl_wasm_alloc"))) void *fl_wasm_alloc(size_t bytes) {
  void *p = NULL;
  return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}
__attribute__((export_name("fl_wasm_free"))) void fl_wasm_free(void *p) { free(p); }

/* Run kernel i on the arguments in fl_wasm_args; len is the shared elementwise length. */
__attribute__((export_name("fl_wasm_call"))) double fl_wasm_call(int i, size_t len) {
  return fl_bindings[i].call(&fl_kernels_generic, &ctx, args, len, &geom);
}

/* 1 once after a kernel's scratch allocation failed (its output is not trustworthy) */
__attribute__((export_name("fl_wasm_oom"))) int fl_wasm_oom(void) {
  const int oom = ctx.oom;
  ctx.oom = 0;
  return oom;
}

/* FMA-chain throughput probe of the kernel table (flops executed), one task per kernel thread
 * as on the native addon, for benchmarks */
__attribute__((export_name("fl_wasm_peak"))) double fl_wasm_peak(long iters) { return fl_kernels_generic.peak(&ctx, iters, ctx.threads); }

/* Kernel threads (the caller and threads − 1 workers); the count actually set: always 1 in the
 * single-threaded module. Call between kernels only. */
__attribute__((export_name("fl_wasm_set_threads"))) int fl_wasm_set_threads(int threads) {
  ctx.threads = pool_resize(threads);
  return ctx.threads;
}
