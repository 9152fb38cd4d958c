/**
 * Bad input a user can hand fitlab, through the real CLI (issue 14): histories no run can log
 * (lists of different lengths, accuracy 4.0 among fractions, a negative cross-entropy, a ragged CSV),
 * an exploding loss that must read as diverged, a spec nested 200,000 levels deep, a
 * 200,000-epoch history, and models or batch sizes too big for memory or for one buffer.
 * Each refusal exits ≠ 0 with one `fitlab: error:` line (and at most a hint line), no stack
 * trace, and a message naming the key and value; each valid input gives the right verdict.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { ArgumentError, FitlabError } from '../../src/errors.js';
import { LossHead } from '../../src/nn/losses.js';
import { MAX_ARRAY_LENGTH, estimateMemory, formatBytes, parseMemorySize } from '../../src/nn/memory.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { Trainer } from '../../src/train/fit.js';
import { type CliResult, STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-bad-input-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** A refusal: exit 1, stdout empty, stderr one error line (plus an optional hint line), no stack; returns the error line. */
function refused(r: CliResult): string {
  expect(r.status, r.stderr + r.stdout).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stderr).not.toMatch(/internal error|RangeError|TypeError/);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^fitlab: error: /);
  expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
  if (lines[1]) expect(lines[1]).toMatch(/^fitlab: hint: /);
  return r.stderr;
}

const TEN = ['--classes', '10', '--no-chart'];
const keras = (dict: Record<string, unknown>): string => JSON.stringify(dict);
const DOWN = [2.3, 1.5, 1.1, 0.9, 0.8];

