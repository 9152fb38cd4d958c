/**
 * Atomic writes live on the lowest floor (src/util/atomic.ts), where data/ may use them too;
 * io and the floors above import them from here or from there alike.
 */
export * from '../util/atomic.js';
