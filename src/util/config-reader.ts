/**
 * Reading a plain-JSON config (a layer's, an optimizer's, a schedule's, an augmentation's) with
 * errors that name the owner, the field, the value received and what is allowed. Every field
 * nobody reads is an error ("unknown fields are errors, not ignored"), so typos never silently
 * fall back to defaults. Layers add activation, initializer and regularizer fields
 * (LayerConfigReader in src/nn/config.ts).
 */
import { ArgumentError, describe } from '../errors.js';

/**
 * Deepest nesting a model spec or layer config may have. Real ones are shallow (a TF.js
 * model.json reaches about 10 levels: topology → config → layers → initializer → config); the
 * bound exists so a hostile 200,000-deep file is refused here instead of overflowing the stack
 * of every recursive reader after us (JSON.stringify in error messages, config copies).
 */
export const MAX_SPEC_DEPTH = 64;

/**
 * Throw if `value` nests objects or lists deeper than MAX_SPEC_DEPTH. Walks with an explicit
 * stack (a recursive walk would overflow on exactly the input it exists to refuse) and stops at
 * the first level too deep.
 */
export function checkSpecDepth(value: unknown, where: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (!v || typeof v !== 'object') continue;
    if (depth > MAX_SPEC_DEPTH) {
      throw new ArgumentError(`${where} nests deeper than ${MAX_SPEC_DEPTH} levels`, 'a model spec is a few levels deep: {"input": [...], "layers": [{...}, ...]}');
    }
    for (const child of Object.values(v as Record<string, unknown>)) if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

export class ConfigReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly cfg: Record<string, unknown>,
    /** e.g. "conv2d 'block1'" or 'SGD'; the spec parser prefixes a layer's index */
    readonly where: string,
  ) {
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) {
      throw new ArgumentError(`${where}: config must be an object; received ${describe(cfg)}`);
    }
    checkSpecDepth(cfg, `${where}: config`);
  }

  /** The value of `key`, marking the field as read. */
  protected take(key: string): unknown {
    this.seen.add(key);
    return this.cfg[key];
  }

  /** The raw value, without consuming the field. */
  peek(key: string): unknown {
    return this.cfg[key];
  }

  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }

  private bad(key: string, value: unknown, allowed: string): never {
    throw new ArgumentError(`${this.where}: ${key} must be ${allowed}; received ${describe(value)}`);
  }

  int(key: string, opts: { min?: number; max?: number; default?: number } = {}): number {
    const v = this.take(key);
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.bad(key, v, `an integer${opts.min !== undefined ? ` ≥ ${opts.min}` : ''} (required)`);
    }
    const min = opts.min ?? -Infinity;
    const max = opts.max ?? Infinity;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.bad(key, v, `an integer${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}`);
    }
    return v;
  }

  number(key: string, opts: { min?: number; max?: number; maxOpen?: boolean; minOpen?: boolean; default?: number } = {}): number {
    const v = this.take(key);
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.bad(key, v, 'a number (required)');
    }
    const lo = opts.min ?? -Infinity;
    const hi = opts.max ?? Infinity;
    const ok = typeof v === 'number' && Number.isFinite(v) &&
      (opts.minOpen ? v > lo : v >= lo) && (opts.maxOpen ? v < hi : v <= hi);
    if (!ok) {
      const range = `${opts.minOpen ? '(' : '['}${lo}, ${hi}${opts.maxOpen ? ')' : ']'}`;
      this.bad(key, v, `a number in ${range}`);
    }
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.take(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.bad(key, v, 'true or false');
    return v;
  }

  string(key: string, def?: string): string | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string' || v.length === 0) this.bad(key, v, 'a non-empty string');
    return v;
  }

  oneOf<T extends string>(key: string, options: readonly T[], def: T): T {
    const v = this.take(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      this.bad(key, v, `one of ${options.map((o) => `'${o}'`).join(', ')}`);
    }
    return v as T;
  }

  /** An int or a pair: kernelSize 3 or [3, 3]. */
  pair(key: string, opts: { min?: number; default?: [number, number] } = {}): [number, number] {
    const v = this.take(key);
    const min = opts.min ?? 1;
    if (v === undefined || v === null) {
      if (opts.default) return opts.default;
      this.bad(key, v, `an integer ≥ ${min} or a pair [h, w] (required)`);
    }
    const okInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min;
    if (okInt(v)) return [v, v];
    if (Array.isArray(v) && v.length === 2 && okInt(v[0]) && okInt(v[1])) return [v[0], v[1]];
    this.bad(key, v, `an integer ≥ ${min} or a pair [h, w] of them`);
  }

  /** A factor as Keras' augmentation layers take it: x (meaning [-x, x]) or [lo, hi]. */
  range(key: string, opts: { required?: boolean; def?: [number, number] | null; min?: number; max?: number }): [number, number] | null {
    const v = this.take(key);
    if (v === undefined || v === null) {
      if (opts.required) this.bad(key, v, 'a number or a pair [lower, upper] (required)');
      return opts.def ?? null;
    }
    const lo = opts.min ?? -Infinity;
    const hi = opts.max ?? Infinity;
    const okNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    let r: [number, number] | null = null;
    if (okNum(v)) r = [-Math.abs(v), Math.abs(v)];
    else if (Array.isArray(v) && v.length === 2 && okNum(v[0]) && okNum(v[1]) && v[0] <= v[1]) r = [v[0], v[1]];
    if (!r || r[0] < lo || r[1] > hi) this.bad(key, v, `a number or a pair [lower, upper] within [${lo}, ${hi}]`);
    return r;
  }

  /** Mark a key as consumed (handled elsewhere, e.g. name and trainable by the base class). */
  accept(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  /** Throw if the config has fields nobody read. */
  done(): void {
    const unknown = Object.keys(this.cfg).filter((k) => !this.seen.has(k) && this.cfg[k] !== undefined);
    if (unknown.length) {
      const allowed = [...this.seen].sort().join(', ');
      throw new ArgumentError(`${this.where}: unknown field ${describe(unknown[0])}; allowed fields: ${allowed}`);
    }
  }
}
