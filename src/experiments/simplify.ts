/**
 * Overfit, then simplify (the article's arc): an MLP that underfits, a CNN that truly overfits,
 * the simplified and regularized CNN that generalizes; then a harder task (CIFAR-100, or a
 * CIFAR-10 subset of 100 per class when it is absent) where simplifying alone is not enough and
 * augmentation is needed. And the capacity check: can a model overfit one batch?
 */
import { loadDataset } from '../data/locate.js';
import { ArgumentError } from '../errors.js';
import type { TrainRunConfig } from '../run/train-run.js';
import { armCurves, dataFacts, fmtInt } from './common.js';
import { Experiment, type ExperimentOptions } from './experiment.js';
import { PALETTE, lineChart } from '../diagnose/svg.js';
import { preset } from './specs.js';

export async function simplify(o: ExperimentOptions): Promise<Record<string, unknown>> {
  const small = o.scale === 'small';
  const dataset = o.dataset ?? 'cifar10';
  const facts = await dataFacts(dataset, o);
  const subset = o.subset ?? (small ? 300 : undefined);
  const epochs = o.epochs ?? (small ? 12 : 40);
  const base = { dataset, epochs, batchSize: 64, val: small ? '0.04' : '0.1', tools: subset ? { subset } : undefined, checkpoint: 'none' as const };
  // the harder task: CIFAR-100 when it is there, else far fewer examples of the same classes
  let hard = { dataset, subset: 100, label: `${facts.name}, 100 per class` };
  try {
    await loadDataset('cifar100', { dataDir: o.dataDir });
    hard = { dataset: 'cifar100', subset: small ? 50 : 500, label: `cifar100, ${small ? 50 : 500} per class` };
  } catch {
    // absent: the subset task stands in for it (said in the report)
  }
  const hardFacts = hard.dataset === dataset ? facts : await dataFacts(hard.dataset, o);
  const hardEpochs = o.epochs ?? (small ? 25 : 60);
  const trainN = subset ? subset * facts.classes : Math.round(facts.train * 0.9);
  const x = new Experiment('simplify', 'Overfit, then simplify', `${facts.name}, ${fmtInt(trainN)} training images, ${epochs} epochs (harder task: ${hard.label}, ${hardEpochs} epochs); mlp-cifar (Nadam 1e-4) → overfit-cnn → simplified-cnn → + augmentation`, o, 5 * o.repeats);
  const arms: [string, Partial<TrainRunConfig>][] = [
    ['mlp-cifar (underfits)', { model: 'mlp-cifar', modelSpec: preset('mlp-cifar', facts.shape, facts.classes), optimizer: { name: 'nadam', learningRate: 1e-4 } }],
    ['overfit-cnn (overfits)', { model: 'overfit-cnn', modelSpec: preset('overfit-cnn', facts.shape, facts.classes), optimizer: 'adam' }],
    ['simplified-cnn', { model: 'simplified-cnn', modelSpec: preset('simplified-cnn', facts.shape, facts.classes), optimizer: 'adam' }],
  ];
  const hardBase = { dataset: hard.dataset, epochs: hardEpochs, batchSize: 64, val: base.val, tools: { subset: hard.subset }, checkpoint: 'none' as const, optimizer: 'adam' };
  const hs = preset('simplified-cnn', hardFacts.shape, hardFacts.classes);
  // the five arms are independent: through a queue they train side by side
  await x.armsTogether([
    ...arms.map(([label, cfg]) => ({ label, config: { ...base, ...cfg } as TrainRunConfig })),
    { label: `harder task: simplified-cnn`, config: { ...hardBase, model: 'simplified-cnn', modelSpec: hs } },
    { label: `harder task: simplified-cnn + augmentation`, config: { ...hardBase, model: 'simplified-cnn', modelSpec: hs, augment: hard.dataset === 'cifar100' ? 'cifar10' : 'auto' } },
  ]);
  armCurves(x, x.arms.slice(0, 3));
  const [mlpArm, overArm, simpArm, hardPlain, hardAug] = x.arms;
  x.conclusions.push(`mlp-cifar: ${mlpArm.regime}, training accuracy only ${(100 * mlpArm.finalTrain.mean).toFixed(1)}%`);
  x.conclusions.push(`overfit-cnn: ${overArm.regime}, training ${(100 * overArm.finalTrain.mean).toFixed(1)}% vs validation ${(100 * overArm.finalVal.mean).toFixed(1)}% (gap ${(100 * overArm.gap.mean).toFixed(1)} points)`);
  x.conclusions.push(`simplified-cnn: ${simpArm.regime}, gap ${(100 * simpArm.gap.mean).toFixed(1)} points, best validation ${(100 * simpArm.bestVal.mean).toFixed(1)}% (overfit-cnn: ${(100 * overArm.bestVal.mean).toFixed(1)}%)`);
  x.conclusions.push(`harder task (${hard.label}): simplified-cnn alone ${hardPlain.regime} with gap ${(100 * hardPlain.gap.mean).toFixed(1)} points and best validation ${(100 * hardPlain.bestVal.mean).toFixed(1)}%; with augmentation gap ${(100 * hardAug.gap.mean).toFixed(1)} points, best validation ${(100 * hardAug.bestVal.mean).toFixed(1)}%`);
  if (hard.dataset !== 'cifar100') x.notes.push('CIFAR-100 was not found (fitlab data import … --name cifar100), so the harder task is CIFAR-10 with 100 examples per class');
  return x.finish();
}

