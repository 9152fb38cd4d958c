/**
 * Seeded fuzzing of the readers of model descriptions and histories (issue 14):
 *  - the JSON model spec (src/nn/spec.ts modelFromSpec, and the file path through
 *    resolveModelSource): a valid spec mutated with wrong types, negative, zero, huge and
 *    non-finite numbers, deleted and unknown keys, unknown layer types, deep nesting;
 *  - a saved tiny model's model.json (src/io/tfjs.ts readTfjs + modelFromTfjs): the topology
 *    and the weightsManifest mutated the same way;
 *  - the histories `fitlab diagnose` reads (src/diagnose/read.ts loadHistory → diagnose → the
 *    text, the terminal chart and the SVG charts): Keras JSON dicts, CSVLogger files and
 *    history.jsonl with mutated numbers, missing columns, ragged rows and garbage bytes.
 * Every mutated input ends either in success (a model that builds and runs a forward pass on a
 * small batch; a diagnosis with its charts) or in a FitlabError whose message is one non-empty
 * line — never a TypeError, RangeError or any other uncaught exception. Loops are bounded by
 * count (CASES per reader); a hang would be caught by the test timeout, not by a clock here.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { lossChart } from '../../src/diagnose/plots.js';
import { loadHistory } from '../../src/diagnose/read.js';
import { curvesChart, diagnosisText } from '../../src/diagnose/text.js';
import { FitlabError } from '../../src/errors.js';
import { resolveModelSource } from '../../src/io/model-source.js';
import { modelFromTfjs, readTfjs, saveTfjs } from '../../src/io/tfjs.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { mutateText } from './mutate.js';

const CASES = 250;
const backend = getBackend();

let tmp = '';
const savedLimit = process.env.FITLAB_MEMORY_LIMIT;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-fuzz-specs-'));
  // a mutated "units": 1e9 must be refused by the memory estimate, not allocated by the test
  process.env.FITLAB_MEMORY_LIMIT = '256MB';
});
afterAll(() => {
  if (savedLimit === undefined) delete process.env.FITLAB_MEMORY_LIMIT;
  else process.env.FITLAB_MEMORY_LIMIT = savedLimit;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Run `fn`; return 'ok', or the FitlabError's message. Anything else thrown fails the case, naming it. */
function outcome(what: string, fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof FitlabError)) {
      throw new Error(`${what}: not a FitlabError but ${(err as Error).name ?? typeof err}: ${(err as Error).message ?? String(err)}\n${(err as Error).stack ?? ''}`);
    }
    expect(err.message.trim().length, `${what}: empty message`).toBeGreaterThan(0);
    expect(err.message, `${what}: a multi-line message`).not.toContain('\n');
    return err.message;
  }
}

// --- JSON-tree mutations ---------------------------------------------------------------------

type Json = unknown;

/** A value nested `depth` levels deep (lists or objects). */
function deep(depth: number, r: RandomStream): Json {
  let v: Json = 1;
  const asList = r.uniformInt(2) === 0;
  for (let i = 0; i < depth; i++) v = asList ? [v] : { a: v };
  return v;
}

/** Hostile replacement values: wrong types, edge and huge numbers, non-finite numbers, nesting. */
function hostileValue(r: RandomStream): Json {
  const values: (() => Json)[] = [
    () => null, () => true, () => '', () => 'abc', () => 'relu', () => 'same', () => -1, () => 0, () => -0, () => 0.5, () => 1.5,
    () => 3, () => 1e9, () => 1e308, () => -1e308, () => 2 ** 31, () => 2 ** 53 + 2, () => Number.NaN, () => Infinity,
    () => -Infinity, () => [], () => [1], () => [0, 0], () => [-3, 4], () => [1e9, 1e9, 3], () => ['x', 'y'], () => ({}),
    () => ({ l2: -1 }), () => ({ className: 'Bogus', config: {} }), () => deep(10 + r.uniformInt(300), r),
  ];
  return values[r.uniformInt(values.length)]();
}

/** Every container in the tree and the keys/indices it holds (an explicit stack: the tree may be deep). */
function containers(root: Json): { node: Record<string, Json> | Json[]; key: string | number }[] {
  const out: { node: Record<string, Json> | Json[]; key: string | number }[] = [];
  const stack: Json[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) node.forEach((v, i) => { out.push({ node, key: i }); stack.push(v); });
    else for (const [k, v] of Object.entries(node)) { out.push({ node: node as Record<string, Json>, key: k }); stack.push(v); }
  }
  return out;
}

