/**
 * The New run tab's equivalent command: with an inline spec it writes the spec to the file its
 * --model names, so the text can be pasted into a shell and run; it never replaces a file of
 * that name the user already has. Run here through /bin/sh with a stand-in `fitlab` on the PATH.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainCommand } from '../../src/serve/command.js';

const dir = mkdtempSync(join(tmpdir(), 'fitlab-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake `fitlab` that records its arguments, so the shell text is run for real without training. */
function shell(cmd: string, cwd: string): { status: number | null; calls: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(cwd, 'calls.txt');
  writeFileSync(join(bin, 'fitlab'), `#!/bin/sh\necho "$@" >> '${log}'\n`);
  chmodSync(join(bin, 'fitlab'), 0o755);
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd, env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  return { status: r.status, calls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

const spec = { name: 'mlp', input: [2], layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] };

describe('the equivalent command', () => {
  it('a preset is one fitlab train line', () => {
    expect(trainCommand({ model: 'paper-mlp', dataset: 'spirals', epochs: 5 })).toBe('fitlab train --model paper-mlp --dataset spirals --epochs 5');
  });

  it('an inline spec is written to the file --model names, then trained: pasted into sh it runs', () => {
    const cwd = join(dir, 'fresh');
    mkdirSync(cwd);
    const cmd = trainCommand({ model: 'mlp', modelSpec: spec, dataset: 'spirals', epochs: 5 });
    expect(cmd).toContain('fitlab train --model mlp.json --dataset spirals --epochs 5');
    const r = shell(cmd, cwd);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'mlp.json'), 'utf8'))).toEqual(spec);
    expect(r.calls).toBe('train --model mlp.json --dataset spirals --epochs 5\n');
  });

  it('an existing file of that name is left alone and nothing is trained', () => {
    const cwd = join(dir, 'taken');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'mlp.json'), 'my own notes');
    const r = shell(trainCommand({ model: 'mlp', modelSpec: spec, dataset: 'spirals' }), cwd);
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(cwd, 'mlp.json'), 'utf8')).toBe('my own notes');
    expect(r.calls).toBe('');
  });
});
