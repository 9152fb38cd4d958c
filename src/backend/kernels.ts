/**
 * The kernel signature table: every kernel's arguments declared once (ARCHITECTURE decision 10).
 *
 * From this table are derived
 * - the `Kernels` interface (backend.ts maps each entry to a method type),
 * - the argument checks every backend runs (checked.ts),
 * - the native binding: native/kernels.gen.h, written by `npm run gen:kernels`
 *   (src/backend/kernel-header.ts), gives addon.c's one generic binder each kernel's argument
 *   descriptors and its call into the C kernel table, and fl.h/table.c their entries,
 * - the native adapter (native/index.ts), which only turns geometries and fused activations into
 *   what C reads.
 * Adding a kernel touches its C file, its reference twin, this table and a test (then
 * `npm run gen:kernels`; test/backend/kernel-table.test.ts fails while the header is stale).
 *
 * Argument order (STYLE.md §1): outputs, saved buffers, inputs/weights, then dimensions and
 * scalars. Tensors are NHWC float32, labels Int32Array; dense weights are (in, out) and conv
 * weights (kh, kw, cin, cout). Outputs are overwritten unless a kernel says it accumulates. A
 * gradient output passed as `null` is not computed.
 *
 * Sizes: `'len'` is the length shared by a kernel's elementwise buffers (the first one sets it);
 * a list multiplies integer arguments (and constants); `geom.*` reads the window geometry:
 * x = n·h·w·c, y = n·oh·ow·f (pooling: f = c), w = kh·kw·c·f, f = filters.
 */

