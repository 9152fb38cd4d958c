/**
 * Keras out: `fitlab export --format keras` writes the Keras 3 .keras layout. Python Keras is not
 * installable here, so Debian's h5py reads the archive's model.weights.h5 and the test compares
 * every group, dataset, shape and `name` attribute with the layout keras/src/saving/saving_lib.py
 * defines (written out by hand below for a real Keras 2 model); the archive then round-trips
 * through fitlab's importer with identical predictions, Sequential and Functional (resnet).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/index.js';
import { h5Ready } from '../../src/io/h5.js';
import { kerasArchive } from '../../src/io/keras-export.js';
import { readKeras } from '../../src/io/keras.js';
import { modelFromTfjs } from '../../src/io/tfjs.js';
import type { Model } from '../../src/nn/model.js';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { ensureBuilt, fitlab } from '../cli/cli-helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'keras', 'dnn-repair-mnist-c-epoch01.hdf5');
const hasH5py = spawnSync('/usr/bin/python3', ['-c', 'import h5py'], { stdio: 'ignore' }).status === 0;
const backend = createBackend();
let tmp = '';
beforeAll(async () => {
  ensureBuilt();
  await h5Ready();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-keras-out-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every group and dataset of an HDF5 file as "path attrs shape dtype" lines (h5py). */
function h5Listing(file: string): string[] {
  const script = String.raw`
import h5py, sys, json
out = []
def j(o): return json.dumps(o, separators=(',', ':'))
def visit(name, obj):
    attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in obj.attrs.items()}
    if isinstance(obj, h5py.Dataset):
        out.append(f"{name} {j(attrs)} {list(obj.shape)} {obj.dtype}")
    else:
        out.append(f"{name} {j(attrs)}")
with h5py.File(sys.argv[1], "r") as f:
    out.append(f"/ {j({k: str(v) for k, v in f.attrs.items()})}")
    f.visititems(visit)
print("\n".join(out))
`;
  return execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }).trim().split('\n');
}

function predictions(model: Model, seed: number): Float32Array {
  const x = new Float32Array(8 * model.inputShape.reduce((a, b) => a * b, 1));
  new RandomStream(seed).fillUniform(x, 0, 255);
  return Float32Array.from(model.forward(x, { training: false }));
}

describe.skipIf(!hasH5py)('the .keras archive has the layout Keras 3 writes (checked with h5py)', () => {
  it('a real Keras 2 model exported by the CLI: config.json, metadata.json, model.weights.h5 groups and names', () => {
    const out = join(tmp, 'mnist.keras');
    const r = fitlab(['export', FIXTURE, '--format', 'keras', '--out', out]);
    expect(r.stderr).toBe('');
    const entries = unzipSync(readFileSync(out));
    expect(Object.keys(entries).sort()).toEqual(['config.json', 'metadata.json', 'model.weights.h5']);
    const meta = JSON.parse(new TextDecoder().decode(entries['metadata.json'])) as Record<string, string>;
    expect(meta.keras_version).toMatch(/^3\./);
    expect(meta.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
    const config = JSON.parse(new TextDecoder().decode(entries['config.json'])) as { class_name: string; config: { layers: { class_name: string; config: { name: string } }[] } };
    expect(config.class_name).toBe('Sequential');
    expect(config.config.layers[0].class_name).toBe('InputLayer');
    writeFileSync(join(tmp, 'w.h5'), entries['model.weights.h5']);
    // saving_lib: `layers/<snake_case class, counted>/vars/<i>`, vars.attrs["name"] = layer.name
    const group = (path: string, name: string): string[] => [`layers/${path}`, `layers/${path}/vars ${JSON.stringify({ name })}`];
    const data = (path: string, i: number, shape: number[]): string => `layers/${path}/vars/${i} {} ${JSON.stringify(shape).replace(/,/g, ', ')} float32`;
    const expected = [
      '/ {}',
      'layers {}',
      ...group('activation', 'activation_1'), ...group('activation_1', 'activation_2'), ...group('activation_2', 'activation_3'), ...group('activation_3', 'activation_4'),
      ...group('conv2d', 'conv2d_1'), data('conv2d', 0, [3, 3, 1, 2]), data('conv2d', 1, [2]),
      ...group('conv2d_1', 'conv2d_2'), data('conv2d_1', 0, [3, 3, 2, 4]), data('conv2d_1', 1, [4]),
      ...group('dense', 'dense_1'), data('dense', 0, [576, 128]), data('dense', 1, [128]),
      ...group('dense_1', 'dense_2'), data('dense_1', 0, [128, 10]), data('dense_1', 1, [10]),
      ...group('flatten', 'flatten_1'), ...group('max_pooling2d', 'max_pooling2d_1'),
      `vars ${JSON.stringify({ name: 'sequential_1' })}`,
    ].map((l) => (l.startsWith('layers/') && !l.includes(' ') ? `${l} {}` : l));
    expect(h5Listing(join(tmp, 'w.h5'))).toEqual(expected);
  });

  it('a Functional model counts its InputLayer (layers/input_layer) and keeps BatchNormalization order', () => {
    const model = modelFromSpec(presetSpec('resnet', { input: [8, 8, 3], classes: 4 }));
    model.build({ batchSize: 8, backend, seed: 4 });
    const file = join(tmp, 'resnet.keras');
    writeFileSync(file, kerasArchive(model));
    writeFileSync(join(tmp, 'r.h5'), unzipSync(readFileSync(file))['model.weights.h5']);
    const listing = h5Listing(join(tmp, 'r.h5'));
    expect(listing).toContain(`layers/input_layer/vars ${JSON.stringify({ name: 'input' })}`);
    const bn = model.layers.find((l) => l.type === 'batchNormalization')!;
    expect(bn.params.map((p) => p.weightName)).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(listing).toContain(`layers/batch_normalization/vars ${JSON.stringify({ name: bn.name })}`);
    for (let i = 0; i < 4; i++) expect(listing).toContain(`layers/batch_normalization/vars/${i} {} [${bn.params[i].shape.join(', ')}] float32`);
  });
});

describe('.keras round trip through fitlab\'s importer', () => {
  for (const preset of ['paper-cnn', 'resnet', 'lecture-cnn-bn']) {
    it(`${preset}: identical predictions after export and import`, () => {
      const model = modelFromSpec(presetSpec(preset, { classes: 10 }));
      model.build({ batchSize: 8, backend, seed: 6 });
      const rng = new RandomStream(9);
      for (const p of model.params()) if (p.weightName === 'moving_variance') rng.fillUniform(p.value, 0.5, 2);
      const file = join(tmp, `${preset}.keras`);
      writeFileSync(file, kerasArchive(model));
      const back = modelFromTfjs(readKeras(file), { batchSize: 8, backend });
      expect(back.layers.map((l) => l.name)).toEqual(model.layers.filter((l) => !l.type.startsWith('random')).map((l) => l.name));
      const a = predictions(model, 1);
      expect(Array.from(predictions(back, 1))).toEqual(Array.from(a));
      expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(1e-3);
    });
  }

  it('the CLI refuses to replace a file fitlab did not write, unless --force', () => {
    const mine = join(tmp, 'mine.keras');
    writeFileSync(mine, 'my own file');
    const r = fitlab(['export', FIXTURE, '--format', 'keras', '--out', mine]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: --out .*mine\.keras already exists; pass --force to replace it/);
    expect(readFileSync(mine, 'utf8')).toBe('my own file');
  });
});
