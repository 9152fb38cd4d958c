/**
 * Optimizers and learning-rate schedules against Keras: defaults, single steps worked out by hand
 * (including the examples of Keras' own documentation), several steps against a float64
 * transcription of the Keras update formulas, gradient clipping, schedules at chosen steps, an
 * exact resume through getState/setState, and option errors. Every update runs on each backend.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { ArgumentError } from '../../src/errors.js';
import type { Layer, Param } from '../../src/nn/layer.js';
import { Adam, AdamW, Nadam, type Optimizer, RMSprop, SGD, createOptimizer } from '../../src/optim/optimizers.js';
import { type LearningRateSchedule, parseSchedule, scheduleValue } from '../../src/optim/schedules.js';
import { native, reference } from '../nn/check.js';

const BACKENDS: Backend[] = native ? [reference, native] : [reference];

/** A free-standing weight tensor, as the optimizer sees a layer's weight. */
function param(name: string, values: number[], backend: Backend): Param {
  const value = backend.alloc(values.length);
  value.set(values);
  return {
    name, weightName: name, shape: [values.length], value, grad: backend.alloc(values.length),
    regularizer: null, layer: {} as Layer, trainable: true,
  };
}

/** Run `steps` updates with grad = gradient(w), returning the weights after each step. */
function run(opt: Optimizer, p: Param, gradient: (w: number[]) => number[], steps: number, backend: Backend): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    (p.grad as Float32Array).set(gradient(Array.from(p.value)));
    opt.step([p], backend);
    out.push(Array.from(p.value));
  }
  return out;
}

