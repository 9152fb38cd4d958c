/*
 * Scratch memory and instruction-set selection (arch-independent).
 * Scratch buffers only grow: after the first training step no kernel allocates again.
 */
#include <stdlib.h>
#include <string.h>

#include "fl.h"

static float *grow(float **slot, size_t *len, size_t n, int *oom) {
  if (*len >= n && *slot) return *slot;
  size_t want = n + n / 4 + 16; /* some headroom so small growth does not reallocate */
  void *p = NULL;
  if (posix_memalign(&p, 64, want * sizeof(float)) != 0 || !p) {
    *oom = 1;
    return NULL;
  }
  free(*slot);
  *slot = p;
  *len = want;
  return *slot;
}

float *fl_scratch(fl_ctx *ctx, int thread, int slot, size_t n) {
  return grow(&ctx->scratch[thread][slot], &ctx->scratch_len[thread][slot], n, &ctx->oom);
}

float *fl_shared(fl_ctx *ctx, size_t n) {
  return grow(&ctx->shared, &ctx->shared_len, n, &ctx->oom);
}

void fl_scratch_free(fl_ctx *ctx) {
  for (int t = 0; t < FL_MAX_THREADS; t++) {
    for (int s = 0; s < FL_SCRATCH_SLOTS; s++) {
      free(ctx->scratch[t][s]);
      ctx->scratch[t][s] = NULL;
      ctx->scratch_len[t][s] = 0;
    }
  }
  free(ctx->shared);
  ctx->shared = NULL;
  ctx->shared_len = 0;
}

int fl_cpu_supports(const char *name) {
  if (strcmp(name, "generic") == 0) return 1;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (strcmp(name, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (strcmp(name, "avx512") == 0) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("fma");
  }
#endif
  return 0;
}

const fl_kernels *fl_select_kernels(const char *name) {
  if (!name || !*name) {
#if defined(FL_HAVE_X86)
    if (fl_cpu_supports("avx512")) return &fl_kernels_avx512;
    if (fl_cpu_supports("avx2")) return &fl_kernels_avx2;
#endif
    return &fl_kernels_generic;
  }
  if (!fl_cpu_supports(name)) return NULL;
#if defined(FL_HAVE_X86)
  if (strcmp(name, "avx512") == 0) return &fl_kernels_avx512;
  if (strcmp(name, "avx2") == 0) return &fl_kernels_avx2;
#endif
  if (strcmp(name, "generic") == 0) return &fl_kernels_generic;
  return NULL;
}
