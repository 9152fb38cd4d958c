/**
 * The real training logs of fixtures/real/ (35 files from public repositories, see its README)
 * are all read: the format found from the content, the columns mapped as the hand judgement in
 * judgements.json names them, as many epochs (or evaluation points) as it counts, appended runs
 * split into the segments it counts, and the best epoch found where the judge found it (the
 * lowest validation loss, or the highest validation accuracy without one, counted from 1 within
 * the diagnosed segment; a Hugging Face log's fractional epoch). The expectations below were
 * written from the README and judgements.json, not from fitlab's output.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LoadedHistory, loadHistory } from '../../src/diagnose/read.js';
import { FitlabError } from '../../src/errors.js';
import { RandomStream } from '../../src/tensor/prng.js';
import { mutateText } from '../hostile/mutate.js';

const DIR = join(import.meta.dirname, 'fixtures', 'real');

interface Judgement { file: string; columns: string; rows: string; bestEpoch: number | null }
const JUDGEMENTS = JSON.parse(readFileSync(join(DIR, 'judgements.json'), 'utf8')) as Judgement[];

const KERAS = { loss: 'loss', val_loss: 'val_loss', accuracy: 'accuracy', val_accuracy: 'val_accuracy' };
const OLD_KERAS = { loss: 'loss', val_loss: 'val_loss', accuracy: 'acc', val_accuracy: 'val_acc' };
const HF = { loss: 'loss', val_loss: 'eval_loss', learning_rate: 'learning_rate' };

/** file → [kind, epochs read, segment lengths, columns map, notes the output must carry] */
const EXPECTED: Record<string, [string, number, number[], Record<string, string>, string[]?]> = {
  'keras-csvlogger-irfanet-short.log': ['keras-csv', 3, [3], OLD_KERAS],
  'keras-csvlogger-cat-f1-restarts.log': ['keras-csv', 48, [2, 48], KERAS, ['the epoch column restarts: 2 runs appended (2 + 48 epochs); diagnosing segment 2 of 2 (--segment N picks another)']],
  'keras-csvlogger-car-cnn-100ep.log': ['keras-csv', 100, [100], KERAS],
  'lightning-metrics-eurosat-valonly.csv': ['lightning-csv', 10, [10], { val_loss: 'val_loss' }],
  'lightning-metrics-mnist-noval.csv': ['lightning-csv', 3, [3], { loss: 'train_loss_epoch', accuracy: 'acc_epoch' }],
  'lightning-metrics-cv-steps-valacc.csv': ['lightning-csv', 5, [5], { loss: 'train_loss', val_loss: 'val_loss', val_accuracy: 'val_accuracy' }, ['1 trailing row(s) without a training loss (a validate() or test() call after training): not read']],
  'lightning-metrics-grapevine-huge-valloss.csv': ['lightning-csv', 10, [10], { val_loss: 'val_loss' }],
  'lightning-metrics-asl-f1.csv': ['lightning-csv', 10, [10], { loss: 'train_loss_epoch', val_loss: 'val_loss', accuracy: 'train_acc', val_accuracy: 'val_acc' }],
  'hf-trainer-state-vit-irrigation-f1.json': ['hf-trainer-state', 6, [6], HF, ['the end-of-training summary entry (train_loss, train_runtime) is not an epoch: skipped']],
  'hf-trainer-state-imdb-lora-evalloss-only.json': ['hf-trainer-state', 3, [3], HF],
  'hf-trainer-state-finnews-imbalanced.json': ['hf-trainer-state', 10, [10], { ...HF, val_accuracy: 'eval_accuracy' }],
  'keras-history-covid-3ep.json': ['keras-json', 3, [3], KERAS],
  'keras-history-braintumor-lr.json': ['keras-json', 30, [30], { ...KERAS, learning_rate: 'learning_rate' }],
  'pandas-history-churn-binary.csv': ['keras-csv', 25, [25], OLD_KERAS],
  'keras-csvlogger-voice-id-tiny-val.log': ['keras-csv', 10, [10], OLD_KERAS],
  'keras-csvlogger-braincnn-noval.log': ['keras-csv', 25, [25], { loss: 'loss', accuracy: 'acc' }],
  'pandas-history-hijaiyah-2ep.csv': ['keras-csv', 2, [2], KERAS],
  'regression-history-landmarks-noepoch.csv': ['keras-csv', 20, [20], { loss: 'loss', val_loss: 'val_loss' }],
  'regression-history-mse-penalized.csv': ['keras-csv', 25, [25], { loss: 'loss', val_loss: 'val_loss' }],
  'handmade-pokemon-lenet-train-val.csv': ['keras-csv', 30, [30], { loss: 'train_loss', val_loss: 'val_loss', accuracy: 'train_acc', val_accuracy: 'val_acc' }],
  'keras-epochs1based-fer-50ep.csv': ['keras-csv', 50, [50], KERAS],
  'keras-history-noindex-waste-overfit.csv': ['keras-csv', 15, [15], KERAS],
  'handmade-emotion-percent-acc-noepoch.csv': ['keras-csv', 30, [30], { loss: 'train_loss', val_loss: 'val_loss', accuracy: 'train_acc', val_accuracy: 'val_acc' }, ['"train_acc" is in percent (values up to 87.00228459530027): read as accuracy ÷ 100']],
  'handmade-pneumonia-16img-val-percent.csv': ['keras-csv', 40, [40], { loss: 'train_loss', val_loss: 'val_loss', accuracy: 'train_accuracy', val_accuracy: 'val_accuracy', learning_rate: 'learning_rate' }, ['"val_accuracy" is in percent (values up to 100): read as val_accuracy ÷ 100']],
  'keras-history-pneumonia-auc-prec-recall.csv': ['keras-csv', 10, [10], { ...KERAS, learning_rate: 'learning_rate' }],
  'handmade-fer-capitalized-interleaved.csv': ['csv', 100, [100], { loss: 'Train Loss', val_loss: 'Validation Loss', accuracy: 'Train Accuracy', val_accuracy: 'Validation Accuracy' }],
  'pandas-history-quora-majority-class.csv': ['keras-csv', 88, [88], KERAS],
  'pandas-history-pneumonia-16img-val.csv': ['keras-csv', 10, [10], OLD_KERAS],
  'handmade-sarcasm-valid-4ep-overfit.csv': ['csv', 4, [4], { loss: 'train_loss', val_loss: 'valid_loss', accuracy: 'train_acc', val_accuracy: 'valid_acc' }],
  'keras-csvlogger-capsnet-stuck-acc.csv': ['keras-csv', 8, [8], { loss: 'loss', val_loss: 'val_loss', accuracy: 'out_caps_acc', val_accuracy: 'val_out_caps_acc' }],
  'hf-trainer-state-weibo-noeval-100ep.json': ['hf-trainer-state', 51, [51], { loss: 'loss', learning_rate: 'learning_rate' }, ['the end-of-training summary entry (train_loss, train_runtime) is not an epoch: skipped']],
  'nested-history-ptychopinn-nan.json': ['json', 5, [5], { loss: 'loss', val_loss: 'val_loss', learning_rate: 'learning_rate' }],
  'keras-csvlogger-tomato-earlystop.csv': ['keras-csv', 29, [29], KERAS],
  'keras-csvlogger-braintumor-4runs-appended.csv': ['keras-csv', 5, [5, 4, 10, 5], { ...KERAS, learning_rate: 'learning_rate' }, ['the epoch column restarts: 4 runs appended (5 + 4 + 10 + 5 epochs); diagnosing segment 4 of 4 (--segment N picks another)']],
  'keras-csvlogger-flowers-healthy.csv': ['keras-csv', 30, [30], KERAS],
};

