/**
 * `fitlab diagnose` and `fitlab compare` as a user runs them (node bin/fitlab.js): on a run
 * directory holding a crafted overfitting history, on a Keras history JSON and a CSVLogger file.
 * --json carries the contract the issue names (regime, onsetEpoch, bestEpoch, gaps,
 * counterfactuals, advice) with the same numbers the library computes; --write puts report.html
 * and the charts (SVG + PNG) into the run directory or --out; compare writes compare.html and
 * its PNGs. Bad paths and malformed files fail with exit code 1 and a message naming the file,
 * never a stack trace.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Diagnosis, diagnose } from '../../src/diagnose/diagnose.js';
import { writeHistory } from '../../src/io/run-dir.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';
import { OVERFIT_MIN, overfitting } from './synth.js';

const FIX = join(import.meta.dirname, 'fixtures');
type DiagnoseJson = Diagnosis & { source: string; kind: string };

let tmp = '';
let run = '';
const h = overfitting();

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-diagnose-cli-'));
  run = join(tmp, '20260101-120000-crafted');
  mkdirSync(run);
  writeHistory(run, h);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fitlab diagnose', () => {
  it('<run-dir> --json: the issue\'s fields, with the library\'s numbers', () => {
    const j = jsonOf<DiagnoseJson>(fitlab(['diagnose', run, '--json', '--classes', '10']));
    const lib = diagnose(h, { classes: 10 });
    expect(j.kind).toBe('run');
    expect(j.source).toBe(join(run, 'history.jsonl'));
    expect(j.regime).toBe('overfitting');
    expect(Math.abs((j.onsetEpoch as number) - (OVERFIT_MIN + 2))).toBeLessThanOrEqual(1); // the first epoch after the minimum, 1-based
    expect(j.onsetEpoch).toBe(lib.onsetEpoch);
    expect(j.bestEpoch).toBe(OVERFIT_MIN + 1); // 1-based (OVERFIT_MIN is a 0-based index)
    expect(j.epochBase).toBe(1);
    expect(j.bestEpochByAccuracy).toBe(lib.bestEpochByAccuracy);
    expect(j.classes).toBe(10);
    expect(j.gaps).toEqual(lib.gaps);
    expect(j.valLossRise).toEqual(lib.valLossRise);
    expect(j.counterfactuals).toEqual(lib.counterfactuals);
    expect(j.counterfactuals.map((c) => [c.patience, c.stopEpoch, c.restoreEpoch, c.epochsSaved])).toEqual([[3, 19, 16, 21], [5, 21, 16, 19], [10, 26, 16, 14]]);
    expect(j.advice.length).toBeGreaterThan(2);
    for (const a of j.advice) expect(Object.keys(a).sort()).toEqual(['action', 'evidence', 'priority']);
    expect(j.summary).toBe(lib.summary);
  });

  it('<run-dir> as text: the verdict, the chart, the counterfactuals and advice', () => {
    const r = fitlab(['diagnose', run, '--classes', '10']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Diagnosis: OVERFITTING');
    expect(r.stdout).toContain('• validation loss');
    expect(r.stdout).toContain('patience 3: stop at 19, keep 16');
    expect(r.stdout).toMatch(/try:\n {3}1\. early stopping with patience 3/);
    expect(fitlab(['diagnose', run, '--classes', '10', '--no-chart']).stdout).not.toContain('• validation loss');
  });

  it('a Keras history JSON (bare NaN/Infinity) and a CSVLogger file: same diagnosis', () => {
    const a = jsonOf<DiagnoseJson>(fitlab(['diagnose', join(FIX, 'keras-history.json'), '--json', '--classes', '10']));
    const b = jsonOf<DiagnoseJson>(fitlab(['diagnose', join(FIX, 'keras-log.csv'), '--json', '--classes', '10']));
    expect([a.kind, b.kind]).toEqual(['keras-json', 'keras-csv']);
    expect(a.bestEpoch).toBe(4);
    expect(a.regime).toBe('overfitting');
    const { source: _s1, kind: _k1, ...ra } = a;
    const { source: _s2, kind: _k2, ...rb } = b;
    expect(rb).toEqual(ra);
  });

  it('--write on a run directory: report.html and the charts (SVG + PNG) land in it', () => {
    const r = fitlab(['diagnose', run, '--write', '--classes', '10', '--no-chart']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote 7 files into .*crafted: loss\.svg, loss\.png, accuracy\.svg, accuracy\.png, gap\.svg, gap\.png, report\.html/);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('>OVERFITTING</span>');
    expect(html).toContain(`<td>best epoch by validation accuracy</td><td>epoch 17</td>`);
    const png = PNG.sync.read(readFileSync(join(run, 'loss.png')));
    expect([png.width, png.height]).toEqual([1080, 570]);
  });

  it('--write on a history file needs --out; with it, the files go there', () => {
    const noOut = fitlab(['diagnose', join(FIX, 'keras-history.json'), '--write']);
    expect(noOut.status).toBe(1);
    expect(noOut.stderr).toMatch(/--write: .*keras-history\.json is a history file, not a run directory/);
    expect(noOut.stderr).toContain('--out <dir>');
    const out = join(tmp, 'keras-report');
    const r = fitlab(['diagnose', join(FIX, 'keras-history.json'), '--write', '--out', out, '--json', '--classes', '10']);
    expect(jsonOf<DiagnoseJson>(r).regime).toBe('overfitting');
    expect(readdirSync(out).sort()).toEqual(['.fitlab-owned', 'accuracy.png', 'accuracy.svg', 'gap.png', 'gap.svg', 'loss.png', 'loss.svg', 'report.html']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<h1>keras-history.json</h1>');
  });

  it.each([
    ['a missing path', () => [join(tmp, 'missing.json')], /missing\.json does not exist/],
    ['JSON null', () => [file('null.json', 'null')], /null\.json: expected a Keras history/],
    ['a CSV with a word for a number', () => [file('bad.csv', 'epoch,loss\n0,1\n1,oops\n')], /bad\.csv: line 3, column "loss": "oops" is not a number/],
    ['a broken history.jsonl', () => [file('broken.jsonl', '{"epoch":0,"loss":1}\n{"epoch"\n')], /broken\.jsonl: line 2 is not valid JSON/],
    ['an empty history.jsonl', () => [file('empty.jsonl', '')], /empty\.jsonl holds no epochs/],
    ['a directory that is no run', () => [dir('not-a-run')], /not-a-run has no history\.jsonl/],
    ['--out without --write', () => [run, '--out', join(tmp, 'x')], /--out goes with --write/],
  ])('%s: exit 1, a message naming it, no stack trace', (_what, args, message) => {
    const r = fitlab(['diagnose', ...args()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fitlab: error: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('');
  });
});

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

function dir(name: string): string {
  const p = join(tmp, name);
  mkdirSync(p, { recursive: true });
  return p;
}

describe('fitlab compare', () => {
  it('a run and a Keras history: --json rows, compare.html and the two charts as SVG and PNG', () => {
    const out = join(tmp, 'compare');
    const r = fitlab(['compare', run, join(FIX, 'keras-log.csv'), '--labels', 'crafted,keras', '--out', out, '--classes', '10', '--json']);
    const j = jsonOf<{ runs: { label: string; regime: string; bestEpoch: number; onsetEpoch: number | null }[]; files: string[] }>(r);
    expect(j.runs.map((x) => [x.label, x.regime, x.bestEpoch])).toEqual([['crafted', 'overfitting', 16], ['keras', 'overfitting', 4]]); // 1-based
    expect(j.files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['compare-val-accuracy.png', 'compare-val-accuracy.svg', 'compare-val-loss.png', 'compare-val-loss.svg', 'compare.html']);
    for (const f of j.files) expect(existsSync(f)).toBe(true);
    const png = PNG.sync.read(readFileSync(join(out, 'compare-val-loss.png')));
    expect([png.width, png.height]).toEqual([1080, 570]);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toMatch(/<td>crafted<\/td><td>overfitting<\/td><td>40<\/td>/);
    expect(html).toMatch(/<td>keras<\/td><td>overfitting<\/td><td>8<\/td>/);
  });

  it('the table on the terminal; fewer than two runs or mismatched labels are errors', () => {
    const r = fitlab(['compare', run, join(FIX, 'keras-history.json'), '--classes', '10']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/crafted\s+overfitting\s+40/);
    const one = fitlab(['compare', run]);
    expect(one.status).toBe(1);
    expect(one.stderr).toContain('compare needs at least two runs; got 1');
    const labels = fitlab(['compare', run, run, '--labels', 'a']);
    expect(labels.status).toBe(1);
    expect(labels.stderr).toContain('--labels has 1 names for 2 runs');
    expect(labels.stderr).not.toMatch(STACK_FRAME);
  });
});
