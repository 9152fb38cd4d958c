/**
 * One trainer per run directory (src/io/run-lock.ts), through the real CLI: a second
 * `fitlab train --resume` on a run another live process trains in is refused, naming the run and
 * the holder; a lock left by a dead process is taken over with one line on stderr; the lock is
 * released on normal exit, on an error and on Ctrl-C (once or twice). No timing is assumed: the
 * holder is either a process whose life the test controls (its own) or a real trainer that the
 * test waits for (its second epoch line) and then stops.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/io/run-lock.js';
import { BIN, ROOT, STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-runlock-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A finished 2-epoch run of its own (tests change their runs). */
function tinyRun(tag: string): string {
  return jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '2', '--out', join(tmp, tag), '--quiet', '--json'])).runDir;
}

const lockOf = (run: string): string => join(run, LOCK_FILE);
const writeLock = (run: string, pid: number): void => writeFileSync(lockOf(run), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z' }) + '\n');
const fileOf = (run: string, name: string): string => readFileSync(join(run, name), 'utf8');

describe('a run locked by a live process', () => {
  it('is refused: exit 1, one line naming the run, the PID and the host; the run is untouched and the lock kept', () => {
    const run = tinyRun('held');
    writeLock(run, process.pid); // this test process: certainly alive while the CLI runs
    const history = fileOf(run, 'history.jsonl');
    const config = fileOf(run, 'config.json');
    const r = fitlab(['train', '--resume', run, '--epochs', '4']);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toContain(`fitlab: error: the run ${run} is in use: fitlab process ${process.pid} on ${hostname()} has trained in it since 2026-01-01T00:00:00.000Z`);
    expect(fileOf(run, 'history.jsonl')).toBe(history);
    expect(fileOf(run, 'config.json')).toBe(config);
    expect(JSON.parse(fileOf(run, LOCK_FILE))).toMatchObject({ pid: process.pid });
  });

  it('a real second `fitlab train --resume` is refused while the first trains; Ctrl-C releases the lock', async () => {
    const run = tinyRun('two');
    const first = spawn(process.execPath, [BIN, 'train', '--resume', run, '--epochs', '100000'], { cwd: ROOT });
    let out = '';
    let err = '';
    const underWay = new Promise<void>((ready) => {
      first.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/Epoch 4\//.test(out)) ready();
      });
    });
    first.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const closed = new Promise<number | null>((done) => first.on('close', (code) => done(code)));
    await Promise.race([underWay, closed]);
    expect(out, err).toMatch(/Epoch 4\//);
    // the first process trains: its lock names it
    expect(JSON.parse(fileOf(run, LOCK_FILE))).toMatchObject({ pid: first.pid, host: hostname() });
    const second = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const c = spawn(process.execPath, [BIN, 'train', '--resume', run, '--epochs', '100000'], { cwd: ROOT });
      let stderr = '';
      c.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      c.on('close', (code) => done({ code, stderr }));
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`fitlab: error: the run ${run} is in use: fitlab process ${first.pid} on ${hostname()}`);
    expect(second.stderr).not.toMatch(STACK_FRAME);
    first.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(existsSync(lockOf(run))).toBe(false);
  });
});

describe('a stale lock (its process is gone)', () => {
  it('is taken over with one line on stderr; the resume trains and releases the lock', () => {
    const run = tinyRun('dead-holder');
    // a process that has exited: its PID is certainly not alive now
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    writeLock(run, pid);
    const r = fitlab(['train', '--resume', run, '--epochs', '3', '--json']);
    const result = jsonOf<{ epochsRun: number; interrupted: boolean }>(r);
    expect(result).toMatchObject({ epochsRun: 3, interrupted: false });
    const notes = r.stderr.split('\n').filter((l) => l.includes('taking over'));
    expect(notes).toEqual([`fitlab: taking over the lock of ${run} from process ${pid}, which is no longer running`]);
    expect(existsSync(lockOf(run))).toBe(false);
  });
});

describe('the lock is released', () => {
  it('after a normal run and after a resume that fails on an error', () => {
    const run = tinyRun('released');
    expect(existsSync(lockOf(run))).toBe(false);
    const r = fitlab(['train', '--resume', run]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fitlab: error: the run already finished 2 of 2 epochs');
    expect(existsSync(lockOf(run))).toBe(false);
    // and the next trainer gets it at once
    expect(jsonOf<{ epochsRun: number }>(fitlab(['train', '--resume', run, '--epochs', '3', '--json'])).epochsRun).toBe(3);
    expect(existsSync(lockOf(run))).toBe(false);
  });

  it('when the holder quits through process.exit (a second Ctrl-C) without returning', () => {
    const run = tinyRun('exit');
    // the compiled lock module, as the CLI runs it: take the lock, then exit at once
    const module = join(ROOT, 'dist', 'src', 'io', 'run-lock.js');
    const script = `import(${JSON.stringify(module)}).then((m) => { m.lockRun(${JSON.stringify(run)}); process.stdout.write(require('fs').readFileSync(${JSON.stringify(lockOf(run))}, 'utf8')); process.exit(130); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(130);
    expect(JSON.parse(r.stdout)).toMatchObject({ host: hostname() });
    expect(existsSync(lockOf(run))).toBe(false);
  });
});
