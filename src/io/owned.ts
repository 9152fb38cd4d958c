/**
 * Ownership markers live on the lowest floor (src/util/owned.ts), where data/ may use them too;
 * io and the floors above import them from here or from there alike.
 */
export * from '../util/owned.js';
