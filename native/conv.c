/*
 * Conv2D forward and backward, NHWC, weights (kh, kw, cin, cout) — direct convolution.
 *
 * No im2col matrix is built. Each image is copied once into a zero-padded per-thread buffer
 * (it stays in L2), and the tile_rows microkernel reads every output pixel's receptive field
 * from it through a pointer: tap t of pixel p is at pixel_ptr(p) + tapoff[t].
 *
 *   forward      y = conv(x_padded, W) (+ bias, relu fused in the store)
 *   dX, stride 1 a full correlation of the padded dz with the flipped, transposed W: the same
 *                tile_rows kernel, weights W'[t'][f][c] = W[T-1-t'][c][f]
 *   dX, stride>1 per tap t, dz·W[t]ᵀ scattered (accumulated) into a padded dx buffer
 *   dW           tile_dw sums x·dz over runs of about DW_FLUSH_PIXELS output pixels in float
 *                registers (several images at once when they are small) and adds each run into
 *                per-task partials held in double; the partials are summed in a fixed order
 *                (deterministic for a given thread count)
 *   db           column sums of dz, in double
 * Long float sums are what made a float32 run drift from the float64 truth: the gradient of a
 * conv under batch normalization is a small difference of large sums (test/backend/numerics).
 *
 * There is no naive C sibling: the oracle is the TypeScript reference backend
 * (conv2dForward/conv2dBackward in src/backend/reference/layers.ts), which the conformance suite
 * compares this file against on every ISA build (generic, AVX2, AVX-512; FITLAB_ISA or setIsa
 * picks one). The generic build of this same code is the fallback on CPUs without AVX2.
 */
#include <string.h>

#include "fl.h"
#include "micro.h"

#define FL_FN_CONV_FWD FL_FN(fl_conv_fwd)
#define FL_FN_CONV_BWD FL_FN(fl_conv_bwd)

/* ---- padded images ------------------------------------------------------------------------- */

/* Extents of the padded source: every window of the output fits inside. */
typedef struct pad_plan {
  int hp, wp;   /* rows and columns of the padded buffer */
  int top, left;
  int direct;   /* 1: no padding needed, read the image in place */
  int row;      /* floats between source rows */
} pad_plan;

static pad_plan plan_padding(int h, int w, int c, int kh, int kw, int sh, int sw, int pt, int pl,
                             int oh, int ow) {
  pad_plan p;
  p.hp = (oh - 1) * sh + kh;
  p.wp = (ow - 1) * sw + kw;
  p.top = pt;
  p.left = pl;
  p.direct = pt == 0 && pl == 0 && p.hp <= h && p.wp <= w;
  p.row = p.direct ? w * c : p.wp * c;
  return p;
}

/* Copy image src (h, w, c) into dst (hp, wp, c) at (top, left), zeros elsewhere. */
static void pad_image(float *dst, const float *src, int h, int w, int c, const pad_plan *p) {
  const size_t rowlen = (size_t)p->wp * c;
  for (int r = 0; r < p->hp; r++) {
    float *d = dst + r * rowlen;
    int sr = r - p->top;
    if (sr < 0 || sr >= h) {
      memset(d, 0, sizeof(float) * rowlen);
      continue;
    }
    int c0 = p->left;              /* first destination column holding data */
    int c1 = p->left + w;          /* one past the last */
    int skip = 0;                  /* source columns cut off on the left (negative offsets) */
    if (c0 < 0) { skip = -c0; c0 = 0; }
    if (c1 > p->wp) c1 = p->wp;
    if (c0 > 0) memset(d, 0, sizeof(float) * (size_t)c0 * c);
    if (c1 > c0) memcpy(d + (size_t)c0 * c, src + ((size_t)sr * w + skip) * c, sizeof(float) * (size_t)(c1 - c0) * c);
    if (c1 < p->wp) memset(d + (size_t)(c1 > c0 ? c1 : c0) * c, 0, sizeof(float) * (size_t)(p->wp - (c1 > c0 ? c1 : c0)) * c);
  }
}

/* ---- the row-pointer convolution driver ------------------------------------------------------ */

