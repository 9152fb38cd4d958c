/**
 * The argument descriptions of the suite's argument-error tests: each section gives, next to a
 * kernel's tests, one valid call built from these (dimensions kept tiny and distinct, so
 * messages are unambiguous); suite/errors.ts then spoils each argument in turn.
 */
import { convGeometry, poolGeometry } from '../../../src/backend/geometry.js';

export type Arg =
  /** a buffer; `sized` = its length is fixed by the dimensions (not by the first buffer) */
  | { kind: 'f32' | 'i32' | 'u8'; name: string; n: number; sized: boolean; fill?: number[] }
  | { kind: 'draw' }
  | { kind: 'dim'; name: string; value: number }
  | { kind: 'num'; name: string; value: number }
  | { kind: 'geom'; make: () => object }
  | { kind: 'lit'; value: unknown };

export const f = (name: string, n: number, sized = true): Arg => ({ kind: 'f32', name, n, sized });
export const i32 = (name: string, n: number, fill: number[]): Arg => ({ kind: 'i32', name, n, sized: true, fill });
export const u8 = (name: string, n: number): Arg => ({ kind: 'u8', name, n, sized: true });
export const dim = (name: string, value: number): Arg => ({ kind: 'dim', name, value });
export const num = (name: string, value: number): Arg => ({ kind: 'num', name, value });
export const lit = (value: unknown): Arg => ({ kind: 'lit', value });
export const draw: Arg = { kind: 'draw' };

export const convG = (): object => convGeometry({ n: 1, h: 4, w: 4, c: 2, kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same', f: 3 });
export const poolG = (): object => poolGeometry({ n: 1, h: 4, w: 4, c: 2, kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' });
export const cg: Arg = { kind: 'geom', make: convG };
export const pg: Arg = { kind: 'geom', make: poolG };
