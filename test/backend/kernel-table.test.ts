/**
 * The kernel signature table (src/backend/kernels.ts) is the one place a kernel's arguments are
 * declared: the C header generated from it is committed and must be current, and both backends
 * must agree with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderKernelHeader } from '../../src/backend/kernel-header.js';
import { KERNEL_NAMES, KERNEL_TABLE } from '../../src/backend/kernels.js';
import { loadAddon } from '../../src/backend/native/index.js';
import { referenceKernels } from '../../src/backend/reference/index.js';
import { packageRoot } from '../../src/util/paths.js';

describe('kernel signature table', () => {
  it('native/kernels.gen.h is what the table renders (run `npm run gen:kernels` after editing the table)', () => {
    const committed = readFileSync(join(packageRoot(), 'native', 'kernels.gen.h'), 'utf8');
    expect(committed === renderKernelHeader(), 'native/kernels.gen.h is stale: run `npm run gen:kernels`').toBe(true);
  });

  it('every kernel names its arguments once, and every name a size or relation uses exists', () => {
    for (const name of KERNEL_NAMES) {
      const args = KERNEL_TABLE[name].args as readonly { name: string; size?: unknown; [k: string]: unknown }[];
      const names = args.map((a) => a.name);
      expect(new Set(names).size, `${name}: duplicate argument names ${names.join(', ')}`).toBe(names.length);
      const referenced = args.flatMap((a) => [
        ...(Array.isArray(a.size) ? (a.size as unknown[]).filter((t): t is string => typeof t === 'string') : []),
        ...['classesOf', 'indexesInto', 'distinctFrom'].map((k) => a[k]).filter((v): v is string => typeof v === 'string'),
        ...(a.neededWhen ? [(a.neededWhen as { arg: string }).arg] : []),
      ]);
      for (const r of referenced) expect(names, `${name} refers to ${r}`).toContain(r);
    }
  });

  it('the reference twin of every kernel takes the table\'s arguments', () => {
    for (const name of KERNEL_NAMES) {
      expect(referenceKernels[name].length, `${name}: reference parameters vs table arguments`).toBe(KERNEL_TABLE[name].args.length);
    }
  });

  it.runIf(loadAddon().addon)('the native addon exports every kernel of the table', () => {
    const addon = loadAddon().addon ?? {};
    expect(KERNEL_NAMES.filter((name) => typeof addon[name] !== 'function')).toEqual([]);
  });
});
