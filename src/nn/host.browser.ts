/**
 * ./host.ts in a browser bundle (scripts/build-browser.cjs): no environment, and the memory
 * Chromium reports (navigator.deviceMemory, in GB, rounded and capped at 8), else 4 GiB — the
 * most a wasm32 module can address.
 */
import type * as NodeSide from './host.js';

const GIB = 2 ** 30;

export function hostMemoryBytes(): number {
  const reported = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return typeof reported === 'number' && reported > 0 ? reported * GIB : 4 * GIB;
}

export function hostSetting(name: string): string | undefined {
  void name;
  return undefined;
}

// this twin exports what ./host.ts exports, with the same types
const sameExports: typeof NodeSide = { hostMemoryBytes, hostSetting };
void sameExports;
