/**
 * A kill after the last epoch, while the run writes its end files (diagnosis.json, report.html,
 * summary.json): the real CLI is SIGKILLed at that write (test/hostile/kill-at-write.ts, no
 * timing involved). `fitlab train --resume` must then complete what is missing without
 * training — and say so — instead of refusing a run that "already finished"; `fitlab diagnose
 * --write` completes it too. The completed files equal those of the same run never killed, the
 * training state is untouched, and the dead process's temporary and lock are cleared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-complete-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const TRAIN = ['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '2', '--seed', '3', '--threads', '1'];
const PRELOAD = join(ROOT, 'test', 'hostile', 'kill-at-write.ts');

/** Train `args` (TRAIN) into `out`, SIGKILLed when it opens the temporary of `file`; the run directory. */
function killedRun(out: string, file: string, args: string[] = TRAIN): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', PRELOAD, BIN, ...args, '--out', out, '--quiet'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FITLAB_TEST_KILL_AT: file }, timeout: 300_000,
  });
  expect(r.signal, r.stderr).toBe('SIGKILL');
  const runs = readdirSync(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0]);
}

const read = (run: string, name: string): string => readFileSync(join(run, name), 'utf8');
const temps = (run: string): string[] => readdirSync(run).filter((e) => e.startsWith('.fitlab-tmp-'));

let whole = '';
beforeAll(() => {
  whole = jsonOf<{ runDir: string }>(fitlab([...TRAIN, '--out', join(tmp, 'whole'), '--quiet', '--json'])).runDir;
});

