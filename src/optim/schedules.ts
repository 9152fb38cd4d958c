/**
 * Learning-rate schedules, as functions of the optimizer's iteration count (Keras semantics).
 * The Keras 2 `decay` argument is inverseTime with decaySteps 1: lr / (1 + decay·step).
 */
import { ArgumentError, describe } from '../errors.js';
import { ConfigReader } from '../util/config-reader.js';

export type LearningRateSchedule =
  | { kind: 'exponential'; initial: number; decaySteps: number; decayRate: number; staircase: boolean }
  | { kind: 'inverseTime'; initial: number; decaySteps: number; decayRate: number; staircase: boolean }
  | { kind: 'cosine'; initial: number; decaySteps: number; alpha: number; warmupTarget: number | null; warmupSteps: number }
  | { kind: 'piecewise'; boundaries: number[]; values: number[] }
  | { kind: 'step'; initial: number; stepSize: number; factor: number };

export const SCHEDULE_KINDS = ['exponential', 'inverseTime', 'cosine', 'piecewise', 'step'] as const;

/** The learning rate at optimizer step `step` (0-based iteration count). */
export function scheduleValue(s: LearningRateSchedule, step: number): number {
  switch (s.kind) {
    case 'exponential': {
      const p = step / s.decaySteps;
      return s.initial * s.decayRate ** (s.staircase ? Math.floor(p) : p);
    }
    case 'inverseTime': {
      const p = step / s.decaySteps;
      return s.initial / (1 + s.decayRate * (s.staircase ? Math.floor(p) : p));
    }
    case 'cosine': {
      let initial = s.initial;
      let t = step;
      if (s.warmupTarget !== null && s.warmupSteps > 0) {
        if (step < s.warmupSteps) return s.initial + ((s.warmupTarget - s.initial) * step) / s.warmupSteps;
        initial = s.warmupTarget;
        t = step - s.warmupSteps;
      }
      const frac = Math.min(t, s.decaySteps) / s.decaySteps;
      const cosine = 0.5 * (1 + Math.cos(Math.PI * frac));
      return initial * ((1 - s.alpha) * cosine + s.alpha);
    }
    case 'piecewise': {
      let k = 0;
      while (k < s.boundaries.length && step > s.boundaries[k]) k++;
      return s.values[k];
    }
    case 'step':
      return s.initial * s.factor ** Math.floor(step / s.stepSize);
  }
}

/** Parse a schedule from JSON: {"kind": "cosine", "initial": 1e-3, "decaySteps": 1000}. */
export function parseSchedule(value: unknown, where = 'learning-rate schedule'): LearningRateSchedule {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArgumentError(`${where} must be an object with a "kind"; received ${describe(value)}`);
  }
  const r = new ConfigReader(value as Record<string, unknown>, where);
  const kind = r.oneOf('kind', SCHEDULE_KINDS, 'exponential');
  if (!(value as Record<string, unknown>).kind) throw new ArgumentError(`${where}: kind is required; one of ${SCHEDULE_KINDS.join(', ')}`);
  let s: LearningRateSchedule;
  switch (kind) {
    case 'exponential':
    case 'inverseTime':
      s = {
        kind, initial: r.number('initial', { min: 0, minOpen: true }), decaySteps: r.number('decaySteps', { min: 0, minOpen: true }),
        decayRate: r.number('decayRate', { min: 0 }), staircase: r.bool('staircase', false),
      };
      break;
    case 'cosine':
      s = {
        kind, initial: r.number('initial', { min: 0 }), decaySteps: r.number('decaySteps', { min: 0, minOpen: true }),
        alpha: r.number('alpha', { min: 0, max: 1, default: 0 }),
        warmupTarget: r.has('warmupTarget') ? r.number('warmupTarget', { min: 0 }) : (r.accept('warmupTarget'), null),
        warmupSteps: r.int('warmupSteps', { min: 0, default: 0 }),
      };
      break;
    case 'piecewise': {
      r.accept('boundaries', 'values');
      const v = value as { boundaries?: unknown; values?: unknown };
      const nums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
      if (!nums(v.boundaries) || !nums(v.values) || v.values.length !== v.boundaries.length + 1) {
        throw new ArgumentError(`${where}: piecewise needs "boundaries" (n numbers) and "values" (n + 1 numbers); received ${describe(value)}`);
      }
      s = { kind, boundaries: [...v.boundaries], values: [...v.values] };
      break;
    }
    case 'step':
      s = {
        kind, initial: r.number('initial', { min: 0, minOpen: true }), stepSize: r.int('stepSize', { min: 1 }),
        factor: r.number('factor', { min: 0, minOpen: true }),
      };
      break;
  }
  r.done();
  return s;
}
