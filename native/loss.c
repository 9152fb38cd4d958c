/*
 * Losses fused with softmax (from logits, numerically stable) and top-k accuracy.
 * Rows are a batch: one thread is plenty. Loss sums accumulate in double.
 */
#include <math.h>

#include "fl.h"

/* probs = softmax(logits) for one row; returns the row's log-sum-exp. */
static double softmax_row(float *p, const float *z, int cols) {
  float mx = -INFINITY;
  for (int j = 0; j < cols; j++) mx = z[j] > mx ? z[j] : mx;
  double sum = 0;
  for (int j = 0; j < cols; j++) sum += exp((double)z[j] - mx);
  const double lse = mx + log(sum);
  for (int j = 0; j < cols; j++) p[j] = (float)exp((double)z[j] - lse);
  return lse;
}

double FL_FN(fl_softmax_xent)(fl_ctx *ctx, float *probs, float *dlogits, const float *logits,
                              const int32_t *labels, const float *weights, int rows, int cols,
                              float grad_scale) {
  (void)ctx;
  double total = 0;
  for (int r = 0; r < rows; r++) {
    const size_t o = (size_t)r * cols;
    const double lse = softmax_row(probs + o, logits + o, cols);
    const double w = weights ? weights[r] : 1.0;
    total += w * (lse - logits[o + labels[r]]);
    if (dlogits) {
      const float s = (float)(grad_scale * w);
      for (int j = 0; j < cols; j++) dlogits[o + j] = s * (probs[o + j] - (j == labels[r] ? 1.0f : 0.0f));
    }
  }
  return total;
}

double FL_FN(fl_cat_xent)(fl_ctx *ctx, float *probs, float *dlogits, const float *logits,
                          const float *targets, const float *weights, int rows, int cols,
                          float grad_scale) {
  (void)ctx;
  double total = 0;
  for (int r = 0; r < rows; r++) {
    const size_t o = (size_t)r * cols;
    const double lse = softmax_row(probs + o, logits + o, cols);
    const double w = weights ? weights[r] : 1.0;
    double mass = 0, loss = 0;
    for (int j = 0; j < cols; j++) {
      mass += targets[o + j];
      loss += targets[o + j] * (lse - logits[o + j]);
    }
    total += w * loss;
    if (dlogits) {
      const float s = (float)(grad_scale * w), m = (float)mass;
      for (int j = 0; j < cols; j++) dlogits[o + j] = s * (m * probs[o + j] - targets[o + j]);
    }
  }
  return total;
}

double FL_FN(fl_mse)(fl_ctx *ctx, float *dpred, const float *pred, const float *target,
                     const float *weights, int rows, int cols, float grad_scale) {
  (void)ctx;
  double total = 0;
  for (int r = 0; r < rows; r++) {
    const size_t o = (size_t)r * cols;
    const double w = weights ? weights[r] : 1.0;
    double s = 0;
    const float g = (float)(grad_scale * w * 2.0 / cols);
    for (int j = 0; j < cols; j++) {
      const float d = pred[o + j] - target[o + j];
      s += (double)d * d;
      if (dpred) dpred[o + j] = g * d;
    }
    total += w * s / cols;
  }
  return total;
}

int FL_FN(fl_count_correct)(fl_ctx *ctx, const float *scores, const int32_t *labels, int rows,
                            int cols, int k) {
  (void)ctx;
  int correct = 0;
  for (int r = 0; r < rows; r++) {
    const float *s = scores + (size_t)r * cols;
    const int label = labels[r];
    const float mine = s[label];
    if (mine != mine) continue; /* NaN score: never correct */
    int rank = 0;
    for (int j = 0; j < cols; j++) {
      if (s[j] > mine || (s[j] == mine && j < label) || s[j] != s[j]) rank++;
    }
    if (rank < k) correct++;
  }
  return correct;
}
