/*
 * A thin vector layer so each microkernel is written once and compiled per instruction set:
 * AVX-512 (16 lanes), AVX2+FMA (8 lanes) and a portable 4-lane path on GCC/Clang vector
 * extensions (SSE2 on any x86-64, NEON on ARM). Masked loads/stores handle the last, partial
 * vector of a row: n is the number of valid lanes, 1 ≤ n ≤ FL_VL.
 */
#ifndef FL_SIMD_H
#define FL_SIMD_H

#include <string.h>

#define FL_INLINE static inline __attribute__((always_inline))

#if defined(FL_ARCH_AVX512)
#include <immintrin.h>
#define FL_VL 16
typedef __m512 vf;
FL_INLINE vf v_zero(void) { return _mm512_setzero_ps(); }
FL_INLINE vf v_set1(float x) { return _mm512_set1_ps(x); }
FL_INLINE vf v_load(const float *p) { return _mm512_loadu_ps(p); }
FL_INLINE void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
FL_INLINE __mmask16 v_mask(int n) { return (__mmask16)((1u << n) - 1u); }
FL_INLINE vf v_loadn(const float *p, int n) { return _mm512_maskz_loadu_ps(v_mask(n), p); }
FL_INLINE void v_storen(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, v_mask(n), v); }
FL_INLINE vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
FL_INLINE vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
FL_INLINE vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
FL_INLINE vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
/* keep a where m > 0, else 0 (relu mask from the forward output) */
FL_INLINE vf v_where_pos(vf m, vf a) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ), a);
}

#elif defined(FL_ARCH_AVX2)
#include <immintrin.h>
#define FL_VL 8
typedef __m256 vf;
static const int fl_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
FL_INLINE vf v_zero(void) { return _mm256_setzero_ps(); }
FL_INLINE vf v_set1(float x) { return _mm256_set1_ps(x); }
FL_INLINE vf v_load(const float *p) { return _mm256_loadu_ps(p); }
FL_INLINE void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
FL_INLINE __m256i v_mask(int n) { return _mm256_loadu_si256((const __m256i *)(fl_mask_table + 8 - n)); }
FL_INLINE vf v_loadn(const float *p, int n) { return _mm256_maskload_ps(p, v_mask(n)); }
FL_INLINE void v_storen(float *p, vf v, int n) { _mm256_maskstore_ps(p, v_mask(n), v); }
FL_INLINE vf v_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
FL_INLINE vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
FL_INLINE vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
FL_INLINE vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
FL_INLINE vf v_where_pos(vf m, vf a) {
  return _mm256_and_ps(_mm256_cmp_ps(m, _mm256_setzero_ps(), _CMP_GT_OQ), a);
}

#else
#define FL_VL 4
typedef float vf __attribute__((vector_size(16)));
typedef int vi __attribute__((vector_size(16)));
FL_INLINE vf v_zero(void) { vf z = {0, 0, 0, 0}; return z; }
FL_INLINE vf v_set1(float x) { vf v = {x, x, x, x}; return v; }
FL_INLINE vf v_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
FL_INLINE void v_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
FL_INLINE vf v_loadn(const float *p, int n) {
  vf v = v_zero();
  for (int i = 0; i < n; i++) v[i] = p[i];
  return v;
}
FL_INLINE void v_storen(float *p, vf v, int n) {
  for (int i = 0; i < n; i++) p[i] = v[i];
}
FL_INLINE vf v_fma(vf a, vf b, vf c) { return a * b + c; }
FL_INLINE vf v_add(vf a, vf b) { return a + b; }
FL_INLINE vf v_mul(vf a, vf b) { return a * b; }
FL_INLINE vf v_max(vf a, vf b) {
  vi gt = a > b;
  return (vf)((gt & (vi)a) | (~gt & (vi)b));
}
FL_INLINE vf v_where_pos(vf m, vf a) {
  vi pos = m > v_zero();
  return (vf)(pos & (vi)a);
}
#endif

/* relu with NaN propagation (TensorFlow's): max(0, a) returns a when a is NaN, since x86 MAXPS
 * and the generic a > b ? a : b both yield the second operand on an unordered compare */
FL_INLINE vf v_relu(vf a) { return v_max(v_zero(), a); }

#endif /* FL_SIMD_H */
