/**
 * serve/live-probe (the live side both training workers share): a page's knob, pause, resume
 * and stop applied between batches in the order sent, a stop that ends a paused run, and
 * commands that arrive after the last batch answered at the end (a pause rejected in one line,
 * a probe made) instead of dropped — a page waiting for 'paused' would otherwise wait forever.
 * A small MLP on spirals, reference backend; the "page" is a script of commands per step.
 */
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../src/backend/reference/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import { synthetic2d } from '../../src/data/synthetic.js';
import { LossHead } from '../../src/nn/losses.js';
import { modelFromSpec } from '../../src/nn/spec.js';
import { createOptimizer } from '../../src/optim/optimizers.js';
import { LiveProbe } from '../../src/serve/live-probe.js';
import type { WorkerCommand, WorkerMessage } from '../../src/serve/protocol.js';
import { Trainer } from '../../src/train/fit.js';

const CONTEXT = { hasDropout: false, hasWeightPenalty: false, hasBatchNorm: false, hasAugmentation: false, convolutional: false };

/**
 * Train `epochs` epochs of spirals through a LiveProbe; `script(step, probe)` plays the page
 * before each afterBatch, `atEpochEnd` after each epoch (past the epoch's last batch boundary).
 */
async function live(epochs: number, script: (step: number, probe: LiveProbe) => void, atEpochEnd: (probe: LiveProbe, sent: readonly WorkerMessage[]) => void = () => undefined): Promise<{ messages: WorkerMessage[]; interrupted: boolean; probe: LiveProbe; trainer: Trainer }> {
  const data: Dataset = synthetic2d('spirals', { n: 200, seed: 3 });
  const spec = { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: data.classes, activation: 'softmax' }], input: data.shape };
  const model = modelFromSpec(spec).build({ batchSize: 20, seed: 1, backend: createReferenceBackend() });
  const trainer = new Trainer(model, new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false }), createOptimizer({ name: 'adam', learningRate: 0.003 }), 20);
  const messages: WorkerMessage[] = [];
  const probe = new LiveProbe({ post: (m) => messages.push(m), snapshot: () => 'not here', stopNote: 'stopped by the test' });
  probe.attach({ model, trainer, dataset: data, train: data.train, val: data.test }, CONTEXT);
  let step = 0;
  const result = await trainer.fit(data.train, {
    epochs, validationData: data.test, shouldInterrupt: () => probe.stopRequested,
    onBatch: (info) => probe.onBatch({ ...info, epochs }),
    afterBatch: () => {
      script(++step, probe);
      return probe.afterBatch();
    },
    afterEpoch: (_e, log) => {
      probe.onEpoch(log);
      atEpochEnd(probe, messages);
    },
  });
  probe.finish(result.interrupted);
  return { messages, interrupted: result.interrupted, probe, trainer };
}

const statuses = (ms: WorkerMessage[]): string[] => ms.flatMap((m) => (m.type === 'status' ? [m.status] : []));
const events = (ms: WorkerMessage[]): string[] => ms.flatMap((m) => (m.type === 'knob' ? [m.event.action ?? `${m.event.knob} ${m.event.from} → ${m.event.to}`] : []));
const send = (probe: LiveProbe, m: WorkerCommand): void => probe.command(m);

describe('LiveProbe', () => {
  it('applies a knob, pause, resume and stop between batches, in the order the page sent them', async () => {
    let stepAtStop = 0;
    const { messages, interrupted, trainer } = await live(50, (step, probe) => {
      if (step === 2) send(probe, { type: 'set', knobs: { learningRate: 0.01 } });
      if (step === 3) {
        send(probe, { type: 'action', action: 'pause' });
        // the resume arrives while the run waits in its pause
        setTimeout(() => send(probe, { type: 'action', action: 'resume' }), 20);
      }
      if (step === 5) {
        stepAtStop = step;
        send(probe, { type: 'action', action: 'stop' });
      }
    });
    expect(interrupted).toBe(true);
    expect(stepAtStop).toBe(5);
    expect(events(messages)).toEqual(['learningRate 0.003 → 0.01', 'pause', 'resume', 'stop']);
    expect(statuses(messages)).toEqual(['paused', 'running', 'stopping']);
    expect(trainer.optimizer.currentLearningRate()).toBe(0.01);
    // the stop applied at the 5th batch boundary, inside the first epoch (8 batches of 20)
    expect(messages.filter((m) => m.type === 'epoch')).toEqual([]);
  });

  it('a stop ends a paused run', async () => {
    const { messages, interrupted } = await live(50, (step, probe) => {
      if (step === 1) {
        send(probe, { type: 'action', action: 'pause' });
        setTimeout(() => send(probe, { type: 'action', action: 'stop' }), 20);
      }
    });
    expect(interrupted).toBe(true);
    expect(statuses(messages)).toEqual(['paused', 'stopping']);
    expect(events(messages)).toEqual(['pause', 'stop']);
  });

  it('answers what came after the last batch: a pause or knob is rejected in one line, a probe is made', async () => {
    let before = 0;
    const { messages } = await live(1, () => undefined, (probe, sent) => {
      // the page acts while the last epoch ends: no batch boundary follows
      before = sent.length;
      send(probe, { type: 'action', action: 'pause' });
      send(probe, { type: 'set', knobs: { learningRate: 0.1 } });
      send(probe, { type: 'probe', what: 'network' });
    });
    const after = messages.slice(before);
    expect(after.filter((m) => m.type === 'reject')).toEqual([
      { type: 'reject', message: 'training ended before the pause could apply' },
      { type: 'reject', message: 'training ended before the change of learningRate could apply' },
    ]);
    expect(after.map((m) => m.type)).toEqual(['reject', 'reject', 'network', 'predictions']);
    expect(statuses(after)).toEqual([]);
  });
});
