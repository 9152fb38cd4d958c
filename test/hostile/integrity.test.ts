/**
 * Integrity of what a run directory holds (issue 14): checksummed checkpoints and weight
 * shards, validated state.json, a data fingerprint checked on resume, and a NaN message that
 * names the checkpoint that really is the last good one — all through the real CLI.
 */
import * as tf from '@tensorflow/tfjs';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/index.js';
import { modelFromTfjs, readTfjs } from '../../src/io/tfjs.js';
import { type CliResult, STACK_FRAME, ensureBuilt, fitlab } from '../cli/cli-helpers.js';

// TF.js greets Node users with a multi-line banner on first use (and other console advice);
// production mode keeps its log/warn helpers silent without changing any computation.
tf.enableProdMode();
let tmp = '';
let base = '';
let copies = 0;

/** The CLI's error output: exactly one `fitlab: error:` line (and maybe a hint), no stack. */
function refusal(r: CliResult): string {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('fitlab: error:'));
  expect(errors, r.stderr).toHaveLength(1);
  return errors[0];
}

/** A tiny MLP (no Flatten: TF.js refuses Flatten on 1-D inputs, and spirals are 1-D). */
const SPEC = { name: 'tiny', input: [2], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] };

function train(args: string[], out = tmp): CliResult {
  return fitlab(['train', '--dataset', 'spirals', '--model', join(tmp, 'tiny.json'), '--threads', '1', '--seed', '5', '--quiet', '--out', out, ...args]);
}

