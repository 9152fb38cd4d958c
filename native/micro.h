/*
 * Register-tiled microkernels, written once over simd.h and specialised by constant tile
 * sizes (MR rows × NV vectors): always_inline bodies called with literal sizes let the compiler
 * unroll the tile completely and keep the MR·NV accumulators in registers.
 *
 *   tile_rows    y_i = Σ_t Σ_c a_i[tapoff[t] + c] · wp[t·C + c][:]   (i < MR)
 *                Rows are reached through pointers, so the A side needs no packing: a conv
 *                reads its receptive fields straight from the (padded) image, one pointer per
 *                output pixel; a dense layer passes one pointer per input row.
 *   tile_packed  c_i = Σ_k ap[k][i] · bp[k][:]   over packed GEMM panels.
 *   tile_dw      dw[k_i][:] += Σ_p x_p[koff_i] · dz_p[:]   the conv weight gradient: the
 *                reduction runs over the pixels of a few images, in runs of about `flush`
 *                pixels (whole output rows): each run's sum is formed in float registers and
 *                added to dw in double, so the float rounding grows with the run (~64 pixels),
 *                not with the image or the batch. (One float sum per thread over the pixels
 *                of all its images made a float32 training step's conv gradients drift far
 *                from the float64 truth: test/backend/numerics.test.ts.)
 *
 * wp / bp panels are packed NV·FL_VL wide with zero padding, so the inner loops never mask.
 *
 * WebAssembly (__wasm_simd128__, the generic 4-lane path built by scripts/build-wasm.cjs) has its
 * own tile sizes and unroll pragma, below: everything else is unchanged for the native builds.
 */
#ifndef FL_MICRO_H
#define FL_MICRO_H

#include "fl.h"
#include "simd.h"

#if defined(FL_ARCH_AVX512)
/* 32 vector registers: MR·NV ≤ 24 accumulators leaves room for the B vectors. */
#define NV_MAX 4
#define MR_MAX 12
#define ROWS_MR(nv) ((nv) == 1 ? 12 : (nv) == 2 ? 12 : (nv) == 3 ? 8 : 6)
#define DW_MR(nv) ((nv) == 4 ? 6 : 8)
#define GEMM_MR 6
#elif defined(FL_ARCH_AVX2)
/* 16 vector registers: MR·NV ≤ 12. */
#define NV_MAX 2
#define MR_MAX 8
#define ROWS_MR(nv) ((nv) == 1 ? 8 : 6)
#define DW_MR(nv) ((nv) == 1 ? 8 : 6)
#define GEMM_MR 6
#elif defined(__wasm_simd128__)
/* V8 on x86-64 gives wasm 15 xmm registers (xmm15 is its scratch), and SIMD128 has no FMA:
 * acc += s·b is a mul into a temporary, then an add. 4 rows × 2 vectors = 8 accumulators + 2 B
 * vectors + the broadcast + the temporary fit; 4×3 (the generic tile) and 6×2 spill: the lecture
 * CNN's training step ran 25–35% slower with either in Node 20 (AMD EPYC, best of 5). */
#define NV_MAX 2
#define MR_MAX 8
#define ROWS_MR(nv) ((nv) == 1 ? 8 : 4)
#define DW_MR(nv) 4
#define GEMM_MR 4
#else
#define NV_MAX 3
#define MR_MAX 4
#define ROWS_MR(nv) 4
#define DW_MR(nv) 4
#define GEMM_MR 4
#endif

#define NB_MAX (NV_MAX * FL_VL)

/* Unroll the tile loops so the accumulators stay in registers. clang 14 does not fully unroll
 * them for wasm32 under `#pragma GCC unroll` (the accumulator array then lived in linear memory:
 * a load and a store per multiply-add, ~3x slower), so wasm asks clang for a full unroll. */
#if defined(__wasm_simd128__)
#define FL_UNROLL(n) _Pragma("clang loop unroll(full)")
#else
#define FL_STRINGIFY(x) #x
#define FL_UNROLL(n) _Pragma(FL_STRINGIFY(GCC unroll n))
#endif

