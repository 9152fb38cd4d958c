/**
 * Weight and activity regularizers, Keras definitions: l1(λ) adds λ·Σ|w| to the loss, l2(λ)
 * adds λ·Σw², l1l2 both. The penalty is part of the reported training loss, and is also
 * reported on its own ("weight decay loss").
 */
import { ArgumentError, describe } from '../errors.js';

export interface Regularizer {
  l1: number;
  l2: number;
}

function lambda(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(`${where} must be a non-negative number; received ${describe(value)}`);
  }
  return value;
}

/**
 * Parse {"l2": 0.01}, {"l1": 1e-5, "l2": 1e-4}, the strings 'l1' / 'l2' / 'l1l2' (Keras default
 * λ = 0.01), or a Keras {class_name: 'L2', config: {l2: 0.01}}. null/undefined → none.
 */
export function parseRegularizer(value: unknown, where: string): Regularizer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    if (value === 'l1') return { l1: 0.01, l2: 0 };
    if (value === 'l2') return { l1: 0, l2: 0.01 };
    if (value === 'l1l2' || value === 'l1_l2') return { l1: 0.01, l2: 0.01 };
    throw new ArgumentError(`${where} must be 'l1', 'l2', 'l1l2' or {"l1": λ, "l2": λ}; received ${describe(value)}`);
  }
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.class_name === 'string' || typeof v.className === 'string') {
      const cfg = (v.config ?? {}) as Record<string, unknown>;
      return { l1: cfg.l1 === undefined ? 0 : lambda(cfg.l1, `${where}.l1`), l2: cfg.l2 === undefined ? 0 : lambda(cfg.l2, `${where}.l2`) };
    }
    for (const key of Object.keys(v)) {
      if (key !== 'l1' && key !== 'l2') {
        throw new ArgumentError(`${where}: unknown regularizer field ${describe(key)}; allowed: l1, l2`);
      }
    }
    const r = { l1: v.l1 === undefined ? 0 : lambda(v.l1, `${where}.l1`), l2: v.l2 === undefined ? 0 : lambda(v.l2, `${where}.l2`) };
    return r;
  }
  throw new ArgumentError(`${where} must be {"l1": λ, "l2": λ} or 'l1'/'l2'; received ${describe(value)}`);
}

export function regularizerToJson(r: Regularizer | null): Partial<Regularizer> | null {
  if (!r) return null;
  const out: Partial<Regularizer> = {};
  if (r.l1) out.l1 = r.l1;
  if (r.l2) out.l2 = r.l2;
  return out;
}
