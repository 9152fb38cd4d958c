/* The kernel table of one instruction set (this file is compiled once per arch). */
#include "fl.h"

#define DECL(ret, name, args) ret FL_FN(name) args;
DECL(void, fl_fill, (fl_ctx *, float *, size_t, float))
DECL(void, fl_copy, (fl_ctx *, float *, const float *, size_t))
DECL(void, fl_add, (fl_ctx *, float *, const float *, const float *, size_t))
DECL(void, fl_axpy, (fl_ctx *, float *, float, const float *, size_t))
DECL(void, fl_scale, (fl_ctx *, float *, float, size_t))
DECL(double, fl_sumsq, (fl_ctx *, const float *, size_t))
DECL(double, fl_peak, (fl_ctx *, long, int))
DECL(void, fl_gemm, (fl_ctx *, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int))
DECL(void, fl_dense_fwd, (fl_ctx *, float *, const float *, const float *, const float *, int, int, int, int))
DECL(void, fl_dense_bwd, (fl_ctx *, float *, float *, float *, const float *, const float *, const float *, const float *, int, int, int, int))
DECL(void, fl_conv_fwd, (fl_ctx *, float *, const float *, const float *, const float *, const fl_geom *, int))
DECL(void, fl_conv_bwd, (fl_ctx *, float *, float *, float *, const float *, const float *, const float *, const float *, const fl_geom *, int))
DECL(void, fl_maxpool_fwd, (fl_ctx *, float *, int32_t *, const float *, const fl_geom *))
DECL(void, fl_maxpool_bwd, (fl_ctx *, float *, const float *, const int32_t *, const fl_geom *))
DECL(void, fl_avgpool_fwd, (fl_ctx *, float *, const float *, const fl_geom *))
DECL(void, fl_avgpool_bwd, (fl_ctx *, float *, const float *, const fl_geom *))
DECL(void, fl_gmaxpool_fwd, (fl_ctx *, float *, int32_t *, const float *, int, int, int))
DECL(void, fl_gmaxpool_bwd, (fl_ctx *, float *, const float *, const int32_t *, int, int, int))
DECL(void, fl_gavgpool_fwd, (fl_ctx *, float *, const float *, int, int, int))
DECL(void, fl_gavgpool_bwd, (fl_ctx *, float *, const float *, int, int, int))
DECL(void, fl_bn_train_fwd, (fl_ctx *, float *, float *, float *, float *, float *, const float *, const float *, const float *, int, int, float, float, int))
DECL(void, fl_bn_infer_fwd, (fl_ctx *, float *, const float *, const float *, const float *, const float *, const float *, int, int, float, int))
DECL(void, fl_bn_bwd, (fl_ctx *, float *, float *, float *, const float *, const float *, const float *, const float *, const float *, const float *, int, int, int))
DECL(void, fl_act_fwd, (fl_ctx *, int, float *, const float *, size_t, float))
DECL(void, fl_act_bwd, (fl_ctx *, int, float *, const float *, const float *, const float *, size_t, float))
DECL(void, fl_softmax_fwd, (fl_ctx *, float *, const float *, int, int))
DECL(void, fl_softmax_bwd, (fl_ctx *, float *, const float *, const float *, int, int))
DECL(void, fl_dropout_fwd, (fl_ctx *, float *, uint8_t *, const float *, size_t, double, const uint32_t *))
DECL(void, fl_dropout_bwd, (fl_ctx *, float *, const float *, const uint8_t *, size_t, double))
DECL(double, fl_softmax_xent, (fl_ctx *, float *, float *, const float *, const int32_t *, const float *, int, int, float))
DECL(double, fl_cat_xent, (fl_ctx *, float *, float *, const float *, const float *, const float *, int, int, float))
DECL(double, fl_mse, (fl_ctx *, float *, const float *, const float *, const float *, int, int, float))
DECL(int, fl_count_correct, (fl_ctx *, const float *, const int32_t *, int, int, int))
DECL(double, fl_penalty, (fl_ctx *, const float *, size_t, float, float))
DECL(void, fl_penalty_grad, (fl_ctx *, float *, const float *, size_t, float, float))
DECL(void, fl_sgd, (fl_ctx *, float *, const float *, float *, size_t, float, float, int, float))
DECL(void, fl_adam, (fl_ctx *, float *, const float *, float *, float *, float *, size_t, float, float, float, float, float, float))
DECL(void, fl_nadam, (fl_ctx *, float *, const float *, float *, float *, size_t, float, float, float, float, float, float, float, float))
DECL(void, fl_rmsprop, (fl_ctx *, float *, const float *, float *, float *, float *, size_t, float, float, float, float, float, float))
DECL(void, fl_warp, (fl_ctx *, float *, const float *, const double *, int, int, int, int, int, double, int))

const fl_kernels FL_FN(fl_kernels) = {
  .isa = FL_ISA,
  .fill = FL_FN(fl_fill), .copy = FL_FN(fl_copy), .add = FL_FN(fl_add), .axpy = FL_FN(fl_axpy),
  .scale = FL_FN(fl_scale), .sumsq = FL_FN(fl_sumsq), .peak = FL_FN(fl_peak), .gemm = FL_FN(fl_gemm),
  .dense_fwd = FL_FN(fl_dense_fwd), .dense_bwd = FL_FN(fl_dense_bwd),
  .conv_fwd = FL_FN(fl_conv_fwd), .conv_bwd = FL_FN(fl_conv_bwd),
  .maxpool_fwd = FL_FN(fl_maxpool_fwd), .maxpool_bwd = FL_FN(fl_maxpool_bwd),
  .avgpool_fwd = FL_FN(fl_avgpool_fwd), .avgpool_bwd = FL_FN(fl_avgpool_bwd),
  .gmaxpool_fwd = FL_FN(fl_gmaxpool_fwd), .gmaxpool_bwd = FL_FN(fl_gmaxpool_bwd),
  .gavgpool_fwd = FL_FN(fl_gavgpool_fwd), .gavgpool_bwd = FL_FN(fl_gavgpool_bwd),
  .bn_train_fwd = FL_FN(fl_bn_train_fwd), .bn_infer_fwd = FL_FN(fl_bn_infer_fwd),
  .bn_bwd = FL_FN(fl_bn_bwd), .act_fwd = FL_FN(fl_act_fwd), .act_bwd = FL_FN(fl_act_bwd),
  .softmax_fwd = FL_FN(fl_softmax_fwd), .softmax_bwd = FL_FN(fl_softmax_bwd),
  .dropout_fwd = FL_FN(fl_dropout_fwd), .dropout_bwd = FL_FN(fl_dropout_bwd),
  .softmax_xent = FL_FN(fl_softmax_xent), .cat_xent = FL_FN(fl_cat_xent), .mse = FL_FN(fl_mse),
  .count_correct = FL_FN(fl_count_correct), .penalty = FL_FN(fl_penalty),
  .penalty_grad = FL_FN(fl_penalty_grad), .sgd = FL_FN(fl_sgd), .adam = FL_FN(fl_adam),
  .nadam = FL_FN(fl_nadam), .rmsprop = FL_FN(fl_rmsprop), .warp = FL_FN(fl_warp),
};