/* Valid lanes of vector v when nf columns are live. */
FL_INLINE int lanes(int nf, int v) {
  int n = nf - v * FL_VL;
  return n > FL_VL ? FL_VL : n;
}

/* ---- tile_rows --------------------------------------------------------------------------- */

typedef struct rows_args {
  const float *const *arow; /* MR row pointers (A side) */
  float *const *yrow;       /* MR output pointers, already offset to the column block */
  const float *wp;          /* packed panel (ntaps·C) × (NV·FL_VL) */
  const int *tapoff;        /* ntaps offsets added to each row pointer */
  int ntaps, C;
  const float *bias;        /* NV·FL_VL values (block-offset) or NULL */
  int relu, accumulate;
  int mr; /* live rows ≤ MR */
  int nf; /* live columns ≤ NV·FL_VL */
} rows_args;

FL_INLINE void tile_rows_body(const int MR, const int NV, const rows_args *r) {
  vf acc[MR_MAX][NV_MAX];
FL_UNROLL(16)
  for (int i = 0; i < MR; i++)
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) acc[i][v] = v_zero();

  const float *wk = r->wp;
  const int C = r->C;
  for (int t = 0; t < r->ntaps; t++) {
    const int off = r->tapoff[t];
    const float *a[MR_MAX];
FL_UNROLL(16)
    for (int i = 0; i < MR; i++) a[i] = r->arow[i] + off;
    for (int c = 0; c < C; c++, wk += NV * FL_VL) {
      vf b[NV_MAX];
FL_UNROLL(4)
      for (int v = 0; v < NV; v++) b[v] = v_load(wk + v * FL_VL);
FL_UNROLL(16)
      for (int i = 0; i < MR; i++) {
        const vf s = v_set1(a[i][c]);
FL_UNROLL(4)
        for (int v = 0; v < NV; v++) acc[i][v] = v_fma(s, b[v], acc[i][v]);
      }
    }
  }

FL_UNROLL(16)
  for (int i = 0; i < MR; i++) {
    if (i >= r->mr) break;
    float *y = r->yrow[i];
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) {
      const int n = lanes(r->nf, v);
      if (n <= 0) break;
      vf out = acc[i][v];
      if (r->bias) out = v_add(out, v_load(r->bias + v * FL_VL));
      if (r->accumulate) out = v_add(out, n == FL_VL ? v_load(y + v * FL_VL) : v_loadn(y + v * FL_VL, n));
      if (r->relu) out = v_relu(out);
      if (n == FL_VL) v_store(y + v * FL_VL, out);
      else v_storen(y + v * FL_VL, out, n);
    }
  }
}

#define DEFINE_TILE_ROWS(MR, NV) \
  static void tile_rows_##MR##x##NV(const rows_args *r) { tile_rows_body(MR, NV, r); }

/* ---- tile_packed ------------------------------------------------------------------------ */

FL_INLINE void tile_packed_body(const int MR, const int NV, int kc, const float *ap, const float *bp,
                                float *c, int ldc, int mr, int nf, float beta) {
  vf acc[MR_MAX][NV_MAX];
FL_UNROLL(16)
  for (int i = 0; i < MR; i++)
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) acc[i][v] = v_zero();
  for (int k = 0; k < kc; k++, ap += MR, bp += NV * FL_VL) {
    vf b[NV_MAX];
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) b[v] = v_load(bp + v * FL_VL);
FL_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      const vf s = v_set1(ap[i]);
FL_UNROLL(4)
      for (int v = 0; v < NV; v++) acc[i][v] = v_fma(s, b[v], acc[i][v]);
    }
  }
  const vf vb = v_set1(beta);
