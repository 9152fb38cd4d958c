/** Shapes without the batch dimension, e.g. [32, 32, 3] for an NHWC image. */
export type Shape = readonly number[];

/** Number of elements of one example. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Keras' rendering with the batch dimension: (None, 32, 32, 3). */
export function formatShape(shape: Shape): string {
  return `(None, ${shape.join(', ')})`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
