/**
 * Output to a reader that went away (`fitlab diagnose run | head -1`): the command must not die
 * of `write EPIPE`; it finishes its work — a training completes and saves its run — and exits 0.
 *
 * How the closed reader is made: a named pipe whose only reader is closed before the command
 * starts, so every write the command makes meets EPIPE — deterministic, unlike racing a
 * `head -1` that may exit before or after the last line was written. One test also does exactly
 * what a user does (read the first line, then close) for the training that used to stop at
 * epoch 3.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';

let tmp = '';
let runDir = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-pipes-'));
  runDir = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '2', '--out', join(tmp, 'trained'), '--json'])).runDir;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let fifos = 0;
/** The write end of a pipe nobody reads any more: every write to it fails with EPIPE. */
function brokenPipe(): number {
  const fifo = join(tmp, `fifo-${++fifos}`);
  execFileSync('mkfifo', [fifo]);
  // a FIFO opens for writing only while a reader exists: open one, then close it
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  return writer;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Run the CLI with stdout (and with `both`, stderr too) on a broken pipe. */
async function intoBrokenPipe(args: string[], both = false): Promise<Exit> {
  const out = brokenPipe();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', out, both ? out : 'pipe'] });
  closeSync(out);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stderr })));
}

function expectCleanExit(r: Exit): void {
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error'|internal error/);
  expect([r.code, r.signal]).toEqual([0, null]);
}

/** The one run directory under `parent`, checked complete: model-final/ and summary.json. */
function expectFinishedRun(parent: string, epochs: number): void {
  const runs = readdirSync(parent);
  expect(runs).toHaveLength(1);
  const dir = join(parent, runs[0]);
  expect(existsSync(join(dir, 'model-final', 'model.json'))).toBe(true);
  expect(existsSync(join(dir, 'summary.json'))).toBe(true);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { epochsRun: number; interrupted: boolean };
  expect([summary.epochsRun, summary.interrupted]).toEqual([epochs, false]);
}

describe('a reader that closed the pipe', () => {
  it('train | head -1: training completes, saves model-final/ and summary.json, exits 0', async () => {
    const out = join(tmp, 'train-head');
    const child = spawn(process.execPath, [BIN, 'train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '6', '--out', out], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // what `head -1` does: read up to the first newline, then close the pipe
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('\n')) child.stdout.destroy();
    });
    const r = await new Promise<Exit>((done) => child.on('close', (code, signal) => done({ code, signal, stderr })));
    expect(seen).toMatch(/^run directory: /);
    expectCleanExit(r);
    expectFinishedRun(out, 6);
  });

  it('train with stdout on a broken pipe: all epochs run and the run is saved', async () => {
    const out = join(tmp, 'train-stdout');
    expectCleanExit(await intoBrokenPipe(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '3', '--out', out]));
    expectFinishedRun(out, 3);
  });

  it('train 2>&1 | head -1 (stdout and stderr broken): the run is still saved, exit 0', async () => {
    const out = join(tmp, 'train-both');
    const r = await intoBrokenPipe(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '3', '--out', out], true);
    expect([r.code, r.signal]).toEqual([0, null]);
    expectFinishedRun(out, 3);
  });

  it('train --json with stdout broken: the JSON is dropped, the run is saved', async () => {
    const out = join(tmp, 'train-json');
    expectCleanExit(await intoBrokenPipe(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '2', '--out', out, '--json']));
    expectFinishedRun(out, 2);
  });

  const readers: [string, () => string[]][] = [
    ['diagnose <run>', () => ['diagnose', runDir]],
    ['diagnose <run> --json', () => ['diagnose', runDir, '--json']],
    ['summary --model paper-mlp', () => ['summary', '--model', 'paper-mlp', '--input', '2', '--classes', '2']],
    ['data info spirals', () => ['data', 'info', 'spirals']],
    ['predict <run>', () => ['predict', runDir, '--dataset', 'spirals']],
  ];
  for (const [name, args] of readers) {
    it(`${name} | head -1: no EPIPE crash, exit 0`, async () => {
      expectCleanExit(await intoBrokenPipe(args()));
    });
  }

  it('diagnose --write with stdout broken still writes the report files', async () => {
    rmSync(join(runDir, 'report.html'));
    expectCleanExit(await intoBrokenPipe(['diagnose', runDir, '--write']));
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
  });
});

describe('stdout that fails for another reason', () => {
  it('stdout on a full device (/dev/full): one warning on stderr and exit 1, not a crash', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, 'summary', '--model', 'paper-mlp', '--input', '2', '--classes', '2'], { cwd: ROOT, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(stderr).toMatch(/^fitlab: warning: cannot write to stdout \(ENOSPC\); the rest of the output is dropped$/m);
    expect(stderr).not.toMatch(STACK_FRAME);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(code).toBe(1);
  });
});