FL_UNROLL(16)
  for (int i = 0; i < MR; i++) {
    if (i >= mr) break;
    float *ci = c + (size_t)i * ldc;
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) {
      const int n = lanes(nf, v);
      if (n <= 0) break;
      vf out = acc[i][v];
      /* beta == 0 must ignore C entirely (it may hold NaN) */
      if (beta != 0.0f) out = v_fma(vb, n == FL_VL ? v_load(ci + v * FL_VL) : v_loadn(ci + v * FL_VL, n), out);
      if (n == FL_VL) v_store(ci + v * FL_VL, out);
      else v_storen(ci + v * FL_VL, out, n);
    }
  }
}

#define DEFINE_TILE_PACKED(MR, NV)                                                            \
  static void tile_packed_##MR##x##NV(int kc, const float *ap, const float *bp, float *c,      \
                                      int ldc, int mr, int nf, float beta) {                   \
    tile_packed_body(MR, NV, kc, ap, bp, c, ldc, mr, nf, beta);                                \
  }

/* ---- tile_dw ---------------------------------------------------------------------------- */

typedef struct dw_args {
  const float *x;   /* padded image, at the output pixel (0,0)'s receptive field origin */
  const int *koff;  /* MR offsets of the k indices (tap and channel) relative to a pixel */
  int mr;           /* live k rows */
  const float *dz;  /* gradient image at pixel (0,0), column-block offset */
  int nimg;         /* images, x_img / dz_img floats apart */
  size_t x_img, dz_img;
  int oh, ow;
  int flush;        /* output pixels summed in float before the sums go into dw (≥ 1) */
  int x_row, x_col;   /* x stride between output rows / columns (floats) */
  int dz_row, dz_col; /* dz stride between output rows / columns (floats) */
  double *dw;       /* accumulate into rows dw + i·ldw (i < mr), in double */
  int ldw;
  int nf;
} dw_args;

/* row[0..n) += (double)a, n ≤ FL_VL live lanes */
FL_INLINE void add_to_double(double *row, vf a, int n) {
  float t[FL_VL];
  v_store(t, a);
  if (n == FL_VL) {
    for (int l = 0; l < FL_VL; l++) row[l] += t[l];
  } else {
    for (int l = 0; l < n; l++) row[l] += t[l];
  }
}

/* dw rows += the float sums in acc, which start again from zero */
FL_INLINE void flush_dw(const int MR, const int NV, vf acc[MR_MAX][NV_MAX], const dw_args *d,
                        const int *cnt) {
FL_UNROLL(16)
  for (int i = 0; i < MR; i++) {
    if (i < d->mr) {
      double *row = d->dw + (size_t)i * d->ldw;
FL_UNROLL(4)
      for (int v = 0; v < NV; v++)
        if (cnt[v] > 0) add_to_double(row + v * FL_VL, acc[i][v], cnt[v]);
    }
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) acc[i][v] = v_zero();
  }
}

/* acc += one output row of x·dz (full: every vector of the column block is live) */
FL_INLINE void dw_row(const int MR, const int NV, vf acc[MR_MAX][NV_MAX], const int *ko,
                      const int *cnt, const float *xr, const float *gr, const dw_args *d,
                      const int full) {
  for (int ox = 0; ox < d->ow; ox++, xr += d->x_col, gr += d->dz_col) {
    vf g[NV_MAX];
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) {
      if (full) g[v] = v_load(gr + v * FL_VL);
      else g[v] = cnt[v] == FL_VL ? v_load(gr + v * FL_VL) : v_loadn(gr + v * FL_VL, cnt[v]);
    }
FL_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      const vf s = v_set1(xr[ko[i]]);
FL_UNROLL(4)
      for (int v = 0; v < NV; v++) acc[i][v] = v_fma(s, g[v], acc[i][v]);
    }
  }
}

