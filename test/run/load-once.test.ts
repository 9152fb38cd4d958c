/**
 * A run loads its dataset and builds its model once (plan → instantiate → train): counted by
 * spies on the dataset loader and the model builder, around a real training run, a resume and
 * a run refused by its plan (which must load nothing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as locate from '../../src/data/locate.js';
import * as spec from '../../src/nn/spec.js';
import { resumeRun, trainRun } from '../../src/run/train-run.js';

vi.mock('../../src/data/locate.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/data/locate.js')>();
  return { ...real, loadDataset: vi.fn(real.loadDataset) };
});
vi.mock('../../src/nn/spec.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/nn/spec.js')>();
  return { ...real, modelFromSpec: vi.fn(real.modelFromSpec) };
});

const loads = vi.mocked(locate.loadDataset);
const builds = vi.mocked(spec.modelFromSpec);

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-load-once-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  loads.mockClear();
  builds.mockClear();
});

describe('one dataset load and one model build per run', () => {
  it('trainRun (a preset: resolved, built, the run directory made after)', async () => {
    const r = await trainRun({ model: 'paper-mlp', dataset: 'moons', epochs: 1, batchSize: 32, threads: 1, out: tmp, name: 'once' });
    expect(r.epochsRun).toBe(1);
    expect(loads).toHaveBeenCalledTimes(1);
    expect(builds).toHaveBeenCalledTimes(1);
    // the same run resumed for one more epoch: once again, not twice
    loads.mockClear();
    builds.mockClear();
    const more = await resumeRun(r.runDir, {}, { epochs: 2 });
    expect(more.epochsRun).toBe(2);
    expect(loads).toHaveBeenCalledTimes(1);
    expect(builds).toHaveBeenCalledTimes(1);
  });

  it('a config its plan refuses loads nothing', async () => {
    await expect(trainRun({ model: 'paper-mlp', dataset: 'moons', epochs: 1, lr: -1, out: tmp })).rejects.toThrow('--lr must be a number in [0, Infinity]; received -1');
    await expect(trainRun({ model: 'paper-mlp', dataset: 'moons', epochs: 1, earlyStopping: 2, monitor: 'val_bogus', out: tmp })).rejects.toThrow(/--monitor must be a metric the run logs/);
    expect(loads).not.toHaveBeenCalled();
    expect(builds).not.toHaveBeenCalled();
  });
});
