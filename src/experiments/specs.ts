/** Model-spec surgery for the experiments: the ladder's variants, widths, regularizers. */
import type { LayerSpec, ModelSpec } from '../nn/spec.js';
import { presetSpec } from '../nn/presets.js';

export function preset(name: string, input: number[], classes: number): ModelSpec {
  return presetSpec(name, { input, classes });
}

/** The spec without layers of these types (e.g. dropout). */
export function withoutLayers(spec: ModelSpec, ...types: string[]): ModelSpec {
  return { ...spec, layers: spec.layers.filter((l) => !types.includes(String(l.type))) };
}

/**
 * Each MaxPooling2D replaced by stride 2 in the convolution before it: the same parameters and
 * the same downsampling, without pooling's invariance (the ladder's "no regularization" step).
 */
export function poolsToStrides(spec: ModelSpec): ModelSpec {
  const layers: LayerSpec[] = [];
  for (const l of spec.layers) {
    if (l.type === 'maxPooling2d') {
      const k = layers.map((x) => x.type).lastIndexOf('conv2d');
      if (k >= 0) {
        layers[k] = { ...layers[k], strides: 2 };
        continue;
      }
    }
    layers.push(l);
  }
  return { ...spec, layers };
}

/** A kernel regularizer (and dropout rate) set on every Dense/Conv2D and Dropout layer. */
export function regularized(spec: ModelSpec, r: { l1?: number; l2?: number; dropout?: number }): ModelSpec {
  const layers = spec.layers.map((l) => {
    if ((l.type === 'dense' || l.type === 'conv2d') && (r.l1 || r.l2)) {
      return { ...l, kernelRegularizer: { ...(r.l1 ? { l1: r.l1 } : {}), ...(r.l2 ? { l2: r.l2 } : {}) } };
    }
    if (l.type === 'dropout' && r.dropout !== undefined) return { ...l, rate: r.dropout };
    return l;
  });
  return { ...spec, layers };
}

/** An MLP: Flatten, `depth` hidden Dense(width, relu) layers (each followed by Dropout when asked), softmax. */
export function mlp(input: number[], classes: number, width: number, depth = 1, dropout = 0): ModelSpec {
  const layers: LayerSpec[] = [{ type: 'flatten' }];
  for (let i = 0; i < depth; i++) {
    layers.push({ type: 'dense', units: width, activation: 'relu' });
    if (dropout > 0) layers.push({ type: 'dropout', rate: dropout });
  }
  layers.push({ type: 'dense', units: classes, activation: 'softmax' });
  return { name: `mlp-${depth}x${width}`, input, layers };
}