// names of real layers, a near miss, and names every plain object inherits (a lookup table must not find them)
const LAYER_TYPES = [
  'dense', 'conv2d', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d', 'flatten', 'dropout', 'batchNormalization', 'activation', 'add',
  'rescaling', 'randomFlip', 'bogusLayer', 'Dense', 'Conv2D', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf',
];

/** One seeded mutation of a JSON tree, in place; returns what it did (for the failure message). */
function mutateTree(root: Json, r: RandomStream): string {
  const slots = containers(root);
  if (!slots.length) return 'nothing to mutate';
  const { node, key } = slots[r.uniformInt(slots.length)];
  const set = (v: Json): void => {
    (node as Record<string | number, Json>)[key] = v;
  };
  switch (r.uniformInt(8)) {
    case 0:
    case 1: {
      const v = hostileValue(r);
      set(v);
      return `set ${String(key)} to ${JSON.stringify(v)?.slice(0, 60)}`;
    }
    case 2:
      if (Array.isArray(node)) node.splice(Number(key), 1);
      else delete node[key as string];
      return `deleted ${String(key)}`;
    case 3: {
      const n = (node as Record<string | number, Json>)[key];
      if (typeof n === 'number') {
        const v = [-n, n * 1e6, n + 0.5, n - n - 1, 2 ** 32 + n][r.uniformInt(5)];
        set(v);
        return `number ${String(key)}: ${n} → ${v}`;
      }
      set(LAYER_TYPES[r.uniformInt(LAYER_TYPES.length)]);
      return `${String(key)} → a layer type name`;
    }
    case 4:
      if (!Array.isArray(node)) {
        const key = r.uniformInt(2) ? `bogus_${r.uniformInt(100)}` : LAYER_TYPES[r.uniformInt(LAYER_TYPES.length)];
        node[key] = hostileValue(r);
        return `added the key ${key}`;
      }
      node.push(structuredClone(node[r.uniformInt(node.length)] ?? null));
      return 'duplicated a list entry';
    case 5:
      set(deep(50 + r.uniformInt(1000), r)); // deeper trees are written as text (JSON.stringify recurses)
      return `${String(key)} nested deep`;
    case 6: {
      const v = (node as Record<string | number, Json>)[key];
      set(typeof v === 'string' ? Number(v.length) : typeof v === 'number' ? String(v) : JSON.stringify(v) ?? null);
      return `${String(key)} changed type`;
    }
    default: {
      if (Array.isArray(node) && node.length > 1) {
        const j = r.uniformInt(node.length);
        [node[Number(key)], node[j]] = [node[j], node[Number(key)]];
        return 'swapped two list entries';
      }
      set({ type: LAYER_TYPES[r.uniformInt(LAYER_TYPES.length)] });
      return `${String(key)} → a bare layer`;
    }
  }
}

// --- model specs -------------------------------------------------------------------------------

const SPECS: Json[] = [
  { input: [6], layers: [{ type: 'dense', units: 5, activation: 'relu', kernelRegularizer: { l2: 0.01 } }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 3, activation: 'softmax' }] },
  {
    input: [8, 8, 1],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'he_normal' },
      { type: 'batchNormalization' }, { type: 'maxPooling2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 4, activation: 'softmax' },
    ],
  },
  {
    name: 'residual',
    input: [4, 4, 2],
    layers: [
      { type: 'conv2d', name: 'a', filters: 2, kernelSize: 1 },
      { type: 'conv2d', name: 'b', filters: 2, kernelSize: [3, 3], padding: 'same', inputs: ['a'] },
      { type: 'add', name: 'sum', inputs: ['a', 'b'] },
      { type: 'globalAveragePooling2d' },
      { type: 'dense', units: 2, activation: 'softmax' },
    ],
  },
];

/** Build the model for a batch of 2 and run a forward pass on zeros: a spec that parses must also work. */
function buildAndRun(spec: Json): void {
  const model = modelFromSpec(spec).build({ batchSize: 2, backend, seed: 1 });
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  const y = model.forward(backend.alloc(2 * per), { training: true });
  expect(y.length).toBe(2 * model.outputSize);
}

