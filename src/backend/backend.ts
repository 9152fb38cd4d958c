/**
 * The Backend interface: the one narrow seam between fitlab's TypeScript and its compute.
 *
 * Two implementations exist: `reference` (TypeScript loops, the living spec and fallback) and
 * `native` (C kernels behind N-API). Both receive the same validated arguments; the shared
 * conformance suite (test/backend/kernel-suite.ts) holds the native one to the reference.
 *
 * Conventions (STYLE.md §1):
 * - Argument order: outputs, saved buffers, inputs/weights, then dimensions and scalars.
 * - Tensors are NHWC float32, row-major; labels are Int32Array; dense weights are (in, out) and
 *   conv weights (kh, kw, cin, cout), the Keras layouts.
 * - Outputs are overwritten unless a kernel says it accumulates (`axpy`, `penaltyGrad`).
 * - A gradient output passed as `null` is not computed (a frozen layer needs no `dw`, the first
 *   layer needs no `dx`).
 */
import type { ConvGeometry, PoolGeometry } from './geometry.js';

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Activations a kernel can apply in the same pass as its main work. */
export type FusedActivation = 'linear' | 'relu';

/** Elementwise activations (softmax is row-wise and has its own kernels). */
export type ElementwiseActivation = 'linear' | 'relu' | 'elu' | 'leaky_relu' | 'sigmoid' | 'tanh';

export const ELEMENTWISE_ACTIVATIONS: readonly ElementwiseActivation[] = [
  'linear', 'relu', 'elu', 'leaky_relu', 'sigmoid', 'tanh',
];

/**
 * A draw from the PRNG for a kernel that samples in place (dropout):
 * [key0, key1, stream0, stream1, startBlockLo, startBlockHi], see src/tensor/prng.ts.
 */
export type RandomDraw = Uint32Array;

/** The kernels. Every method validates its arguments (ShapeError / ArgumentError). */
export interface Kernels {
  // ---- memory and BLAS-1 -------------------------------------------------------------------
  /** y[i] = value */
  fill(y: F32, value: number): void;
  /** y = x (same length) */
  copy(y: F32, x: F32): void;
  /** y = a + b (residual Add); y may alias a or b */
  add(y: F32, a: F32, b: F32): void;
  /** y += alpha·x (accumulates) */
  axpy(y: F32, alpha: number, x: F32): void;
  /** y *= alpha */
  scale(y: F32, alpha: number): void;
  /** Σ x², accumulated in double precision */
  sumSquares(x: F32): number;

  // ---- GEMM ----------------------------------------------------------------------------------
  /**
   * C = alpha·op(A)·op(B) + beta·C, row-major; op(A) is m×k, op(B) is k×n, C is m×n.
   * A is stored m×k (lda ≥ k), or k×m (lda ≥ m) when transA. B likewise with ldb.
   * beta = 0 ignores C's old contents (NaN included).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: F32, lda: number, b: F32, ldb: number, beta: number, c: F32, ldc: number,
  ): void;

  // ---- Dense ---------------------------------------------------------------------------------
  /** y (batch,outF) = act(x (batch,inF) · w (inF,outF) + b (outF)) */
  denseForward(
    y: F32, x: F32, w: F32, b: F32 | null, batch: number, inF: number, outF: number,
    act: FusedActivation,
  ): void;
  /**
   * Gradients of denseForward. dy is the gradient w.r.t. the activated output; when act is
   * 'relu', y (the forward output) masks it. dy is left untouched.
   * dx (batch,inF) = dz·wᵀ; dw (inF,outF) = xᵀ·dz; db (outF) = Σ_rows dz.
   */
  denseBackward(
    dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, y: F32 | null, x: F32, w: F32,
    batch: number, inF: number, outF: number, act: FusedActivation,
  ): void;

  // ---- Conv2D --------------------------------------------------------------------------------
  /** y (n,oh,ow,f) = act(conv(x (n,h,w,c), w (kh,kw,c,f)) + b (f)) */
  conv2dForward(y: F32, x: F32, w: F32, b: F32 | null, g: ConvGeometry, act: FusedActivation): void;
  /** Gradients of conv2dForward; same masking rule as denseBackward. */
  conv2dBackward(
    dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, y: F32 | null, x: F32, w: F32,
    g: ConvGeometry, act: FusedActivation,
  ): void;

