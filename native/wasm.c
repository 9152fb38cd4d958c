/*
 * The WebAssembly entry: the same kernel sources (the generic 4-lane path, which clang lowers to
 * SIMD128) behind a small C interface that src/backend/wasm/core.ts drives. Single-threaded: the
 * thread pool below runs every task on the calling thread (threadpool.c needs pthreads).
 *
 * The loader writes a kernel's arguments into `fl_wasm_args` (one fl_val per argument, in the
 * signature table's order, pointers into this module's memory) and its geometry into
 * `fl_wasm_geom`, then calls fl_wasm_call with the kernel's index in the table. Built by
 * scripts/build-wasm.cjs against wasi-libc (malloc, libm); the module imports nothing.
 */
#include <stdlib.h>

#include "binding.h"

#define FL_BINDING
#include "kernels.gen.h"

/* ---- the serial pool ---------------------------------------------------------------------- */

struct fl_pool {
  int threads;
};

static fl_pool serial = {1};

fl_pool *fl_pool_create(int threads) {
  (void)threads;
  return &serial;
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

/* ---- the interface ------------------------------------------------------------------------ */

static fl_ctx ctx = {.pool = &serial, .threads = 1};
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

/* FMA-chain throughput probe of the kernel table (flops executed), for benchmarks */
__attribute__((export_name("fl_wasm_peak"))) double fl_wasm_peak(long iters) { return fl_kernels_generic.peak(&ctx, iters, 1); }