describe('fuzzing the JSON model spec reader', () => {
  it('the unmutated specs build and run (the fuzzer starts from valid input)', () => {
    for (const spec of SPECS) expect(outcome('valid spec', () => buildAndRun(structuredClone(spec)))).toBe('ok');
  });

  it(`${CASES} mutated spec objects: a model that runs, or a one-line FitlabError`, () => {
    const r = new RandomStream(14, 1);
    const tally = { ok: 0, refused: 0 };
    for (let c = 0; c < CASES; c++) {
      const spec = structuredClone(SPECS[c % SPECS.length]);
      const did = [mutateTree(spec, r), ...(r.uniformInt(3) === 0 ? [mutateTree(spec, r)] : [])];
      const result = outcome(`spec case ${c} (${did.join('; ')})`, () => buildAndRun(spec));
      tally[result === 'ok' ? 'ok' : 'refused']++;
    }
    // both ends are reached: the mutations are neither all harmless nor all fatal
    expect(tally.refused).toBeGreaterThan(CASES / 4);
    expect(tally.ok).toBeGreaterThan(0);
  });

  it(`${CASES / 5} damaged spec files through --model's reader (truncated, garbage bytes, digits changed)`, () => {
    const r = new RandomStream(14, 2);
    for (let c = 0; c < CASES / 5; c++) {
      const file = join(tmp, `spec-${c}.json`);
      writeFileSync(file, mutateText(JSON.stringify(SPECS[c % SPECS.length], null, 1), r), 'latin1');
      outcome(`spec file ${c}`, () => buildAndRun(resolveModelSource(file).spec));
    }
  });

  it('a spec 200,000 levels deep is refused by its depth, as an object and as a file', () => {
    const spec = { input: [4], layers: [{ type: 'dense', units: deep(200_000, new RandomStream(1)) }] };
    expect(outcome('deep spec', () => buildAndRun(spec))).toBe('model spec: model spec nests deeper than 64 levels');
    const file = join(tmp, 'deep.json');
    writeFileSync(file, `{"input": [4], "layers": [{"type": "dense", "units": ${'['.repeat(200_000)}${']'.repeat(200_000)}}]}`);
    expect(outcome('deep spec file', () => buildAndRun(resolveModelSource(file).spec))).toMatch(/nests deeper than 64 levels/);
  });
});

// --- model.json ------------------------------------------------------------------------------

