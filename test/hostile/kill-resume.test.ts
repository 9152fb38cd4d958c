/**
 * Kill-and-resume property (issue 14): `fitlab train` killed with SIGKILL at seeded moments
 * leaves a run directory whose every file parses (and verifies), and resuming it — as often
 * as it was killed — ends with exactly the weights of an uninterrupted run of the same seed.
 *
 * The moment of each kill is a seeded count of progress events read from the CLI's own
 * output (its "run directory:" / "resuming" line and one line per epoch), never a wall-clock
 * sleep, so the test asks the same thing of a busy machine as of an idle one. Where exactly
 * inside the next epoch the kill lands is up to the scheduler: the property must hold anywhere.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/io/run-dir.js';
import { readTfjs } from '../../src/io/tfjs.js';
import { BIN, ROOT, ensureBuilt, fitlab, shards } from '../cli/cli-helpers.js';
import { seeded } from './mutate.js';

const EPOCHS = 6;
/** Dropout draws from the layer's PRNG stream, so the stream state must survive a kill too. */
const SPEC = {
  name: 'kill-mlp', input: [2], layers: [
    { type: 'dense', units: 128, activation: 'relu' }, { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' },
  ],
};

let tmp = '';
let spec = '';
let reference: Buffer;

const trainArgs = (out: string): string[] => [
  'train', '--model', spec, '--dataset', 'spirals', '--epochs', String(EPOCHS), '--threads', '1', '--seed', '11', '--batch-size', '2', '--out', out,
];

/** A progress event on the CLI's stdout: the run starts (or resumes), or an epoch ends. */
const EVENT = /^(run directory: |resuming |Epoch \d+\/\d+ )/;

/**
 * Run `fitlab args…` and SIGKILL it right after its `events`-th progress event. Resolves with
 * whether the kill happened (false: the process had already finished by itself).
 */
function runAndKill(args: string[], events: number): Promise<{ killed: boolean; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let killed = false;
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += line + '\n';
      if (EVENT.test(line) && ++seen === events && !killed) killed = child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ killed: killed && signal === 'SIGKILL', code, output }));
  });
}

/** Every file a killed run left must parse; checkpoint and models must also verify. */
function checkFilesParse(run: string): number {
  JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  const state = loadCheckpoint(run);
  const history = join(run, 'history.jsonl');
  if (existsSync(history)) {
    const lines = readFileSync(history, 'utf8').split('\n').filter((l) => l.trim());
    for (const l of lines) JSON.parse(l);
    // history is written before the checkpoint: it holds the checkpoint's epochs, or one more
    expect(lines.length - state.epoch).toBeGreaterThanOrEqual(0);
    expect(lines.length - state.epoch).toBeLessThanOrEqual(1);
  } else expect(state.epoch).toBe(0);
  for (const name of ['weights.jsonl', 'summary.json', 'diagnosis.json']) {
    const file = join(run, name);
    if (existsSync(file)) for (const l of readFileSync(file, 'utf8').split('\n').filter((x) => x.trim() && name.endsWith('.jsonl'))) JSON.parse(l);
    if (existsSync(file) && name.endsWith('.json')) JSON.parse(readFileSync(file, 'utf8'));
  }
  for (const dir of ['model-initial', 'model-best', 'model-final']) if (existsSync(join(run, dir, 'model.json'))) readTfjs(join(run, dir));
  return state.epoch;
}

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-kill-'));
  spec = join(tmp, 'mlp.json');
  writeFileSync(spec, JSON.stringify(SPEC));
  const out = join(tmp, 'uninterrupted');
  const r = fitlab([...trainArgs(out), '--quiet']);
  expect(r.status, r.stderr).toBe(0);
  reference = shards(join(out, readdirSync(out)[0], 'model-final'));
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('kill -9 at seeded moments, then resume', () => {
  // each scenario: a seed for its kill schedule (1 or 2 kills, each after a seeded event count);
  // these four kill at the start, inside epochs, twice in a row, and while the end files are written
  for (const seed of [1, 2, 5, 10]) {
    it(`schedule ${seed}: every file parses after each kill and the resumed run ends bit-identical`, async () => {
      const rand = seeded(seed);
      const out = join(tmp, `killed-${seed}`);
      const kills = 1 + Math.floor(rand() * 2);
      let done = 0;
      let run = '';
      let finished = false;
      for (let k = 0; k < kills && !finished; k++) {
        // kill after event j: the start line is event 1, epoch e's line event e + 1 (counted
        // from where this process starts); j = remaining + 1 kills while the end files (model-
        // final, report, summary) are written, which the resume then completes
        const remaining = EPOCHS - done;
        if (remaining < 1) break;
        const events = 1 + Math.floor(rand() * (remaining + 1));
        const r = await runAndKill(run ? ['train', '--resume', run] : trainArgs(out), events);
        run ||= join(out, readdirSync(out)[0]);
        if (!r.killed) {
          expect(r.code, r.output).toBe(0);
          finished = true;
          break;
        }
        done = checkFilesParse(run);
      }
      // a kill after the last byte of summary.json leaves nothing to resume
      if (!finished && !(done === EPOCHS && existsSync(join(run, 'summary.json')))) {
        const resumed = fitlab(['train', '--resume', run, '--quiet']);
        expect(resumed.status, resumed.stderr).toBe(0);
      }
      checkFilesParse(run);
      expect(shards(join(run, 'model-final')).equals(reference)).toBe(true);
    }, 120_000);
  }
});
