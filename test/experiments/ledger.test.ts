/**
 * The experiment ledger and `experiment status` (issue 19), on hand-made experiment directories:
 * the exact JSON keeps NaN and ±Infinity, and the status tells done, running (a live lock),
 * interrupted and not-started runs apart, with the time left worked out by hand from the epoch
 * times the runs recorded.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExact, encodeExact, readLedger, readPlan, writeLedger, writePlan } from '../../src/experiments/ledger.js';
import { experimentStatus } from '../../src/experiments/status.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-ledger-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exact JSON', () => {
  it('NaN and ±Infinity come back as numbers, everywhere in the value; other objects are untouched', () => {
    const v = { a: Number.NaN, b: [1, Number.POSITIVE_INFINITY, { c: Number.NEGATIVE_INFINITY }], d: { $num: 'NaN', other: 1 }, e: -0.1 };
    const back = decodeExact(encodeExact(v)) as typeof v;
    expect(back.a).toBeNaN();
    expect(back.b[1]).toBe(Number.POSITIVE_INFINITY);
    expect((back.b[2] as { c: number }).c).toBe(Number.NEGATIVE_INFINITY);
    expect(back.d).toEqual({ $num: 'NaN', other: 1 });
    expect(back.e).toBe(-0.1);
  });
});

/** A run directory with `epochs` planned, and these epoch times in history.jsonl. */
function fakeRun(dir: string, name: string, epochs: number, seconds: number[], finished: boolean): string {
  const run = join(dir, 'runs', name);
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ command: { epochs } }));
  writeFileSync(join(run, 'history.jsonl'), seconds.map((s, i) => JSON.stringify({ epoch: i, loss: 1, seconds: s })).join('\n') + '\n');
  if (finished) {
    writeFileSync(join(run, 'summary.json'), JSON.stringify({ interrupted: false, epochsRun: epochs }));
    writeFileSync(join(run, 'diagnosis.json'), '{}');
  }
  return `runs/${name}`;
}

describe('experiment status', () => {
  it('done, running, interrupted and not started; time left from the measured epoch times', () => {
    const dir = join(tmp, 'exp');
    mkdirSync(dir);
    writePlan(dir, 'ladder', { seed: 42, threads: 1 });
    // run 1: done, 4 epochs of 10 s; run 2: training now (our own live lock), 2 of 4 epochs at
    // 12 s; run 3: interrupted after 1 of 4 epochs at 8 s; 2 runs not started
    const r1 = fakeRun(dir, 'a', 4, [10, 10, 10, 10], true);
    const r2 = fakeRun(dir, 'b', 4, [12, 12], false);
    writeFileSync(join(dir, r2, '.fitlab-lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    const r3 = fakeRun(dir, 'c', 4, [8], false);
    fakeRun(dir, 'stray', 4, [], false);
    writeLedger(dir, {
      planned: 5, finished: false, seconds: 100, runs: [
        { index: 1, label: 'no regularization', seed: 42, runDir: r1, status: 'done' },
        { index: 2, label: '+ max pooling', seed: 42, runDir: r2, status: 'started' },
        { index: 3, label: '+ dropout', seed: 42, runDir: r3, status: 'started' },
      ],
    });
    const s = experimentStatus(dir);
    expect(s.experiment).toBe('ladder');
    expect(s.runs.map((r) => r.state)).toEqual(['done', 'running', 'interrupted']);
    expect(s.runs.map((r) => r.epochsDone)).toEqual([4, 2, 1]);
    expect(s.done).toBe(1);
    expect(s.left).toBe(2);
    expect(s.stray).toEqual(['runs/stray']);
    expect(s.active).toBeNull();
    // run 2: 2 epochs left × 12 s; run 3: 3 × 8 s; 2 runs not started × run 1's 4 × 10 s
    expect(s.secondsLeft).toBe(2 * 12 + 3 * 8 + 2 * 40);
  });

  it('a directory without plan.json is refused in one line that says why', () => {
    const dir = join(tmp, 'no-plan');
    mkdirSync(dir);
    expect(() => readPlan(dir)).toThrow(/has no plan\.json, so it cannot be resumed/);
    expect(() => experimentStatus(join(tmp, 'absent'))).toThrow(/no experiment directory at/);
    expect(readLedger(dir)).toEqual({ planned: 0, runs: [], finished: false, seconds: 0 });
  });
});