/** Activations a kernel can apply in the same pass as its main work. */
export type FusedActivation = 'linear' | 'relu';
/** Elementwise activations (softmax is row-wise and has its own kernels). */
export const ELEMENTWISE_ACTIVATIONS = ['linear', 'relu', 'elu', 'leaky_relu', 'sigmoid', 'tanh'] as const;
export type ElementwiseActivation = (typeof ELEMENTWISE_ACTIVATIONS)[number];
/** How affineWarp fills outside the input (TensorFlow's modes); the order is the C code order. */
export const FILL_MODES = ['reflect', 'wrap', 'nearest', 'constant'] as const;
export type FillMode = (typeof FILL_MODES)[number];
export const INTERPOLATIONS = ['bilinear', 'nearest'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

export type Size = 'len' | 'custom' | 'geom.x' | 'geom.y' | 'geom.w' | 'geom.f' | readonly (string | number)[];

/** One argument. `io` says whether the kernel writes the buffer (C: a non-const pointer). */
export type ArgSpec =
  | {
    kind: 'f32'; name: string; io: 'in' | 'out'; size: Size;
    /** true: may be null (not computed / not used); 'linear': may be null unless act is 'relu' */
    nullable?: true | 'linear';
    /** null is refused while this scalar argument is > 0 (`what` names the buffer in the message) */
    neededWhen?: { arg: string; what: string };
    /** must not share memory with this buffer */
    distinctFrom?: string;
  }
  | {
    kind: 'i32'; name: string; io: 'in' | 'out'; size: Size;
    /** every entry is a class index in [0, this dimension) */
    classesOf?: string;
    /** every entry is a flat index into this buffer, inside the entry's own image */
    indexesInto?: string;
  }
  | { kind: 'u8'; name: string; io: 'in' | 'out'; size: Size }
  | { kind: 'f64'; name: string; size: Size }
  | { kind: 'draw'; name: 'draw' }
  | { kind: 'int'; name: string }
  | {
    kind: 'num'; name: string;
    /** [lo, hi] or [lo, hi) when open */
    range?: readonly [number, number, 'closed' | 'open'];
    /** the C parameter type (float unless the kernel needs the double) */
    c?: 'double';
  }
  | { kind: 'bool'; name: string }
  /** a fused activation, 'linear' or 'relu' (C: an int flag, 1 for relu) */
  | { kind: 'fused'; name: 'act' }
  /**
   * A string from a fixed list (C: its index in `values`, which is the C code order). The TS
   * message reads `${label} must be ${allowed}`.
   */
  | { kind: 'enum'; name: string; values: readonly string[]; label: string; allowed: string }
  | { kind: 'geom'; name: 'g'; of: 'conv' | 'pool' };

/** An argument of the C call that is not a JS argument: the shared length, or an expression. */
export type CArg = string | { name: string; type: 'float' | 'double'; expr: string };

export interface KernelSpec {
  args: readonly ArgSpec[];
  returns: 'void' | 'number';
  /**
   * The C kernel: its name in fl_kernels (function fl_<name>), its return type, and its
   * parameters after the context when they differ from the JS arguments in order: `'len'` is
   * the shared length (size_t), an object an expression over the JS arguments, computed in
   * double by the binding.
   */
  c: { name: string; ret?: 'double' | 'int'; args?: readonly CArg[] };
  /** A check beyond the table (its name is also the C hook in addon.c). */
  extra?: 'gemm';
}

// ---- argument constructors (generic, so that `nullable` stays a literal the types can see) -----
interface BufferExtras {
  nullable?: true | 'linear';
  neededWhen?: { arg: string; what: string };
  distinctFrom?: string;
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
const out = <const M extends BufferExtras = {}>(name: string, size: Size, more?: M) =>
  ({ kind: 'f32', name, io: 'out', size, ...more }) as { kind: 'f32'; name: string; io: 'out'; size: Size } & M;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
const inp = <const M extends BufferExtras = {}>(name: string, size: Size, more?: M) =>
  ({ kind: 'f32', name, io: 'in', size, ...more }) as { kind: 'f32'; name: string; io: 'in'; size: Size } & M;
const int = (name: string) => ({ kind: 'int', name }) as const;
const num = (name: string, c?: 'double') => ({ kind: 'num', name, ...(c ? { c } : {}) }) as { kind: 'num'; name: string; c?: 'double' };
const unit = (name: string, open: boolean, c?: 'double') =>
  ({ kind: 'num', name, range: [0, 1, open ? 'open' : 'closed'], ...(c ? { c } : {}) }) as const satisfies ArgSpec;
const nonNeg = (name: string) => ({ kind: 'num', name, range: [0, Infinity, 'closed'] }) as const satisfies ArgSpec;
const act = { kind: 'fused', name: 'act' } as const;
const conv = { kind: 'geom', name: 'g', of: 'conv' } as const;
const pool = { kind: 'geom', name: 'g', of: 'pool' } as const;
const activationKind = {
  kind: 'enum', name: 'kind', values: ELEMENTWISE_ACTIVATIONS, label: 'activation',
  allowed: `one of ${ELEMENTWISE_ACTIVATIONS.join(', ')}`,
} as const;
const BN = ['rows', 'c'] as const;
const RC = ['rows', 'cols'] as const;

/**
 * The kernels, in the order of their families (blas, gemm/dense, conv, pool, norm, act, loss,
 * optim, augment). Each comment is the kernel's contract; the reference twin implements it.
 */
export const KERNEL_TABLE = {
  // ---- memory and BLAS-1 ----------------------------------------------------------------------
  /** y[i] = value */
  fill: { args: [out('y', 'len'), num('value')], returns: 'void', c: { name: 'fill', args: ['y', 'len', 'value'] } },
  /** y = x (same length) */
  copy: { args: [out('y', 'len'), inp('x', 'len')], returns: 'void', c: { name: 'copy', args: ['y', 'x', 'len'] } },
  /** y = a + b (residual Add); y may alias a or b */
  add: { args: [out('y', 'len'), inp('a', 'len'), inp('b', 'len')], returns: 'void', c: { name: 'add', args: ['y', 'a', 'b', 'len'] } },
  /** y += alpha·x (accumulates) */
  axpy: { args: [out('y', 'len'), num('alpha'), inp('x', 'len')], returns: 'void', c: { name: 'axpy', args: ['y', 'alpha', 'x', 'len'] } },
  /** y *= alpha */
  scale: { args: [out('y', 'len'), num('alpha')], returns: 'void', c: { name: 'scale', args: ['y', 'alpha', 'len'] } },
  /** Σ x², accumulated in double precision */
  sumSquares: { args: [inp('x', 'len')], returns: 'number', c: { name: 'sumsq', ret: 'double', args: ['x', 'len'] } },

  // ---- GEMM and Dense -------------------------------------------------------------------------
  /**
   * C = alpha·op(A)·op(B) + beta·C, row-major; op(A) is m×k, op(B) is k×n, C is m×n.
   * A is stored m×k (lda ≥ k), or k×m (lda ≥ m) when transA. B likewise with ldb.
   * beta = 0 ignores C's old contents (NaN included).
   */
  gemm: {
    args: [{ kind: 'bool', name: 'transA' }, { kind: 'bool', name: 'transB' }, int('m'), int('n'), int('k'), num('alpha'),
      inp('a', 'custom'), int('lda'), inp('b', 'custom'), int('ldb'), num('beta'), out('c', 'custom'), int('ldc')],
    returns: 'void', c: { name: 'gemm' }, extra: 'gemm',
  },
  /** y (batch,outF) = act(x (batch,inF) · w (inF,outF) + b (outF)) */
  denseForward: {
    args: [out('y', ['batch', 'outF']), inp('x', ['batch', 'inF']), inp('w', ['inF', 'outF']), inp('b', ['outF'], { nullable: true }),
      int('batch'), int('inF'), int('outF'), act],
    returns: 'void', c: { name: 'dense_fwd' },
  },
  /**
   * Gradients of denseForward. dy is the gradient w.r.t. the activated output; when act is
   * 'relu', y (the forward output) masks it. dy is left untouched.
   * dx (batch,inF) = dz·wᵀ; dw (inF,outF) = xᵀ·dz; db (outF) = Σ_rows dz.
   */
  denseBackward: {
    args: [out('dx', ['batch', 'inF'], { nullable: true }), out('dw', ['inF', 'outF'], { nullable: true }),
      out('db', ['outF'], { nullable: true }), inp('dy', ['batch', 'outF']), inp('y', ['batch', 'outF'], { nullable: 'linear' }),
      inp('x', ['batch', 'inF']), inp('w', ['inF', 'outF']), int('batch'), int('inF'), int('outF'), act],
    returns: 'void', c: { name: 'dense_bwd' },
  },

  // ---- Conv2D ---------------------------------------------------------------------------------
  /** y (n,oh,ow,f) = act(conv(x (n,h,w,c), w (kh,kw,c,f)) + b (f)) */
  conv2dForward: {
    args: [out('y', 'geom.y'), inp('x', 'geom.x'), inp('w', 'geom.w'), inp('b', 'geom.f', { nullable: true }), conv, act],
    returns: 'void', c: { name: 'conv_fwd' },
  },
  /** Gradients of conv2dForward; same masking rule as denseBackward. */
  conv2dBackward: {
    args: [out('dx', 'geom.x', { nullable: true }), out('dw', 'geom.w', { nullable: true }), out('db', 'geom.f', { nullable: true }),
      inp('dy', 'geom.y'), inp('y', 'geom.y', { nullable: 'linear' }), inp('x', 'geom.x'), inp('w', 'geom.w'), conv, act],
    returns: 'void', c: { name: 'conv_bwd' },
  },

  // ---- Pooling --------------------------------------------------------------------------------
  /**
   * y (n,oh,ow,c) = max over each window; argmax (n,oh,ow,c) saves the flat index into x of
   * the winner (first in row-major window order on ties). Padding cells never win.
   */
  maxPoolForward: {
    args: [out('y', 'geom.y'), { kind: 'i32', name: 'argmax', io: 'out', size: 'geom.y' }, inp('x', 'geom.x'), pool],
    returns: 'void', c: { name: 'maxpool_fwd' },
  },
  /** dx (n,h,w,c) = scatter of dy to the saved argmax positions (dx overwritten) */
  maxPoolBackward: {
    args: [out('dx', 'geom.x'), inp('dy', 'geom.y'), { kind: 'i32', name: 'argmax', io: 'in', size: 'geom.y', indexesInto: 'dx' }, pool],
    returns: 'void', c: { name: 'maxpool_bwd' },
  },
  /** y = mean over each window's cells inside the input (padding is not counted, as in TF) */
  avgPoolForward: { args: [out('y', 'geom.y'), inp('x', 'geom.x'), pool], returns: 'void', c: { name: 'avgpool_fwd' } },
  avgPoolBackward: { args: [out('dx', 'geom.x'), inp('dy', 'geom.y'), pool], returns: 'void', c: { name: 'avgpool_bwd' } },
  /** y (n,c) = max over the hw positions of x (n,hw,c); argmax (n,c) = flat index into x */
  globalMaxPoolForward: {
    args: [out('y', ['n', 'c']), { kind: 'i32', name: 'argmax', io: 'out', size: ['n', 'c'] }, inp('x', ['n', 'hw', 'c']),
      int('n'), int('hw'), int('c')],
    returns: 'void', c: { name: 'gmaxpool_fwd' },
  },
  globalMaxPoolBackward: {
    args: [out('dx', ['n', 'hw', 'c']), inp('dy', ['n', 'c']), { kind: 'i32', name: 'argmax', io: 'in', size: ['n', 'c'], indexesInto: 'dx' },
      int('n'), int('hw'), int('c')],
    returns: 'void', c: { name: 'gmaxpool_bwd' },
  },
  globalAvgPoolForward: {
    args: [out('y', ['n', 'c']), inp('x', ['n', 'hw', 'c']), int('n'), int('hw'), int('c')], returns: 'void', c: { name: 'gavgpool_fwd' },
  },
  globalAvgPoolBackward: {
    args: [out('dx', ['n', 'hw', 'c']), inp('dy', ['n', 'c']), int('n'), int('hw'), int('c')], returns: 'void', c: { name: 'gavgpool_bwd' },
  },

  // ---- BatchNormalization (x viewed as rows × c) ------------------------------------------------
  /**
   * Training mode: normalize with the batch mean and (biased) variance, save mean and
   * invStd = 1/sqrt(var + epsilon) per channel, and update the moving statistics the Keras way:
   * moving = moving·momentum + batch·(1 − momentum). gamma null = 1 (scale=false), beta null = 0.
   */
  batchNormTrainForward: {
    args: [out('y', BN), out('mean', ['c']), out('invStd', ['c']), out('movingMean', ['c']), out('movingVar', ['c']),
      inp('x', BN), inp('gamma', ['c'], { nullable: true }), inp('beta', ['c'], { nullable: true }), int('rows'), int('c'),
      unit('momentum', false), nonNeg('epsilon'), act],
    returns: 'void', c: { name: 'bn_train_fwd' },
  },
  /** Inference mode: normalize with the moving statistics; nothing is updated. */
  batchNormInferForward: {
    args: [out('y', BN), inp('x', BN), inp('gamma', ['c'], { nullable: true }), inp('beta', ['c'], { nullable: true }),
      inp('movingMean', ['c']), inp('movingVar', ['c']), int('rows'), int('c'), nonNeg('epsilon'), act],
    returns: 'void', c: { name: 'bn_infer_fwd' },
  },
  /** Gradients of the training-mode forward (batch statistics are functions of x). */
  batchNormBackward: {
    args: [out('dx', BN), out('dgamma', ['c'], { nullable: true }), out('dbeta', ['c'], { nullable: true }), inp('dy', BN),
      inp('y', BN, { nullable: 'linear' }), inp('x', BN), inp('mean', ['c']), inp('invStd', ['c']),
      inp('gamma', ['c'], { nullable: true }), int('rows'), int('c'), act],
    returns: 'void', c: { name: 'bn_bwd' },
  },

  // ---- Activations, softmax, dropout ------------------------------------------------------------
  /** y = act(x); alpha is elu's alpha or leaky_relu's negative slope. y may alias x. */
  activationForward: {
    args: [activationKind, out('y', 'len'), inp('x', 'len'), num('alpha')],
    returns: 'void', c: { name: 'act_fwd', args: ['kind', 'y', 'x', 'len', 'alpha'] },
  },
  /** dx = dy · act'(x); uses y = act(x) where that is cheaper. dx may alias dy. */
  activationBackward: {
    args: [activationKind, out('dx', 'len'), inp('dy', 'len'), inp('x', 'len'), inp('y', 'len'), num('alpha')],
    returns: 'void', c: { name: 'act_bwd', args: ['kind', 'dx', 'dy', 'x', 'y', 'len', 'alpha'] },
  },
  /** Row-wise softmax of x (rows, cols), max-subtracted. */
  softmaxForward: { args: [out('y', RC), inp('x', RC), int('rows'), int('cols')], returns: 'void', c: { name: 'softmax_fwd' } },
  /** dx = y ⊙ (dy − Σ_j dy·y) per row. */
  softmaxBackward: {
    args: [out('dx', RC), inp('dy', RC), inp('y', RC), int('rows'), int('cols')], returns: 'void', c: { name: 'softmax_bwd' },
  },
  /**
   * Inverted dropout: keep[i] = uniform_i ≥ rate (uniform from the Philox draw, see prng.ts);
   * y = keep ? x/(1−rate) : 0; mask[i] = keep[i]. y may alias x.
   */
  dropoutForward: {
    args: [out('y', 'len'), { kind: 'u8', name: 'mask', io: 'out', size: 'len' }, inp('x', 'len'), unit('rate', true, 'double'),
      { kind: 'draw', name: 'draw' }],
    returns: 'void', c: { name: 'dropout_fwd', args: ['y', 'mask', 'x', 'len', 'rate', 'draw'] },
  },
  /** dx = mask ? dy/(1−rate) : 0. dx may alias dy. */
  dropoutBackward: {
    args: [out('dx', 'len'), inp('dy', 'len'), { kind: 'u8', name: 'mask', io: 'in', size: 'len' }, unit('rate', true, 'double')],
    returns: 'void', c: { name: 'dropout_bwd', args: ['dx', 'dy', 'mask', 'len', 'rate'] },
  },

  // ---- Losses and metrics -----------------------------------------------------------------------
  /**
   * Fused softmax + sparse categorical cross-entropy from logits (rows, cols).
   * probs = softmax(logits); returns Σ_i w_i·(−log probs[i, label_i]) (w_i = 1 when weights is
   * null); dlogits = gradScale·w_i·(probs − onehot(label_i)).
   */
  softmaxCrossEntropy: {
    args: [out('probs', RC), out('dlogits', RC, { nullable: true }), inp('logits', RC),
      { kind: 'i32', name: 'labels', io: 'in', size: ['rows'], classesOf: 'cols' }, inp('weights', ['rows'], { nullable: true }),
      int('rows'), int('cols'), num('gradScale')],
    returns: 'number', c: { name: 'softmax_xent', ret: 'double' },
  },
  /** As softmaxCrossEntropy with dense (one-hot or soft) targets (rows, cols). */
  categoricalCrossEntropy: {
    args: [out('probs', RC), out('dlogits', RC, { nullable: true }), inp('logits', RC), inp('targets', RC),
      inp('weights', ['rows'], { nullable: true }), int('rows'), int('cols'), num('gradScale')],
    returns: 'number', c: { name: 'cat_xent', ret: 'double' },
  },
  /** Returns Σ_i w_i·mean_j (pred − target)²; dpred = gradScale·w_i·2(pred − target)/cols. */
  meanSquaredError: {
    args: [out('dpred', RC, { nullable: true }), inp('pred', RC), inp('target', RC), inp('weights', ['rows'], { nullable: true }),
      int('rows'), int('cols'), num('gradScale')],
    returns: 'number', c: { name: 'mse', ret: 'double' },
  },
  /** Rows whose label is among the k largest scores (ties broken toward the lower index). */
  countCorrect: {
    args: [inp('scores', RC), { kind: 'i32', name: 'labels', io: 'in', size: ['rows'], classesOf: 'cols' }, int('rows'), int('cols'), int('k')],
    returns: 'number', c: { name: 'count_correct', ret: 'int' },
  },

  // ---- Regularizers -----------------------------------------------------------------------------
  /** l1·Σ|w| + l2·Σw² */
  penalty: {
    args: [inp('w', 'len'), nonNeg('l1'), nonNeg('l2')], returns: 'number', c: { name: 'penalty', ret: 'double', args: ['w', 'len', 'l1', 'l2'] },
  },
  /** dw += l1·sign(w) + 2·l2·w (accumulates) */
  penaltyGrad: {
    args: [out('dw', 'len'), inp('w', 'len'), nonNeg('l1'), nonNeg('l2')],
    returns: 'void', c: { name: 'penalty_grad', args: ['dw', 'w', 'len', 'l1', 'l2'] },
  },

  // ---- Optimizer updates (in place on w and the state buffers; Keras formulas) --------------------
  /**
   * Decoupled weight decay first (w −= lr·weightDecay·w, Keras' convention), then
   * momentum = 0: w −= lr·g;  else v = momentum·v − lr·g; w += v (nesterov: w += momentum·v − lr·g).
   */
  sgdUpdate: {
    args: [out('w', 'len'), inp('g', 'len'), out('velocity', 'len', { nullable: true, neededWhen: { arg: 'momentum', what: 'a velocity buffer' } }),
      num('lr'), unit('momentum', false), { kind: 'bool', name: 'nesterov' }, num('weightDecay')],
    returns: 'void', c: { name: 'sgd', args: ['w', 'g', 'velocity', 'len', 'lr', 'momentum', 'nesterov', 'weightDecay'] },
  },
  /**
   * Adam/AdamW (Keras): w −= lr·wd·w; m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
   * (amsgrad: vhat = max(vhat, v)); w −= lr·sqrt(1 − β2^t)/(1 − β1^t) · m/(sqrt(v or vhat) + ε).
   * step is t ≥ 1. The complements and the step size are computed in double by the binding:
   * rounding β to float first would cost 1e-5 relative in v for β2 = 0.999.
   */
  adamUpdate: {
    args: [out('w', 'len'), inp('g', 'len'), out('m', 'len'), out('v', 'len'), out('vhat', 'len', { nullable: true }), num('lr'),
      unit('beta1', true), unit('beta2', true), nonNeg('epsilon'), int('step'), num('weightDecay')],
    returns: 'void',
    c: {
      name: 'adam',
      args: ['w', 'g', 'm', 'v', 'vhat', 'len', 'lr', { name: 'b1c', type: 'float', expr: '1.0 - beta1' },
        { name: 'b2c', type: 'float', expr: '1.0 - beta2' }, 'epsilon',
        { name: 'alpha_t', type: 'float', expr: 'lr * sqrt(1.0 - pow(beta2, step)) / (1.0 - pow(beta1, step))' }, 'weightDecay'],
    },
  },
  /**
   * Nadam (Keras): the momentum-schedule scalars come from the optimizer:
   * m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
   * w −= lr·(coefM·m + coefG·g)/(sqrt(v·vCorrection) + ε), after decoupled decay.
   */
  nadamUpdate: {
    args: [out('w', 'len'), inp('g', 'len'), out('m', 'len'), out('v', 'len'), num('lr'), unit('beta1', true), unit('beta2', true),
      nonNeg('epsilon'), num('coefM'), num('coefG'), num('vCorrection'), num('weightDecay')],
    returns: 'void',
    c: {
      name: 'nadam',
      args: ['w', 'g', 'm', 'v', 'len', 'lr', { name: 'b1c', type: 'float', expr: '1.0 - beta1' },
        { name: 'b2c', type: 'float', expr: '1.0 - beta2' }, 'epsilon', 'coefM', 'coefG', 'vCorrection', 'weightDecay'],
    },
  },
  /**
   * RMSprop (Keras): ms = ρ·ms + (1 − ρ)g²; centered: mg = ρ·mg + (1 − ρ)g, denom = ms − mg² + ε,
   * else denom = ms + ε; inc = lr·g/sqrt(denom); momentum > 0: mom = momentum·mom + inc, w −= mom;
   * else w −= inc. Decoupled decay first.
   */
  rmspropUpdate: {
    args: [out('w', 'len'), inp('g', 'len'), out('ms', 'len'), out('mg', 'len', { nullable: true }),
      out('mom', 'len', { nullable: true, neededWhen: { arg: 'momentum', what: 'a momentum buffer' } }), num('lr'), unit('rho', true),
      unit('momentum', false), nonNeg('epsilon'), num('weightDecay')],
    returns: 'void',
    c: {
      name: 'rmsprop',
      args: ['w', 'g', 'ms', 'mg', 'mom', 'len', 'lr', 'rho', { name: 'rc', type: 'float', expr: '1.0 - rho' }, 'momentum', 'epsilon',
        'weightDecay'],
    },
  },

  // ---- Augmentation -------------------------------------------------------------------------------
  /**
   * y (n,h,w,c) ← x warped by per-image inverse affine maps: matrices holds 6 numbers per image,
   * mapping output pixel (x, y) to input coordinates (xin = m0·x + m1·y + m2, yin = m3·x + m4·y
   * + m5). Outside coordinates fold per fill mode (TensorFlow's reflect, wrap, nearest; constant
   * uses cval). Bilinear or nearest sampling. y must not alias x.
   */
  affineWarp: {
    args: [out('y', ['n', 'h', 'w', 'c'], { distinctFrom: 'x' }), inp('x', ['n', 'h', 'w', 'c']), { kind: 'f64', name: 'matrices', size: ['n', 6] },
      int('n'), int('h'), int('w'), int('c'),
      { kind: 'enum', name: 'fill', values: FILL_MODES, label: 'fill', allowed: `one of ${FILL_MODES.join(', ')}` },
      num('cval', 'double'),
      // C codes: 0 nearest, 1 bilinear
      { kind: 'enum', name: 'interpolation', values: ['nearest', 'bilinear'], label: 'interpolation', allowed: 'bilinear or nearest' }],
    returns: 'void', c: { name: 'warp' },
  },
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNEL_TABLE;
export const KERNEL_NAMES = Object.keys(KERNEL_TABLE) as KernelName[];