/** A fresh copy of the finished two-epoch base run. */
function copyRun(): string {
  const dir = join(tmp, `copy-${++copies}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

/** Flip the lowest mantissa bit of a few float32 values: the numbers barely move, nothing breaks to parse. */
function flipLowBits(file: string, floats: number[]): void {
  const b = readFileSync(file);
  for (const i of floats) b[4 * i] ^= 1;
  writeFileSync(file, b);
}

/** The one run directory under `out`. */
function onlyRun(out: string): string {
  const runs = readdirSync(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0]);
}

const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const SHARD = 'group1-shard1of1.bin';

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-integrity-'));
  writeFileSync(join(tmp, 'tiny.json'), JSON.stringify(SPEC));
  const out = join(tmp, 'base');
  const r = train(['--epochs', '2'], out);
  expect(r.status, r.stderr).toBe(0);
  base = onlyRun(out);
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('checksums', () => {
  it('a checkpoint whose arrays.bin lost a few low mantissa bits is refused, naming the file and model-best/', () => {
    const run = copyRun();
    flipLowBits(join(run, 'checkpoint', 'arrays.bin'), [3, 40]);
    const line = refusal(fitlab(['train', '--resume', run, '--epochs', '3', '--quiet']));
    expect(line).toContain(join(run, 'checkpoint', 'arrays.bin'));
    expect(line).toMatch(/fails its SHA-256 check/);
    expect(line).toContain(`--model ${join(run, 'model-best')}`);
  }, 60_000);

  it('with model-best/ and model-final/ damaged too, the checkpoint refusal says there is no other copy', () => {
    const run = copyRun();
    flipLowBits(join(run, 'checkpoint', 'arrays.bin'), [7]);
    flipLowBits(join(run, 'model-best', SHARD), [7]);
    flipLowBits(join(run, 'model-final', SHARD), [7]);
    expect(refusal(fitlab(['train', '--resume', run, '--epochs', '3', '--quiet']))).toMatch(/arrays\.bin fails its SHA-256 check.*there is no other copy/);
  }, 60_000);

  it('a damaged model-final shard is refused by evaluate, predict and train --model, offering model-best/', () => {
    const run = copyRun();
    const shard = join(run, 'model-final', SHARD);
    flipLowBits(shard, [0, 9]);
    for (const args of [['evaluate', run], ['predict', run, '--limit', '3'], ['train', '--model', join(run, 'model-final'), '--dataset', 'spirals', '--epochs', '1', '--out', tmp, '--quiet']]) {
      const line = refusal(fitlab(args));
      expect(line, args.join(' ')).toContain(shard);
      expect(line).toMatch(/fails its SHA-256 check.*model-best verifies: use it instead \(--which best/);
    }
    // the offered copy really works
    const best = fitlab(['evaluate', run, '--which', 'best']);
    expect(best.status, best.stderr).toBe(0);
    expect(best.stdout).toMatch(/accuracy/);
  }, 120_000);

  it('a damaged model-best shard offers model-final/, and with both damaged nothing is offered', () => {
    const run = copyRun();
    flipLowBits(join(run, 'model-best', SHARD), [2]);
    expect(refusal(fitlab(['evaluate', run, '--which', 'best']))).toMatch(/model-best.*fails its SHA-256 check.*model-final verifies/);
    flipLowBits(join(run, 'model-final', SHARD), [2]);
    expect(refusal(fitlab(['evaluate', run]))).toMatch(/model-final.*fails its SHA-256 check.*there is no other copy/);
  }, 60_000);

  it('files written before checksums (none recorded) load and resume without a word', () => {
    const run = copyRun();
    for (const dir of ['model-initial', 'model-best', 'model-final']) {
      const file = join(run, dir, 'model.json');
      const { fitlabIntegrity: _drop, ...rest } = json(file);
      writeFileSync(file, JSON.stringify(rest));
    }
    const state = join(run, 'checkpoint', 'state.json');
    const { integrity: _i, ...old } = json(state);
    writeFileSync(state, JSON.stringify(old));
    const cfg = join(run, 'config.json');
    const config = json(cfg) as { dataset: Record<string, unknown> };
    delete config.dataset.fingerprint;
    writeFileSync(cfg, JSON.stringify(config));
    const ev = fitlab(['evaluate', run]);
    expect([ev.status, ev.stderr]).toEqual([0, '']);
    const resumed = fitlab(['train', '--resume', run, '--epochs', '3', '--quiet']);
    expect([resumed.status, resumed.stderr]).toEqual([0, '']);
    // from now on the run is checked: the resume recorded checksums and a fingerprint
    expect(json(state).integrity).toBeTruthy();
    expect((json(cfg) as { dataset: Record<string, unknown> }).dataset.fingerprint).toBeTruthy();
  }, 60_000);

  it('the real @tensorflow/tfjs loads our model.json, checksums and all, and predicts what fitlab predicts', async () => {
    const dir = join(base, 'model-final');
    const modelJson = json(join(dir, 'model.json'));
    expect(modelJson.fitlabIntegrity).toEqual({ sha256: { [SHARD]: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown } });
    // TF.js' own HTTP loader, served from the folder: it reads model.json exactly as a browser would
    const fetchFunc = (input: string | URL | Request): Promise<Response> => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      return Promise.resolve(new Response(readFileSync(join(dir, basename(new URL(url).pathname)))));
    };
    const loaded = await tf.loadLayersModel(tf.io.http('http://fitlab.test/model/model.json', { fetchFunc }));
    const x = Float32Array.from([0.5, -0.25, -1, 0.75, 0.1, 0.1]);
    const theirs = (loaded.predict(tf.tensor2d(x, [3, 2])) as tf.Tensor).dataSync();
    const ours = modelFromTfjs(readTfjs(dir), { batchSize: 3, backend: getBackend() }).forward(x, { training: false });
    expect(theirs.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(Math.abs(theirs[i] - ours[i])).toBeLessThan(1e-5);
  }, 60_000);
});

describe('state.json validation', () => {
  const edits: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['"epoch": -5', (s) => { s.epoch = -5; }, /state\.json: epoch must be an integer in \[0, 2\]; received -5/],
    ['"epoch": 1.5', (s) => { s.epoch = 1.5; }, /epoch must be an integer.*received 1\.5/],
    ['a history shorter than the epoch', (s) => { (s.history as unknown[]).pop(); }, /history must be a list of 2 epochs/],
    ['an unknown optimizer', (s) => { (s.optimizer as Record<string, unknown>).name = 'adagrad'; }, /optimizer\.name must be one of sgd, adam.*received "adagrad"/],
    ['negative iterations', (s) => { (s.optimizer as Record<string, unknown>).iterations = -1; }, /optimizer\.iterations must be an integer ≥ 0; received -1/],
    ['an index that does not add up', (s) => { (s.arrays as { length: number }[])[0].length += 1; }, /arrays index lists \d+ float32 values .* bytes/],
    ['a PRNG lane out of range', (s) => { (s.epochShuffle as { pending: unknown[] }).pending = [2 ** 40]; }, /epochShuffle\.pending\[0\] must be an integer in \[0, 4294967295\]/],
    ['a callback of the wrong shape', (s) => { (s.callbacks as Record<string, Record<string, unknown>>).TerminateOnNaN.epoch = 'two'; }, /callbacks\.TerminateOnNaN\.epoch must be an integer ≥ 0; received "two"/],
    ['a string in the history', (s) => { (s.history as Record<string, unknown>[])[1].loss = 'low'; }, /history\[1\]\.loss must be a finite number; received "low"/],
    ['not JSON', () => undefined, /state\.json is not valid JSON/],
  ];
  for (const [what, edit, message] of edits) {
    it(`${what} is refused in one line naming the file, the field and the value`, () => {
      const run = copyRun();
      const file = join(run, 'checkpoint', 'state.json');
      if (what === 'not JSON') writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
      else {
        const s = json(file);
        edit(s);
        writeFileSync(file, JSON.stringify(s));
      }
      const line = refusal(fitlab(['train', '--resume', run, '--epochs', '4', '--quiet']));
      expect(line).toContain(file);
      expect(line).toMatch(message);
    }, 60_000);
  }
});

describe('data fingerprint', () => {
  /** Point the run's command at other synthetic data, as if the dataset had changed on disk. */
  function changeData(run: string, synthetic: Record<string, unknown>): void {
    const file = join(run, 'config.json');
    const c = json(file) as { command: Record<string, unknown> };
    c.command.synthetic = synthetic;
    writeFileSync(file, JSON.stringify(c));
  }

  it('config.json records the fingerprint of train, validation and test', () => {
    const fp = (json(join(base, 'config.json')) as { dataset: { fingerprint: Record<string, { examples: number; sha256: string } | number[]> } }).dataset.fingerprint;
    expect(fp.shape).toEqual([2]);
    expect(fp.train).toEqual({ examples: 180, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect(fp.val).toMatchObject({ examples: 20 });
    expect(fp.test).toMatchObject({ examples: 200 });
  });

  it('different counts are refused, saying what changed', () => {
    const run = copyRun();
    changeData(run, { n: 300 });
    const r = fitlab(['train', '--resume', run, '--epochs', '3', '--quiet']);
    expect(refusal(r)).toMatch(/changed since the run started \(train 180 → 135 examples, val 20 → 15 examples, test 200 → 150 examples\); refusing to resume/);
    expect(r.stderr).toMatch(/--allow-data-change/);
  }, 60_000);

  it('the same shape and counts with other contents are refused, and resume with --allow-data-change', () => {
    const run = copyRun();
    changeData(run, { noise: 0.2 });
    expect(refusal(fitlab(['train', '--resume', run, '--epochs', '3', '--quiet']))).toMatch(/same shape and counts, different contents \(train, val, test\)/);
    const allowed = fitlab(['train', '--resume', run, '--epochs', '3', '--allow-data-change']);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout + allowed.stderr).toMatch(/note: the data changed since the run started/);
    // the new data is now the run's data: the next resume needs no flag
    const again = fitlab(['train', '--resume', run, '--epochs', '4', '--quiet']);
    expect(again.status, again.stderr).toBe(0);
  }, 90_000);

  it('unchanged data resumes', () => {
    const r = fitlab(['train', '--resume', copyRun(), '--epochs', '3', '--quiet']);
    expect([r.status, r.stderr]).toEqual([0, '']);
  }, 60_000);

  it('--allow-data-change without --resume is refused', () => {
    expect(refusal(train(['--epochs', '1', '--allow-data-change']))).toMatch(/--allow-data-change only applies with --resume/);
  }, 60_000);
});

describe('after a NaN the message names the checkpoint that really is the last good one', () => {
  /** Every value in the run's checkpoint/arrays.bin is finite. */
  function finiteArrays(run: string): boolean {
    const bytes = readFileSync(join(run, 'checkpoint', 'arrays.bin'));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4).every((v) => Number.isFinite(v));
  }

  it('a huge --lr fails in epoch 1: the checkpoint is the initial state, finite', () => {
    const r = fitlab(['train', '--dataset', 'spirals', '--model', join(tmp, 'tiny.json'), '--threads', '1', '--epochs', '3', '--optimizer', 'sgd', '--lr', '1e30', '--out', join(tmp, 'nan1')]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/loss became NaN at epoch 1/);
    const dir = onlyRun(join(tmp, 'nan1'));
    expect(r.stdout).toContain(`The last good checkpoint is the initial state (before epoch 1) (`);
    const state = json(join(dir, 'checkpoint', 'state.json'));
    expect([state.epoch, state.batchInEpoch]).toEqual([0, 0]);
    expect(finiteArrays(dir)).toBe(true);
  }, 60_000);

  it('a resumed run that meets a NaN names the checkpoint it resumed from, not the initial state', () => {
    const run = copyRun();
    // the learning rate lives in the checkpoint's optimizer state: make it explode on resume
    const file = join(run, 'checkpoint', 'state.json');
    const s = json(file) as { optimizer: Record<string, unknown> };
    s.optimizer.learningRate = 1e30;
    writeFileSync(file, JSON.stringify(s));
    const r = fitlab(['train', '--resume', run, '--epochs', '4']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/loss became NaN at epoch 3/);
    expect(r.stdout).toContain(`The last good checkpoint is the end of epoch 2 (`);
    const state = json(file) as { epoch: number; history: unknown[] };
    expect([state.epoch, state.history.length]).toEqual([2, 2]);
    expect(finiteArrays(run)).toBe(true);
  }, 60_000);
});
