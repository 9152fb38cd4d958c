/**
 * The layering rule (.dependency-cruiser.cjs, run by `npm run lint:deps` in `npm test`) can fail:
 * dependency-cruiser runs with the project's config on a throw-away tree with one import from
 * every floor to the floor above it (each must be flagged) and one to the floor below (none may
 * be), plus a sideways import, a type-only upward import, a cycle, a page importing past
 * serve/protocol, protocol importing code, and a folder on no floor. The floors are written out
 * here from ARCHITECTURE.md ("Floors") on their own, so a config that drifts from them fails.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** ARCHITECTURE.md, "Floors", bottom to top (index is the library's entry: top floor with cli). */
const FLOORS = [
  ['errors', 'util', 'tensor'], ['backend'], ['data', 'optim'], ['nn'], ['train'], ['io', 'bench'],
  ['diagnose'], ['run'], ['experiments', 'serve', 'queue'], ['cli', 'index'],
];

interface Violation { rule: string; from: string; to: string }

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A tree of the given files (path → source) with a tsconfig like the project's. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fitlab-floors-'));
  dirs.push(dir);
  const all = { 'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }), ...files };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** dependency-cruiser on `dir` with the project's rules, as `npm run lint:deps` runs it. */
function depcruise(dir: string, ...extra: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [DEPCRUISE, 'src', 'web/src', '--config', CONFIG, ...extra], { cwd: dir, encoding: 'utf8' });
}

/** The violations in `dir`, sorted (the JSON reporter; it exits 0 whatever it finds). */
function violationsIn(dir: string): Violation[] {
  const r = depcruise(dir, '--output-type', 'json');
  if (!r.stdout) throw new Error(`dependency-cruiser printed nothing (status ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  const violations = out.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  return violations.sort((a, b) => `${a.rule} ${a.from} ${a.to}`.localeCompare(`${b.rule} ${b.from} ${b.to}`));
}

const leaf = (name: string): string => `src/${name}/leaf.ts`;
const importLeaf = (name: string, what = 'import'): string => `${what} { leaf } from '../${name}/leaf.js';\nexport const x = leaf;\n`;

describe('the floors rule (dependency-cruiser)', () => {
  it('flags every import to a floor above, none to a floor below', () => {
    const files: Record<string, string> = {};
    for (const name of FLOORS.flat()) files[leaf(name)] = 'export const leaf = 1;\n';
    // allowed at the top: the page imports protocol, protocol imports types only
    files['src/serve/protocol.ts'] = "import type { Leaf } from '../util/types.js';\nexport const fold = (l: Leaf): number => l.n;\n";
    files['src/util/types.ts'] = 'export interface Leaf { n: number }\n';
    files['web/src/page.ts'] = "import { fold } from '../../src/serve/protocol.js';\nexport const v = fold({ n: 1 });\n";
    const expected: Violation[] = [];
    for (let i = 0; i + 1 < FLOORS.length; i++) {
      for (const lower of FLOORS[i]) {
        for (const upper of FLOORS[i + 1]) {
          files[`src/${lower}/up-to-${upper}.ts`] = importLeaf(upper);
          files[`src/${upper}/down-to-${lower}.ts`] = importLeaf(lower);
          expected.push({ rule: `floor-${i + 1}-imports-upward`, from: `src/${lower}/up-to-${upper}.ts`, to: leaf(upper) });
        }
      }
    }
    expected.sort((a, b) => `${a.rule} ${a.from} ${a.to}`.localeCompare(`${b.rule} ${b.from} ${b.to}`));
    expect(violationsIn(tree(files))).toEqual(expected);
  }, 120_000);

  // a cycle is reported once, at the edge where dependency-cruiser first closes it
  it('flags sideways, type-only upward, cycles, the page past protocol, protocol importing code, and folders on no floor', () => {
    const dir = tree({
      [leaf('nn')]: 'export const leaf = 1;\n',
      [leaf('optim')]: 'export const leaf = 1;\n',
      'src/util/leaf.ts': 'export const leaf = 1;\nexport interface Shape { n: number }\n',
      'src/data/sideways.ts': importLeaf('optim'),
      'src/data/type-up.ts': "import type { Param } from '../nn/param.js';\nexport const p: Param | null = null;\n",
      'src/nn/param.ts': 'export interface Param { n: number }\n',
      'src/tensor/a.ts': "import { b } from './b.js';\nexport const a = (): number => b;\n",
      'src/tensor/b.ts': "import { a } from './a.js';\nexport const b = 1;\nexport const c = a;\n",
      'src/serve/protocol.ts': "import type { Shape } from '../util/leaf.js';\nimport { leaf } from '../util/leaf.js';\nexport const s: Shape = { n: leaf };\n",
      'web/src/page.ts': "import { s } from '../../src/serve/protocol.js';\nimport { leaf } from '../../src/nn/leaf.js';\nexport const v = s.n + leaf;\n",
      'src/misc/stray.ts': importLeaf('util'),
    });
    const violations = violationsIn(dir);
    expect(violations).toEqual([
      { rule: 'floor-3-data-imports-sideways', from: 'src/data/sideways.ts', to: 'src/optim/leaf.ts' },
      { rule: 'floor-3-imports-upward', from: 'src/data/type-up.ts', to: 'src/nn/param.ts' },
      { rule: 'no-circular', from: 'src/tensor/a.ts', to: 'src/tensor/b.ts' },
      { rule: 'protocol-imports-only-types', from: 'src/serve/protocol.ts', to: 'src/util/leaf.ts' },
      { rule: 'unplaced', from: 'src/misc/stray.ts', to: 'src/util/leaf.ts' },
      { rule: 'web-imports-only-protocol', from: 'web/src/page.ts', to: 'src/nn/leaf.ts' },
    ]);
    // the lint:deps command itself fails, with one error per violation as its exit status
    const lint = depcruise(dir);
    expect(lint.status).toBe(violations.length);
    expect(lint.stdout).toContain('error floor-3-data-imports-sideways: src/data/sideways.ts → src/optim/leaf.ts');
  }, 120_000);
});
