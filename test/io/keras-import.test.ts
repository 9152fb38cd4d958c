/**
 * Keras files in: real Keras 2 .h5 classifiers from two public repositories reproduce their
 * published MNIST and Fashion-MNIST test accuracy through the real CLI; a Keras 3 .keras archive written with h5py
 * in the layout Keras' saving_lib defines (layers/<snake_case class>/vars/<i>) loads with every
 * weight where it belongs; unsupported layers are one-line errors naming the layer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h5Ready } from '../../src/io/h5.js';
import { kerasArchive } from '../../src/io/keras-export.js';
import { kerasVarPaths, readKeras, readKerasWeights, snakeCase } from '../../src/io/keras.js';
import { unzipSync } from 'fflate';
import { presetSpec } from '../../src/nn/presets.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { modelFromTfjs } from '../../src/io/tfjs.js';
import { ensureBuilt, fitlab as runCli, testDataRoot } from '../cli/cli-helpers.js';

const FIX = join(import.meta.dirname, 'fixtures', 'keras');
const MNIST = testDataRoot().root ?? '';
const hasMnist = MNIST !== '' && existsSync(join(MNIST, 'mnist', 't10k-images-idx3-ubyte.gz'));
const hasH5py = spawnSync('/usr/bin/python3', ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0;

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fitlab-keras-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  ensureBuilt();
  await h5Ready();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Keras naming (saving_lib)', () => {
  it('snake-cases class names as keras.src.utils.naming does', () => {
    expect(['Conv2D', 'MaxPooling2D', 'BatchNormalization', 'GlobalAveragePooling2D', 'Dense', 'InputLayer'].map(snakeCase))
      .toEqual(['conv2d', 'max_pooling2d', 'batch_normalization', 'global_average_pooling2d', 'dense', 'input_layer']);
  });
  it('numbers repeated classes and leaves the Sequential InputLayer out', () => {
    const cfg = { class_name: 'Sequential', config: { layers: [
      { class_name: 'InputLayer', config: { name: 'in' } }, { class_name: 'Dense', config: { name: 'a' } },
      { class_name: 'Dense', config: { name: 'b' } }, { class_name: 'Dense', config: { name: 'c' } },
    ] } };
    expect([...kerasVarPaths(cfg).entries()]).toEqual([['a', 'dense'], ['b', 'dense_1'], ['c', 'dense_2']]);
  });
});

describe.skipIf(!hasMnist)('real Keras 2 .hdf5 classifiers reproduce their published accuracy (fixtures/keras/README.md)', () => {
  for (const [file, published, loss] of [
    ['dnn-repair-mnist-c-epoch01.hdf5', '96.32%', '0.1185'],
    ['dnn-repair-mnist-b-epoch08.hdf5', '96.34%', '0.1279'],
    ['dnn-repair-mode-improved-0.9674.h5', '96.74%', '0.1588'],
  ]) {
    it(`${file}: ${published}`, () => {
      // these models were trained on raw 0–255 pixels (train_mnist.py does not divide by 255)
      const r = runCli(['evaluate', join(FIX, file), '--dataset', 'mnist', '--data-dir', MNIST, '--input-range', '0-255']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`accuracy ${published}`);
      expect(r.stdout).toContain(`loss ${loss}`);
    });
  }
  it('fine-tunes from the Keras weights: the run starts where the file left off', () => {
    const out = tempDir();
    const r = runCli(['train', '--model', join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5'), '--dataset', 'mnist', '--data-dir', MNIST, '--subset', '20', '--epochs', '1', '--lr', '0', '--out', out, '--json']);
    const run = JSON.parse(r.stdout) as { runDir: string; test: { accuracy: number } };
    // learning rate 0: the run's test accuracy is the loaded model's own (on x/255 inputs, as runs scale)
    const direct = JSON.parse(runCli(['evaluate', join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5'), '--dataset', 'mnist', '--data-dir', MNIST, '--json']).stdout) as { accuracy: number };
    expect(run.test.accuracy).toBeCloseTo(direct.accuracy, 6);
    expect((JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')) as { model: { label: string } }).model.label).toBe('dnn-repair-mnist-c-epoch01');
  });

  it('summary reads the Keras file and predict lists its predictions', () => {
    const s = runCli(['summary', '--model', join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5')]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/conv2d_1[\s\S]*dense_2/);
    const p = runCli(['predict', join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5'), '--dataset', 'mnist', '--data-dir', MNIST, '--input-range', '0-255', '--json', '--limit', '3']);
    expect(p.status).toBe(0);
    expect((JSON.parse(p.stdout) as { accuracy: number }).accuracy).toBeCloseTo(0.9632, 6);
  });
});

/** A Keras 3 functional model with a residual join, written in saving_lib's layout by h5py. */
const KERAS3_SCRIPT = String.raw`
import h5py, json, numpy as np, sys
out = sys.argv[1]
rng = np.random.default_rng(7)
def t(name, shape): return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": [name, 0, 0]}}
def node(*args): return [{"args": list(args), "kwargs": {}}]
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
conv = lambda name, f, act: {"filters": f, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": act, "use_bias": True, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}, "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None, "name": name, "trainable": True, "dtype": pol}
layers = [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 6, 6, 2], "dtype": "float32", "sparse": False, "name": "pixels"}, "registered_name": None, "name": "pixels", "inbound_nodes": []},
  {"module": "keras.layers", "class_name": "Conv2D", "config": conv("stem", 4, "relu"), "registered_name": None, "name": "stem", "inbound_nodes": node(t("pixels", [None, 6, 6, 2]))},
  {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "norm", "trainable": True, "dtype": pol, "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}, "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": None}, "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}, "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": None}, "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None, "synchronized": False}, "registered_name": None, "name": "norm", "inbound_nodes": node(t("stem", [None, 6, 6, 4]))},
  {"module": "keras.layers", "class_name": "Conv2D", "config": conv("branch", 4, "linear"), "registered_name": None, "name": "branch", "inbound_nodes": node(t("norm", [None, 6, 6, 4]))},
  {"module": "keras.layers", "class_name": "Add", "config": {"name": "join", "trainable": True, "dtype": pol}, "registered_name": None, "name": "join", "inbound_nodes": node([t("norm", [None, 6, 6, 4]), t("branch", [None, 6, 6, 4])])},
  {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "pool", "trainable": True, "dtype": pol, "data_format": "channels_last", "keepdims": False}, "registered_name": None, "name": "pool", "inbound_nodes": node(t("join", [None, 6, 6, 4]))},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "head", "trainable": True, "dtype": pol, "units": 3, "activation": "softmax", "use_bias": True, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}, "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None, "activity_regularizer": None}, "registered_name": None, "name": "head", "inbound_nodes": node(t("pool", [None, 4]))},
]
config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "residual", "trainable": True, "layers": layers, "input_layers": [["pixels", 0, 0]], "output_layers": [["head", 0, 0]]}, "registered_name": "Functional", "build_config": {"input_shape": None}}
shapes = {"conv2d": [(3, 3, 2, 4), (4,)], "batch_normalization": [(4,)] * 4, "conv2d_1": [(3, 3, 4, 4), (4,)], "dense": [(4, 3), (3,)]}
expected = {}
with h5py.File(out + "/model.weights.h5", "w") as f:
  f.create_group("vars")
  for path, owner in [("conv2d", "stem"), ("batch_normalization", "norm"), ("conv2d_1", "branch"), ("dense", "head")]:
    g = f.create_group("layers/" + path).create_group("vars")
    for i, s in enumerate(shapes[path]):
      v = rng.uniform(0.5, 1.5, s).astype("float32")
      g[str(i)] = v
      expected[owner + "/" + str(i)] = v.ravel().tolist()
  for path in ["input_layer", "add", "global_average_pooling2d"]:
    f.create_group("layers/" + path).create_group("vars")
  f.create_group("optimizer").create_group("vars")
json.dump(config, open(out + "/config.json", "w"))
json.dump({"keras_version": "3.6.0", "date_saved": "2026-12-07@12:00:00"}, open(out + "/metadata.json", "w"))
json.dump(expected, open(out + "/expected.json", "w"))
`;

