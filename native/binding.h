/*
 * The generic kernel binder's types: argument descriptors, values and bindings, one per kernel of
 * the signature table (src/backend/kernels.ts), whose instances native/kernels.gen.h generates
 * under FL_BINDING. Shared by the N-API binder (addon.c) and the WebAssembly entry (wasm.c).
 */
#ifndef FL_BINDING_H
#define FL_BINDING_H

#include <math.h> /* the generated thunks compute some scalars in double */

#include "fl.h"

/* argument kinds: the buffers first (FLA_F64 is the last), then scalars; FLA_FUSED is the relu flag */
enum { FLA_F32, FLA_I32, FLA_U8, FLA_U32, FLA_F64, FLA_INT, FLA_NUM, FLA_FLAG, FLA_FUSED, FLA_ENUM, FLA_GEOM };
/* how a buffer's length is known: set by it (the shared length), equal to the shared length, a
 * product of integer arguments times a constant, a constant, the geometry, or a per-kernel hook */
enum { FLS_NONE, FLS_SETS_LEN, FLS_LEN, FLS_PROD, FLS_CONST, FLS_X, FLS_Y, FLS_W, FLS_F, FLS_CUSTOM };
enum { FLN_NOT_NULL, FLN_NULL, FLN_NULL_UNLESS_RELU };
enum { FLR_NONE, FLR_CLOSED, FLR_OPEN };
enum { FLX_NONE, FLX_GEMM };

typedef struct fl_arg_spec {
  const char *name;
  unsigned char kind, out, nullable, size, range;
  signed char op[4]; /* FLS_PROD operands (argument indexes, -1 unused); FLS_LEN: op[0] sets it */
  int scale;
  double lo, hi;
  const char *const *values; /* FLA_ENUM: the accepted strings, in C code order */
  int nvalues;
  /* relations, each naming another argument by its index + 1 (0 = none): null is refused while
   * needed_when is nonzero; must not alias distinct; entries are class indexes below classes;
   * entries index into the buffer indexes, inside their own image (images: the integer
   * argument counting them, or 0 for the geometry's n) */
  signed char needed_when, distinct, classes, indexes, images;
} fl_arg_spec;

typedef union fl_val {
  float *f;
  int32_t *i32;
  uint8_t *u8;
  uint32_t *u32;
  double *f64;
  int i;
  double d;
} fl_val;

typedef double (*fl_thunk)(const fl_kernels *K, fl_ctx *ctx, const fl_val *a, size_t len, const fl_geom *g);

typedef struct fl_binding {
  const char *name;
  const fl_arg_spec *args;
  int nargs;
  int returns; /* 1: the kernel's result is returned as a number */
  int extra;   /* FLX_*: a check beyond the descriptors */
  fl_thunk call;
} fl_binding;

#endif /* FL_BINDING_H */
