/**
 * Weight initializers with Keras names and definitions. Variance-scaling initializers use
 * fan_in = in·receptive field, fan_out = out·receptive field for a (kh, kw, in, out) kernel.
 *
 * The *_normal initializers draw from a truncated normal (redraw beyond 2σ) whose σ parameter
 * is sqrt(scale/fan), as the Keras documentation and TensorFlow.js define them. (Keras ≥ 2.3
 * divides σ by 0.8796 so the truncated draw's own std equals sqrt(scale/fan); the resulting
 * std here is 0.88·sqrt(scale/fan).)
 */
import { ArgumentError, describe } from '../errors.js';
import type { RandomStream } from '../tensor/prng.js';

export type InitializerName =
  | 'glorot_uniform' | 'glorot_normal' | 'he_normal' | 'he_uniform' | 'lecun_normal' | 'lecun_uniform'
  | 'zeros' | 'ones' | 'random_normal' | 'random_uniform' | 'truncated_normal' | 'constant';

export interface InitializerConfig {
  name: InitializerName;
  /** random_normal / truncated_normal */
  mean?: number;
  stddev?: number;
  /** random_uniform */
  minval?: number;
  maxval?: number;
  /** constant */
  value?: number;
}

export const INITIALIZERS: readonly InitializerName[] = [
  'glorot_uniform', 'glorot_normal', 'he_normal', 'he_uniform', 'lecun_normal', 'lecun_uniform',
  'zeros', 'ones', 'random_normal', 'random_uniform', 'truncated_normal', 'constant',
];

/** Keras and TF.js class names → our names (for model.json import). */
const ALIASES: Record<string, InitializerName> = {
  GlorotUniform: 'glorot_uniform', GlorotNormal: 'glorot_normal', HeNormal: 'he_normal',
  HeUniform: 'he_uniform', LecunNormal: 'lecun_normal', LecunUniform: 'lecun_uniform',
  Zeros: 'zeros', Ones: 'ones', RandomNormal: 'random_normal', RandomUniform: 'random_uniform',
  TruncatedNormal: 'truncated_normal', Constant: 'constant',
  glorotUniform: 'glorot_uniform', glorotNormal: 'glorot_normal', heNormal: 'he_normal',
  heUniform: 'he_uniform', leCunNormal: 'lecun_normal', leCunUniform: 'lecun_uniform',
  lecunNormal: 'lecun_normal', lecunUniform: 'lecun_uniform', randomNormal: 'random_normal',
  randomUniform: 'random_uniform', truncatedNormal: 'truncated_normal',
};

/** Parse 'he_normal', {name: 'random_normal', stddev: 0.1} or a Keras {class_name, config}. */
export function parseInitializer(value: unknown, where: string): InitializerConfig {
  if (typeof value === 'string') {
    const name = (INITIALIZERS as readonly string[]).includes(value) ? (value as InitializerName) : ALIASES[value];
    if (!name) {
      throw new ArgumentError(`${where} must be one of ${INITIALIZERS.join(', ')}; received ${describe(value)}`);
    }
    return { name };
  }
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.class_name === 'string' || typeof v.className === 'string') {
      const cls = (v.class_name ?? v.className) as string;
      const cfg = (v.config ?? {}) as Record<string, unknown>;
      return { ...pickNumbers(cfg, where), ...parseInitializer(cls, where) };
    }
    if (typeof v.name === 'string') {
      const { name } = parseInitializer(v.name, where);
      const known = new Set(['name', 'mean', 'stddev', 'minval', 'maxval', 'value']);
      for (const key of Object.keys(v)) {
        if (!known.has(key)) throw new ArgumentError(`${where}: unknown initializer option ${describe(key)}; allowed: mean, stddev, minval, maxval, value`);
      }
      return { name, ...pickNumbers(v, where) };
    }
  }
  throw new ArgumentError(`${where} must be an initializer name or {name, ...options}; received ${describe(value)}`);
}

function pickNumbers(cfg: Record<string, unknown>, where: string): Partial<InitializerConfig> {
  const out: Partial<InitializerConfig> = {};
  for (const key of ['mean', 'stddev', 'minval', 'maxval', 'value'] as const) {
    const val = cfg[key];
    if (val === undefined || val === null) continue;
    if (typeof val !== 'number' || !Number.isFinite(val)) {
      throw new ArgumentError(`${where}.${key} must be a finite number; received ${describe(val)}`);
    }
    out[key] = val;
  }
  return out;
}

/** (fan_in, fan_out) of a weight shape, Keras' compute_fans. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let receptive = 1;
  for (const d of shape.slice(0, -2)) receptive *= d;
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

/** Fill `out` (a weight of `shape`) as the initializer says, drawing from `rng`. */
export function initialize(out: Float32Array, shape: readonly number[], init: InitializerConfig, rng: RandomStream): void {
  const [fanIn, fanOut] = computeFans(shape);
  const fanAvg = (fanIn + fanOut) / 2;
  const uniformLimit = (scale: number): number => Math.sqrt(3 * scale);
  switch (init.name) {
    case 'zeros': out.fill(0); return;
    case 'ones': out.fill(1); return;
    case 'constant': out.fill(init.value ?? 0); return;
    case 'glorot_uniform': { const l = uniformLimit(1 / Math.max(1, fanAvg)); rng.fillUniform(out, -l, l); return; }
    case 'he_uniform': { const l = uniformLimit(2 / Math.max(1, fanIn)); rng.fillUniform(out, -l, l); return; }
    case 'lecun_uniform': { const l = uniformLimit(1 / Math.max(1, fanIn)); rng.fillUniform(out, -l, l); return; }
    case 'glorot_normal': rng.fillTruncatedNormal(out, 0, Math.sqrt(1 / Math.max(1, fanAvg))); return;
    case 'he_normal': rng.fillTruncatedNormal(out, 0, Math.sqrt(2 / Math.max(1, fanIn))); return;
    case 'lecun_normal': rng.fillTruncatedNormal(out, 0, Math.sqrt(1 / Math.max(1, fanIn))); return;
    case 'random_normal': rng.fillNormal(out, init.mean ?? 0, init.stddev ?? 0.05); return;
    case 'truncated_normal': rng.fillTruncatedNormal(out, init.mean ?? 0, init.stddev ?? 0.05); return;
    case 'random_uniform': rng.fillUniform(out, init.minval ?? -0.05, init.maxval ?? 0.05); return;
  }
}

/** The JSON form written by getConfig (a bare name when there are no options). */
export function initializerToJson(init: InitializerConfig): string | InitializerConfig {
  return Object.keys(init).length === 1 ? init.name : init;
}
