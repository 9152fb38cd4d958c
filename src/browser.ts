/**
 * fitlab's library in a browser: the floors below `run` that a page needs, with no Node module
 * (scripts/build-browser.cjs bundles this file with esbuild for platform 'browser' and fails
 * on any Node built-in). Where a module of those floors needs the host, a `.browser.ts` twin
 * beside it takes its place in the bundle: backend/index (no addon, no environment),
 * nn/host (memory), data/pipeline (batches on the calling thread).
 *
 * The page makes the wasm backend from the module's bytes and sets it:
 * `setBackend(createWasmBackendFrom(await instantiateWasmKernelsAsync(bytes)))`.
 */
export * from './errors.js';

export { RandomStream, type StreamState } from './tensor/prng.js';
export { DEFAULT_SEED, STREAMS } from './tensor/streams.js';
export * as affine from './tensor/affine.js';

export type { Backend, BackendName, F32, I32, Kernels } from './backend/backend.js';
export { KERNEL_NAMES, KERNEL_TABLE } from './backend/kernels.js';
export { createBackend, getBackend, setBackend } from './backend/index.js';
export { createReferenceBackend } from './backend/reference/index.js';
export { type WasmBackend, createWasmBackendFrom, instantiateWasmKernels, instantiateWasmKernelsAsync } from './backend/wasm/core.js';
// threads when the page is cross-origin isolated, one otherwise, with the reason (backend/wasm/threads.ts)
export {
  type SpawnWorker, type ThreadedWasmBackend, type WasmAutoChoice, type WasmAutoOptions, type WorkerLike, type WorkerMessage,
  WASM_WORKER_SOURCE, browserSpawn, createThreadedWasmBackend, createWasmBackendAuto, wasmThreadsUnavailable,
} from './backend/wasm/threads.js';
export { convGeometry, poolGeometry } from './backend/geometry.js';

export { type Dataset, type Split, classCounts, concat, describeDataset, take } from './data/dataset.js';
export { applyVal, parseVal, stratifiedSplit } from './data/splits.js';
export { SYNTHETIC_2D, synthetic2d, syntheticShapes } from './data/synthetic.js';
export { extremeCorruption, imbalance, labelNoise, randomLabels, subsetPerClass } from './data/transforms.js';
export { AUGMENT_PRESETS, type AugmentSpec, augmentBatch, parseAugment } from './data/augment.js';
export { type IdxBytes, type ImageZipOptions, ZIP_LIMITS, type ZipLimits, datasetFromCifarBinary, datasetFromIdx, datasetFromIdxSplits, datasetFromImageZip, decodeImageBytes } from './data/from-bytes.js';
export type { RgbaImage } from './data/image-decode.js';
export { Adam, AdamW, Nadam, Optimizer, RMSprop, SGD, createOptimizer } from './optim/optimizers.js';
export { type LearningRateSchedule, scheduleValue } from './optim/schedules.js';

export { Layer, type Param } from './nn/layer.js';
export { Model, sequential } from './nn/model.js';
export { type LayerSpec, type ModelSpec, modelFromSpec, modelToSpec } from './nn/spec.js';
export { PRESETS, PRESET_NAMES, presetSpec } from './nn/presets.js';
export { LAYER_TYPE_NAMES, createLayer } from './nn/registry.js';
export { summary } from './nn/summary.js';
export { LossHead, parseLoss } from './nn/losses.js';
export { ConfusionMatrix, argmaxRows } from './nn/metrics.js';
export { estimateMemory } from './nn/memory.js';

export { Callback, EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN } from './train/callbacks.js';
export { type FitOptions, type FitResult, Trainer, type TrainingState } from './train/fit.js';
export { type EpochLog, History } from './train/history.js';

export { type TfjsDownload, tfjsArtifacts } from './io/tfjs-artifacts.js';

export { type Diagnosis, type DiagnoseContext, diagnose, earlyStoppingCounterfactual } from './diagnose/diagnose.js';
export { accuracyChart, gapChart, lossChart } from './diagnose/plots.js';
export { renderReport } from './diagnose/report.js';
export { WeightTracker } from './diagnose/weights.js';