FL_INLINE void tile_dw_body(const int MR, const int NV, const dw_args *d) {
  vf acc[MR_MAX][NV_MAX];
FL_UNROLL(16)
  for (int i = 0; i < MR; i++)
FL_UNROLL(4)
    for (int v = 0; v < NV; v++) acc[i][v] = v_zero();
  int ko[MR_MAX];
FL_UNROLL(16)
  for (int i = 0; i < MR; i++) ko[i] = d->koff[i < d->mr ? i : 0];
  int cnt[NV_MAX];
FL_UNROLL(4)
  for (int v = 0; v < NV; v++) cnt[v] = lanes(d->nf, v);

  /* the full-width test stays out of the pixel loop (a branch per vector per pixel cost ~10%) */
  const int full = d->nf == NV * FL_VL;
  int pending = 0; /* pixels summed in acc since the last flush */
  for (int im = 0; im < d->nimg; im++) {
    for (int oy = 0; oy < d->oh; oy++) {
      const float *xr = d->x + im * d->x_img + (size_t)oy * d->x_row;
      const float *gr = d->dz + im * d->dz_img + (size_t)oy * d->dz_row;
      if (full) dw_row(MR, NV, acc, ko, cnt, xr, gr, d, 1);
      else dw_row(MR, NV, acc, ko, cnt, xr, gr, d, 0);
      pending += d->ow;
      if (pending >= d->flush) {
        flush_dw(MR, NV, acc, d, cnt);
        pending = 0;
      }
    }
  }
  if (pending > 0) flush_dw(MR, NV, acc, d, cnt);
}

#define DEFINE_TILE_DW(MR, NV) \
  static void tile_dw_##MR##x##NV(const dw_args *d) { tile_dw_body(MR, NV, d); }


/* ---- instantiations and dispatch by NV (vectors in the column block) ----------------------- */