/** Relative agreement for float32 arithmetic against a float64 formula. */
function expectNear(actual: number[], expected: number[], rel = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `element ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected[i]))));
}

const identityGrad = (w: number[]): number[] => w; // loss Σ w²/2
// a gradient with several scales and signs: loss Σ c·w²/2 + d·w
const C = [1, 2, 0.5];
const D = [0.1, -0.3, 0.2];
const mixedGrad = (w: number[]): number[] => w.map((v, i) => C[i] * v + D[i]);
const W0 = [1, -0.5, 2];

// ---- float64 transcriptions of the Keras 3 update rules (keras/src/optimizers/*.py) ------------

type Rule = (w: number[], g: number[], t: number) => void;

function kerasSgd(lr: number, momentum: number, nesterov: boolean): Rule {
  const v = [0, 0, 0];
  return (w, g) => w.forEach((_, i) => {
    if (momentum === 0) {
      w[i] -= lr * g[i];
      return;
    }
    v[i] = momentum * v[i] - lr * g[i];
    w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
  });
}

function kerasAdam(lr: number, wd: number, amsgrad: boolean, b1 = 0.9, b2 = 0.999, eps = 1e-7): Rule {
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  const vhat = [0, 0, 0];
  return (w, g, t) => {
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    w.forEach((_, i) => {
      w[i] -= w[i] * wd * lr; // Keras applies decoupled weight decay before the update
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      vhat[i] = Math.max(vhat[i], v[i]);
      w[i] -= (m[i] * alpha) / (Math.sqrt(amsgrad ? vhat[i] : v[i]) + eps);
    });
  };
}

function kerasNadam(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-7): Rule {
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  let uProduct = 1;
  return (w, g, t) => {
    const uT = b1 * (1 - 0.5 * 0.96 ** t);
    const uNext = b1 * (1 - 0.5 * 0.96 ** (t + 1));
    uProduct *= uT; // _backend_update_step updates _u_product before the variables
    const uProductNext = uProduct * uNext;
    w.forEach((_, i) => {
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      const mHat = (uNext * m[i]) / (1 - uProductNext) + ((1 - uT) * g[i]) / (1 - uProduct);
      const vHat = v[i] / (1 - b2 ** t);
      w[i] -= (mHat * lr) / (Math.sqrt(vHat) + eps);
    });
  };
}

function kerasRmsprop(lr: number, rho: number, momentum: number, centered: boolean, eps = 1e-7): Rule {
  const ms = [0, 0, 0];
  const mg = [0, 0, 0];
  const mom = [0, 0, 0];
  return (w, g) => w.forEach((_, i) => {
    ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
    let denom = ms[i];
    if (centered) {
      mg[i] = rho * mg[i] + (1 - rho) * g[i];
      denom = ms[i] - mg[i] * mg[i];
    }
    const inc = (lr * g[i]) / Math.sqrt(denom + eps);
    if (momentum > 0) {
      mom[i] = momentum * mom[i] + inc;
      w[i] -= mom[i];
    } else {
      w[i] -= inc;
    }
  });
}

function oracle(rule: Rule, gradient: (w: number[]) => number[], steps: number): number[][] {
  const w = [...W0];
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    rule(w, gradient(w), t);
    out.push([...w]);
  }
  return out;
}

describe('Keras defaults', () => {
  it('SGD: learning rate 0.01, no momentum', () => {
    const o = new SGD();
    expect([o.learningRate, o.momentum, o.nesterov, o.weightDecay]).toEqual([0.01, 0, false, 0]);
  });
  it('Adam: learning rate 0.001, β 0.9/0.999, epsilon 1e-7, no amsgrad', () => {
    const o = new Adam();
    expect([o.learningRate, o.beta1, o.beta2, o.epsilon, o.amsgrad, o.weightDecay]).toEqual([0.001, 0.9, 0.999, 1e-7, false, 0]);
  });
  it('AdamW: Adam with weight decay 0.004', () => {
    const o = new AdamW();
    expect([o.learningRate, o.beta1, o.beta2, o.epsilon, o.weightDecay]).toEqual([0.001, 0.9, 0.999, 1e-7, 0.004]);
  });
  it('Nadam: learning rate 0.001, β 0.9/0.999, epsilon 1e-7', () => {
    const o = new Nadam();
    expect([o.learningRate, o.beta1, o.beta2, o.epsilon]).toEqual([0.001, 0.9, 0.999, 1e-7]);
  });
  it('RMSprop: learning rate 0.001, ρ 0.9, no momentum, epsilon 1e-7, not centered', () => {
    const o = new RMSprop();
    expect([o.learningRate, o.rho, o.momentum, o.epsilon, o.centered]).toEqual([0.001, 0.9, 0, 1e-7, false]);
  });
  it('createOptimizer takes a name (any case) or {name, options}', () => {
    expect(createOptimizer('Adam')).toBeInstanceOf(Adam);
    expect(createOptimizer('adamw')).toBeInstanceOf(AdamW);
    const sgd = createOptimizer({ name: 'sgd', momentum: 0.9, nesterov: true }) as SGD;
    expect([sgd.momentum, sgd.nesterov]).toEqual([0.9, true]);
  });
});

describe.each(BACKENDS.map((b) => [b.name, b] as const))('updates on %s', (_name, backend) => {
  const scalar = (v: number): Param => param('w', [v], backend);

  it('SGD, Keras docs: lr 0.1, var 1, loss var²/2 → 0.9', () => {
    expectNear(run(new SGD({ learningRate: 0.1 }), scalar(1), identityGrad, 1, backend)[0], [0.9]);
  });

  it('SGD momentum 0.9, Keras docs: the first step is 0.1, the second 0.18', () => {
    const w = run(new SGD({ learningRate: 0.1, momentum: 0.9 }), scalar(1), identityGrad, 2, backend);
    // v = −0.1 → 0.9;  v = 0.9·(−0.1) − 0.1·0.9 = −0.18 → 0.72
    expectNear(w.map((x) => x[0]), [0.9, 0.72]);
  });

  it('SGD nesterov: w += momentum·v − lr·g', () => {
    const w = run(new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), scalar(1), identityGrad, 2, backend);
    // v = −0.1, w = 1 + 0.9·(−0.1) − 0.1 = 0.81;  v = −0.09 − 0.081 = −0.171, w = 0.81 − 0.1539 − 0.081 = 0.5751
    expectNear(w.map((x) => x[0]), [0.81, 0.5751]);
  });

  it('Adam, one step by hand: w = 1 − lr·m̂/(√v̂ + ε) with m = 0.1, v = 0.001', () => {
    // alpha = 0.1·√0.001/0.1 = 0.0316228; w = 1 − 0.0316228·0.1/(0.0316228 + 1e-7) = 0.90000032
    expectNear(run(new Adam({ learningRate: 0.1 }), scalar(1), identityGrad, 1, backend)[0], [0.9000003162]);
  });

  it('AdamW, one step by hand: decay w·(1 − lr·wd) first, then the Adam step', () => {
    // 1 − 0.001·0.004 = 0.999996; then − 0.001/(1 + 3.1623e-6) = 0.9989960032
    expectNear(run(new AdamW(), scalar(1), identityGrad, 1, backend)[0], [0.9989960032]);
  });

  it("RMSprop, Keras docs: lr 0.1, var 10, loss var²/2 → 9.683772", () => {
    // ms = 0.1·100 = 10; w = 10 − 0.1·10/√(10 + 1e-7) = 9.6837722
    expectNear(run(new RMSprop({ learningRate: 0.1 }), scalar(10), identityGrad, 1, backend)[0], [9.683772234]);
  });

  it("Nadam: Keras' momentum schedule over three steps (the first by hand)", () => {
    const w = run(new Nadam(), param('w', [...W0], backend), mixedGrad, 3, backend);
    const expected = oracle(kerasNadam(0.001), mixedGrad, 3);
    // step 1 for w₀ = 1, g = 1.1: u₁ = 0.9·(1 − ½·0.96) = 0.468, u₂ = 0.9·(1 − ½·0.9216) = 0.48528;
    // m = 0.11, v = 0.00121, m̂ = 0.48528·0.11/(1 − 0.468·0.48528) + 0.532·1.1/0.532 = 1.1690666,
    // v̂ = 1.21: w = 1 − 0.001·1.1690666/(1.1 + 1e-7) = 0.99893721
    expectNear([w[0][0]], [0.9989372123], 1e-7);
    w.forEach((step, t) => expectNear(step, expected[t], 1e-6));
  });

  const rules: [string, () => Optimizer, Rule][] = [
    ['SGD', () => new SGD({ learningRate: 0.05 }), kerasSgd(0.05, 0, false)],
    ['SGD momentum 0.9', () => new SGD({ learningRate: 0.05, momentum: 0.9 }), kerasSgd(0.05, 0.9, false)],
    ['SGD nesterov', () => new SGD({ learningRate: 0.05, momentum: 0.8, nesterov: true }), kerasSgd(0.05, 0.8, true)],
    ['Adam', () => new Adam({ learningRate: 0.01 }), kerasAdam(0.01, 0, false)],
    ['Adam amsgrad', () => new Adam({ learningRate: 0.05, amsgrad: true }), kerasAdam(0.05, 0, true)],
    ['AdamW', () => new AdamW({ learningRate: 0.01, weightDecay: 0.1 }), kerasAdam(0.01, 0.1, false)],
    ['Nadam', () => new Nadam({ learningRate: 0.01 }), kerasNadam(0.01)],
    ['RMSprop', () => new RMSprop({ learningRate: 0.01 }), kerasRmsprop(0.01, 0.9, 0, false)],
    ['RMSprop centered, momentum 0.5', () => new RMSprop({ learningRate: 0.01, centered: true, momentum: 0.5 }), kerasRmsprop(0.01, 0.9, 0.5, true)],
  ];
  for (const [label, make, rule] of rules) {
    it(`${label}: six steps follow the Keras formulas`, () => {
      const w = run(make(), param('w', [...W0], backend), mixedGrad, 6, backend);
      const expected = oracle(rule, mixedGrad, 6);
      // float32 weights and slots against float64: a few roundings per step
      w.forEach((step, t) => expectNear(step, expected[t], 2e-6));
    });
  }

  it('clipnorm rescales each tensor whose norm exceeds it, on its own', () => {
    const a = param('a', [0, 0], backend);
    const b = param('b', [0, 0], backend);
    (a.grad as Float32Array).set([3, 4]); // norm 5 → 1
    (b.grad as Float32Array).set([0.3, 0.4]); // norm 0.5: untouched
    new SGD({ learningRate: 1, clipnorm: 1 }).step([a, b], backend);
    expectNear(Array.from(a.value), [-0.6, -0.8]);
    expectNear(Array.from(b.value), [-0.3, -0.4]);
  });

  it('clipvalue clips every element into [−v, v]', () => {
    const a = param('a', [0, 0, 0], backend);
    (a.grad as Float32Array).set([3, -0.2, -4]);
    new SGD({ learningRate: 1, clipvalue: 0.5 }).step([a], backend);
    expectNear(Array.from(a.value), [-0.5, 0.2, 0.5]);
  });

  it('globalClipnorm rescales all tensors by one factor when their joint norm exceeds it', () => {
    const a = param('a', [0, 0], backend);
    const b = param('b', [0, 0, 0], backend);
    (a.grad as Float32Array).set([3, 4]);
    (b.grad as Float32Array).set([0, 0, 12]); // joint norm √(9 + 16 + 144) = 13
    new SGD({ learningRate: 1, globalClipnorm: 1 }).step([a, b], backend);
    expectNear(Array.from(a.value), [-3 / 13, -4 / 13]);
    expectNear(Array.from(b.value), [0, 0, -12 / 13]);
    const c = param('c', [0, 0], backend);
    (c.grad as Float32Array).set([0.3, 0.4]);
    new SGD({ learningRate: 1, globalClipnorm: 1 }).step([c], backend);
    expectNear(Array.from(c.value), [-0.3, -0.4]);
  });

  it('a schedule gives the learning rate of each step from the iteration count (step 0 first)', () => {
    const opt = createOptimizer({ name: 'sgd', learningRate: { kind: 'piecewise', boundaries: [1], values: [0.1, 0.01] } });
    expect(opt.currentLearningRate()).toBe(0.1);
    // g = 1 throughout: steps 0 and 1 use 0.1, step 2 uses 0.01
    const w = run(opt, scalar(0), () => [1], 3, backend);
    expectNear(w.map((x) => x[0]), [-0.1, -0.2, -0.21]);
    expect(opt.currentLearningRate()).toBe(0.01);
  });

  it("Keras' decay argument (inverseTime, decaySteps 1) on an optimizer", () => {
    const opt = createOptimizer({ name: 'sgd', learningRate: { kind: 'inverseTime', initial: 0.1, decaySteps: 1, decayRate: 0.5 } });
    // lr_t = 0.1 / (1 + 0.5·t): 0.1, 0.0666…, 0.05
    const w = run(opt, scalar(0), () => [1], 3, backend);
    expectNear(w.map((x) => x[0]), [-0.1, -0.1 - 0.1 / 1.5, -0.1 - 0.1 / 1.5 - 0.05]);
  });

  describe('getState/setState resume bit-identically', () => {
    const makers: [string, () => Optimizer][] = [
      ['SGD nesterov', () => new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
      ['Adam amsgrad', () => new Adam({ learningRate: 0.05, amsgrad: true })],
      ['AdamW with a cosine schedule', () => new AdamW({ learningRate: { kind: 'cosine', initial: 0.05, decaySteps: 4 } })],
      ['Nadam', () => new Nadam({ learningRate: 0.05 })],
      ['RMSprop centered with momentum', () => new RMSprop({ learningRate: 0.05, centered: true, momentum: 0.5 })],
    ];
    for (const [label, make] of makers) {
      it(label, () => {
        const straight = param('w', [...W0], backend);
        run(make(), straight, mixedGrad, 4, backend);

        const resumed = param('w', [...W0], backend);
        const first = make();
        run(first, resumed, mixedGrad, 2, backend);
        // a checkpoint is a copy: nothing may alias the live optimizer
        const state = structuredClone(first.getState());
        run(first, param('w', [...W0], backend), mixedGrad, 3, backend);
        const second = make();
        second.setState(state, backend);
        expect(second.iterations).toBe(2);
        run(second, resumed, mixedGrad, 2, backend);
        expect(resumed.value).toEqual(straight.value);
      });
    }
  });
});

describe('schedules', () => {
  const at = (s: unknown, steps: number[]): number[] => {
    const schedule: LearningRateSchedule = parseSchedule(s);
    return steps.map((t) => scheduleValue(schedule, t));
  };
  const near = (actual: number[], expected: number[]): void => actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i], 12));

  it('exponential: initial·rate^(step/decaySteps), floored with staircase', () => {
    const s = { kind: 'exponential', initial: 0.1, decaySteps: 10, decayRate: 0.5 };
    near(at(s, [0, 5, 10, 15, 20]), [0.1, 0.1 * Math.SQRT1_2, 0.05, 0.05 * Math.SQRT1_2, 0.025]);
    near(at({ ...s, staircase: true }, [0, 9, 10, 15, 20]), [0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it('inverseTime (Keras 2 decay = inverseTime with decaySteps 1): initial/(1 + rate·step/decaySteps)', () => {
    near(at({ kind: 'inverseTime', initial: 0.1, decaySteps: 1, decayRate: 0.5 }, [0, 1, 4]), [0.1, 0.1 / 1.5, 0.1 / 3]);
    near(at({ kind: 'inverseTime', initial: 0.1, decaySteps: 2, decayRate: 0.5, staircase: true }, [1, 3, 4]), [0.1, 0.1 / 1.5, 0.1 / 2]);
  });

  it('cosine: ½(1 + cos(π·t/T)), floored at alpha, constant after T', () => {
    near(at({ kind: 'cosine', initial: 0.1, decaySteps: 100 }, [0, 25, 50, 100, 150]), [0.1, 0.1 * (0.5 + 0.5 * Math.SQRT1_2), 0.05, 0, 0]);
    // alpha 0.1: initial·((1 − α)·cosine + α)
    near(at({ kind: 'cosine', initial: 0.1, decaySteps: 100, alpha: 0.1 }, [50, 100]), [0.1 * (0.9 * 0.5 + 0.1), 0.01]);
  });

  it('cosine with warmup: linear from initial to warmupTarget, then the cosine from the target', () => {
    const s = { kind: 'cosine', initial: 0, warmupTarget: 0.1, warmupSteps: 10, decaySteps: 100 };
    near(at(s, [0, 5, 10, 60, 110, 200]), [0, 0.05, 0.1, 0.05, 0, 0]);
  });

  it('piecewise: values[k] while step ≤ boundaries[k] (Keras docs: [100, 110] → 1.0, 0.5, 0.1)', () => {
    expect(at({ kind: 'piecewise', boundaries: [100, 110], values: [1, 0.5, 0.1] }, [0, 100, 101, 110, 111])).toEqual([1, 1, 0.5, 0.5, 0.1]);
  });

  it('step: initial·factor^⌊step/stepSize⌋', () => {
    near(at({ kind: 'step', initial: 0.1, stepSize: 10, factor: 0.5 }, [0, 9, 10, 25]), [0.1, 0.1, 0.05, 0.025]);
  });

  it('rejects unknown kinds and fields, naming them', () => {
    expect(() => parseSchedule({ kind: 'linear', initial: 0.1 })).toThrow(/kind must be one of 'exponential', 'inverseTime', 'cosine', 'piecewise', 'step'; received "linear"/);
    expect(() => parseSchedule({ kind: 'step', initial: 0.1, stepSize: 10, factor: 0.5, gamma: 2 })).toThrow(/unknown field "gamma"/);
    expect(() => parseSchedule({ kind: 'piecewise', boundaries: [1, 2], values: [1] })).toThrow(/"values" \(n \+ 1 numbers\)/);
  });
});

describe('option errors', () => {
  it('an unknown option names it and lists the allowed ones', () => {
    const make = (): Optimizer => createOptimizer({ name: 'adam', betaOne: 0.9 });
    expect(make).toThrow(ArgumentError);
    expect(make).toThrow(/Adam: unknown field "betaOne"; allowed fields: .*\bbeta1\b/);
    expect(() => new RMSprop({ decay: 0.9 })).toThrow(/RMSprop: unknown field "decay"/);
  });

  it('a bad value names the option, the value and the range', () => {
    expect(() => createOptimizer({ name: 'sgd', momentum: 1.5 })).toThrow(/SGD: momentum must be a number in \[0, 1\]; received 1\.5/);
    expect(() => createOptimizer({ name: 'adam', learningRate: -1 })).toThrow(/Adam: learningRate must be a number in \[0, Infinity\]; received -1/);
  });

  it('an unknown optimizer lists the known ones', () => {
    expect(() => createOptimizer('adagrad')).toThrow(/optimizer name must be one of sgd, adam, adamw, nadam, rmsprop; received "adagrad"/);
  });

  it('setState refuses another optimizer\'s state', () => {
    expect(() => new SGD().setState(new Adam().getState(), reference)).toThrow(/optimizer state is for adam; this optimizer is sgd/);
  });
});

describe('gradient clipping options', () => {
  it('refuses more than one of clipnorm, clipvalue and globalClipnorm, as Keras 3 does', () => {
    expect(() => createOptimizer({ name: 'adam', clipnorm: 1, clipvalue: 0.5 })).toThrow(/only one of clipnorm, clipvalue and globalClipnorm can be set.*clipnorm and clipvalue/);
    expect(() => createOptimizer({ name: 'sgd', globalClipnorm: 1, clipnorm: 2 })).toThrow(ArgumentError);
    expect(() => createOptimizer({ name: 'sgd', globalClipnorm: 1 })).not.toThrow();
  });
});
