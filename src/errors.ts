/**
 * Typed errors. Every message names the thing, the value received and what is allowed
 * (STYLE.md §6), so the CLI can print it without a stack trace.
 */

/** Base class: a FitlabError is a user-facing error; its message is the whole story. */
export class FitlabError extends Error {
  /** Optional one-line hint printed after the message ("HINT: ..."). */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** An argument has the wrong value (a rate out of range, an unknown name). */
export class ArgumentError extends FitlabError {}

/** A buffer or tensor has the wrong size or shape for the operation. */
export class ShapeError extends FitlabError {}

/** The compute backend cannot be used as asked (native addon missing, bad thread count). */
export class BackendError extends FitlabError {}

/** Describe a value for an error message: short, JSON-like, never huge. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${name}(${length})`;
  }
  if (Array.isArray(value)) {
    const inner = value.slice(0, 8).map(describe).join(', ');
    return `[${inner}${value.length > 8 ? ', …' : ''}]`;
  }
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