  // ---- Pooling -------------------------------------------------------------------------------
  /**
   * y (n,oh,ow,c) = max over each window; argmax (n,oh,ow,c) saves the flat index into x of
   * the winner (first in row-major window order on ties). Padding cells never win.
   */
  maxPoolForward(y: F32, argmax: I32, x: F32, g: PoolGeometry): void;
  /** dx (n,h,w,c) = scatter of dy to the saved argmax positions (dx overwritten) */
  maxPoolBackward(dx: F32, dy: F32, argmax: I32, g: PoolGeometry): void;
  /** y = mean over each window's cells inside the input (padding is not counted, as in TF) */
  avgPoolForward(y: F32, x: F32, g: PoolGeometry): void;
  avgPoolBackward(dx: F32, dy: F32, g: PoolGeometry): void;
  /** y (n,c) = max over the hw positions of x (n,hw,c); argmax (n,c) = flat index into x */
  globalMaxPoolForward(y: F32, argmax: I32, x: F32, n: number, hw: number, c: number): void;
  globalMaxPoolBackward(dx: F32, dy: F32, argmax: I32, n: number, hw: number, c: number): void;
  globalAvgPoolForward(y: F32, x: F32, n: number, hw: number, c: number): void;
  globalAvgPoolBackward(dx: F32, dy: F32, n: number, hw: number, c: number): void;

  // ---- BatchNormalization (x viewed as rows × c) ----------------------------------------------
  /**
   * Training mode: normalize with the batch mean and (biased) variance, save mean and
   * invStd = 1/sqrt(var + epsilon) per channel, and update the moving statistics the Keras way:
   * moving = moving·momentum + batch·(1 − momentum). gamma null = 1 (scale=false), beta null = 0.
   */
  batchNormTrainForward(
    y: F32, mean: F32, invStd: F32, movingMean: F32, movingVar: F32,
    x: F32, gamma: F32 | null, beta: F32 | null, rows: number, c: number,
    momentum: number, epsilon: number, act: FusedActivation,
  ): void;
  /** Inference mode: normalize with the moving statistics; nothing is updated. */
  batchNormInferForward(
    y: F32, x: F32, gamma: F32 | null, beta: F32 | null, movingMean: F32, movingVar: F32,
    rows: number, c: number, epsilon: number, act: FusedActivation,
  ): void;
  /** Gradients of the training-mode forward (batch statistics are functions of x). */
  batchNormBackward(
    dx: F32, dgamma: F32 | null, dbeta: F32 | null, dy: F32, y: F32 | null,
    x: F32, mean: F32, invStd: F32, gamma: F32 | null, rows: number, c: number,
    act: FusedActivation,
  ): void;

  // ---- Activations ---------------------------------------------------------------------------
  /** y = act(x); alpha is elu's alpha or leaky_relu's negative slope. y may alias x. */
  activationForward(kind: ElementwiseActivation, y: F32, x: F32, alpha: number): void;
  /** dx = dy · act'(x); uses y = act(x) where that is cheaper. dx may alias dy. */
  activationBackward(kind: ElementwiseActivation, dx: F32, dy: F32, x: F32, y: F32, alpha: number): void;
  /** Row-wise softmax of x (rows, cols), max-subtracted. */
  softmaxForward(y: F32, x: F32, rows: number, cols: number): void;
  /** dx = y ⊙ (dy − Σ_j dy·y) per row. */
  softmaxBackward(dx: F32, dy: F32, y: F32, rows: number, cols: number): void;

  // ---- Dropout -------------------------------------------------------------------------------
  /**
   * Inverted dropout: keep[i] = uniform_i ≥ rate (uniform from the Philox draw, see prng.ts);
   * y = keep ? x/(1−rate) : 0; mask[i] = keep[i]. y may alias x.
   */
  dropoutForward(y: F32, mask: Uint8Array, x: F32, rate: number, draw: RandomDraw): void;
  /** dx = mask ? dy/(1−rate) : 0. dx may alias dy. */
  dropoutBackward(dx: F32, dy: F32, mask: Uint8Array, rate: number): void;

  // ---- Losses and metrics --------------------------------------------------------------------
  /**
   * Fused softmax + sparse categorical cross-entropy from logits (rows, cols).
   * probs = softmax(logits); returns Σ_i w_i·(−log probs[i, label_i]) (w_i = 1 when weights is
   * null); dlogits = gradScale·w_i·(probs − onehot(label_i)).
   */
  softmaxCrossEntropy(
    probs: F32, dlogits: F32 | null, logits: F32, labels: I32, weights: F32 | null,
    rows: number, cols: number, gradScale: number,
  ): number;
  /** As softmaxCrossEntropy with dense (one-hot or soft) targets (rows, cols). */
  categoricalCrossEntropy(
    probs: F32, dlogits: F32 | null, logits: F32, targets: F32, weights: F32 | null,
    rows: number, cols: number, gradScale: number,
  ): number;
  /**
   * Returns Σ_i w_i·mean_j (pred − target)²; dpred = gradScale·w_i·2(pred − target)/cols.
   */
  meanSquaredError(
    dpred: F32 | null, pred: F32, target: F32, weights: F32 | null,
    rows: number, cols: number, gradScale: number,
  ): number;
  /** Rows whose label is among the k largest scores (ties broken toward the lower index). */
  countCorrect(scores: F32, labels: I32, rows: number, cols: number, k: number): number;

