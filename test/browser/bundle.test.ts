/**
 * The browser bundle of the library (scripts/build-browser.cjs, issue 21): src/browser.ts and
 * everything it reaches bundle with esbuild for platform 'browser' with no Node built-in module
 * (none marked external, so one would fail the build), the host-bound modules replaced by their
 * `.browser.ts` twins. The bundle then runs: imported as plain ES module, it trains a small MLP
 * on spirals on the reference backend and diagnoses the curves; and in a bare `vm` context that
 * holds only what a browser's worker has (no setImmediate, process, Buffer, require), so a
 * Node-only global used by the bundle's floors fails here instead of in a visitor's tab.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}
const { buildBrowser } = createRequire(import.meta.url)('../../scripts/build-browser.cjs') as {
  buildBrowser: (out: string, entry?: string) => Promise<{ out: string; metafile: Metafile }>;
};
const ROOT = join(import.meta.dirname, '..', '..');

let dir: string;
let metafile: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fitlab-browser-'));
  ({ metafile } = await buildBrowser(join(dir, 'out')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_BUILTINS = new Set(builtinModules);
const isBuiltin = (p: string): boolean => p.startsWith('node:') || NODE_BUILTINS.has(p.split('/')[0]);

describe('browser bundle of the library', () => {
  it('builds, and no input or output imports a Node built-in', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.length).toBeGreaterThan(50);
    const builtins = [...Object.values(metafile.inputs), ...Object.values(metafile.outputs)]
      .flatMap((f) => f.imports.map((i) => i.path))
      .filter(isBuiltin);
    expect(builtins).toEqual([]);
    expect(Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external))).toEqual([]);
  });

  it('takes the .browser.ts twins in place of the host-bound modules, and the floors it should', () => {
    const inputs = new Set(Object.keys(metafile.inputs).map((p) => relative(ROOT, join(ROOT, p)).replace(/\\/g, '/')));
    for (const twin of ['src/backend/index.browser.ts', 'src/nn/host.browser.ts', 'src/data/pipeline.browser.ts']) expect(inputs).toContain(twin);
    for (const node of ['src/backend/index.ts', 'src/backend/native/index.ts', 'src/backend/wasm/index.ts', 'src/nn/host.ts', 'src/data/pipeline.ts', 'src/util/paths.ts']) {
      expect(inputs).not.toContain(node);
    }
    for (const floor of ['src/tensor/', 'src/backend/reference/', 'src/backend/wasm/core.ts', 'src/nn/layers/', 'src/optim/', 'src/train/fit.ts', 'src/data/augment.ts', 'src/data/synthetic.ts', 'src/data/transforms.ts', 'src/diagnose/diagnose.ts']) {
      expect([...inputs].some((p) => p.startsWith(floor))).toBe(true);
    }
    // of io, only the pure TF.js format and the download it makes (tfjs-artifacts: no file system)
    const pureIo = new Set(['src/io/tfjs-format.ts', 'src/io/tfjs-artifacts.ts', 'src/io/sha256.ts']);
    expect([...inputs].filter((p) => /^src\/(run|io|cli|serve|queue|experiments)\//.test(p) && !pureIo.has(p))).toEqual([]);
    for (const pure of ['src/data/from-bytes.ts', 'src/data/idx-format.ts', 'src/data/cifar-format.ts', 'src/data/image-assemble.ts', 'src/data/image-decode.ts', ...pureIo]) expect(inputs).toContain(pure);
    for (const node of ['src/data/idx.ts', 'src/data/cifar.ts', 'src/data/images.ts', 'src/io/tfjs.ts', 'src/io/integrity.ts']) expect(inputs).not.toContain(node);
  });

  it('fails, naming the module, when something it reaches imports a Node built-in', async () => {
    const entry = join(dir, 'bad-entry.ts');
    writeFileSync(entry, `import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n`);
    await expect(buildBrowser(join(dir, 'bad'), entry)).rejects.toThrow(/node:fs/);
  });

  it('runs: trains an MLP on spirals on the reference backend and diagnoses it', async () => {
    const lib = await import(pathToFileURL(join(dir, 'out', 'fitlab.js')).href) as typeof import('../../src/browser.js');
    lib.setBackend(lib.createReferenceBackend());
    expect(lib.getBackend().name).toBe('reference');
    const data = lib.synthetic2d('spirals', { n: 200, seed: 3 });
    const spec = { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: data.classes, activation: 'softmax' }], input: data.shape };
    const model = lib.modelFromSpec(spec).build({ batchSize: 20, seed: 1 });
    expect(model.backend.name).toBe('reference');
    const loss = new lib.LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
    const trainer = new lib.Trainer(model, loss, lib.createOptimizer('adam'), 20);
    const { history } = await trainer.fit(data.train, { epochs: 3, validationData: data.test });
    expect(history.epochs).toHaveLength(3);
    for (const e of history.epochs) expect(Number.isFinite(e.loss) && Number.isFinite(e.val_loss)).toBe(true);
    const d = lib.diagnose(history.epochs);
    expect(d.summary.length).toBeGreaterThan(0);
  });

  it('trains in a context holding only Web Worker globals: no setImmediate, process, Buffer or require', async () => {
    // the ES module as a CommonJS body, to run with vm.runInContext (vm modules need a Node flag)
    const esm = readFileSync(join(dir, 'out', 'fitlab.js'), 'utf8');
    const { code } = await transform(esm, { format: 'cjs', target: 'es2022', loader: 'js' });
    const mod = { exports: {} as Record<string, unknown> };
    // what a Web Worker has beyond the language itself (as far as the library reaches)
    const sandbox = createContext({
      module: mod, exports: mod.exports, console, performance, setTimeout, clearTimeout, MessageChannel, TextEncoder, TextDecoder, queueMicrotask, structuredClone,
    });
    expect(runInContext('[typeof setImmediate, typeof process, typeof Buffer, typeof require].join()', sandbox)).toBe('undefined,undefined,undefined,undefined');
    runInContext(code, sandbox, { filename: 'fitlab.js' });
    const lib = mod.exports as unknown as typeof import('../../src/browser.js');
    lib.setBackend(lib.createReferenceBackend());
    const data = lib.synthetic2d('spirals', { n: 200, seed: 3 });
    const spec = { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: data.classes, activation: 'softmax' }], input: data.shape };
    const model = lib.modelFromSpec(spec).build({ batchSize: 20, seed: 1 });
    const loss = new lib.LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
    const trainer = new lib.Trainer(model, loss, lib.createOptimizer('adam'), 20);
    // one slow step (>100 ms) makes the Trainer yield to the host between batches on any machine
    let slowed = false;
    const afterBatch = (): Promise<void> => {
      if (!slowed) {
        slowed = true;
        const t = performance.now();
        while (performance.now() - t < 150) { /* spin: a step that outlasts the Trainer's yield interval */ }
      }
      return Promise.resolve();
    };
    const { history } = await trainer.fit(data.train, { epochs: 2, validationData: data.test, afterBatch });
    expect(slowed).toBe(true);
    expect(history.epochs).toHaveLength(2);
    for (const e of history.epochs) expect(Number.isFinite(e.loss) && Number.isFinite(e.val_loss)).toBe(true);
  });
});
