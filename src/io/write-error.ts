/**
 * WriteError lives on the lowest floor (src/util/write-error.ts), where data/ may use it too;
 * io and the floors above import it from here or from there alike.
 */
export * from '../util/write-error.js';