typedef struct rows_conv {
  const float *src;
  int src_row, src_col;   /* floats between output rows / columns in the source */
  int oh, ow;
  const int *tapoff;
  int ntaps, C;           /* reduction: ntaps × C */
  const float *wpk;       /* packed blocks, block b at wpk + b·ntaps·C·NB_MAX, nv·FL_VL wide */
  const float *bias_pk;   /* block b at bias_pk + b·NB_MAX, or NULL */
  float *y;
  int y_row, y_col;       /* floats between output rows / columns in y */
  int F;                  /* output columns */
  int relu, accumulate;
} rows_conv;

static void run_rows_conv(const rows_conv *rc) {
  const int P = rc->oh * rc->ow;
  const size_t K = (size_t)rc->ntaps * rc->C;
  const float *a[MR_MAX];
  float *yp[MR_MAX];
  for (int b = 0; b < col_blocks(rc->F); b++) {
    const int width = block_width(rc->F, b);
    const int nv = block_nv(width);
    const int MR = ROWS_MR(nv);
    rows_args ra = {
      .arow = a, .yrow = yp, .wp = rc->wpk + (size_t)b * K * NB_MAX, .tapoff = rc->tapoff,
      .ntaps = rc->ntaps, .C = rc->C, .bias = rc->bias_pk ? rc->bias_pk + (size_t)b * NB_MAX : NULL,
      .relu = rc->relu, .accumulate = rc->accumulate, .mr = 0, .nf = width,
    };
    for (int p0 = 0; p0 < P; p0 += MR) {
      const int mr = P - p0 < MR ? P - p0 : MR;
      for (int i = 0; i < MR; i++) {
        const int p = p0 + (i < mr ? i : 0);
        const int oy = p / rc->ow, ox = p - oy * rc->ow;
        a[i] = rc->src + (size_t)oy * rc->src_row + (size_t)ox * rc->src_col;
        yp[i] = rc->y + (size_t)oy * rc->y_row + (size_t)ox * rc->y_col + (size_t)b * NB_MAX;
      }
      ra.mr = mr;
      tile_rows(nv, &ra);
    }
  }
}

/* Pack a (rows × ncols) virtual matrix M(r, c) = src[r·rs + c·cs] into column blocks:
 * block b at dst + b·rows·NB_MAX, each nv·FL_VL wide. */
static void pack_blocks(float *dst, const float *src, int rows, int rs, int cs, int ncols) {
  for (int b = 0; b < col_blocks(ncols); b++) {
    const int width = block_width(ncols, b);
    pack_panel(dst + (size_t)b * rows * NB_MAX, src, rows, rs, cs, b * NB_MAX, width,
               block_nv(width) * FL_VL);
  }
}

/* ---- forward ------------------------------------------------------------------------------- */

typedef struct fwd_job {
  fl_ctx *ctx;
  const fl_geom *g;
  float *y;
  const float *x;
  const float *wpk, *bias_pk;
  int relu;
  pad_plan pad;
  const int *tapoff;
} fwd_job;

static void fwd_task(void *arg, int img, int thread) {
  const fwd_job *j = arg;
  const fl_geom *g = j->g;
  const float *xi = j->x + (size_t)img * g->h * g->w * g->c;
  const float *src = xi;
  if (!j->pad.direct) {
    float *buf = fl_scratch(j->ctx, thread, 0, (size_t)j->pad.hp * j->pad.wp * g->c);
    if (!buf) return;
    pad_image(buf, xi, g->h, g->w, g->c, &j->pad);
    src = buf;
  }
  rows_conv rc = {
    .src = src, .src_row = g->sh * j->pad.row, .src_col = g->sw * g->c, .oh = g->oh, .ow = g->ow,
    .tapoff = j->tapoff, .ntaps = g->kh * g->kw, .C = g->c, .wpk = j->wpk, .bias_pk = j->bias_pk,
    .y = j->y + (size_t)img * g->oh * g->ow * g->f, .y_row = g->ow * g->f, .y_col = g->f,
    .F = g->f, .relu = j->relu, .accumulate = 0,
  };
  run_rows_conv(&rc);
}

