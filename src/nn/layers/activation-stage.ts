/**
 * The activation after a layer's linear part. relu and linear run fused inside the dense/conv
 * kernels; the others (elu, leaky_relu, sigmoid, tanh, softmax) need the pre-activation z kept
 * for the backward pass. The model strips a final softmax (it is fused into the loss).
 */
import type { Backend, F32, FusedActivation } from '../../backend/backend.js';
import { type ActivationName, activationAlpha } from '../activations.js';
import type { BatchBuffer } from '../layer.js';

export class ActivationStage {
  name: ActivationName;
  constructor(name: ActivationName) {
    this.name = name;
  }

  /** What the main kernel applies in its own pass. */
  get fused(): FusedActivation {
    return this.name === 'relu' ? 'relu' : 'linear';
  }

  /** True when a separate activation pass (and a pre-activation buffer) is needed. */
  get separate(): boolean {
    return this.name !== 'relu' && this.name !== 'linear';
  }

  /** y = act(z) for the separate kinds; rows×cols for softmax. */
  forward(backend: Backend, y: F32, z: F32, rows: number, cols: number): void {
    if (this.name === 'softmax') backend.softmaxForward(y, z, rows, cols);
    else backend.activationForward(this.name, y, z, activationAlpha(this.name));
  }

  /** dz = dy·act'(z) for the separate kinds. */
  backward(backend: Backend, dz: F32, dy: F32, z: F32, y: F32, rows: number, cols: number): void {
    if (this.name === 'softmax') backend.softmaxBackward(dz, dy, y, rows, cols);
    else backend.activationBackward(this.name, dz, dy, z, y, activationAlpha(this.name));
  }
}

/** Buffers a layer with a separate activation needs: z (pre-activation) and dz. */
export interface StageBuffers {
  z: BatchBuffer | null;
  dz: BatchBuffer | null;
}
