/**
 * Training logs in every format people have (issue 15), crafted here where the real corpus has no
 * example (fastai, TF.js, an all-zero epoch column): the format comes from the content whatever
 * the file is called, column names are matched loosely and reported, percent accuracies are read
 * as percent, Lightning's step rows are merged, appended runs become segments, and an unknown
 * layout is an error that lists the columns found and the names accepted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedHistory, type ReadOptions, loadHistory } from '../../src/diagnose/read.js';
import { ArgumentError, FitlabError } from '../../src/errors.js';
import type { EpochLog } from '../../src/train/history.js';
import { STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-formats-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let count = 0;
function write(name: string, text: string): string {
  const dir = join(tmp, String(count++));
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const load = (name: string, text: string, opts?: ReadOptions, classes?: number): LoadedHistory => loadHistory(write(name, text), classes, opts);
const col = (h: EpochLog[], k: string): (number | undefined)[] => h.map((e) => e[k]);

function errorOf(fn: () => unknown): FitlabError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FitlabError);
    return err as FitlabError;
  }
  throw new Error('expected a FitlabError; nothing was thrown');
}

const KERAS_CSV = 'epoch,acc,loss,lr,val_acc,val_loss\n0,0.5,1.2,0.001,0.45,1.3\n1,0.7,0.8,0.001,0.6,1.0\n2,0.8,0.6,0.0005,0.65,0.95\n';

describe('the format comes from the content, not the extension', () => {
  it.each([['training.log'], ['history'], ['log.txt'], ['log.csv']])('a Keras CSVLogger file named %s', (name) => {
    const l = load(name, KERAS_CSV);
    expect(l.kind).toBe('keras-csv');
    expect(l.columns).toEqual({ loss: 'loss', val_loss: 'val_loss', accuracy: 'acc', val_accuracy: 'val_acc', learning_rate: 'lr' });
    expect(col(l.history, 'loss')).toEqual([1.2, 0.8, 0.6]);
    expect(col(l.history, 'val_accuracy')).toEqual([0.45, 0.6, 0.65]);
    expect(col(l.history, 'learning_rate')).toEqual([0.001, 0.001, 0.0005]);
    expect(col(l.history, 'epoch')).toEqual([0, 1, 2]);
  });

  it('tab- and semicolon-separated, CRLF, a quoted header, no final newline', () => {
    const tsv = load('log.tsv', 'epoch\tloss\tval_loss\r\n0\t1.5\t1.6\r\n1\t1.25\t1.5');
    const semi = load('log', '"epoch";"Train Loss";"Validation Loss"\n0;1.5;1.6\n1;1.25;1.5\n');
    for (const l of [tsv, semi]) {
      expect(col(l.history, 'loss')).toEqual([1.5, 1.25]);
      expect(col(l.history, 'val_loss')).toEqual([1.6, 1.5]);
    }
    expect(semi.columns).toEqual({ loss: 'Train Loss', val_loss: 'Validation Loss' });
  });

  it('a CSV saved by Excel (UTF-8 byte-order mark) and a JSON with one', () => {
    expect(load('log.csv', '\uFEFFepoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n').columns).toEqual({ loss: 'loss', val_loss: 'val_loss' });
    expect(col(load('h.json', '\uFEFF{"loss": [1.0, 0.8]}').history, 'loss')).toEqual([1.0, 0.8]);
  });

  it('a Keras history JSON saved as .txt, and fitlab-style JSON lines saved without extension', () => {
    const json = load('history.txt', '{"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}');
    expect(json.kind).toBe('keras-json');
    expect(col(json.history, 'val_loss')).toEqual([1.1, 0.7]);
    const lines = load('metrics', '{"epoch": 1, "train_loss": 1.0, "valid_loss": 1.1}\n{"epoch": 2, "train_loss": 0.5, "valid_loss": 0.7}\n');
    expect(lines.kind).toBe('jsonl');
    expect(lines.columns).toEqual({ loss: 'train_loss', val_loss: 'valid_loss' });
    expect(col(lines.history, 'loss')).toEqual([1.0, 0.5]);
  });

  it('a JSON list of records and a pandas DataFrame.to_json() dict of dicts', () => {
    const records = load('h.json', '[{"loss": 1.0, "val_loss": 1.2}, {"loss": 0.6, "val_loss": 0.9}]');
    const pandas = load('h.json', '{"loss": {"0": 1.0, "1": 0.6}, "val_loss": {"0": 1.2, "1": 0.9}}');
    for (const l of [records, pandas]) {
      expect(col(l.history, 'loss')).toEqual([1.0, 0.6]);
      expect(col(l.history, 'val_loss')).toEqual([1.2, 0.9]);
    }
  });

  it('a TF.js model.fit History: {epoch: [...], history: {loss, acc, val_loss, val_acc}}', () => {
    const tfjs = JSON.stringify({ validationData: null, params: { epochs: 3, samples: 100 }, epoch: [0, 1, 2], history: { loss: [1.1, 0.7, 0.5], acc: [0.4, 0.7, 0.8], val_loss: [1.2, 0.9, 0.8], val_acc: [0.35, 0.6, 0.7] } });
    const l = load('history.json', tfjs);
    expect(l.kind).toBe('tfjs-json');
    expect(l.columns).toEqual({ loss: 'loss', val_loss: 'val_loss', accuracy: 'acc', val_accuracy: 'val_acc' });
    expect(l.epochColumn).toBe('epoch');
    expect(col(l.history, 'accuracy')).toEqual([0.4, 0.7, 0.8]);
    expect(col(l.history, 'val_accuracy')).toEqual([0.35, 0.6, 0.7]);
  });
});

describe('column names: what libraries and people write', () => {
  it.each([
    ['Keras', 'loss,val_loss,accuracy,val_accuracy', ['loss', 'val_loss', 'accuracy', 'val_accuracy']],
    ['old Keras', 'loss,val_loss,acc,val_acc', ['loss', 'val_loss', 'acc', 'val_acc']],
    ['categorical', 'loss,val_loss,categorical_accuracy,val_categorical_accuracy', ['loss', 'val_loss', 'categorical_accuracy', 'val_categorical_accuracy']],
    ['sparse categorical', 'loss,val_loss,sparse_categorical_accuracy,val_sparse_categorical_accuracy', ['loss', 'val_loss', 'sparse_categorical_accuracy', 'val_sparse_categorical_accuracy']],
    ['binary', 'loss,val_loss,binary_accuracy,val_binary_accuracy', ['loss', 'val_loss', 'binary_accuracy', 'val_binary_accuracy']],
    ['hand-made', 'train_loss,valid_loss,train_acc,valid_acc', ['train_loss', 'valid_loss', 'train_acc', 'valid_acc']],
    ['spelled out', 'training_loss,validation_loss,training_accuracy,validation_accuracy', ['training_loss', 'validation_loss', 'training_accuracy', 'validation_accuracy']],
    ['capitalized with spaces', 'Train Loss,Validation Loss,Train Accuracy,Validation Accuracy', ['Train Loss', 'Validation Loss', 'Train Accuracy', 'Validation Accuracy']],
    ['dashes and upper case', 'TRAIN-LOSS,VAL-LOSS,TRAIN-ACC,VAL-ACC', ['TRAIN-LOSS', 'VAL-LOSS', 'TRAIN-ACC', 'VAL-ACC']],
    ['Keras multi-output (accuracy named after the output)', 'loss,out_caps_acc,out_caps_loss,val_loss,val_out_caps_acc', ['loss', 'val_loss', 'out_caps_acc', 'val_out_caps_acc']],
  ])('%s: %s', (_what, header, [loss, valLoss, acc, valAcc]) => {
    const n = header.split(',').length;
    const rows = [Array(n).fill('0.5').join(','), Array(n).fill('0.25').join(',')];
    const l = load('log.csv', `${header}\n${rows.join('\n')}\n`);
    expect(l.columns).toEqual({ loss, val_loss: valLoss, accuracy: acc, val_accuracy: valAcc });
    expect(col(l.history, 'val_accuracy')).toEqual([0.5, 0.25]);
  });

  it('learning_rate and lr; extra metrics (f1, precision, recall, auc, time) are kept under their names, never read as accuracy', () => {
    const l = load('log.csv', 'epoch,loss,f1,precision,recall,auc,val_loss,val_f1,learning_rate,time\n0,1.0,1.09,0.9,0.8,0.93,1.1,1.04,0.01,12.5\n1,0.8,1.05,0.92,0.85,0.95,0.9,1.01,0.01,12.1\n');
    expect(l.columns).toEqual({ loss: 'loss', val_loss: 'val_loss', learning_rate: 'learning_rate' });
    expect(col(l.history, 'accuracy')).toEqual([undefined, undefined]);
    expect(col(l.history, 'f1')).toEqual([1.09, 1.05]); // a broken F1 above 1 is not refused: it is not an accuracy
    expect(col(l.history, 'val_f1')).toEqual([1.04, 1.01]);
    expect(col(l.history, 'seconds')).toEqual([12.5, 12.1]);
  });

  it('a pandas index column (empty header or "Unnamed: 0") is not read', () => {
    for (const first of ['', 'Unnamed: 0']) {
      const l = load('history.csv', `${first},loss,accuracy,val_loss,val_accuracy\n0,1.0,0.5,1.1,0.4\n1,0.7,0.7,0.9,0.6\n`);
      expect(l.columns).toEqual({ loss: 'loss', val_loss: 'val_loss', accuracy: 'accuracy', val_accuracy: 'val_accuracy' });
      expect(l.ignored).toEqual([first || '(unnamed index)']);
      expect(l.history).toHaveLength(2);
    }
  });

  it('test_loss/test_acc are the held-out curve only when no validation is logged, and the output says so', () => {
    const l = load('log.csv', 'epoch,train_loss,test_loss,train_acc,test_acc\n0,1.0,1.1,0.5,0.45\n1,0.7,0.9,0.7,0.6\n');
    expect(l.columns).toEqual({ loss: 'train_loss', val_loss: 'test_loss', accuracy: 'train_acc', val_accuracy: 'test_acc' });
    expect(l.notes.join('\n')).toContain('no validation column: the per-epoch test column "test_loss" is read as val_loss');
    const both = load('log.csv', 'epoch,loss,val_loss,test_loss\n0,1.0,1.1,1.2\n1,0.7,0.9,0.95\n');
    expect(both.columns).toEqual({ loss: 'loss', val_loss: 'val_loss' });
    expect(col(both.history, 'test_loss')).toEqual([1.2, 0.95]);
  });
});

describe('percent accuracies', () => {
  it('a column in [0, 100] with most values above 1 is percent: divided by 100, and said so', () => {
    const l = load('log.csv', 'train_loss,train_acc,val_loss,val_acc\n1.7,52.5,1.8,64.0\n1.5,61.0,1.7,68.5\n1.4,64.25,1.7,100\n');
    expect(col(l.history, 'accuracy')).toEqual([0.525, 0.61, 0.6425]);
    expect(col(l.history, 'val_accuracy')).toEqual([0.64, 0.685, 1]);
    expect(l.notes).toContain('"train_acc" is in percent (values up to 64.25): read as accuracy ÷ 100');
  });

  it('a lone value above 1 among fractions is an error naming the cell, the value and the range', () => {
    const err = errorOf(() => load('h.json', '{"loss": [2.3, 1.5, 1.1, 0.9, 0.8], "accuracy": [0.2, 0.4, 4.0, 0.6, 0.7]}'));
    expect(err.message).toMatch(/h\.json: "accuracy"\[2\] \(epoch 3\): accuracy is 4; an accuracy must be in \[0, 1\]$/);
    expect(err.hint).toContain('the rest of the column is fractions, so 4 cannot be a percentage');
    expect(errorOf(() => load('h.csv', 'loss,acc\n1,0.5\n0.5,-0.25\n')).message).toMatch(/line 3, column "acc": accuracy is -0.25/);
  });
});

describe('epoch columns: all zero, restarting (runs appended to one log), 1-based', () => {
  it('an epoch column that is 0 in every row: the rows are read in order', () => {
    const l = load('training.log', 'epoch,loss,val_loss\n0,1.0,1.1\n0,0.8,0.9\n0,0.6,0.8\n');
    expect(col(l.history, 'loss')).toEqual([1.0, 0.8, 0.6]);
    expect(col(l.history, 'epoch')).toEqual([0, 1, 2]);
    expect(l.segments.lengths).toEqual([3]);
    expect(l.notes).toContain('the epoch column "epoch" is 0 in every row: the rows are read in order');
  });

  const APPENDED = 'epoch,loss,val_loss\n0,2.0,2.1\n1,1.5,1.7\n2,1.2,1.5\n0,1.9,2.0\n1,1.4,1.6\n2,1.0,1.3\n3,0.8,1.2\n';
  it('an epoch column that restarts: segments, the last diagnosed by default, --segment picks another', () => {
    const last = load('training.log', APPENDED);
    expect(last.segments).toEqual({ lengths: [3, 4], diagnosed: 2 });
    expect(col(last.history, 'loss')).toEqual([1.9, 1.4, 1.0, 0.8]);
    expect(col(last.history, 'epoch')).toEqual([0, 1, 2, 3]);
    expect(last.notes).toContain('the epoch column restarts: 2 runs appended (3 + 4 epochs); diagnosing segment 2 of 2 (--segment N picks another)');
    const first = load('training.log', APPENDED, { segment: 1 });
    expect(col(first.history, 'loss')).toEqual([2.0, 1.5, 1.2]);
  });

  it('--segment out of range is an error saying how many there are', () => {
    const err = errorOf(() => load('training.log', APPENDED, { segment: 3 }));
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err.message).toBe('--segment 3: the log holds 2 segments (3 + 4 epochs); pick 1 to 2');
  });

  it('epochs counted from 1 are one segment and start at epoch 1 of the output', () => {
    const l = load('log.csv', 'epoch,train_loss,val_loss\n1,1.0,1.1\n2,0.8,0.9\n3,0.7,0.85\n');
    expect(l.segments.lengths).toEqual([3]);
    expect(col(l.history, 'epoch')).toEqual([0, 1, 2]);
    expect(l.notes).toEqual([]);
  });

  it('a resumed run whose epoch column starts at 20: the output counts its rows, and says so', () => {
    const l = load('training.log', 'epoch,loss,val_loss\n20,1.0,1.1\n21,0.8,0.9\n');
    expect(col(l.history, 'epoch')).toEqual([0, 1]);
    expect(l.notes).toEqual(['the epoch column "epoch" starts at 20: "epoch 1" below is its first row']);
  });
});

describe('library layouts', () => {
  it('PyTorch Lightning CSVLogger: step rows and epoch rows merged by epoch, _step columns ignored, a trailing validate() row dropped', () => {
    const csv = [
      'epoch,step,train_acc,train_loss_epoch,train_loss_step,val_acc,val_loss',
      '0,49,,,2.5,,',
      '0,99,,,1.5,,',
      '0,99,,,,0.6,1.2',
      '0,99,0.55,1.8,,,',
      '1,149,,,1.1,,',
      '1,199,,,0.9,,',
      '1,199,,,,0.7,0.95',
      '1,199,0.72,1.0,,,',
      '2,199,,,,0.71,0.94',
    ].join('\n');
    const l = load('metrics.csv', `${csv}\n`);
    expect(l.kind).toBe('lightning-csv');
    expect(l.columns).toEqual({ loss: 'train_loss_epoch', val_loss: 'val_loss', accuracy: 'train_acc', val_accuracy: 'val_acc' });
    expect(l.ignored).toEqual(['step', 'train_loss_step']);
    expect(col(l.history, 'loss')).toEqual([1.8, 1.0]);
    expect(col(l.history, 'val_loss')).toEqual([1.2, 0.95]);
    expect(col(l.history, 'accuracy')).toEqual([0.55, 0.72]);
    expect(l.notes).toContain('1 trailing row(s) without a training loss (a validate() or test() call after training): not read');
  });

  it('Lightning with a per-step train_loss only: the epoch\'s steps are averaged', () => {
    const l = load('metrics.csv', 'epoch,step,train_loss,val_loss\n0,1,2.0,\n0,2,1.0,\n0,2,,1.4\n1,3,0.75,\n1,4,0.25,\n1,4,,1.0\n');
    expect(col(l.history, 'loss')).toEqual([1.5, 0.5]);
    expect(col(l.history, 'val_loss')).toEqual([1.4, 1.0]);
  });

  it('fastai CSVLogger: the metric is the validation accuracy, time (mm:ss) is seconds, #na# is missing', () => {
    const l = load('history.csv', 'epoch,train_loss,valid_loss,accuracy,time\n0,1.2,0.9,0.7,00:12\n1,0.8,0.7,0.8,01:05\n2,0.6,#na#,0.82,00:11\n');
    expect(l.kind).toBe('fastai-csv');
    expect(l.columns).toEqual({ loss: 'train_loss', val_loss: 'valid_loss', val_accuracy: 'accuracy' });
    expect(col(l.history, 'val_accuracy')).toEqual([0.7, 0.8, 0.82]);
    expect(col(l.history, 'seconds')).toEqual([12, 65, 11]);
    expect(col(l.history, 'val_loss')).toEqual([0.9, 0.7, Number.NaN]);
  });

  it('fastai with error_rate: validation accuracy = 1 − error', () => {
    const l = load('history.csv', 'epoch,train_loss,valid_loss,error_rate,time\n0,1.2,0.9,0.25,00:12\n1,0.8,0.7,0.125,00:11\n');
    expect(l.columns).toEqual({ loss: 'train_loss', val_loss: 'valid_loss', val_accuracy: 'error_rate' });
    expect(col(l.history, 'val_accuracy')).toEqual([0.75, 0.875]);
    expect(l.notes).toContain('"error_rate" is an error rate: val_accuracy = 1 − error');
    const bad = errorOf(() => load('history.csv', 'epoch,train_loss,valid_loss,error_rate,time\n0,1.2,0.9,0.25,00:12\n1,0.8,0.7,4,00:11\n2,0.7,0.6,0.1,00:11\n'));
    expect(bad.message).toMatch(/line 3, column "error_rate": an error rate is 4; an accuracy must be in \[0, 1\]$/);
  });

  const HF = (logHistory: object[]): string => JSON.stringify({ epoch: 2, global_step: 40, log_history: logHistory }, null, 2);
  it('Hugging Face trainer_state.json: one point per evaluation, training loss averaged since the previous one, the summary entry skipped', () => {
    const l = load('trainer_state.json', HF([
      { epoch: 0.5, step: 10, loss: 1.0, learning_rate: 2e-5 },
      { epoch: 1.0, step: 20, loss: 0.8, learning_rate: 1.5e-5 },
      { epoch: 1.0, step: 20, eval_loss: 0.85, eval_accuracy: 0.7, eval_runtime: 3.2 },
      { epoch: 1.5, step: 30, loss: 0.6, learning_rate: 1e-5 },
      { epoch: 2.0, step: 40, loss: 0.4, learning_rate: 5e-6 },
      { epoch: 2.0, step: 40, eval_loss: 0.8, eval_accuracy: 0.75, eval_runtime: 3.1 },
      { epoch: 2.0, step: 40, train_loss: 0.7, train_runtime: 100, total_flos: 1e15 },
    ]));
    expect(l.kind).toBe('hf-trainer-state');
    expect(l.columns).toEqual({ loss: 'loss', val_loss: 'eval_loss', val_accuracy: 'eval_accuracy', learning_rate: 'learning_rate' });
    expect(col(l.history, 'loss')).toEqual([0.9, 0.5]);
    expect(col(l.history, 'val_loss')).toEqual([0.85, 0.8]);
    expect(col(l.history, 'val_accuracy')).toEqual([0.7, 0.75]);
    expect(col(l.history, 'trainer_epoch')).toEqual([1, 2]);
    expect(l.notes).toContain('the end-of-training summary entry (train_loss, train_runtime) is not an epoch: skipped');
  });

  it('Hugging Face without evaluation: fractional epochs grouped into whole epochs', () => {
    const l = load('trainer_state.json', HF([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0].map((epoch, i) => ({ epoch, step: 5 * (i + 1), loss: 1 - i / 8 }))));
    expect(col(l.history, 'loss')).toEqual([(1 + 0.875 + 0.75 + 0.625) / 4, (0.5 + 0.375 + 0.25 + 0.125) / 4]);
    expect(l.columns).toEqual({ loss: 'loss' });
  });

  it('a nested {epochs: [...], metrics: {...}} dump with bare NaN', () => {
    const l = load('history.json', '{"epochs": [0.0, 1.0, 2.0], "metrics": {"loss": [1.0, 0.5, NaN], "val_loss": [1.1, 0.6, NaN]}}');
    expect(l.epochColumn).toBe('epoch');
    expect(col(l.history, 'loss')).toEqual([1.0, 0.5, Number.NaN]);
  });
});

describe('losses that are not cross-entropies', () => {
  it('a negative loss is data in a log without accuracies or a class count (a custom loss), an error for a classifier', () => {
    const text = '{"loss": [-3.8e6, -3.9e6], "val_loss": [-4.1e6, -4.1e6]}';
    expect(col(load('h.json', text).history, 'loss')).toEqual([-3.8e6, -3.9e6]);
    expect(errorOf(() => load('h.json', text, {}, 10)).message).toMatch(/"loss"\[0\] \(epoch 1\): loss is -3800000; a cross-entropy loss is never negative/);
  });
});

describe('unknown layouts and columns named by hand', () => {
  it('no loss column: the error lists the columns found and the names accepted', () => {
    const err = errorOf(() => load('log.csv', 'epoch,cost,dev_cost\n0,1.0,1.1\n1,0.8,0.9\n'));
    expect(err.message).toMatch(/log\.csv: the CSV header has no "loss" column \(columns: epoch, cost, dev_cost\)$/);
    expect(err.hint).toContain('train_loss');
    expect(err.hint).toContain('valid_loss');
    expect(err.hint).toContain('--loss COL --val-loss COL --acc COL --val-acc COL');
  });

  it('--loss/--val-loss/--acc/--val-acc map the columns; a name not in the file is an error listing them', () => {
    const text = 'epoch,cost,dev_cost,hits,dev_hits\n0,1.0,1.1,0.5,0.45\n1,0.8,0.9,0.6,0.55\n';
    const l = load('log.csv', text, { columns: { loss: 'cost', valLoss: 'dev_cost', acc: 'hits', valAcc: 'DEV HITS' } });
    expect(l.columns).toEqual({ loss: 'cost', val_loss: 'dev_cost', accuracy: 'hits', val_accuracy: 'dev_hits' });
    expect(col(l.history, 'val_accuracy')).toEqual([0.45, 0.55]);
    const err = errorOf(() => load('log.csv', text, { columns: { loss: 'costs' } }));
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err.message).toBe('--loss "costs": no such column (columns: epoch, cost, dev_cost, hits, dev_hits)');
  });

  it('a word in a loss column names the line and column; text in an extra column drops that column', () => {
    expect(errorOf(() => load('log.csv', 'epoch,loss\n0,1.5\n1,abc\n')).message).toMatch(/log\.csv: line 3, column "loss": "abc" is not a number$/);
    const l = load('log.csv', 'epoch,loss,note\n0,1.5,warmup\n1,1.0,ok\n');
    expect(l.ignored).toEqual(['note']);
    expect(col(l.history, 'note')).toEqual([undefined, undefined]);
  });
});

describe('fitlab diagnose on a log from elsewhere (the real CLI)', () => {
  beforeAll(() => ensureBuilt());
  const fastai = (): string => write('history.csv', 'epoch,train_loss,valid_loss,accuracy,time\n0,1.2,0.9,0.7,00:12\n1,0.8,0.7,0.8,00:11\n2,0.6,0.65,0.82,00:11\n3,0.5,0.64,0.83,00:11\n');

  it('the text says which column was read as what; --json carries the columns map', () => {
    const p = fastai();
    const r = fitlab(['diagnose', p, '--no-chart', '--classes', '10']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('read as fastai-csv: loss ← "train_loss", val_loss ← "valid_loss", val_accuracy ← "accuracy"; epochs from "epoch"');
    const j = JSON.parse(fitlab(['diagnose', p, '--json', '--classes', '10']).stdout) as { kind: string; columns: Record<string, string>; readNotes: string[] };
    expect(j.kind).toBe('fastai-csv');
    expect(j.columns).toEqual({ loss: 'train_loss', val_loss: 'valid_loss', val_accuracy: 'accuracy' });
    expect(j.readNotes).toContain('fastai layout: "accuracy" is a validation metric, read as val_accuracy');
  });

  it('--segment picks a run of an appended log; out of range is one error line', () => {
    const p = write('training.log', 'epoch,loss,val_loss\n0,2.0,2.1\n1,1.5,1.7\n2,1.2,1.5\n0,1.9,2.0\n1,1.4,1.6\n2,1.0,1.3\n3,0.8,1.2\n');
    const j = JSON.parse(fitlab(['diagnose', p, '--json', '--segment', '1']).stdout) as { epochs: number; segment: number; segments: number[] };
    expect([j.epochs, j.segment, j.segments]).toEqual([3, 1, [3, 4]]);
    const r = fitlab(['diagnose', p, '--segment', '5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: --segment 5: the log holds 2 segments \(3 \+ 4 epochs\); pick 1 to 2\n$/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('--baseline takes an accuracy in (0, 1) or a percentage; anything else is refused by name', () => {
    const p = fastai();
    const given = fitlab(['diagnose', p, '--baseline', '80%', '--json']);
    expect(given.status, given.stderr).toBe(0);
    // the diagnosis reports the baseline it used: the one given
    expect((JSON.parse(given.stdout) as { baseline: { accuracy: number } | null }).baseline).toMatchObject({ accuracy: 0.8 });
    expect(fitlab(['diagnose', p, '--baseline', '0.8', '--no-chart']).status).toBe(0);
    for (const bad of ['80', '0', '1', 'abc']) {
      const r = fitlab(['diagnose', p, '--baseline', bad]);
      expect(r.status).toBe(2); // a usage error, as for every option commander parses (--classes abc too)
      expect(r.stderr).toContain(`--baseline must be an accuracy in (0, 1) such as 0.8, or a percentage such as 80%; received "${bad}"`);
    }
  });

  it('a real trainer_state.json: the text names its columns and says the points come from log_history', () => {
    const p = join(import.meta.dirname, 'fixtures', 'real', 'hf-trainer-state-finnews-imbalanced.json');
    const r = fitlab(['diagnose', p, '--no-chart']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('read as hf-trainer-state: loss ← "loss", val_loss ← "eval_loss", val_accuracy ← "eval_accuracy", learning_rate ← "learning_rate"; points from log_history');
    expect(r.stdout).toContain('  note: one point per evaluation (10), training loss averaged since the previous one');
  });

  it('--loss and friends name the columns by hand', () => {
    const p = write('log.csv', 'epoch,cost,dev_cost\n0,1.0,1.1\n1,0.8,0.9\n2,0.7,0.85\n');
    const refused = fitlab(['diagnose', p]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('the CSV header has no "loss" column (columns: epoch, cost, dev_cost)');
    const r = fitlab(['diagnose', p, '--loss', 'cost', '--val-loss', 'dev_cost', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { columns: Record<string, string> }).columns).toEqual({ loss: 'cost', val_loss: 'dev_cost' });
  });
});

describe('content over extension, and messages that stay short', () => {
  it('a CSV saved as .json is read as the CSV; an empty .json is invalid JSON', () => {
    expect(col(load('history.json', 'epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n').history, 'val_loss')).toEqual([1.1, 0.9]);
    expect(errorOf(() => load('empty.json', '')).message).toMatch(/empty\.json is not valid JSON/);
  });

  it('a file that is no log (40 long garbage "column names"): one short error, not its whole header', () => {
    const header = Array.from({ length: 40 }, (_, i) => `${'\u00ff\u00fe'.repeat(50)}${i}`).join(',');
    const err = errorOf(() => load('model.bin', `${header}\n${header}\n`));
    expect(err.message).toMatch(/model\.bin: the CSV header has no "loss" column \(columns: .*, … \(10 more\)\)$/);
    expect(err.message.length).toBeLessThan(1400);
  });
});
