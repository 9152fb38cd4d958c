/**
 * Training-only augmentation layers with Keras factor semantics: identity at inference, a fresh
 * random transform per image and step in training. Parameters are drawn from the layer's own
 * seeded stream (separate from applying the transform, so both are testable), then the affine
 * warp (the backend's affineWarp, maps from src/tensor/affine.ts) applies them.
 *
 * - RandomFlip(mode): 'horizontal' | 'vertical' | 'horizontal_and_vertical', each axis with p=½
 * - RandomRotation(factor): angle uniform in factor·2π (a number f means [−f, f]); positive is
 *   counter-clockwise
 * - RandomZoom(heightFactor, widthFactor): positive zooms out, negative in; widthFactor omitted
 *   keeps the aspect ratio
 * - RandomTranslation(heightFactor, widthFactor): fractions of the size; positive moves down/right
 */
import { type Backend, type F32, FILL_MODES, type FillMode, INTERPOLATIONS, type Interpolation } from '../../backend/backend.js';
import { type Affine, IDENTITY, flip, rotation, translation, zoom } from '../../tensor/affine.js';
import { LayerConfigReader } from '../config.js';
import { type BatchBuffer, type BuildContext, type CommonLayerConfig, Layer, layerStream } from '../layer.js';
import type { Shape } from '../shape.js';

export interface AugmentConfig extends CommonLayerConfig {
  seed?: number;
  fillMode?: FillMode;
  fillValue?: number;
  interpolation?: Interpolation;
}

abstract class AugmentLayer extends Layer {
  readonly seed: number | undefined;
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly interpolation: Interpolation;
  private y!: BatchBuffer;
  /** 6 numbers per image of the batch: the sampled inverse maps */
  private matrices = new Float64Array(0);
  private h = 0;
  private w = 0;
  private c = 0;

  /** The config reader, open until the subclass has read its own fields and called finish(). */
  protected reader: LayerConfigReader | null;

  constructor(type: string, config: AugmentConfig, withFill = true) {
    super(type, config);
    const r = new LayerConfigReader(config as unknown as Record<string, unknown>, `${type}${config.name ? ` '${config.name}'` : ''}`);
    this.reader = r;
    r.accept('name', 'trainable');
    this.seed = r.has('seed') ? r.int('seed', { min: 0 }) : (r.accept('seed'), undefined);
    if (withFill) {
      this.fillMode = r.oneOf('fillMode', FILL_MODES, 'reflect');
      this.fillValue = r.number('fillValue', { default: 0 });
      this.interpolation = r.oneOf('interpolation', INTERPOLATIONS, 'bilinear');
    } else {
      this.fillMode = 'reflect';
      this.fillValue = 0;
      this.interpolation = 'nearest';
    }
  }

  /** Subclasses read their own fields from `this.reader`, then call finish() (unknown fields fail). */
  protected finish(): void {
    this.reader?.done();
    this.reader = null;
  }

  protected get r(): LayerConfigReader {
    return this.reader as LayerConfigReader;
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    [this.h, this.w, this.c] = this.singleInput(inputs, 3, 'images (height, width, channels)');
    return [...inputs[0]];
  }

  override build(ctx: BuildContext): void {
    this.rng = layerStream(this.seed ?? ctx.seed, 'augmentLayer', this.index);
  }

  override allocate(maxBatch: number, backend: Backend): void {
    super.allocate(maxBatch, backend);
    this.y = this.floatBuffer(this.h * this.w * this.c);
    this.matrices = new Float64Array(maxBatch * 6);
  }

  /** Draw one image's transform (output → input map). */
  abstract sample(h: number, w: number): Affine;

  forward([x]: F32[], training: boolean): F32 {
    if (!training) return x;
    // parameters first (seeded, per image), then one kernel call applies them all
    for (let i = 0; i < this.batch; i++) this.matrices.set(this.sample(this.h, this.w), i * 6);
    const m = this.batch * 6 === this.matrices.length ? this.matrices : this.matrices.subarray(0, this.batch * 6);
    this.backend.affineWarp(this.y.data, x, m, this.batch, this.h, this.w, this.c, this.fillMode, this.fillValue, this.interpolation);
    return this.y.data;
  }