describe('fitlab diagnose refuses histories no classifier run can log', () => {
  it('lists of different lengths: names every key with its length', () => {
    const p = write('ragged.json', keras({ loss: DOWN, val_loss: [2.4, 1.6, 1.2], accuracy: [0.2, 0.4, 0.5, 0.6, 0.7] }));
    expect(refused(fitlab(['diagnose', p, ...TEN]))).toContain(`fitlab: error: ${p}: the lists have different lengths (loss: 5, val_loss: 3, accuracy: 5)`);
  });

  it('accuracy 4.0: names the key, the value, the epoch and the allowed range', () => {
    const p = write('acc4.json', keras({ loss: DOWN, accuracy: [0.2, 0.4, 4.0, 0.6, 0.7] }));
    expect(refused(fitlab(['diagnose', p, ...TEN]))).toContain(`${p}: "accuracy"[2] (epoch 3): accuracy is 4; an accuracy must be in [0, 1]`);
  });

  it('accuracy columns in percent (31.5, 97.3) are read as percent and said so; a lone 31.5 among fractions is refused', () => {
    // issue 15: hand-made logs write accuracies in percent; a whole column in [0, 100] with most
    // values above 1 is unambiguous, and the output says how it was read
    const p = write('percent.csv', 'epoch,loss,acc,val_loss,val_acc\n0,2.3,31.5,2.4,30.2\n1,1.5,97.3,1.6,90.1\n');
    const r = fitlab(['diagnose', p, ...TEN, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { final: { accuracy: number; valAccuracy: number }; readNotes: string[] };
    expect(j.final.accuracy).toBeCloseTo(0.973, 12);
    expect(j.final.valAccuracy).toBeCloseTo(0.901, 12);
    expect(j.readNotes).toContain('"acc" is in percent (values up to 97.3): read as accuracy ÷ 100');
    const lone = write('lone.csv', 'epoch,loss,acc\n0,2.3,0.2\n1,1.5,31.5\n2,1.2,0.5\n3,1.0,0.6\n');
    const err = refused(fitlab(['diagnose', lone, ...TEN]));
    expect(err).toContain(`${lone}: line 3, column "acc": accuracy is 31.5; an accuracy must be in [0, 1]`);
    expect(err).toContain('fitlab: hint: the rest of the column is fractions, so 31.5 cannot be a percentage');
  });

  it('a negative cross-entropy: names the key, the value and the epoch; a loss of exactly 0 is fine', () => {
    const p = write('negative.json', keras({ loss: DOWN, val_loss: [2.4, 1.6, -0.5, 1.0, 0.9] }));
    expect(refused(fitlab(['diagnose', p, ...TEN]))).toContain(`${p}: "val_loss"[2] (epoch 3): val_loss is -0.5; a cross-entropy loss is never negative`);
    const zero = write('zero.json', keras({ loss: [2.3, 1.0, 0.1, 0, 0], accuracy: [0.2, 0.7, 0.99, 1, 1] }));
    const r = fitlab(['diagnose', zero, ...TEN]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Diagnosis: /m);
  });

  it('a ragged CSV row and a jsonl line without a loss: named by line', () => {
    const csv = write('ragged.csv', 'epoch,loss,val_loss\n0,2.3,2.4\n1,1.5\n');
    expect(refused(fitlab(['diagnose', csv, ...TEN]))).toContain(`${csv}: line 3 has 2 cells; the header has 3 columns (epoch, loss, val_loss)`);
    const jsonl = write('noloss.jsonl', '{"epoch":0,"loss":2.3}\n{"epoch":1,"accuracy":0.5}\n');
    expect(refused(fitlab(['diagnose', jsonl, ...TEN]))).toContain(`${jsonl}: line 2: "loss" is undefined, not a number`);
  });

  it('a damaged weights.jsonl in a run directory: `diagnose --write` names the file and line', () => {
    const spec = write('tiny.json', JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] }));
    const t = fitlab(['train', '--model', spec, '--dataset', 'spirals', '--epochs', '2', '--out', join(tmp, 'weights-runs'), '--json']);
    expect(t.status, t.stderr).toBe(0);
    const { runDir } = JSON.parse(t.stdout) as { runDir: string };
    const file = join(runDir, 'weights.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, `${lines[0]}\n{"epoch": 1, "distance": 0.5, "layers": 7}\n`);
    expect(refused(fitlab(['diagnose', runDir, '--write']))).toContain(`fitlab: error: ${file}: line 2 is not a weight record {epoch, distance, layers: [{name, …}]}`);
  });

  it('NaN, Infinity and null in a loss are data: diagnosed as diverged, exit 0', () => {
    const p = write('nan.json', '{"loss": [2.3, 1.5, NaN, null], "val_loss": [2.4, 1.6, Infinity, null]}');
    const r = fitlab(['diagnose', p, ...TEN]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Diagnosis: DIVERGED');
    expect(r.stdout).toContain('the training loss is NaN at epoch 3');
  });
});

describe('an exploding loss is diverged, and the advice is to lower the learning rate', () => {
  it('a history at 7e20 from the first epoch (what --lr 1e10 logs), still falling', () => {
    const loss = Array.from({ length: 8 }, (_, i) => 7e20 * 0.9 ** i);
    const p = write('exploded.json', keras({ loss, val_loss: loss.map((v) => 2 * v), accuracy: loss.map(() => 0.1), val_accuracy: loss.map(() => 0.1) }));
    const r = fitlab(['diagnose', p, ...TEN]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Diagnosis: DIVERGED');
    expect(r.stdout).toContain('the training loss exploded to 7.00e+20 at epoch 1, far above ln(10) = 2.30, the loss of a chance guess');
    expect(r.stdout).toMatch(/1\. lower the learning rate/);
    expect(r.stdout).not.toMatch(/raise the learning rate|NOT CONVERGED/);
  });

  it('a real `fitlab train --lr 1e10` run is diagnosed as diverged, at the end of training and by `fitlab diagnose`', () => {
    const out = join(tmp, 'runs');
    // a softmax regression: its loss stays finite (about 6e9 from epoch 1), so only its scale says "diverged"
    const spec = write('softmax.json', JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] }));
    const r = fitlab(['train', '--model', spec, '--dataset', 'spirals', '--optimizer', 'sgd', '--lr', '1e10', '--epochs', '3', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { runDir } = JSON.parse(r.stdout) as { runDir: string };
    const d = fitlab(['diagnose', runDir, '--json']);
    const diagnosis = JSON.parse(d.stdout) as { regime: string; advice: { action: string }[]; final: { loss: number } };
    expect(Number.isFinite(diagnosis.final.loss)).toBe(true);
    expect(diagnosis.final.loss).toBeGreaterThan(1e6);
    expect(diagnosis.regime).toBe('diverged');
    expect(diagnosis.advice[0].action).toBe('lower the learning rate (try 1.0e+9)');
  });
});

describe('stack depth: deep specs are refused, long histories are diagnosed and charted', () => {
  it('a model spec 200,000 levels deep: one line naming the bound, for train and summary', () => {
    const spec = write('deep.json', `{"input": [2], "layers": [{"type": "dense", "units": ${'['.repeat(200_000)}${']'.repeat(200_000)}}]}`);
    expect(refused(fitlab(['summary', '--model', spec]))).toContain(`fitlab: error: --model ${spec}: model spec nests deeper than 64 levels`);
    expect(refused(fitlab(['train', '--model', spec, '--dataset', 'spirals', '--out', join(tmp, 'never')]))).toContain('model spec nests deeper than 64 levels');
    const history = write('deep-history.json', `{"loss": ${'['.repeat(200_000)}1${']'.repeat(200_000)}}`);
    expect(refused(fitlab(['diagnose', history]))).toContain(`${history}: the JSON nests deeper than 64 levels`);
  });

  it('names every plain object inherits are no preset and no layer type ("constructor", "toString")', () => {
    expect(refused(fitlab(['summary', '--model', 'constructor']))).toContain('fitlab: error: --model "constructor" is neither a preset nor an existing file');
    const spec = write('proto.json', JSON.stringify({ input: [2], layers: [{ type: 'toString' }] }));
    expect(refused(fitlab(['summary', '--model', spec]))).toMatch(/fitlab: error: --model .*proto\.json: layer 0 \(toString\): type must be one of dense, /);
  });

  it('a 200,000-epoch history (Keras JSON and CSV) is diagnosed; --write draws it from a bounded number of points', () => {
    const n = 200_000;
    const loss = Array.from({ length: n }, (_, i) => 0.1 + 2 * Math.exp(-i / 30_000));
    const val = loss.map((v, i) => v + 0.1 + (i > 150_000 ? (i - 150_000) / 50_000 : 0));
    const json = write('long.json', keras({ loss, val_loss: val }));
    const r = fitlab(['diagnose', json, '--classes', '10'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('(200000 epochs)');
    expect(r.stdout).toMatch(/Diagnosis: (PARTIAL )?OVERFITTING/);
    const csv = write('long.csv', `epoch,loss,val_loss\n${loss.map((v, i) => `${i},${v},${val[i]}`).join('\n')}\n`);
    const out = join(tmp, 'long-report');
    const w = fitlab(['diagnose', csv, '--write', '--out', out, '--no-chart'], { timeoutMs: 120_000 });
    expect(w.status, w.stderr).toBe(0);
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    // each drawn line is a min/max envelope of ~600 buckets, at most 4 points a bucket per series
    const points = (svg.match(/[ML]\d/g) ?? []).length;
    expect(points).toBeGreaterThan(600);
    expect(points).toBeLessThan(2 * 4 * 600 + 20);
    expect(readFileSync(join(out, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('resources: an estimate and the limit before allocating, not an internal error', () => {
  const GIANT = { input: [784], layers: [{ type: 'dense', units: 100_000_000 }, { type: 'dense', units: 10, activation: 'softmax' }] };

  it('"units": 100000000: the estimate, its parts and the limit (half the memory by default)', () => {
    const spec = write('giant.json', JSON.stringify(GIANT));
    // parameters 784·1e8 + 1e8 + 1e9 + 10 = 79,500,000,010 floats → 318 GB; gradients the same, Adam's two slots twice that
    const err = refused(fitlab(['summary', '--model', spec]));
    expect(err).toContain('fitlab: error: model needs about 1.3 TB for batch size 1 (parameters 318 GB, gradients 318 GB, optimizer slots 636 GB, activations 1.6 GB); the limit is');
    expect(err).toContain('(half this machine\'s memory; set FITLAB_MEMORY_LIMIT to change it)');
    // through train, for spirals' 2 inputs and 2 classes: 1e8 units cost 5e8 parameters and 4e8 activation values an example
    const wide = write('wide.json', JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 100_000_000 }, { type: 'dense', units: 2, activation: 'softmax' }] }));
    expect(refused(fitlab(['train', '--model', wide, '--dataset', 'spirals', '--out', join(tmp, 'never')], { env: { FITLAB_MEMORY_LIMIT: '8GB' } })))
      .toContain('fitlab: error: model needs about 59 GB for batch size 32 (parameters 2.0 GB, gradients 2.0 GB, optimizer slots 4.0 GB, activations 51 GB); the limit is 8.0 GB (set by FITLAB_MEMORY_LIMIT)');
  });

  it('an input of 100000×100000×3', () => {
    const spec = write('huge-input.json', JSON.stringify({ input: [100_000, 100_000, 3], layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] }));
    expect(refused(fitlab(['summary', '--model', spec]))).toMatch(/fitlab: error: model needs about 5\.5 TB for batch size 1 \(parameters 1\.2 TB, gradients 1\.2 TB, optimizer slots 2\.4 TB, activations 720 GB\); the limit is /);
  });

  it('one buffer over the 32-bit limit is refused by the same estimate even when the memory limit allows it', () => {
    const spec = write('giant2.json', JSON.stringify(GIANT));
    const err = refused(fitlab(['summary', '--model', spec], { env: { FITLAB_MEMORY_LIMIT: '100TB' } }));
    expect(err).toContain('fitlab: error: weight dense [784, 100000000] needs 78,400,000,000 values in one buffer; at most 2,147,483,647 fit');
  });

  it('--batch-size 99999999999 is an ArgumentError; one the kernels take but memory cannot hold is the estimate', () => {
    const out = join(tmp, 'never');
    expect(refused(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--batch-size', '99999999999', '--out', out])))
      .toContain('fitlab: error: batch size must be at most 2,147,483,647; received 99999999999');
    expect(refused(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--batch-size', '2000000000', '--out', out], { env: { FITLAB_MEMORY_LIMIT: '1GB' } })))
      .toMatch(/fitlab: error: model needs about \d+(\.\d)? [TG]B for batch size 2000000000 \(.*activations .*\); the limit is 1\.0 GB \(set by FITLAB_MEMORY_LIMIT\)/);
    const parser = fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--batch-size', '1e400', '--out', out]);
    expect(parser.status).not.toBe(0); // a usage error (commander's exit code 2)
    expect(parser.stderr).toContain('--batch-size must be an integer ≥ 1; received "1e400"');
    expect(parser.stderr).not.toMatch(STACK_FRAME);
  });

  it('evaluate and predict of a saved run get the same estimate (the model is rebuilt for their batch size)', () => {
    const spec = write('tiny-eval.json', JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] }));
    const t = fitlab(['train', '--model', spec, '--dataset', 'spirals', '--epochs', '1', '--out', join(tmp, 'eval-runs'), '--json']);
    expect(t.status, t.stderr).toBe(0);
    const { runDir } = JSON.parse(t.stdout) as { runDir: string };
    // 6 weights (24 bytes); activations per example 2 + 3·2 + 2 = 10 values, × 256 × 4 bytes = 10 kB
    const expected = 'fitlab: error: model needs about 10 kB for batch size 256 (parameters 24 bytes, gradients 24 bytes, optimizer slots 48 bytes, activations 10 kB); the limit is 1.0 kB (set by FITLAB_MEMORY_LIMIT)';
    for (const command of ['evaluate', 'predict']) {
      expect(refused(fitlab([command, runDir, '--dataset', 'spirals'], { env: { FITLAB_MEMORY_LIMIT: '1kB' } }))).toContain(expected);
    }
  });

  it('a FITLAB_MEMORY_LIMIT that is not a size is named', () => {
    const spec = write('small.json', JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] }));
    expect(refused(fitlab(['summary', '--model', spec], { env: { FITLAB_MEMORY_LIMIT: 'lots' } })))
      .toContain('fitlab: error: FITLAB_MEMORY_LIMIT must be a size such as 8GB, 512MB or 2000000000; received "lots"');
  });
});

describe('the memory estimate against hand arithmetic', () => {
  it('Dense(784 → 100) → Dense(10), batch 32', () => {
    const model = modelFromSpec({ input: [784], layers: [{ type: 'dense', units: 100, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    const e = estimateMemory(model, 32);
    const params = 784 * 100 + 100 + 100 * 10 + 10; // 79,510
    expect(e.parameterBytes).toBe(4 * params);
    expect(e.gradientBytes).toBe(4 * params);
    expect(e.optimizerBytes).toBe(8 * params);
    // per example: the input 784; dense 3·100 + 784; dense 3·10 + 100
    expect(e.activationBytes).toBe(4 * 32 * (784 + 3 * 100 + 784 + 3 * 10 + 100));
    expect(e.largest).toEqual({ what: 'weight dense [784, 100]', length: 78_400 });
    expect(estimateMemory(model, 32, 0).optimizerBytes).toBe(0);
  });

  it('sizes read and written the way the messages say', () => {
    expect(formatBytes(1.25e12)).toBe('1.3 TB');
    expect(formatBytes(400e6)).toBe('400 MB');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(parseMemorySize('12GB')).toBe(12e9);
    expect(parseMemorySize('2 GiB')).toBe(2 * 1024 ** 3);
    expect(parseMemorySize('1500000')).toBe(1.5e6);
    expect(parseMemorySize('-1GB')).toBeNull();
    expect(parseMemorySize('12 parsecs')).toBeNull();
    expect(MAX_ARRAY_LENGTH).toBe(2 ** 31 - 1);
  });

  it('every path that builds a model is checked: Model.build and a live batch-size change (the dashboard knob)', () => {
    const backend = getBackend();
    const giant = modelFromSpec({ input: [784], layers: [{ type: 'dense', units: 100_000_000 }] });
    expect(() => giant.build({ batchSize: 1, backend })).toThrow(FitlabError);
    const model = modelFromSpec({ input: [4], layers: [{ type: 'dense', units: 3, activation: 'softmax' }] }).build({ batchSize: 8, backend });
    const trainer = new Trainer(model, new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false }), createOptimizer('sgd'), 8);
    expect(() => trainer.setBatchSize(2 ** 31)).toThrow(ArgumentError);
    expect(() => trainer.setBatchSize(2 ** 31)).toThrow('batch size must be at most 2,147,483,647; received 2147483648');
    trainer.setBatchSize(16); // a sane change is still accepted
  });
});
