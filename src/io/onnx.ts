/**
 * ONNX export (opset 13, IR version 7) of a fitlab model, for inference.
 *
 * Layout: fitlab is NHWC, ONNX's Conv/pooling/BatchNormalization are NCHW. The graph keeps the
 * user-facing input and output NHWC (as fitlab's own), and inserts ONE Transpose after the input
 * (NHWC → NCHW, perm 0,3,1,2); every 4-D tensor inside is NCHW; Conv kernels are exported
 * transposed from HWIO to OIHW. Where a 4-D tensor is flattened (Flatten before Dense), it is
 * transposed back to NHWC first, so Dense kernels keep fitlab's row order unchanged; a 4-D model
 * output is transposed back too. Augmentation layers and Dropout are identity at inference and
 * are left out; activations become their ONNX operators (LeakyRelu alpha 0.2, Elu alpha 1.0).
 */
import { ArgumentError, describe } from '../errors.js';
import type { Model } from '../nn/model.js';
import { MODEL_INPUT } from '../nn/model.js';
import type { LayerSpec } from '../nn/spec.js';
import { packageVersion } from '../util/paths.js';
import { writeUserFile } from './atomic.js';
import { ATTR, DTYPE, encodeModel } from './onnx-proto.js';
import { inferenceSpec } from './tfjs.js';

export const ONNX_OPSET = 13;

type Attr = Record<string, unknown>;
interface Node { opType: string; input: string[]; output: string[]; name: string; attribute: Attr[] }
interface Tensor { name: string; dims: number[]; dataType: number; rawData: Uint8Array }

const ints = (name: string, v: number[]): Attr => ({ name, ints: v, type: ATTR.INTS });
const int = (name: string, v: number): Attr => ({ name, i: v, type: ATTR.INT });
const float = (name: string, v: number): Attr => ({ name, f: v, type: ATTR.FLOAT });

function floatTensor(name: string, dims: number[], values: Float32Array): Tensor {
  return { name, dims, dataType: DTYPE.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

/** HWIO [kh, kw, c, f] → OIHW [f, c, kh, kw]. */
function hwioToOihw(w: Float32Array, [kh, kw, c, f]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) for (let o = 0; o < f; o++) {
    out[((o * c + i) * kh + y) * kw + x] = w[((y * kw + x) * c + i) * f + o];
  }
  return out;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)]);

