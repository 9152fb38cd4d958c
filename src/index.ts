/**
 * fitlab's library API.
 *
 * @example
 * ```ts
 * import { loadDataset, modelFromSpec, presetSpec, LossHead, createOptimizer, Trainer, diagnose } from 'fitlab';
 * const data = loadDataset('spirals');
 * const model = modelFromSpec(presetSpec('paper-mlp', { input: data.shape, classes: data.classes }));
 * ```
 */
export { type Backend, type BackendName, createBackend, getBackend, setBackend } from './backend/index.js';
export { convGeometry, poolGeometry } from './backend/geometry.js';
export { ArgumentError, BackendError, FitlabError, ShapeError } from './errors.js';
export { RandomStream } from './tensor/prng.js';

export { type Dataset, type Split, classCounts, concat, describeDataset, take } from './data/dataset.js';
export { KNOWN_DATASETS, loadDataset, searchRoots } from './data/locate.js';
export { applyVal, parseVal, stratifiedSplit } from './data/splits.js';
export { SYNTHETIC_2D, synthetic2d, syntheticShapes } from './data/synthetic.js';

export { Layer, type Param } from './nn/layer.js';
export { Dense } from './nn/layers/dense.js';
export { Conv2D } from './nn/layers/conv2d.js';
export { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from './nn/layers/pooling.js';
export { Activation, Add, Dropout, Flatten, Rescaling } from './nn/layers/basic.js';
export { BatchNormalization } from './nn/layers/batch-norm.js';
export { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './nn/layers/augment.js';
export { Model, sequential } from './nn/model.js';
export { type LayerSpec, type ModelSpec, modelFromSpec, modelToSpec } from './nn/spec.js';
export { PRESETS, PRESET_NAMES, presetSpec } from './nn/presets.js';
export { summary } from './nn/summary.js';
export { LossHead, parseLoss } from './nn/losses.js';
export { ConfusionMatrix, argmaxRows } from './nn/metrics.js';

export { Adam, AdamW, Nadam, Optimizer, RMSprop, SGD, createOptimizer } from './optim/optimizers.js';
export { type LearningRateSchedule, scheduleValue } from './optim/schedules.js';

export { Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN } from './train/callbacks.js';
export { type FitOptions, type FitResult, Trainer, type TrainingState } from './train/fit.js';
export { type EpochLog, History } from './train/history.js';

export { type Diagnosis, type DiagnoseContext, diagnose, earlyStoppingCounterfactual } from './diagnose/diagnose.js';
export { loadHistory } from './diagnose/read.js';

export { modelFromTfjs, modelToTfjs, readTfjs, saveTfjs } from './io/tfjs.js';
export { loadCheckpoint, saveCheckpoint } from './io/run-dir.js';
export { type TrainRunConfig, type TrainRunResult, resumeRun, trainRun } from './run/train-run.js';