void FL_FN_CONV_FWD(fl_ctx *ctx, float *y, const float *x, const float *w, const float *b,
                    const fl_geom *g, int relu) {
  const int T = g->kh * g->kw;
  const size_t K = (size_t)T * g->c;
  const int nb = col_blocks(g->f);
  float *shared = fl_shared(ctx, (size_t)nb * K * NB_MAX + (size_t)nb * NB_MAX);
  if (!shared) return;
  float *wpk = shared;
  float *bias_pk = b ? shared + (size_t)nb * K * NB_MAX : NULL;
  pack_blocks(wpk, w, (int)K, g->f, 1, g->f);
  if (b) pack_blocks(bias_pk, b, 1, 0, 1, g->f);

  fwd_job j = {.ctx = ctx, .g = g, .y = y, .x = x, .wpk = wpk, .bias_pk = bias_pk, .relu = relu};
  j.pad = plan_padding(g->h, g->w, g->c, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->oh, g->ow);
  int tapoff[FL_MAX_TAPS];
  for (int t = 0; t < T; t++) tapoff[t] = (t / g->kw) * j.pad.row + (t % g->kw) * g->c;
  j.tapoff = tapoff;
  fl_pool_run(ctx->pool, g->n, fwd_task, &j);
}

/* ---- backward ------------------------------------------------------------------------------ */

typedef struct bwd_job {
  fl_ctx *ctx;
  const fl_geom *g;
  float *dx;
  const float *dy, *y, *x;
  int relu, want_dw, want_db;
  int tasks;
  int group;           /* images per bwd_group call */
  double *partial;     /* tasks × (K·F + F): dw then db per task */
  const float *wdx;    /* packed weights for dX */
  pad_plan xpad;       /* padding of x for dW */
  pad_plan dzpad;      /* dz buffer layout (padded for stride-1 dX) */
  pad_plan dxpad;      /* strided dX accumulation buffer */
  int stride1;
  const int *dx_tapoff;
} bwd_job;

/* dz = dy masked by relu(y), written into a (hq, wq, F) buffer at (top, left), zeros around. */
static void masked_dz(float *dst, const float *dy, const float *y, int relu, int oh, int ow, int F,
                      const pad_plan *p) {
  const size_t rowlen = (size_t)p->wp * F;
  for (int r = 0; r < p->hp; r++) memset(dst + r * rowlen, 0, sizeof(float) * rowlen);
  for (int oy = 0; oy < oh; oy++) {
    float *d = dst + ((size_t)(oy + p->top) * p->wp + p->left) * F;
    const float *s = dy + (size_t)oy * ow * F;
    const float *m = y ? y + (size_t)oy * ow * F : NULL;
    const size_t n = (size_t)ow * F;
    if (relu) {
      for (size_t i = 0; i < n; i++) d[i] = m[i] > 0.0f ? s[i] : 0.0f;
    } else {
      memcpy(d, s, sizeof(float) * n);
    }
  }
}

/* Output pixels that tile_dw sums in float before adding them into the double partials: short
 * enough that the float sum stays accurate, long enough that the double adds cost little (64
 * cost up to 20% on 8×8 and 16×16 layers, 256 a few percent). Images smaller than this are
 * taken several at a time (up to DW_MAX_GROUP), which makes 4×4 layers faster than before. */
#define DW_FLUSH_PIXELS 256
#define DW_MAX_GROUP 64

/* db[f] += Σ dz over an image's pixels (dz at pixel (0,0), rows dz_row floats apart): four
 * interleaved float vector sums over runs of about DB_FLUSH_PIXELS pixels, each run added in
 * double. The bias gradient under batch normalization is a near-cancelling sum, so its runs are
 * kept short; a double add per pixel cost ~15% of a small conv's backward. */