/** ONNX pads [top, left, bottom, right] for fitlab's 'same'/'valid' (extra pixel bottom/right). */
function padsFor(h: number, w: number, k: [number, number], s: [number, number], padding: unknown): number[] {
  if (padding !== 'same') return [0, 0, 0, 0];
  const axis = (size: number, kk: number, ss: number): [number, number] => {
    const out = Math.ceil(size / ss);
    const total = Math.max((out - 1) * ss + kk - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [t, b] = axis(h, k[0], s[0]);
  const [l, r] = axis(w, k[1], s[1]);
  return [t, l, b, r];
}

class GraphBuilder {
  nodes: Node[] = [];
  inits: Tensor[] = [];
  private count = 0;
  /** tensors held NCHW (4-D inside the graph) */
  nchw = new Set<string>();

  add(opType: string, input: string[], attribute: Attr[] = [], hint = opType.toLowerCase()): string {
    const out = `${hint}_${this.count++}`;
    this.nodes.push({ opType, input, output: [out], name: out, attribute });
    return out;
  }

  const(name: string, dims: number[], values: Float32Array): string {
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  /** A 2-D (flattenable) NHWC view of a tensor that may be NCHW. */
  toNhwc(t: string): string {
    return this.nchw.has(t) ? this.add('Transpose', [t], [ints('perm', [0, 2, 3, 1])], 'to_nhwc') : t;
  }

  activation(x: string, name: unknown, where: string): string {
    switch (name) {
      case undefined: case null: case 'linear': return x;
      case 'relu': return this.add('Relu', [x]);
      case 'elu': return this.add('Elu', [x], [float('alpha', 1)]);
      case 'leaky_relu': return this.add('LeakyRelu', [x], [float('alpha', 0.2)]);
      case 'sigmoid': return this.add('Sigmoid', [x]);
      case 'tanh': return this.add('Tanh', [x]);
      case 'softmax': return this.add('Softmax', [this.nchw.has(x) ? this.toNhwc(x) : x], [int('axis', -1)]);
      default: throw new ArgumentError(`${where}: activation ${describe(name)} has no ONNX export`);
    }
  }
}

const AUGMENT = new Set(['randomFlip', 'randomRotation', 'randomZoom', 'randomTranslation']);

/** Build the ONNX ModelProto (plain object) of a model. */
export function modelToOnnx(model: Model): Record<string, unknown> {
  const spec = inferenceSpec(model);
  const weights = new Map(model.params().map((p) => [p.name, { value: p.value, shape: p.shape }]));
  const layerOf = new Map(model.layers.map((l) => [l.name, l]));
  const g = new GraphBuilder();
  const input = 'input';
  const first = g.add('Transpose', [input], [ints('perm', [0, 3, 1, 2])], 'to_nchw');
  const is4d = spec.input.length === 3;
  if (is4d) g.nchw.add(first);
  const tensorOf = new Map<string, string>([[MODEL_INPUT, is4d ? first : input]]);
  if (!is4d) g.nodes.pop();
  let last = tensorOf.get(MODEL_INPUT)!;
  for (const l of spec.layers) {
    const ins = (l.inputs ?? []).map((r) => tensorOf.get(r)!);
    last = exportLayer(g, l, ins, weights, layerOf.get(l.name as string)?.inputShapes[0] ?? []);
    tensorOf.set(l.name as string, last);
  }
  const outName = g.nchw.has(last) ? g.toNhwc(last) : last;
  const output = g.add('Identity', [outName], [], 'output');
  const dims = (shape: readonly number[]): Record<string, unknown>[] => [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))];
  const valueInfo = (name: string, shape: readonly number[]): Record<string, unknown> => ({ name, type: { tensorType: { elemType: DTYPE.FLOAT, shape: { dim: dims(shape) } } } });
  const outShape = model.layers[model.layers.length - 1].outputShape;
  return {
    irVersion: 7,
    producerName: 'fitlab',
    producerVersion: packageVersion(),
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: spec.name ?? 'model',
      node: g.nodes,
      initializer: g.inits,
      input: [valueInfo(input, spec.input)],
      output: [valueInfo(output, outShape)],
      docString: 'exported by fitlab; input and output are NHWC like fitlab and Keras (channels last)',
    },
  };
}