describe('killed while writing diagnosis.json', () => {
  it('`train --resume` writes diagnosis.json, report.html and summary.json without training, and says so', () => {
    const run = killedRun(join(tmp, 'killed-diagnosis'), 'diagnosis.json');
    for (const f of ['diagnosis.json', 'report.html', 'summary.json']) expect(existsSync(join(run, f))).toBe(false);
    expect(temps(run)).toHaveLength(1); // the dead writer's temporary
    const history = read(run, 'history.jsonl');
    const checkpoint = readFileSync(join(run, 'checkpoint', 'arrays.bin'));

    const r = fitlab(['train', '--resume', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(STACK_FRAME);
    expect(r.stdout + r.stderr).toContain(`${run} finished training but diagnosis.json, report.html, summary.json are missing (the process stopped while writing them); writing them now, without training`);
    expect(r.stderr).toContain(`taking over the lock of ${run} from process`);
    // no training: history and checkpoint as they were
    expect(read(run, 'history.jsonl')).toBe(history);
    expect(readFileSync(join(run, 'checkpoint', 'arrays.bin')).equals(checkpoint)).toBe(true);
    // the same end files as the run that was never killed
    expect(read(run, 'diagnosis.json')).toBe(read(whole, 'diagnosis.json'));
    const summary = JSON.parse(read(run, 'summary.json')) as { epochsRun: number; test: unknown; final: unknown; interrupted: boolean };
    const expected = JSON.parse(read(whole, 'summary.json')) as typeof summary;
    expect([summary.epochsRun, summary.test, summary.interrupted]).toEqual([expected.epochsRun, expected.test, false]);
    // the final epoch is the run's own last history line (its own timings)
    expect(summary.final).toEqual(JSON.parse(history.trim().split('\n').pop() as string));
    expect(read(run, 'report.html')).toContain('</html>');
    expect(temps(run)).toEqual([]);
    expect(existsSync(join(run, '.fitlab-lock'))).toBe(false);

    // complete now: a further resume is the usual refusal
    const again = fitlab(['train', '--resume', run]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('fitlab: error: the run already finished 2 of 2 epochs');
  });
});

describe('killed while writing summary.json', () => {
  it('`diagnose --write` completes summary.json (diagnosis and report were written), without training', () => {
    const run = killedRun(join(tmp, 'killed-summary'), 'summary.json');
    expect(existsSync(join(run, 'diagnosis.json'))).toBe(true);
    expect(existsSync(join(run, 'summary.json'))).toBe(false);
    const history = read(run, 'history.jsonl');
    const r = fitlab(['diagnose', run, '--write', '--no-chart']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('summary.json is missing (the process stopped while writing it); writing it now, without training');
    expect(read(run, 'history.jsonl')).toBe(history);
    const summary = JSON.parse(read(run, 'summary.json')) as { epochsRun: number; test: unknown };
    const expected = JSON.parse(read(whole, 'summary.json')) as typeof summary;
    expect([summary.epochsRun, summary.test]).toEqual([expected.epochsRun, expected.test]);
    expect(temps(run)).toEqual([]);
    // a complete run: diagnose --write only rewrites the report
    const again = fitlab(['diagnose', run, '--write', '--no-chart']);
    expect(again.status).toBe(0);
    expect(again.stdout + again.stderr).not.toContain('missing');
  });
});

describe('an early-stopped run killed while writing its end files', () => {
  // moons, patience 1: early stopping ends this run after 9 of 40 epochs (asserted below)
  const STOPPING = ['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '40', '--seed', '3', '--threads', '1', '--early-stopping', '1'];

  it('`train --resume` completes it without training (no extra epoch), as the run never killed; more epochs only when asked', () => {
    const whole = jsonOf<{ runDir: string; epochsRun: number }>(fitlab([...STOPPING, '--out', join(tmp, 'es-whole'), '--quiet', '--json']));
    expect(whole.epochsRun).toBeLessThan(40);
    const run = killedRun(join(tmp, 'es-killed'), 'diagnosis.json', STOPPING);
    const history = read(run, 'history.jsonl');
    const r = fitlab(['train', '--resume', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('finished training but diagnosis.json, report.html, summary.json are missing');
    expect(read(run, 'history.jsonl')).toBe(history);
    expect(read(run, 'diagnosis.json')).toBe(read(whole.runDir, 'diagnosis.json'));
    // model-final holds the restored best weights, bit for bit those of the run never killed
    expect(readFileSync(join(run, 'model-final', 'group1-shard1of1.bin')).equals(readFileSync(join(whole.runDir, 'model-final', 'group1-shard1of1.bin')))).toBe(true);
    const summary = JSON.parse(read(run, 'summary.json')) as { epochsRun: number; stopReason: string };
    expect(summary.epochsRun).toBe(whole.epochsRun);
    expect(summary.stopReason).toMatch(/^early stopping: val_loss did not improve/);

    // complete: a plain resume is refused, naming the stop; --epochs trains on
    const again = fitlab(['train', '--resume', run]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`fitlab: error: the run already finished: early stopping ended it after epoch ${whole.epochsRun} of 40`);
    const more = fitlab(['train', '--resume', run, '--epochs', String(whole.epochsRun + 2)]);
    expect(more.status, more.stderr).toBe(0);
    expect(more.stdout + more.stderr).toContain(`early stopping ended this run after epoch ${whole.epochsRun}; training on`);
    expect(read(run, 'history.jsonl').trim().split('\n').length).toBeGreaterThan(whole.epochsRun);
  });
});

describe('temporaries of dead writers', () => {
  it('`fitlab diagnose <run>` sweeps those of dead processes and keeps a live writer\'s', () => {
    const run = jsonOf<{ runDir: string }>(fitlab([...TRAIN, '--out', join(tmp, 'sweep'), '--quiet', '--json'])).runDir;
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const deadTemp = `.fitlab-tmp-history.jsonl-${dead}-0123abcd`;
    const deadInside = join('checkpoint', `.fitlab-tmp-arrays.bin-${dead}-89abcdef`);
    const liveTemp = `.fitlab-tmp-history.jsonl-${process.pid}-0123abcd`;
    for (const f of [deadTemp, deadInside, liveTemp]) writeFileSync(join(run, f), 'half');
    const r = fitlab(['diagnose', run, '--no-chart']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(run, deadTemp))).toBe(false);
    expect(existsSync(join(run, deadInside))).toBe(false);
    expect(existsSync(join(run, liveTemp))).toBe(true);
  });
});