#define DB_FLUSH_PIXELS 32
static void sum_db(double *db, const float *dz, int oh, int ow, int dz_row, int F) {
  for (int f0 = 0; f0 < F; f0 += FL_VL) {
    const int n = F - f0 < FL_VL ? F - f0 : FL_VL;
    vf acc[4] = {v_zero(), v_zero(), v_zero(), v_zero()};
    int pending = 0;
    for (int oy = 0; oy < oh; oy++) {
      const float *r = dz + (size_t)oy * dz_row + f0;
      if (n == FL_VL) {
        for (int ox = 0; ox < ow; ox++) acc[ox & 3] = v_add(acc[ox & 3], v_load(r + (size_t)ox * F));
      } else {
        for (int ox = 0; ox < ow; ox++) acc[ox & 3] = v_add(acc[ox & 3], v_loadn(r + (size_t)ox * F, n));
      }
      pending += ow;
      if (pending >= DB_FLUSH_PIXELS || oy == oh - 1) {
        add_to_double(db + f0, v_add(v_add(acc[0], acc[1]), v_add(acc[2], acc[3])), n);
        acc[0] = acc[1] = acc[2] = acc[3] = v_zero();
        pending = 0;
      }
    }
  }
}

/* dX of one image from its masked dz (laid out as j->dzpad) */
static void image_dx(const bwd_job *j, int img, int thread, const float *dz) {
  const fl_geom *g = j->g;
  const int F = g->f, C = g->c;
  const float *dz0 = dz + ((size_t)j->dzpad.top * j->dzpad.wp + j->dzpad.left) * F;
  const int dz_row = j->dzpad.wp * F;
  float *dxi = j->dx + (size_t)img * g->h * g->w * C;
  const int T = g->kh * g->kw;
  if (j->stride1) {
    /* full correlation: dx(iy, ix) = Σ dz_padded(iy + kh', ix + kw') · W'[kh', kw'] */
    rows_conv rc = {
      .src = dz, .src_row = dz_row, .src_col = F, .oh = g->h, .ow = g->w, .tapoff = j->dx_tapoff,
      .ntaps = T, .C = F, .wpk = j->wdx, .bias_pk = NULL, .y = dxi, .y_row = g->w * C,
      .y_col = C, .F = C, .relu = 0, .accumulate = 0,
    };
    run_rows_conv(&rc);
  } else {
    const pad_plan *p = &j->dxpad;
    float *acc = fl_scratch(j->ctx, thread, 2, (size_t)p->hp * p->wp * C);
    if (!acc) return;
    memset(acc, 0, sizeof(float) * (size_t)p->hp * p->wp * C);
    const int zero = 0;
    for (int t = 0; t < T; t++) {
      const int kh = t / g->kw, kw = t - kh * g->kw;
      rows_conv rc = {
        .src = dz0, .src_row = dz_row, .src_col = F, .oh = g->oh, .ow = g->ow, .tapoff = &zero,
        .ntaps = 1, .C = F, .wpk = j->wdx + (size_t)t * F * NB_MAX * col_blocks(C), .bias_pk = NULL,
        .y = acc + ((size_t)kh * p->wp + kw) * C, .y_row = g->sh * p->wp * C, .y_col = g->sw * C,
        .F = C, .relu = 0, .accumulate = 1,
      };
      run_rows_conv(&rc);
    }
    /* crop the padded accumulator back to the image */
    for (int iy = 0; iy < g->h; iy++) {
      const int r = iy + p->top;
      float *d = dxi + (size_t)iy * g->w * C;
      if (r >= p->hp) { memset(d, 0, sizeof(float) * (size_t)g->w * C); continue; }
      for (int ix = 0; ix < g->w; ix++) {
        const int cc = ix + p->left;
        if (cc >= p->wp) memset(d + (size_t)ix * C, 0, sizeof(float) * C);
        else memcpy(d + (size_t)ix * C, acc + ((size_t)r * p->wp + cc) * C, sizeof(float) * C);
      }
    }
  }
}

/* Images [img0, img0 + nimg) of one task: masked dz, db and dX per image, then dW for all of
 * them in one tile_dw pass per tile (nimg > 1 only when the images are small). */
