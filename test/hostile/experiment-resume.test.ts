/**
 * Experiments that survive interruption (issue 19): `fitlab experiment extreme` at toy scale on
 * the built-in shapes set — six runs, where later runs start from earlier runs' models, `measure`
 * looks at the trained models (including a loss surface between two runs) and `onEpoch` records
 * test-accuracy curves — is SIGKILLed at seeded moments (before any run, inside runs, between
 * runs, while experiment.json is written), or stopped with Ctrl-C, and resumed with
 * `--resume <dir>` as often as needed. The finished experiment must equal an uninterrupted one:
 * experiment.json's numbers (timings and paths aside), and every run's history and final weights
 * byte for byte.
 *
 * Kill moments are counts of the CLI's own progress lines (the experiment directory line, one
 * line per epoch, one per finished run), never wall-clock sleeps; where inside the next epoch a
 * kill lands is up to the scheduler, and the property must hold anywhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ensureBuilt, fitlab, shards } from '../cli/cli-helpers.js';
import { seeded } from './mutate.js';

const ARGS = ['experiment', 'extreme', '--dataset', 'shapes', '--subset', '10', '--epochs', '2', '--restart-epochs', '2', '--repeats', '1', '--threads', '1', '--seed', '5'];
/** progress events: the experiment starts, an epoch ends (stderr), a run ends (stdout) */
const EVENT = /^(experiment directory: |run \d+ of \d+ \(.*\): epoch \d+\/\d+|\[\d+\/\d+\] )/;
const PRELOAD = join(ROOT, 'test', 'hostile', 'kill-at-write.ts');

let tmp = '';
let reference = '';

interface Outcome {
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Run fitlab `args` and send `signal` right after its `events`-th progress event (0: never). */
function runAndStop(args: string[], events: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let sent = false;
    let output = '';
    const onLine = (line: string): void => {
      output += line + '\n';
      if (EVENT.test(line) && ++seen === events && !sent) sent = child.kill(signal);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ killed: sent && (signal !== 'SIGKILL' || sig === 'SIGKILL'), code, signal: sig, output }));
  });
}

const experimentDir = (out: string): string => {
  const dirs = readdirSync(out);
  expect(dirs).toHaveLength(1);
  return join(out, dirs[0]);
};

