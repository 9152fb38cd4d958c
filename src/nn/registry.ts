/** Layer types by spec name (TF.js camelCase) and by Keras class name. */
import { ArgumentError, describe } from '../errors.js';
import type { Layer } from './layer.js';
import { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './layers/augment.js';
import { Activation, Add, Dropout, Flatten, Rescaling } from './layers/basic.js';
import { BatchNormalization } from './layers/batch-norm.js';
import { Conv2D } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from './layers/pooling.js';

type LayerCtor = new (config: never) => Layer;

export const LAYER_TYPES: Record<string, LayerCtor> = {
  dense: Dense,
  conv2d: Conv2D,
  maxPooling2d: MaxPooling2D,
  averagePooling2d: AveragePooling2D,
  globalMaxPooling2d: GlobalMaxPooling2D,
  globalAveragePooling2d: GlobalAveragePooling2D,
  flatten: Flatten,
  activation: Activation,
  dropout: Dropout,
  batchNormalization: BatchNormalization,
  rescaling: Rescaling,
  add: Add,
  randomFlip: RandomFlip,
  randomRotation: RandomRotation,
  randomZoom: RandomZoom,
  randomTranslation: RandomTranslation,
};

export const LAYER_TYPE_NAMES = Object.keys(LAYER_TYPES);

/** Create a layer from its spec type and config (without `type` and `inputs`). */
export function createLayer(type: unknown, config: Record<string, unknown>): Layer {
  if (typeof type !== 'string' || !Object.hasOwn(LAYER_TYPES, type)) {
    const lower = typeof type === 'string' ? LAYER_TYPE_NAMES.find((n) => n.toLowerCase() === type.toLowerCase()) : undefined;
    throw new ArgumentError(
      `type must be one of ${LAYER_TYPE_NAMES.join(', ')}; received ${describe(type)}`,
      lower ? `did you mean '${lower}'?` : undefined,
    );
  }
  const Ctor = LAYER_TYPES[type];
  return new Ctor(config as never);
}