function exportLayer(g: GraphBuilder, l: LayerSpec, ins: string[], weights: Map<string, { value: Float32Array; shape: readonly number[] }>, inShape: readonly number[]): string {
  const s = l as Record<string, unknown>;
  const name = l.name as string;
  const where = `layer '${name}'`;
  const w = (k: string): { value: Float32Array; shape: readonly number[] } | undefined => weights.get(`${name}/${k}`);
  const x = ins[0];
  const keep4d = (t: string): string => {
    g.nchw.add(t);
    return t;
  };
  const [h, wd] = inShape; // per-example shape (no batch axis)
  switch (l.type) {
    case 'dense': {
      const kernel = w('kernel')!;
      const flat = g.nchw.has(x) ? g.add('Flatten', [g.toNhwc(x)], [int('axis', 1)]) : x;
      const bias = w('bias');
      const inputs = [flat, g.const(`${name}.kernel`, [...kernel.shape], kernel.value)];
      if (bias) inputs.push(g.const(`${name}.bias`, [...bias.shape], bias.value));
      return g.activation(g.add('Gemm', inputs, [], 'gemm'), s.activation, where);
    }
    case 'conv2d': {
      const kernel = w('kernel')!;
      const k = pair(s.kernelSize);
      const st = pair(s.strides ?? 1);
      const inputs = [x, g.const(`${name}.kernel`, [kernel.shape[3], kernel.shape[2], kernel.shape[0], kernel.shape[1]], hwioToOihw(kernel.value, kernel.shape))];
      const bias = w('bias');
      if (bias) inputs.push(g.const(`${name}.bias`, [...bias.shape], bias.value));
      const conv = keep4d(g.add('Conv', inputs, [ints('kernel_shape', k), ints('strides', st), ints('pads', padsFor(h, wd, k, st, s.padding)), ints('dilations', [1, 1])]));
      const y = g.activation(conv, s.activation, where);
      if (s.activation !== 'softmax') g.nchw.add(y);
      return y;
    }
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const k = pair(s.poolSize ?? 2);
      const st = pair(s.strides ?? s.poolSize ?? 2);
      const attrs = [ints('kernel_shape', k), ints('strides', st), ints('pads', padsFor(h, wd, k, st, s.padding))];
      if (l.type === 'averagePooling2d') attrs.push(int('count_include_pad', 0));
      return keep4d(g.add(l.type === 'maxPooling2d' ? 'MaxPool' : 'AveragePool', [x], attrs));
    }
    case 'globalMaxPooling2d':
    case 'globalAveragePooling2d': {
      const pooled = keep4d(g.add(l.type === 'globalMaxPooling2d' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x]));
      if (s.keepdims) return pooled;
      return g.add('Flatten', [pooled], [int('axis', 1)]);
    }
    case 'flatten':
      return g.add('Flatten', [g.toNhwc(x)], [int('axis', 1)]);
    case 'activation': {
      const y = g.activation(x, s.activation, where);
      if (g.nchw.has(x) && s.activation !== 'softmax') g.nchw.add(y);
      return y;
    }
    case 'dropout':
      return x;
    case 'batchNormalization': {
      const mean = w('moving_mean')!;
      const c = mean.shape[0];
      const gamma = w('gamma')?.value ?? new Float32Array(c).fill(1);
      const beta = w('beta')?.value ?? new Float32Array(c);
      const inputs = [x, g.const(`${name}.gamma`, [c], gamma), g.const(`${name}.beta`, [c], beta), g.const(`${name}.moving_mean`, [c], mean.value), g.const(`${name}.moving_variance`, [c], w('moving_variance')!.value)];
      // ONNX normalizes axis 1: the channels of an NCHW tensor, the features of an [N, C] one
      const y = g.add('BatchNormalization', inputs, [float('epsilon', Number(s.epsilon ?? 1e-3))]);
      return g.nchw.has(x) ? keep4d(y) : y;
    }
    case 'rescaling': {
      const scaled = g.add('Mul', [x, g.const(`${name}.scale`, [], Float32Array.of(Number(s.scale ?? 1)))]);
      const y = g.add('Add', [scaled, g.const(`${name}.offset`, [], Float32Array.of(Number(s.offset ?? 0)))]);
      if (g.nchw.has(x)) g.nchw.add(y);
      return y;
    }
    case 'add': {
      let y = ins[0];
      for (const other of ins.slice(1)) y = g.add('Add', [y, other]);
      if (ins.every((t) => g.nchw.has(t))) g.nchw.add(y);
      else if (ins.some((t) => g.nchw.has(t))) throw new ArgumentError(`${where}: Add of 4-D and flat tensors has no ONNX export`);
      return y;
    }
    default:
      if (AUGMENT.has(l.type)) return x;
      throw new ArgumentError(`${where}: layers of type ${describe(l.type)} have no ONNX export`);
  }
}

/** Write `model` as an ONNX file the user named (an existing file only with --force). */
export function saveOnnx(model: Model, path: string, opts: { force?: boolean } = {}): number {
  const bytes = encodeModel(modelToOnnx(model));
  writeUserFile(path, bytes, { force: opts.force, label: '--out' });
  return bytes.length;
}
