/**
 * `--monitor` names the metric early stopping and model-best/ watch. A name the run never logs
 * (`val_bogus`, or `val_loss` without a validation split) used to be accepted and silently turned
 * both off; it is refused before training starts, with the metrics that are allowed. The check
 * lives in the shared run code, so the CLI, the experiments and the dashboard's worker (all
 * through trainRun) refuse the same names.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors.js';
import { checkMonitor, monitorChoices, trainRun } from '../../src/run/train-run.js';
import { parseStartRun } from '../../src/serve/validate.js';
import { STACK_FRAME, ensureBuilt, fitlab, jsonOf } from '../cli/cli-helpers.js';

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-monitor-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const train = (out: string, ...args: string[]): ReturnType<typeof fitlab> =>
  fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '2', '--out', join(tmp, out), ...args]);

describe('fitlab train --monitor', () => {
  it('val_bogus is refused before training, naming the allowed metrics; no run directory is made', () => {
    const r = train('bogus', '--monitor', 'val_bogus', '--early-stopping', '2');
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr.trim()).toBe('fitlab: error: --monitor must be a metric the run logs: loss, accuracy, val_loss, val_accuracy; received "val_bogus"');
    expect(existsSync(join(tmp, 'bogus')) ? readdirSync(join(tmp, 'bogus')) : []).toEqual([]);
  });

  it('val_loss without a validation split is refused, with a hint about --val', () => {
    const r = train('noval', '--monitor', 'val_loss', '--val', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toContain('fitlab: error: --monitor must be a metric the run logs: loss, accuracy; received "val_loss"\n');
    expect(r.stderr).toContain('fitlab: hint: val_ metrics need a validation split');
  });

  it('a metric the run logs is accepted and really watched: model-best/ is written for it', () => {
    for (const [monitor, val] of [['val_accuracy', '0.1'], ['accuracy', '0']]) {
      const r = jsonOf<{ runDir: string; bestEpoch: number | null }>(train(`ok-${monitor}`, '--monitor', monitor, '--val', val, '--json'));
      expect(existsSync(join(r.runDir, 'model-best', 'model.json')), monitor).toBe(true);
    }
  });
});

describe('the shared check (experiments and the dashboard train through it)', () => {
  it('checkMonitor: defaults, the allowed names, and refusals that list them', () => {
    expect(checkMonitor(undefined, true)).toBe('val_loss');
    expect(checkMonitor(undefined, false)).toBe('loss');
    for (const m of monitorChoices(true)) expect(checkMonitor(m, true)).toBe(m);
    expect(monitorChoices(false)).toEqual(['loss', 'accuracy']);
    expect(() => checkMonitor('val_accuracy', false)).toThrow(ArgumentError);
    expect(() => checkMonitor('learning_rate', true)).toThrow('--monitor must be a metric the run logs: loss, accuracy, val_loss, val_accuracy; received "learning_rate"');
    expect(() => checkMonitor(3, true)).toThrow('received 3');
  });

  it('trainRun (what experiments call) refuses val_bogus before creating a run directory', async () => {
    const out = join(tmp, 'in-process');
    await expect(trainRun({ model: 'paper-mlp', dataset: 'spirals', epochs: 1, monitor: 'val_bogus', out })).rejects.toThrow(/--monitor must be a metric the run logs/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('the dashboard start-run body has no monitor field: a monitor is refused there too', () => {
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', monitor: 'val_bogus' }, tmp)).toThrow(/unknown field "monitor"/);
  });
});