const FASHION = '/usr/share/datasets/fashion-mnist';
describe.skipIf(!existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz')))('a real tf.keras Fashion-MNIST CNN (fixtures/keras/README.md)', () => {
  it('fashion-mnist-cnn2.h5: published accuracy 0.91, loss 0.26 (two decimals); fitlab 90.68%, 0.2588', () => {
    const r = runCli(['evaluate', join(FIX, 'fashion-mnist-cnn2.h5'), '--dataset', FASHION, '--json']);
    const got = JSON.parse(r.stdout) as { accuracy: number; loss: number };
    expect(Math.abs(got.accuracy - 0.91)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(got.loss - 0.26)).toBeLessThanOrEqual(0.005);
    expect(got.accuracy).toBeCloseTo(0.9068, 6);
  });
});

describe.skipIf(!hasH5py)('Keras 3 .keras archive (layout from keras/src/saving/saving_lib.py, written by h5py)', () => {
  function makeKeras(mutate?: (config: Record<string, unknown>) => void): string {
    const dir = tempDir();
    execFileSync('/usr/bin/python3', ['-c', KERAS3_SCRIPT, dir]);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    mutate?.(config);
    const zip = zipSync({
      'metadata.json': readFileSync(join(dir, 'metadata.json')),
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.weights.h5': readFileSync(join(dir, 'model.weights.h5')),
    });
    writeFileSync(join(dir, 'residual.keras'), zip);
    return dir;
  }

  it('maps every variable to its layer and order (kernel, bias; gamma, beta, moving mean, moving variance)', () => {
    const dir = makeKeras();
    const loaded = readKeras(join(dir, 'residual.keras'));
    expect(loaded.spec.layers.map((l) => l.type)).toEqual(['conv2d', 'batchNormalization', 'conv2d', 'add', 'globalAveragePooling2d', 'dense']);
    expect(loaded.spec.layers.find((l) => l.name === 'join')?.inputs).toEqual(['norm', 'branch']);
    const model = modelFromTfjs(loaded, { batchSize: 2 });
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, number[]>;
    const order: Record<string, string[]> = { stem: ['kernel', 'bias'], norm: ['gamma', 'beta', 'moving_mean', 'moving_variance'], branch: ['kernel', 'bias'], head: ['kernel', 'bias'] };
    let checked = 0;
    for (const [layer, names] of Object.entries(order)) {
      names.forEach((n, i) => {
        const p = model.params().find((q) => q.name === `${layer}/${n}`);
        expect(p, `${layer}/${n}`).toBeDefined();
        expect(Array.from(p!.value)).toEqual(expected[`${layer}/${i}`].map((v) => Math.fround(v)));
        checked++;
      });
    }
    expect(checked).toBe(10);
  });

  it('an unsupported layer is one error naming it, through the CLI', () => {
    const dir = makeKeras((c) => {
      const layers = (c.config as { layers: { class_name: string }[] }).layers;
      layers[5].class_name = 'LayerNormalization';
    });
    const r = runCli(['summary', '--model', join(dir, 'residual.keras')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: .*layer 5 \('pool', LayerNormalization\): layer class LayerNormalization is not supported/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a .h5 that is no HDF5 file (a Git LFS pointer) is one line saying so, not a JSON error', () => {
    const dir = tempDir();
    const pointer = join(dir, 'model.h5');
    writeFileSync(pointer, 'version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 940648\n');
    for (const args of [['summary', '--model', pointer], ['evaluate', pointer, '--dataset', 'spirals']]) {
      const r = runCli(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`fitlab: error: ${pointer} is named like a Keras file but is neither an HDF5 file nor a .keras zip archive by its first bytes (it is a Git LFS pointer: fetch the real file with git lfs pull)\n`);
    }
  });

  it('a truncated .h5 is one line with HDF5\'s own reason, and HDF5 prints no error stack', () => {
    const dir = tempDir();
    const cut = join(dir, 'cut.h5');
    writeFileSync(cut, readFileSync(join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5')).subarray(0, 600_000));
    const r = runCli(['summary', '--model', cut]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`fitlab: error: ${cut} cannot be read as HDF5 (corrupt or truncated file): truncated file: eof = 600000, sblock->base_addr = 0, stored_eof = 940648\n`);
  });

  it('a truncated .keras archive is one error line', () => {
    const dir = makeKeras();
    const bytes = readFileSync(join(dir, 'residual.keras'));
    writeFileSync(join(dir, 'cut.keras'), bytes.subarray(0, 200));
    const r = runCli(['summary', '--model', join(dir, 'cut.keras')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: .*cut\.keras is not a readable zip archive/);
  });
});

describe.skipIf(!hasH5py)('weights-only files applied onto a spec', () => {
  function outputs(loaded: ReturnType<typeof readKeras>): number[] {
    const model = modelFromTfjs(loaded, { batchSize: 4 });
    const x = new Float32Array(4 * model.inputShape.reduce((a, b) => a * b, 1));
    new RandomStream(3).fillUniform(x, 0, 255);
    return Array.from(model.forward(x, { training: false }));
  }

  it('Keras 2 save_weights layout (layer_names at the root): same outputs as the full model', () => {
    const dir = tempDir();
    const weights = join(dir, 'mnist.weights.h5');
    // what Keras 2's model.save_weights('x.h5') writes: the model_weights group's content at the root
    execFileSync('/usr/bin/python3', ['-c', [
      'import h5py, sys',
      'src = h5py.File(sys.argv[1], "r")["model_weights"]',
      'with h5py.File(sys.argv[2], "w") as dst:',
      '  for k, v in src.attrs.items(): dst.attrs[k] = v',
      '  for k in src: src.file.copy(src[k], dst, k)',
    ].join('\n'), join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5'), weights]);
    const full = readKeras(join(FIX, 'dnn-repair-mnist-c-epoch01.hdf5'));
    expect(outputs(readKerasWeights(weights, full.spec))).toEqual(outputs(full));
    const r = runCli(['summary', '--model', weights]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: .*mnist\.weights\.h5 holds weights only \(no model_config attribute\)/);
  });

  it('Keras 3 .weights.h5 (layers/<class>/vars) onto the same preset spec', () => {
    const model = modelFromSpec(presetSpec('lecture-cnn-bn', { classes: 10 }));
    model.build({ batchSize: 4, seed: 12 });
    const dir = tempDir();
    const weights = join(dir, 'model.weights.h5');
    writeFileSync(weights, unzipSync(kerasArchive(model))['model.weights.h5']);
    const spec = presetSpec('lecture-cnn-bn', { classes: 10 });
    const viaWeights = readKerasWeights(weights, spec);
    const viaArchive = readKeras((() => {
      const f = join(dir, 'm.keras');
      writeFileSync(f, kerasArchive(model));
      return f;
    })());
    expect(outputs(viaWeights)).toEqual(outputs(viaArchive));
  });
});
