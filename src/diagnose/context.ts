/**
 * What a run's config.json says about the model and data, for the diagnosis' advice. The config
 * knows the whole model, so here an absent layer is a fact (false), unlike a bare history file,
 * where every such fact stays unknown (undefined) and the advice is conditional.
 */
import type { ResolvedConfig } from '../io/run-config.js';
import type { DiagnoseContext } from './diagnose.js';

interface LayerLike {
  type?: string;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
}

const AUGMENT = new Set(['randomFlip', 'randomRotation', 'randomZoom', 'randomTranslation']);

export function contextFromSpecLayers(layers: LayerLike[]): Pick<DiagnoseContext, 'hasDropout' | 'hasWeightPenalty' | 'hasBatchNorm' | 'hasAugmentation' | 'convolutional'> {
  const reg = (r: unknown): boolean => Boolean(r && typeof r === 'object' && Object.values(r).some((v) => typeof v === 'number' && v > 0));
  return {
    hasDropout: layers.some((l) => l.type === 'dropout'),
    hasWeightPenalty: layers.some((l) => reg(l.kernelRegularizer) || reg(l.biasRegularizer)),
    hasBatchNorm: layers.some((l) => l.type === 'batchNormalization'),
    hasAugmentation: layers.some((l) => AUGMENT.has(l.type ?? '')),
    convolutional: layers.some((l) => l.type === 'conv2d'),
  };
}

/**
 * What the advice reads of config.json. A section or field may be missing (an old or
 * hand-edited file): each is read where present, and an absent one stays unknown.
 */
export type RunConfigView = { [K in 'model' | 'dataset' | 'training']?: Partial<ResolvedConfig[K]> };

export function contextFromRunConfig(config: RunConfigView): DiagnoseContext {
  const model = config.model;
  const data = config.dataset;
  const training = config.training;
  const optimizer = training?.optimizer;
  const layers = (model?.spec?.layers ?? []) as LayerLike[];
  const ctx: DiagnoseContext = {
    classes: data?.classes,
    params: model?.params?.total,
    trainExamples: data?.train,
    // 0 validation examples is a run without validation: the regime says so, no size to weigh
    validationExamples: data?.val ? data.val : undefined,
    classCounts: Array.isArray(data?.trainClassCounts) ? data.trainClassCounts : undefined,
    imageData: Array.isArray(data?.shape) && data.shape.length === 3 && data.shape[0] > 4,
    dataset: data?.name,
    earlyStoppingPatience: training?.earlyStopping ?? null,
    optimizer: typeof optimizer?.name === 'string' ? optimizer.name : undefined,
    learningRate: typeof optimizer?.learningRate === 'number' ? optimizer.learningRate : undefined,
    ...contextFromSpecLayers(layers),
  };
  if (typeof optimizer?.weightDecay === 'number' && optimizer.weightDecay > 0) ctx.hasWeightPenalty = true;
  if (data?.augment) ctx.hasAugmentation = true;
  return ctx;
}
