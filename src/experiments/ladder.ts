/**
 * The regularization ladder (the lecture's CIFAR-10 case study): the same CNN with no
 * regularization (stride-2 convolutions instead of pooling, so the parameter count is the same),
 * then + max pooling, + dropout, + batch normalization, + data augmentation. Expected: the
 * generalization gap shrinks step by step and the last step is healthy.
 */
import type { TrainRunConfig } from '../run/train-run.js';
import { type DataFacts, armCurves, dataFacts, fmtInt, perArmChart } from './common.js';
import { Experiment, type ExperimentOptions, differs } from './experiment.js';
import { poolsToStrides, preset, withoutLayers } from './specs.js';

export async function ladder(o: ExperimentOptions): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'cifar10';
  const facts: DataFacts = await dataFacts(dataset, o);
  const subset = o.subset ?? (small ? 300 : undefined);
  const epochs = o.epochs ?? (small ? 25 : 40);
  const base: Omit<TrainRunConfig, 'model' | 'out' | 'name' | 'seed'> = small
    ? { dataset, epochs, batchSize: 64, optimizer: 'adam', val: '0.04', tools: subset ? { subset } : undefined, checkpoint: 'none' }
    : { dataset, epochs, batchSize: 200, optimizer: 'adamw', val: '0.1', tools: subset ? { subset } : undefined, checkpoint: 'none' };
  const lecture = preset('lecture-cnn', facts.shape, facts.classes);
  const bn = preset('lecture-cnn-bn', facts.shape, facts.classes);
  const steps: [string, Partial<TrainRunConfig>][] = [
    ['no regularization', { model: 'lecture-cnn (strided, no pooling/dropout)', modelSpec: withoutLayers(poolsToStrides(lecture), 'dropout') }],
    ['+ max pooling', { model: 'lecture-cnn (no dropout)', modelSpec: withoutLayers(lecture, 'dropout') }],
    ['+ dropout', { model: 'lecture-cnn', modelSpec: lecture }],
    ['+ batch norm', { model: 'lecture-cnn-bn', modelSpec: bn }],
    ['+ augmentation', { model: 'lecture-cnn-bn', modelSpec: bn, augment: 'cifar10' }],
  ];
  const trainN = subset ? subset * facts.classes : Math.round(facts.train * 0.9);
  const x = new Experiment('ladder', 'The regularization ladder', `${facts.name}, ${fmtInt(trainN)} training images${subset ? ` (${subset} per class)` : ''}, ${epochs} epochs, ${small ? 'Adam' : 'AdamW'} batch ${base.batchSize}; lecture-cnn: none → +pool → +dropout → +BN → +augmentation`, o, steps.length * o.repeats);
  // the steps are independent: through a queue they train side by side
  await x.armsTogether(steps.map(([label, cfg]) => ({ label, config: { ...base, ...cfg } as TrainRunConfig })));

  armCurves(x);
  x.chart('gap-by-step', 'Gap by step', perArmChart(x.arms, [
    { label: 'gap (train − val accuracy, last 3 epochs)', stat: (a) => a.gap, color: '#9467bd' },
    { label: 'final validation accuracy', stat: (a) => a.finalVal, color: '#d62728' },
    { label: 'final training accuracy', stat: (a) => a.finalTrain, color: '#1f77b4' },
  ], { title: 'Each step of the ladder: training and validation accuracy and their gap', yLabel: 'accuracy', percent: true }));

  const arms = x.arms;
  let shrinking = 0;
  for (let i = 1; i < arms.length; i++) {
    const a = arms[i - 1];
    const b = arms[i];
    const d = differs(a.gap, b.gap);
    const change = 100 * (b.gap.mean - a.gap.mean);
    if (change < 0) shrinking++;
    x.conclusions.push(`${b.label}: gap ${change <= 0 ? 'shrinks' : 'grows'} by ${Math.abs(change).toFixed(1)} points (${(100 * a.gap.mean).toFixed(1)}% → ${(100 * b.gap.mean).toFixed(1)}%)` +
      (d === null ? '' : d ? ', more than the noise across repeats' : ', within the noise across repeats'));
  }
  x.conclusions.push(`the gap shrank at ${shrinking} of ${arms.length - 1} steps; the last step is ${arms[arms.length - 1].regime}`);
  if (o.repeats === 1) x.notes.push('one run per step: no noise estimate; use --repeats 3 to see which differences exceed the seed-to-seed noise');
  return x.finish();
}