static void bwd_group(const bwd_job *j, int img0, int nimg, int thread, double *dwp, double *dbp) {
  const fl_geom *g = j->g;
  const int F = g->f, C = g->c;
  const size_t K = (size_t)g->kh * g->kw * C;
  const size_t dz_len = (size_t)j->dzpad.hp * j->dzpad.wp * F;
  const size_t x_len = (size_t)j->xpad.hp * j->xpad.wp * C;
  const size_t dz_origin = ((size_t)j->dzpad.top * j->dzpad.wp + j->dzpad.left) * F;
  const int dz_row = j->dzpad.wp * F;

  /* dz, padded when stride-1 dX reads it as an image; x padded for dW unless read in place */
  float *dzs = fl_scratch(j->ctx, thread, 1, dz_len * nimg);
  if (!dzs) return;
  float *xs = NULL;
  if (j->want_dw && !j->xpad.direct) {
    xs = fl_scratch(j->ctx, thread, 0, x_len * nimg);
    if (!xs) return;
  }
  for (int s = 0; s < nimg; s++) {
    const int img = img0 + s;
    float *dz = dzs + s * dz_len;
    const size_t yoff = (size_t)img * g->oh * g->ow * F;
    masked_dz(dz, j->dy + yoff, j->relu ? j->y + yoff : NULL, j->relu, g->oh, g->ow, F, &j->dzpad);
    if (j->want_db) sum_db(dbp, dz + dz_origin, g->oh, g->ow, dz_row, F);
    if (xs) pad_image(xs + s * x_len, j->x + (size_t)img * g->h * g->w * C, g->h, g->w, C, &j->xpad);
    if (j->dx) image_dx(j, img, thread, dz);
  }

  if (j->want_dw) {
    const float *src = xs ? xs : j->x + (size_t)img0 * g->h * g->w * C;
    int koff[MR_MAX];
    for (int b = 0; b < col_blocks(F); b++) {
      const int width = block_width(F, b);
      const int nv = block_nv(width);
      const int MR = DW_MR(nv);
      for (size_t k0 = 0; k0 < K; k0 += MR) {
        const int mr = K - k0 < (size_t)MR ? (int)(K - k0) : MR;
        for (int i = 0; i < mr; i++) {
          const int k = (int)k0 + i, t = k / C, c = k - t * C;
          koff[i] = (t / g->kw) * j->xpad.row + (t % g->kw) * C + c;
        }
        dw_args d = {
          .x = src, .koff = koff, .mr = mr, .dz = dzs + dz_origin + (size_t)b * NB_MAX,
          .nimg = nimg, .x_img = xs ? x_len : (size_t)g->h * g->w * C, .dz_img = dz_len,
          .oh = g->oh, .ow = g->ow, .flush = DW_FLUSH_PIXELS,
          .x_row = g->sh * j->xpad.row, .x_col = g->sw * C, .dz_row = dz_row, .dz_col = F,
          .dw = dwp + k0 * F + (size_t)b * NB_MAX, .ldw = F, .nf = width,
        };
        tile_dw(nv, &d);
      }
    }
  }
}

static void bwd_task(void *arg, int task, int thread) {
  const bwd_job *j = arg;
  const fl_geom *g = j->g;
  const size_t KF = (size_t)g->kh * g->kw * g->c * g->f;
  double *dwp = j->partial + (size_t)task * (KF + g->f);
  double *dbp = dwp + KF;
  memset(dwp, 0, sizeof(double) * (KF + g->f));
  int64_t lo, hi;
  fl_split(g->n, j->tasks, task, &lo, &hi);
  for (int64_t img = lo; img < hi; img += j->group) {
    const int nimg = hi - img < j->group ? (int)(hi - img) : j->group;
    bwd_group(j, (int)img, nimg, thread, dwp, dbp);
  }
}

typedef struct reduce_job {
  float *out;
  const double *partial;
  size_t n, stride;
  int parts, chunks;
} reduce_job;

static void reduce_task(void *arg, int chunk, int thread) {
  (void)thread;
  const reduce_job *r = arg;
  int64_t lo, hi;
  fl_split((int64_t)r->n, r->chunks, chunk, &lo, &hi);
  for (int64_t i = lo; i < hi; i++) {
    double s = r->partial[i];
    for (int p = 1; p < r->parts; p++) s += r->partial[(size_t)p * r->stride + i];
    r->out[i] = (float)s;
  }
}