/** experiment.json without what differs between any two runs of it: timings and paths. */
function numbers(dir: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !['seconds', 'wallSeconds', 'dir', 'runDir'].includes(k)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return strip(JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8')));
}

/** Each run slot's run directory, in the experiment's order (from its ledger). */
function slots(dir: string): string[] {
  const ledger = JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8')) as { runs: { index: number; runDir: string; status: string }[]; finished: boolean };
  expect(ledger.finished).toBe(true);
  return ledger.runs.sort((a, b) => a.index - b.index).map((r) => {
    expect(r.status).toBe('done');
    return join(dir, r.runDir);
  });
}

/** history.jsonl without the per-epoch wall time. */
const history = (run: string): string => readFileSync(join(run, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.stringify({ ...(JSON.parse(l) as Record<string, unknown>), seconds: 0 })).join('\n');

function expectSameAsReference(dir: string): void {
  expect(numbers(dir)).toEqual(numbers(reference));
  const ours = slots(dir);
  const theirs = slots(reference);
  expect(ours).toHaveLength(theirs.length);
  for (let i = 0; i < ours.length; i++) {
    expect(history(ours[i]), `run ${i + 1}: history`).toBe(history(theirs[i]));
    expect(shards(join(ours[i], 'model-final')).equals(shards(join(theirs[i], 'model-final'))), `run ${i + 1}: final weights`).toBe(true);
  }
}

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-exp-kill-'));
  const out = join(tmp, 'uninterrupted');
  const r = fitlab([...ARGS, '--out', out, '--quiet'], { timeoutMs: 240_000 });
  expect(r.status, r.stderr).toBe(0);
  reference = experimentDir(out);
}, 600_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('an experiment killed at seeded moments and resumed', () => {
  // kill after the n-th progress event, counted from the start of each process (a resumed
  // process also prints a line for every run it keeps): the named moments, then seeded ones
  // (1–3 kills, each after 1–24 events; past the last event the process finishes by itself)
  const schedules: [string, number[]][] = [
    ['before any run', [1]],
    ['after the first epoch of a run that then resumes from its checkpoint', [2]],
    ['between two runs, then inside a run that records every epoch (it restarts)', [4, 6]],
  ];
  for (const seed of [3, 21]) {
    const rand = seeded(seed);
    schedules.push([`seeded ${seed}`, Array.from({ length: 1 + Math.floor(rand() * 3) }, () => 1 + Math.floor(rand() * 24))]);
  }
  for (const [name, kills] of schedules) {
    it(`${name} (kills after events ${kills.join(', ')}): the resumed experiment equals the uninterrupted one`, async () => {
      const out = join(tmp, `killed-${kills.join('-')}`);
      let dir = '';
      let finished = false;
      for (const events of kills) {
        const r = await runAndStop(dir ? [...ARGS.slice(0, 2), '--resume', dir] : [...ARGS, '--out', out], events);
        dir ||= experimentDir(out);
        if (!r.killed) {
          expect(r.code, r.output).toBe(0);
          finished = true;
          break;
        }
      }
      if (!finished) {
        const r = fitlab([...ARGS.slice(0, 2), '--resume', dir, '--quiet'], { timeoutMs: 240_000 });
        expect(r.status, r.stderr).toBe(0);
      }
      expectSameAsReference(dir);
    }, 600_000);
  }

  it('killed while writing experiment.json: the resume keeps all six runs and writes the same report', () => {
    const out = join(tmp, 'at-write');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', PRELOAD, BIN, ...ARGS, '--out', out, '--quiet'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, FITLAB_TEST_KILL_AT: 'experiment.json' }, timeout: 1_200_000,
    });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const dir = experimentDir(out);
    expect(existsSync(join(dir, 'experiment.json'))).toBe(false);
    const resumed = fitlab([...ARGS.slice(0, 2), '--resume', dir], { timeoutMs: 240_000 });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout.match(/finished before; kept/g)).toHaveLength(6);
    expectSameAsReference(dir);
  }, 600_000);

  it('Ctrl-C checkpoints the current run and prints the resume command (exit 130); the resume finishes it identically', async () => {
    const out = join(tmp, 'ctrl-c');
    // after the third progress event: inside or just after the first run
    const r = await runAndStop([...ARGS, '--out', out], 3, 'SIGINT');
    const dir = experimentDir(out);
    if (r.code === 130) {
      expect(r.output).toMatch(/^Interrupted at run \d of \d+ /m);
      const resume = /^Resume with: fitlab experiment extreme --resume (.+)$/m.exec(r.output);
      expect(resume, r.output).not.toBeNull();
      const status = fitlab(['experiment', 'status', dir]);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/interrupted|not started/);
      expect(status.stdout).toContain(`fitlab experiment extreme --resume ${dir}`);
    } else {
      // the signal came after the last batch: nothing was left to interrupt
      expect(r.code, r.output).toBe(0);
    }
    const resumed = fitlab([...ARGS.slice(0, 2), '--resume', dir, '--quiet'], { timeoutMs: 240_000 });
    if (r.code === 130) expect(resumed.status, resumed.stderr).toBe(0);
    expectSameAsReference(dir);
  }, 600_000);

  it('a conflicting option on --resume is one line naming it and the planned value; a finished experiment is not resumed', () => {
    const r = fitlab([...ARGS.slice(0, 2), '--resume', reference, '--seed', '6']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^fitlab: error: --seed "?6"? conflicts with the experiment's plan \(5\)/m);
    const again = fitlab([...ARGS.slice(0, 2), '--resume', reference]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('already finished');
    const wrong = fitlab(['experiment', 'ladder', '--resume', reference]);
    expect(wrong.stderr).toContain('holds the experiment "extreme", not "ladder"');
  });
});