/** The judge's best epoch, found in what was read (see the header). */
function bestEpochOf(l: LoadedHistory): number | null {
  const pickBy = (key: string, better: (a: number, b: number) => boolean): number => {
    let best = -1;
    l.history.forEach((e, i) => {
      const v = e[key];
      if (v !== undefined && Number.isFinite(v) && (best < 0 || better(v, l.history[best][key] as number))) best = i;
    });
    return best;
  };
  let i = pickBy('val_loss', (a, b) => a < b);
  if (i < 0) i = pickBy('val_accuracy', (a, b) => a > b);
  if (i < 0) return null;
  return l.kind === 'hf-trainer-state' ? (l.history[i].trainer_epoch as number) : i + 1;
}

describe('the real corpus: every file is read as its judge read it', () => {
  it('the corpus and this table name the same 35 files', () => {
    const files = readdirSync(DIR).filter((f) => f !== 'README.md' && f !== 'judgements.json').sort();
    expect(files).toHaveLength(35);
    expect(JUDGEMENTS.map((j) => j.file).sort()).toEqual(files);
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });

  it.each(JUDGEMENTS.map((j) => [j.file, j] as const))('%s', (file, judgement) => {
    const [kind, epochs, segments, columns, notes] = EXPECTED[file];
    const l = loadHistory(join(DIR, file));
    expect(l.kind).toBe(kind);
    expect(l.history).toHaveLength(epochs);
    expect(judgement.rows).toMatch(new RegExp(`\\b${epochs}\\b`));
    expect(l.segments.lengths).toEqual(segments);
    expect(l.columns).toEqual(columns);
    // every column read is one the judge listed for the file (the nested dump lists val_* as a group)
    for (const name of Object.values(l.columns)) expect(judgement.columns.includes(name) || (name.startsWith('val_') && judgement.columns.includes('val_*'))).toBe(true);
    for (const note of notes ?? []) expect(l.notes).toContain(note);
    // accuracies arrive as fractions (the percent logs divided by 100)
    const accuracies = l.history.flatMap((e) => [e.accuracy, e.val_accuracy]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    for (const a of accuracies) expect(a >= 0 && a <= 1, `${a}`).toBe(true);
    expect(bestEpochOf(l)).toBe(judgement.bestEpoch);
  });
});

describe('damaged copies of the real logs', () => {
  it('20 seeded damages of each file: a history, or a one-line FitlabError naming the file', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fitlab-corpus-damage-'));
    try {
      const r = new RandomStream(15);
      let read = 0;
      let refused = 0;
      for (const file of Object.keys(EXPECTED)) {
        const text = readFileSync(join(DIR, file), 'latin1');
        for (let k = 0; k < 20; k++) {
          const p = join(tmp, `${k}-${file}`);
          writeFileSync(p, mutateText(text, r), 'latin1');
          try {
            const l = loadHistory(p);
            expect(l.history.length).toBeGreaterThan(0);
            read++;
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(FitlabError);
            expect((err as Error).message).toContain(p);
            expect((err as Error).message.split('\n')).toHaveLength(1);
            refused++;
          }
        }
      }
      // both outcomes happen: the damage is neither always harmless nor always fatal
      expect(read).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(10);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
