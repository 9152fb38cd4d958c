/**
 * train and diagnose say where the run's report.html is, and `diagnose --open` opens it (or, with
 * no opener on the PATH, says which file:// address to open instead).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_FRAME, ensureBuilt, fitlab } from './cli-helpers.js';

let tmp = '';
let run = '';
let trainOut = '';

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-report-path-'));
  const spec = { name: 'tiny', input: [2], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] };
  writeFileSync(join(tmp, 'tiny.json'), JSON.stringify(spec));
  const r = fitlab(['train', '--dataset', 'spirals', '--model', join(tmp, 'tiny.json'), '--epochs', '2', '--threads', '1', '--seed', '3', '--out', join(tmp, 'runs')]);
  expect(r.status, r.stderr).toBe(0);
  trainOut = r.stdout;
  const m = /report: (\S+)\/report\.html/.exec(trainOut);
  expect(m, trainOut).not.toBeNull();
  run = (m as RegExpExecArray)[1];
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the report path in the terminal', () => {
  it('train names report.html (which exists) and the command that opens it', () => {
    expect(existsSync(join(run, 'report.html'))).toBe(true);
    expect(trainOut).toContain(`fitlab diagnose ${run} --open shows it`);
  });

  it('diagnose names it too', () => {
    const r = fitlab(['diagnose', run, '--no-chart']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`report: ${join(run, 'report.html')}`);
  });

  it('--open without an opener on the PATH says which address to open, exit 0, no stack', () => {
    const r = fitlab(['diagnose', run, '--open', '--no-chart'], { env: { PATH: join(tmp, 'no-such-bin') } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toContain(`open ${pathToFileURL(join(run, 'report.html')).href} in a browser`);
  });

  it('--open on a history file is one error line with a hint', () => {
    const hist = join(tmp, 'history.json');
    writeFileSync(hist, JSON.stringify({ loss: [1, 0.8, 0.7], val_loss: [1.1, 0.9, 0.95] }));
    const r = fitlab(['diagnose', hist, '--open']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--open: .*history\.json is a history file, so there is no report\.html to open/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