  // ---- Regularizers --------------------------------------------------------------------------
  /** l1·Σ|w| + l2·Σw² */
  penalty(w: F32, l1: number, l2: number): number;
  /** dw += l1·sign(w) + 2·l2·w (accumulates) */
  penaltyGrad(dw: F32, w: F32, l1: number, l2: number): void;

  // ---- Optimizer updates (in place on w and the state buffers; Keras formulas) ------------------
  /**
   * Decoupled weight decay first (w −= lr·weightDecay·w, Keras' convention), then
   * momentum = 0: w −= lr·g;  else v = momentum·v − lr·g; w += v (nesterov: w += momentum·v − lr·g).
   */
  sgdUpdate(
    w: F32, g: F32, velocity: F32 | null, lr: number, momentum: number, nesterov: boolean,
    weightDecay: number,
  ): void;
  /**
   * Adam/AdamW (Keras): w −= lr·wd·w; m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
   * (amsgrad: vhat = max(vhat, v)); w −= lr·sqrt(1 − β2^t)/(1 − β1^t) · m/(sqrt(v or vhat) + ε).
   * step is t ≥ 1.
   */
  adamUpdate(
    w: F32, g: F32, m: F32, v: F32, vhat: F32 | null, lr: number, beta1: number, beta2: number,
    epsilon: number, step: number, weightDecay: number,
  ): void;
  /**
   * Nadam (Keras): the momentum-schedule scalars come from the optimizer:
   * m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
   * w −= lr·(coefM·m + coefG·g)/(sqrt(v·vCorrection) + ε), after decoupled decay.
   */
  nadamUpdate(
    w: F32, g: F32, m: F32, v: F32, lr: number, beta1: number, beta2: number, epsilon: number,
    coefM: number, coefG: number, vCorrection: number, weightDecay: number,
  ): void;
  /**
   * RMSprop (Keras): ms = ρ·ms + (1 − ρ)g²; centered: mg = ρ·mg + (1 − ρ)g, denom = ms − mg² + ε,
   * else denom = ms + ε; inc = lr·g/sqrt(denom); momentum > 0: mom = momentum·mom + inc, w −= mom;
   * else w −= inc. Decoupled decay first.
   */
  rmspropUpdate(
    w: F32, g: F32, ms: F32, mg: F32 | null, mom: F32 | null, lr: number, rho: number,
    momentum: number, epsilon: number, weightDecay: number,
  ): void;

  // ---- Augmentation --------------------------------------------------------------------------
  /**
   * y (n,h,w,c) ← x warped by per-image inverse affine maps: matrices holds 6 numbers per image,
   * mapping output pixel (x, y) to input coordinates (xin = m0·x + m1·y + m2, yin = m3·x + m4·y
   * + m5). Outside coordinates fold per fill mode (TensorFlow's reflect, wrap, nearest; constant
   * uses cval). Bilinear or nearest sampling. y must not alias x.
   */
  affineWarp(
    y: F32, x: F32, matrices: Float64Array, n: number, h: number, w: number, c: number,
    fill: FillMode, cval: number, interpolation: Interpolation,
  ): void;
}

export type FillMode = 'reflect' | 'wrap' | 'nearest' | 'constant';
export type Interpolation = 'bilinear' | 'nearest';
export const FILL_MODES: readonly FillMode[] = ['reflect', 'wrap', 'nearest', 'constant'];
export const INTERPOLATIONS: readonly Interpolation[] = ['bilinear', 'nearest'];

export type BackendName = 'reference' | 'native';

/** A compute backend: buffers, thread control and the kernels. */
export interface Backend extends Kernels {
  readonly name: BackendName;
  /** Instruction set the kernels dispatched to ('avx512', 'avx2', 'generic', or 'js'). */
  readonly isa: string;
  /** Threads used inside kernels. */
  readonly threads: number;
  setThreads(threads: number): void;
  /** A zeroed float32 buffer (64-byte aligned on the native backend). */
  alloc(length: number): F32;
}
