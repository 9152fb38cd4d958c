/**
 * The history readers: one 8-epoch run written three ways — a Keras `history.history` dumped by
 * Python's json.dump (bare NaN, Infinity, -Infinity), the CSV Keras' CSVLogger writes for it
 * (nan, inf, -inf), and fitlab's own history.jsonl (null for a non-finite number) — parse to the
 * same numbers and the same diagnosis. The fixtures in fixtures/ were written by Python 3 (json,
 * csv) from float32 values, as Keras produces them. Also: old Keras key spellings, a history
 * wrapped in {"history": …}, fitlab's own CSVLogger output, and malformed input failing with
 * an error that names the file (and the line or list entry at fault).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { fromCsv, fromKerasDict, loadHistory, parsePythonJson } from '../../src/diagnose/read.js';
import { FitlabError } from '../../src/errors.js';
import { CSVLogger } from '../../src/train/callbacks.js';
import type { EpochLog } from '../../src/train/history.js';

const FIX = join(import.meta.dirname, 'fixtures');
const f32 = (x: number): number => Math.fround(x);

// what the fixtures hold (float32 values widened to double, as Keras reports them)
const EXPECTED = {
  loss: [2.1, 1.3, 0.9, 0.6, 0.4, 0.25, 0.15, 0.1].map(f32),
  accuracy: [0.3, 0.55, 0.7, 0.8, 0.88, 0.93, 0.96, 0.98].map(f32),
  val_loss: [1.9, 1.2, 0.95, 0.85, 0.9, 1.0, 1.15, 1.3].map(f32),
  val_accuracy: [0.35, 0.55, 0.66, 0.7, 0.71, 0.7, 0.69, 0.69].map(f32),
  grad_norm: [1.5, Number.NaN, Infinity, -Infinity, 2, 1.25, 1, 0.75],
  learning_rate: new Array<number>(8).fill(f32(0.001)),
};
const KEYS = Object.keys(EXPECTED) as (keyof typeof EXPECTED)[];
const column = (h: EpochLog[], k: string): number[] => h.map((e) => e[k] as number);

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-read-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): FitlabError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FitlabError);
    return err as FitlabError;
  }
  throw new Error('expected a FitlabError; nothing was thrown');
}

describe('one run, three formats, the same numbers', () => {
  const json = loadHistory(join(FIX, 'keras-history.json'), 10);
  const csv = loadHistory(join(FIX, 'keras-log.csv'), 10);
  const jsonl = loadHistory(join(FIX, 'history.jsonl'), 10);

  it('knows what it read', () => {
    expect([json.kind, csv.kind, jsonl.kind]).toEqual(['keras-json', 'keras-csv', 'jsonl']);
    expect(json.context.classes).toBe(10);
    expect(json.runDir).toBeNull();
    for (const l of [json, csv, jsonl]) expect(l.history.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it.each(KEYS)('%s: Keras JSON (bare NaN/Infinity) and Keras CSV (nan/inf) give identical values', (k) => {
    expect(column(json.history, k)).toEqual(EXPECTED[k]);
    expect(column(csv.history, k)).toEqual(EXPECTED[k]);
    // toEqual treats NaN as equal to NaN; the infinities must keep their signs
    expect(column(csv.history, k).map((v) => Object.is(v, -Infinity))).toEqual(EXPECTED[k].map((v) => Object.is(v, -Infinity)));
  });

  it('fitlab\'s history.jsonl gives the same numbers (its null is NaN: JSON cannot hold ±Infinity)', () => {
    for (const k of KEYS) {
      const expected = EXPECTED[k].map((v) => (Number.isFinite(v) ? v : Number.NaN));
      expect(column(jsonl.history, k)).toEqual(expected);
    }
  });

  it('and the same diagnosis: overfitting, best epoch 4 (1-based), the same counterfactuals', () => {
    const ds = [json, csv, jsonl].map((l) => diagnose(l.history, l.context));
    for (const d of ds) {
      expect(d.bestEpoch).toBe(4);
      expect(d.regime).toBe('overfitting');
      expect(d.final.valLoss).toBe(f32(1.3));
      expect(d.gaps.final.accuracy).toBeCloseTo(0.98 - 0.69, 6);
    }
    expect(ds[1]).toEqual(ds[0]);
    expect(ds[2]).toEqual(ds[0]);
    // patience 3: epochs 4, 5, 6 do not improve on 0.85 → stops at 6, keeps 3, 1 epoch saved
    expect(ds[0].counterfactuals[0]).toMatchObject({ patience: 3, stopEpoch: 7, restoreEpoch: 4, epochsSaved: 1, valLoss: f32(0.85) }); // 1-based epochs
  });
});

describe('Python JSON', () => {
  it('bare NaN / Infinity / -Infinity become numbers; the same words inside strings stay text', () => {
    const v = parsePythonJson('{"note": "NaN, Infinity and \\"-Infinity\\"", "xs": [NaN, Infinity, -Infinity, 1e-07, -0.5]}') as { note: string; xs: number[] };
    expect(v.note).toBe('NaN, Infinity and "-Infinity"');
    expect(v.xs).toEqual([Number.NaN, Infinity, -Infinity, 1e-7, -0.5]);
  });

  it('json.dump(..., indent=2) layout, old key spellings (acc, val_acc, lr) and a {"history": …} wrapper', () => {
    const p = write('old-keras.json', '{\n  "history": {\n    "acc": [\n      0.5,\n      0.75\n    ],\n    "loss": [\n      1.0,\n      NaN\n    ],\n    "val_acc": [0.4, 0.6],\n    "val_loss": [1.1, 0.9],\n    "lr": [0.01, 0.01]\n  },\n  "params": {"epochs": 2}\n}\n');
    const h = loadHistory(p).history;
    expect(h).toEqual([
      { epoch: 0, accuracy: 0.5, loss: 1.0, val_accuracy: 0.4, val_loss: 1.1, learning_rate: 0.01, penalty: Number.NaN, seconds: Number.NaN },
      { epoch: 1, accuracy: 0.75, loss: Number.NaN, val_accuracy: 0.6, val_loss: 0.9, learning_rate: 0.01, penalty: Number.NaN, seconds: Number.NaN },
    ]);
  });

  it('null in a list is a missing value; a numeric string is its number', () => {
    const h = fromKerasDict({ loss: [1, null, '0.5', 'nan'] }, 'h.json');
    expect(column(h, 'loss')).toEqual([1, Number.NaN, 0.5, Number.NaN]);
  });
});

describe('CSV', () => {
  it('reads what fitlab\'s own CSVLogger writes (NaN, Infinity, NA for a missing key)', () => {
    let text = '';
    const logger = new CSVLogger((t, reset) => {
      text = reset ? t : text + t;
    });
    logger.onTrainBegin();
    logger.onEpochEnd(0, { epoch: 0, loss: 1.5, accuracy: 0.5, val_loss: Number.NaN, learning_rate: 0.001, penalty: 0, seconds: 1 });
    logger.onEpochEnd(1, { epoch: 1, loss: Infinity, accuracy: 0.25, learning_rate: 0.001, penalty: 0, seconds: 1 });
    logger.onEpochEnd(2, { epoch: 2, loss: -Infinity, accuracy: 0.125, val_loss: 0.75, learning_rate: 0.001, penalty: 0, seconds: 1 });
    expect(text).toContain('Infinity');
    const h = fromCsv(text, 'log.csv');
    expect(column(h, 'loss')).toEqual([1.5, Infinity, -Infinity]);
    expect(column(h, 'val_loss')).toEqual([Number.NaN, Number.NaN, 0.75]);
    expect(column(h, 'accuracy')).toEqual([0.5, 0.25, 0.125]);
  });

  it('semicolon- and tab-separated files, CRLF line ends', () => {
    const semi = fromCsv('epoch;loss;val_loss\r\n0;1.5;1.6\r\n1;1.25;1.5\r\n', 'a.csv');
    const tab = fromCsv('epoch\tloss\tval_loss\n0\t1.5\t1.6\n1\t1.25\t1.5\n', 'b.csv');
    for (const h of [semi, tab]) {
      expect(column(h, 'loss')).toEqual([1.5, 1.25]);
      expect(column(h, 'val_loss')).toEqual([1.6, 1.5]);
    }
  });
});

describe('malformed input: a FitlabError that names the file', () => {
  it.each([
    ['not JSON at all', 'broken.json', '{"loss": [1, 2', /broken\.json is not valid JSON/],
    ['an empty .json', 'empty.json', '', /empty\.json is not valid JSON/],
    ['JSON null', 'null.json', 'null\n', /null\.json: expected a Keras history/],
    ['a JSON list', 'list.json', '[1, 2, 3]', /list\.json: expected a Keras history/],
    ['a dict without loss', 'noloss.json', '{"accuracy": [0.5], "val_accuracy": [0.4]}', /noloss\.json: the history has no "loss" list \(keys: accuracy, val_accuracy\)/],
    ['a word in a list', 'word.json', '{"loss": [1.0, "abc"]}', /word\.json: "loss"\[1\] is "abc", not a number/],
    ['an object in a list', 'obj.json', '{"loss": [1.0, {"x": 1}]}', /obj\.json: "loss"\[1\] is \{"x":1\}, not a number/],
    ['an empty Keras history', 'nolists.json', '{"loss": []}', /nolists\.json holds no epochs/],
    ['a CSV with a header only', 'header.csv', 'epoch,loss\n', /header\.csv: a CSVLogger file needs a header and at least one row/],
    ['a CSV without loss (the columns as the file names them)', 'noloss.csv', 'epoch,acc\n0,0.5\n', /noloss\.csv: the CSV header has no "loss" column \(columns: epoch, acc\)/],
    ['a CSV with a word for a number', 'word.csv', 'epoch,loss\n0,1.5\n1,abc\n', /word\.csv: line 3, column "loss": "abc" is not a number/],
    ['a history.jsonl with a broken line', 'broken.jsonl', '{"epoch":0,"loss":1}\n{"epoch":1,\n', /broken\.jsonl: line 2 is not valid JSON/],
    ['an empty history.jsonl', 'empty.jsonl', '', /empty\.jsonl holds no epochs/],
  ])('%s', (_what, name, text, message) => {
    const p = write(name, text);
    const err = errorOf(() => loadHistory(p));
    expect(err.message).toMatch(message);
    expect(err.message).toContain(p);
  });

  it('a missing path, a directory without history.jsonl, a run directory whose history is empty', () => {
    expect(errorOf(() => loadHistory(join(tmp, 'nope.json'))).message).toBe(`${join(tmp, 'nope.json')} does not exist`);
    const dir = join(tmp, 'not-a-run');
    mkdirSync(dir);
    expect(errorOf(() => loadHistory(dir)).message).toBe(`${dir} has no history.jsonl`);
    const run = join(tmp, 'fresh-run');
    mkdirSync(run);
    writeFileSync(join(run, 'history.jsonl'), '');
    const err = errorOf(() => loadHistory(run));
    expect(err.message).toBe(`${join(run, 'history.jsonl')} holds no epochs`);
    expect(err.hint).toMatch(/not have finished an epoch/);
  });

  it('diagnose() of an empty history is an error, not a "healthy" verdict', () => {
    expect(errorOf(() => diagnose([])).message).toMatch(/no epochs/);
  });
});
