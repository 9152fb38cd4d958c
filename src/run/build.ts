/**
 * The host-free pieces of making a run from its configuration, shared by `fitlab train`'s
 * instantiate (run/train-run.ts, which also reads files and writes the run directory) and the
 * static site's Web Worker (site/run.ts): the dataset tools applied to the training split, and
 * the check that a model fits its dataset. No Node module: the site's bundle includes this file.
 */
import type { Dataset, Split } from '../data/dataset.js';
import { extremeCorruption, imbalance, labelNoise, randomLabels, subsetPerClass } from '../data/transforms.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { type DataTools, fieldName, runField } from '../io/run-config.js';
import type { Model } from '../nn/model.js';
import { formatShape } from '../nn/shape.js';

const flagOf = (key: string): string => fieldName(runField(key), 'flag');

/** The training split after the run's dataset tools (subset, imbalance, label noise, random labels, corrupted test copies), in that order. */
export function applyTools(train: Split, tools: DataTools, dataset: Dataset, per: number, seed: number): Split {
  let t = train;
  if (tools.subset !== undefined) t = subsetPerClass(t, tools.subset, dataset.classes, per, seed);
  if (tools.imbalance !== undefined) {
    if (tools.imbalance.length !== dataset.classes) {
      throw new ArgumentError(`${flagOf('tools.imbalance')} needs one ratio per class (${dataset.classes}); received ${tools.imbalance.length}`);
    }
    t = imbalance(t, tools.imbalance, per, seed);
  }
  if (tools.labelNoise !== undefined) t = labelNoise(t, tools.labelNoise, dataset.classes, seed).split;
  if (tools.randomLabels !== undefined) t = randomLabels(t, tools.randomLabels, dataset.classes, seed).split;
  if (tools.corruptTest !== undefined) {
    if (!dataset.test) throw new ArgumentError(`${flagOf('tools.corruptTest')} needs a test split; ${dataset.name} has none`);
    t = extremeCorruption(t, dataset.test, dataset.classes, seed, tools.corruptTest === 'auto' ? undefined : tools.corruptTest).split;
  }
  if (t.y.length === 0) throw new ArgumentError('the dataset tools left no training examples');
  return t;
}

/** A model whose input or output does not fit the dataset: one line naming both shapes. */
export function checkShapes(model: Model, dataset: Dataset): void {
  const a = model.inputShape;
  const b = dataset.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(`the model takes ${formatShape(a)} inputs but ${dataset.name} examples are ${formatShape(b)}`, 'presets adapt automatically; for a spec file, change its "input"');
  }
  if (model.outputSize !== dataset.classes) {
    throw new ShapeError(`the model has ${model.outputSize} outputs but ${dataset.name} has ${dataset.classes} classes`);
  }
}