void FL_FN_CONV_BWD(fl_ctx *ctx, float *dx, float *dw, float *db, const float *dy, const float *y,
                    const float *x, const float *w, const fl_geom *g, int relu) {
  const int T = g->kh * g->kw;
  const int F = g->f, C = g->c;
  const size_t KF = (size_t)T * C * F;
  const int threads = fl_pool_threads(ctx->pool);
  const int tasks = g->n < threads ? g->n : threads;
  const int stride1 = g->sh == 1 && g->sw == 1;

  const size_t wdx_len = dx ? (size_t)col_blocks(C) * T * F * NB_MAX : 0;
  /* the double partials first (fl_shared is 64-byte aligned), then the packed weights */
  float *shared = fl_shared(ctx, 2 * (size_t)tasks * (KF + F) + wdx_len);
  if (!shared) return;
  double *partial = (double *)shared;

  bwd_job j = {
    .ctx = ctx, .g = g, .dx = dx, .dy = dy, .y = y, .x = x, .relu = relu,
    .want_dw = dw != NULL, .want_db = db != NULL, .tasks = tasks, .partial = partial,
    .stride1 = stride1,
  };
  const int pixels = g->oh * g->ow;
  j.group = !dw || pixels >= DW_FLUSH_PIXELS ? 1 : DW_FLUSH_PIXELS / pixels;
  if (j.group > DW_MAX_GROUP) j.group = DW_MAX_GROUP;
  j.xpad = plan_padding(g->h, g->w, C, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->oh, g->ow);

  int dx_tapoff[FL_MAX_TAPS];
  float *wdx = shared + 2 * (size_t)tasks * (KF + F);
  if (dx && stride1) {
    /* dz padded by (kh-1-pt, kw-1-pl) so that dx is a 'valid' correlation over it */
    j.dzpad.top = g->kh - 1 - g->pt;
    j.dzpad.left = g->kw - 1 - g->pl;
    j.dzpad.hp = g->h + g->kh - 1;
    j.dzpad.wp = g->w + g->kw - 1;
    /* W'[t'][f][c] = W[T-1-t'][c][f]: for each tap, rows f, columns c */
    for (int tp = 0; tp < T; tp++) {
      const float *src = w + (size_t)(T - 1 - tp) * C * F;
      for (int b = 0; b < col_blocks(C); b++) {
        const int width = block_width(C, b);
        pack_panel(wdx + (size_t)b * T * F * NB_MAX + (size_t)tp * F * block_nv(width) * FL_VL, src, F,
                   1, F, b * NB_MAX, width, block_nv(width) * FL_VL);
      }
    }
    for (int t = 0; t < T; t++) dx_tapoff[t] = (t / g->kw) * j.dzpad.wp * F + (t % g->kw) * F;
  } else {
    j.dzpad.top = 0;
    j.dzpad.left = 0;
    j.dzpad.hp = g->oh;
    j.dzpad.wp = g->ow;
    if (dx) {
      /* per tap t: rows f, columns c, M(f, c) = W[t][c][f] */
      for (int t = 0; t < T; t++) {
        pack_blocks(wdx + (size_t)t * F * NB_MAX * col_blocks(C), w + (size_t)t * C * F, F, 1, F, C);
      }
      j.dxpad = plan_padding(g->h, g->w, C, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->oh, g->ow);
    }
  }
  j.wdx = wdx;
  j.dx_tapoff = dx_tapoff;

  fl_pool_run(ctx->pool, tasks, bwd_task, &j);
  if (ctx->oom) return;

  const size_t stride = KF + F;
  if (dw) {
    reduce_job r = {.out = dw, .partial = partial, .n = KF, .stride = stride, .parts = tasks,
                    .chunks = KF >= FL_PARALLEL_MIN ? threads : 1};
    fl_pool_run(ctx->pool, r.chunks, reduce_task, &r);
  }
  if (db) {
    reduce_job r = {.out = db, .partial = partial + KF, .n = (size_t)F, .stride = stride,
                    .parts = tasks, .chunks = 1};
    reduce_task(&r, 0, 0);
  }
}