export interface OverfitBatchOptions {
  examples: number;
  steps: number;
  target: number;
  lr?: number;
}

/**
 * The capacity check, first step of a sane training recipe: train on a handful of examples
 * (one batch) with no regularization tricks removed and see whether training accuracy reaches
 * ~100%. A model (or pipeline) that cannot memorize one batch has a bug or too little capacity.
 */
/** The exit code of `fitlab experiment overfit-batch` when the model fails to memorize. */
export const OVERFIT_BATCH_FAILED = 4;

export async function overfitBatch(o: ExperimentOptions, b: OverfitBatchOptions): Promise<Record<string, unknown>> {
  if (!(b.target > 0 && b.target <= 1)) throw new ArgumentError(`--target must be a fraction in (0, 1]; received ${b.target}`);
  const dataset = o.dataset ?? 'cifar10';
  const model = o.model ?? 'lecture-cnn';
  const facts = await dataFacts(dataset, o);
  const perClass = Math.max(1, Math.ceil(b.examples / facts.classes));
  const n = perClass * facts.classes;
  const batch = Math.min(n, 64);
  const perEpoch = Math.ceil(n / batch);
  const epochs = o.epochs ?? Math.max(1, Math.ceil(b.steps / perEpoch));
  const x = new Experiment('overfit-batch', `Can ${model} overfit ${n} examples?`, `${facts.name}, ${n} training examples (${perClass} per class), batch ${batch}, ${epochs * perEpoch} steps of Adam ${b.lr ?? 1e-3}; pass when training accuracy (inference mode) reaches ${(100 * b.target).toFixed(0)}%`, o, o.repeats);
  const spec = preset(model, facts.shape, facts.classes);
  const arm = await x.arm(model, {
    model, modelSpec: spec, dataset, epochs, batchSize: batch, optimizer: 'adam', lr: b.lr, val: '0', tools: { subset: perClass }, checkpoint: 'none',
  }, {
    // memorization is measured on the training examples with dropout off
    measure: (ctx) => ctx.trainer.evaluate(ctx.train, ctx.dataset.scale),
    // no validation or test data here: a regime ("healthy") or a test accuracy would mean nothing
    describe: (r) => `training accuracy ${(100 * (r.measured.accuracy as number)).toFixed(1)}% in inference mode, loss ${(r.measured.loss as number).toPrecision(3)}`,
  });
  const reached = arm.runs.map((r) => r.measured.accuracy as number);
  const losses = arm.runs.map((r) => r.measured.loss as number);
  const worst = Math.min(...reached);
  const pass = worst >= b.target;
  const verdict = pass
    ? `PASS: ${model} memorized ${n} examples (training accuracy ${(100 * worst).toFixed(1)}% in inference mode, loss ${Math.max(...losses).toPrecision(3)}): it has the capacity to overfit, so regularize from here`
    : `FAIL: ${model} reached only ${(100 * worst).toFixed(1)}% training accuracy on ${n} examples after ${epochs * perEpoch} steps (target ${(100 * b.target).toFixed(0)}%). ` +
      'A model that cannot memorize one batch has too little capacity for the task, or something is broken (labels, loss, input scaling, learning rate): fix that before any regularization';
  x.conclusions.push(verdict);
  x.table = { header: ['model', 'examples', 'steps', 'training accuracy (inference)', 'training loss', 'verdict'], rows: reached.map((a, i) => [model, String(n), String(epochs * perEpoch), `${(100 * a).toFixed(1)}%`, losses[i].toPrecision(3), a >= b.target ? 'pass' : 'fail']) };
  // the table above is the verdict's evidence (the page prints it once); the curve shows how fast it got there
  // a log axis once the loss falls by more than 10× (a memorizing model: 2.3 → 0.001), linear otherwise
  const all = arm.runs.flatMap((r) => r.history.map((e) => e.loss)).filter((v) => Number.isFinite(v) && v > 0);
  const logY = all.length > 0 && Math.max(...all) > 10 * Math.min(...all);
  x.chart('loss', 'Training loss', lineChart(arm.runs.map((r, i) => ({
    label: arm.runs.length > 1 ? `seed ${r.seed}` : 'training loss', values: r.history.map((e) => e.loss), color: PALETTE[i % PALETTE.length], dots: r.history.length <= 40,
  })), { title: `Training loss on the ${n} examples${logY ? ' (log scale)' : ''}`, xLabel: 'epoch', yLabel: 'loss', logY }));
  // `pass` is the verdict; the command turns a fail into exit code 4 (OVERFIT_BATCH_FAILED)
  return x.finish({ pass, verdict, trainingAccuracy: reached, trainingLoss: losses, examples: n });
}

