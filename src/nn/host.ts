/**
 * What nn/memory.ts asks of the host, in Node: the machine's memory and the
 * FITLAB_MEMORY_LIMIT setting. ./host.browser.ts is the browser bundle's twin
 * (scripts/build-browser.cjs), so memory.ts itself imports no Node module.
 */
import { totalmem } from 'node:os';

/** The machine's memory in bytes. */
export function hostMemoryBytes(): number {
  return totalmem();
}

/** A setting from the environment (undefined when unset). */
export function hostSetting(name: string): string | undefined {
  return process.env[name];
}
