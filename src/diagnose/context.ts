/**
 * What a run's config.json says about the model and data, for the diagnosis' advice. The config
 * knows the whole model, so here an absent layer is a fact (false), unlike a bare history file,
 * where every such fact stays unknown (undefined) and the advice is conditional.
 */
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

export function contextFromRunConfig(config: Record<string, unknown>): DiagnoseContext {
  const model = config.model as { spec?: { layers?: LayerLike[] }; params?: { total?: number } } | undefined;
  const data = config.dataset as { classes?: number; train?: number; val?: number; trainClassCounts?: number[]; shape?: number[]; name?: string; augment?: unknown } | undefined;
  const training = config.training as { earlyStopping?: number | null; optimizer?: { name?: string; learningRate?: unknown; weightDecay?: number } } | undefined;
  const layers = model?.spec?.layers ?? [];
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
    optimizer: training?.optimizer?.name,
    learningRate: typeof training?.optimizer?.learningRate === 'number' ? training.optimizer.learningRate : undefined,
    ...contextFromSpecLayers(layers),
  };
  if (training?.optimizer?.weightDecay) ctx.hasWeightPenalty = true;
  if (data?.augment) ctx.hasAugmentation = true;
  return ctx;
}