  /** Augmentation sits on the data: no gradient flows into the images. */
  backward(_dy: F32): (F32 | null)[] {
    return [null];
  }

  protected uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * (this.rng as NonNullable<typeof this.rng>).uniform();
  }

  protected baseConfig(): Record<string, unknown> {
    return {
      type: this.type, name: this.name, ...(this.seed !== undefined ? { seed: this.seed } : {}),
      fillMode: this.fillMode, fillValue: this.fillValue, interpolation: this.interpolation,
    };
  }
}

export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

export class RandomFlip extends AugmentLayer {
  readonly mode: FlipMode;
  constructor(config: AugmentConfig & { mode?: FlipMode } = {}) {
    super('randomFlip', config, false);
    this.mode = this.r.oneOf('mode', ['horizontal', 'vertical', 'horizontal_and_vertical'] as const, 'horizontal_and_vertical');
    this.finish();
  }
  get className(): string {
    return 'RandomFlip';
  }
  sample(h: number, w: number): Affine {
    const hz = this.mode !== 'vertical' && this.uniform(0, 1) < 0.5;
    const vt = this.mode !== 'horizontal' && this.uniform(0, 1) < 0.5;
    return hz || vt ? flip(hz, vt, h, w) : IDENTITY;
  }
  getConfig(): Record<string, unknown> {
    return { type: this.type, name: this.name, mode: this.mode, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

export class RandomRotation extends AugmentLayer {
  readonly factor: [number, number];
  constructor(config: AugmentConfig & { factor: number | [number, number] }) {
    super('randomRotation', config);
    this.factor = this.r.range('factor', { required: true, min: -1, max: 1 }) as [number, number];
    this.finish();
  }
  get className(): string {
    return 'RandomRotation';
  }
  sample(h: number, w: number): Affine {
    return rotation(this.uniform(this.factor[0], this.factor[1]) * 2 * Math.PI, h, w);
  }
  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), factor: [...this.factor] };
  }
}

export class RandomZoom extends AugmentLayer {
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number] | null;
  constructor(config: AugmentConfig & { heightFactor: number | [number, number]; widthFactor?: number | [number, number] }) {
    super('randomZoom', config);
    this.heightFactor = this.r.range('heightFactor', { required: true, min: -1 }) as [number, number];
    this.widthFactor = this.r.range('widthFactor', { min: -1 });
    this.finish();
  }
  get className(): string {
    return 'RandomZoom';
  }
  sample(h: number, w: number): Affine {
    const zy = 1 + this.uniform(this.heightFactor[0], this.heightFactor[1]);
    const zx = this.widthFactor ? 1 + this.uniform(this.widthFactor[0], this.widthFactor[1]) : zy;
    return zoom(zy, zx, h, w);
  }
  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), heightFactor: [...this.heightFactor], ...(this.widthFactor ? { widthFactor: [...this.widthFactor] } : {}) };
  }
}

export class RandomTranslation extends AugmentLayer {
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];
  constructor(config: AugmentConfig & { heightFactor: number | [number, number]; widthFactor: number | [number, number] }) {
    super('randomTranslation', config);
    this.heightFactor = this.r.range('heightFactor', { required: true, min: -1, max: 1 }) as [number, number];
    this.widthFactor = this.r.range('widthFactor', { required: true, min: -1, max: 1 }) as [number, number];
    this.finish();
  }
  get className(): string {
    return 'RandomTranslation';
  }
  sample(h: number, w: number): Affine {
    return translation(this.uniform(this.heightFactor[0], this.heightFactor[1]) * h, this.uniform(this.widthFactor[0], this.widthFactor[1]) * w);
  }
  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), heightFactor: [...this.heightFactor], widthFactor: [...this.widthFactor] };
  }
}