describe('fuzzing model.json (readTfjs + modelFromTfjs)', () => {
  let good = '';
  let modelJson: Record<string, Json> = {};
  beforeAll(() => {
    good = join(tmp, 'tiny-model');
    saveTfjs(modelFromSpec(structuredClone(SPECS[1])).build({ batchSize: 2, backend, seed: 3 }), good);
    modelJson = JSON.parse(readFileSync(join(good, 'model.json'), 'utf8')) as Record<string, Json>;
  });

  /** A copy of the saved model with its model.json replaced by `text`. */
  function variant(name: string, text: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(good)) if (f !== 'model.json') copyFileSync(join(good, f), join(dir, f));
    writeFileSync(join(dir, 'model.json'), text, 'latin1');
    return dir;
  }

  const load = (dir: string): void => {
    const model = modelFromTfjs(readTfjs(dir), { batchSize: 2, backend });
    expect(model.outputSize).toBeGreaterThan(0);
  };

  it('the saved model loads (the fuzzer starts from valid input)', () => {
    expect(outcome('saved model', () => load(good))).toBe('ok');
  });

  it.each([
    ['modelTopology', 1],
    ['weightsManifest', 2],
  ])(`${CASES} mutations of %s: a model, or a one-line FitlabError`, (part, stream) => {
    const r = new RandomStream(14, 10 + stream);
    let refused = 0;
    for (let c = 0; c < CASES; c++) {
      const json = structuredClone(modelJson);
      const target = { [part]: json[part] };
      const did = mutateTree(target, r);
      json[part] = target[part];
      const dir = variant(`${part}-${c}`, JSON.stringify(json));
      if (outcome(`${part} case ${c} (${did})`, () => load(dir)) !== 'ok') refused++;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(refused).toBeGreaterThan(CASES / 4);
  });

  it(`${CASES / 5} damaged model.json texts`, () => {
    const r = new RandomStream(14, 13);
    const text = JSON.stringify(modelJson);
    for (let c = 0; c < CASES / 5; c++) {
      const dir = variant(`text-${c}`, mutateText(text, r));
      outcome(`model.json text ${c}`, () => load(dir));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- histories ---------------------------------------------------------------------------------

const EPOCHS = 12;
const kerasDict = (): Record<string, number[]> => ({
  loss: Array.from({ length: EPOCHS }, (_, i) => 2 * Math.exp(-i / 4) + 0.1),
  accuracy: Array.from({ length: EPOCHS }, (_, i) => 0.9 - 0.6 * Math.exp(-i / 4)),
  val_loss: Array.from({ length: EPOCHS }, (_, i) => 2 * Math.exp(-i / 4) + 0.3 + (i > 6 ? 0.05 * (i - 6) : 0)),
  val_accuracy: Array.from({ length: EPOCHS }, (_, i) => 0.8 - 0.5 * Math.exp(-i / 4)),
});

function csvOf(dict: Record<string, number[]>): string {
  const keys = Object.keys(dict);
  const rows = dict.loss.map((_, i) => [i, ...keys.map((k) => dict[k][i])].join(','));
  return [['epoch', ...keys].join(','), ...rows].join('\n') + '\n';
}

function jsonlOf(dict: Record<string, number[]>): string {
  return dict.loss.map((_, i) => JSON.stringify({ epoch: i, ...Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v[i]])), learning_rate: 0.001, penalty: 0, seconds: 1 })).join('\n') + '\n';
}

/** What `fitlab diagnose <file>` does with a history: read, diagnose, print, chart. */
function diagnoseFile(file: string): void {
  const loaded = loadHistory(file, 10);
  const d = diagnose(loaded.history, loaded.context);
  expect(diagnosisText(d, { advice: 5 })).toMatch(/^Diagnosis: /);
  curvesChart(loaded.history, d);
  expect(lossChart(loaded.history, d)).toMatch(/^<svg/);
}

/** CSV damage aimed at its structure: a column dropped, a row made ragged, a cell garbled. */
function mutateCsv(text: string, r: RandomStream): string {
  const lines = text.trimEnd().split('\n').map((l) => l.split(','));
  const row = r.uniformInt(lines.length);
  const col = r.uniformInt(lines[0].length);
  switch (r.uniformInt(5)) {
    case 0:
      for (const l of lines) l.splice(col, 1);
      break;
    case 1:
      lines[row].splice(col, 1);
      break;
    case 2:
      lines[row].push(String(r.uniform()));
      break;
    case 3:
      lines[row][col] = ['', 'nan', 'inf', '-inf', '1e999', '-5', '97.3', 'abc', '0x10', '1,5', ' '][r.uniformInt(11)];
      break;
    default:
      return mutateText(text, r);
  }
  return lines.map((l) => l.join(',')).join('\n') + '\n';
}

describe('fuzzing the histories `fitlab diagnose` reads', () => {
  it('the unmutated histories are diagnosed in all three formats (the fuzzer starts from valid input)', () => {
    const dict = kerasDict();
    for (const [name, text] of [['h.json', JSON.stringify(dict)], ['h.csv', csvOf(dict)], ['h.jsonl', jsonlOf(dict)]]) {
      const file = join(tmp, `valid-${name}`);
      writeFileSync(file, text);
      expect(outcome(name, () => diagnoseFile(file))).toBe('ok');
    }
  });

  it(`${CASES} mutated Keras history dicts`, () => {
    const r = new RandomStream(14, 20);
    let refused = 0;
    for (let c = 0; c < CASES; c++) {
      const dict = kerasDict() as Json;
      const did = mutateTree(dict, r);
      const file = join(tmp, `keras-${c}.json`);
      // Python's json.dump writes NaN and Infinity bare, as the reader accepts them
      writeFileSync(file, JSON.stringify(dict, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${v}@@` : v)).replace(/"@@(-?\w+)@@"/g, '$1'));
      if (outcome(`keras case ${c} (${did})`, () => diagnoseFile(file)) !== 'ok') refused++;
    }
    expect(refused).toBeGreaterThan(CASES / 4);
  });

  it(`${CASES} mutated CSVLogger files and ${CASES} mutated history.jsonl files`, () => {
    const r = new RandomStream(14, 21);
    const csv = csvOf(kerasDict());
    const jsonl = jsonlOf(kerasDict());
    let refused = 0;
    for (let c = 0; c < CASES; c++) {
      const file = join(tmp, `log-${c}.csv`);
      writeFileSync(file, mutateCsv(csv, r), 'latin1');
      if (outcome(`csv case ${c}`, () => diagnoseFile(file)) !== 'ok') refused++;
      const lines = join(tmp, `history-${c}.jsonl`);
      writeFileSync(lines, mutateText(jsonl, r), 'latin1');
      outcome(`jsonl case ${c}`, () => diagnoseFile(lines));
    }
    expect(refused).toBeGreaterThan(CASES / 4);
  });

  it('garbage bytes under each history file name', () => {
    const r = new RandomStream(14, 22);
    for (let c = 0; c < 60; c++) {
      const file = join(tmp, `garbage-${c}.${['json', 'csv', 'jsonl'][c % 3]}`);
      writeFileSync(file, Buffer.from(Array.from({ length: r.uniformInt(400) }, () => r.uniformInt(256))));
      outcome(`garbage ${c}`, () => diagnoseFile(file));
    }
  });
});