#if defined(FL_ARCH_AVX512)
DEFINE_TILE_ROWS(12, 1)
DEFINE_TILE_ROWS(12, 2)
DEFINE_TILE_ROWS(8, 3)
DEFINE_TILE_ROWS(6, 4)
DEFINE_TILE_PACKED(6, 1)
DEFINE_TILE_PACKED(6, 2)
DEFINE_TILE_PACKED(6, 3)
DEFINE_TILE_PACKED(6, 4)
DEFINE_TILE_DW(8, 1)
DEFINE_TILE_DW(8, 2)
DEFINE_TILE_DW(8, 3)
DEFINE_TILE_DW(6, 4)
static void tile_rows(int nv, const rows_args *r) {
  switch (nv) {
    case 1: tile_rows_12x1(r); break;
    case 2: tile_rows_12x2(r); break;
    case 3: tile_rows_8x3(r); break;
    default: tile_rows_6x4(r); break;
  }
}
static void tile_packed(int nv, int kc, const float *ap, const float *bp, float *c, int ldc, int mr,
                        int nf, float beta) {
  switch (nv) {
    case 1: tile_packed_6x1(kc, ap, bp, c, ldc, mr, nf, beta); break;
    case 2: tile_packed_6x2(kc, ap, bp, c, ldc, mr, nf, beta); break;
    case 3: tile_packed_6x3(kc, ap, bp, c, ldc, mr, nf, beta); break;
    default: tile_packed_6x4(kc, ap, bp, c, ldc, mr, nf, beta); break;
  }
}
static void tile_dw(int nv, const dw_args *d) {
  switch (nv) {
    case 1: tile_dw_8x1(d); break;
    case 2: tile_dw_8x2(d); break;
    case 3: tile_dw_8x3(d); break;
    default: tile_dw_6x4(d); break;
  }
}
#elif defined(FL_ARCH_AVX2)
DEFINE_TILE_ROWS(8, 1)
DEFINE_TILE_ROWS(6, 2)
DEFINE_TILE_PACKED(6, 1)
DEFINE_TILE_PACKED(6, 2)
DEFINE_TILE_DW(8, 1)
DEFINE_TILE_DW(6, 2)
static void tile_rows(int nv, const rows_args *r) {
  if (nv == 1) tile_rows_8x1(r);
  else tile_rows_6x2(r);
}
static void tile_packed(int nv, int kc, const float *ap, const float *bp, float *c, int ldc, int mr,
                        int nf, float beta) {
  if (nv == 1) tile_packed_6x1(kc, ap, bp, c, ldc, mr, nf, beta);
  else tile_packed_6x2(kc, ap, bp, c, ldc, mr, nf, beta);
}
static void tile_dw(int nv, const dw_args *d) {
  if (nv == 1) tile_dw_8x1(d);
  else tile_dw_6x2(d);
}
#elif defined(__wasm_simd128__)
DEFINE_TILE_ROWS(8, 1)
DEFINE_TILE_ROWS(4, 2)
DEFINE_TILE_PACKED(4, 1)
DEFINE_TILE_PACKED(4, 2)
DEFINE_TILE_DW(4, 1)
DEFINE_TILE_DW(4, 2)
static void tile_rows(int nv, const rows_args *r) {
  if (nv == 1) tile_rows_8x1(r);
  else tile_rows_4x2(r);
}
static void tile_packed(int nv, int kc, const float *ap, const float *bp, float *c, int ldc, int mr,
                        int nf, float beta) {
  if (nv == 1) tile_packed_4x1(kc, ap, bp, c, ldc, mr, nf, beta);
  else tile_packed_4x2(kc, ap, bp, c, ldc, mr, nf, beta);
}
static void tile_dw(int nv, const dw_args *d) {
  if (nv == 1) tile_dw_4x1(d);
  else tile_dw_4x2(d);
}
#else
DEFINE_TILE_ROWS(4, 1)
DEFINE_TILE_ROWS(4, 2)
DEFINE_TILE_ROWS(4, 3)
DEFINE_TILE_PACKED(4, 1)
DEFINE_TILE_PACKED(4, 2)
DEFINE_TILE_PACKED(4, 3)
DEFINE_TILE_DW(4, 1)
DEFINE_TILE_DW(4, 2)
DEFINE_TILE_DW(4, 3)
static void tile_rows(int nv, const rows_args *r) {
  if (nv == 1) tile_rows_4x1(r);
  else if (nv == 2) tile_rows_4x2(r);
  else tile_rows_4x3(r);
}
static void tile_packed(int nv, int kc, const float *ap, const float *bp, float *c, int ldc, int mr,
                        int nf, float beta) {
  if (nv == 1) tile_packed_4x1(kc, ap, bp, c, ldc, mr, nf, beta);
  else if (nv == 2) tile_packed_4x2(kc, ap, bp, c, ldc, mr, nf, beta);
  else tile_packed_4x3(kc, ap, bp, c, ldc, mr, nf, beta);
}
static void tile_dw(int nv, const dw_args *d) {
  if (nv == 1) tile_dw_4x1(d);
  else if (nv == 2) tile_dw_4x2(d);
  else tile_dw_4x3(d);
}
#endif

/* Column blocking: split n columns into blocks of up to NB_MAX; block b covers
 * [b·NB_MAX, min(n, (b+1)·NB_MAX)) and uses nv = ceil(width / FL_VL) vectors. */
FL_INLINE int col_blocks(int n) { return (n + NB_MAX - 1) / NB_MAX; }
FL_INLINE int block_width(int n, int b) {
  int w = n - b * NB_MAX;
  return w > NB_MAX ? NB_MAX : w;
}
FL_INLINE int block_nv(int width) { return (width + FL_VL - 1) / FL_VL; }

/* Pack columns [c0, c0+nc) of the virtual matrix M (rows × ·) into dst (rows × nb), zero
 * filled beyond nc. M(r, c) = src[r·rs + c·cs]. */
static void pack_panel(float *dst, const float *src, int rows, int rs, int cs, int c0, int nc, int nb) {
  for (int r = 0; r < rows; r++) {
    float *d = dst + (size_t)r * nb;
    const float *s = src + (size_t)r * rs + (size_t)c0 * cs;
    if (cs == 1) {
      memcpy(d, s, sizeof(float) * (size_t)nc);
    } else {
      for (int c = 0; c < nc; c++) d[c] = s[(size_t)c * cs];
    }
    for (int c = nc; c < nb; c++) d[c] = 0.0f;
  }
}

#endif /* FL_MICRO_H */
