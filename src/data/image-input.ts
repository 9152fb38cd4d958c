/**
 * A decoded picture → one model input example (height × width × channels, pixel values 0–255,
 * NHWC as every dataset here): the user's own photos and drawings come in any size and colour.
 *
 *  - colour: an RGB picture for a 1-channel model becomes luma Y = 0.299 R + 0.587 G + 0.114 B
 *    (ITU-R BT.601, what PIL's convert('L') computes); a gray picture for a 3-channel model is
 *    copied into R, G and B. PNG alpha is already dropped by the decoder.
 *  - size: shrinking averages the source pixels under each output pixel (an area / box filter,
 *    so thin strokes are not lost between samples); enlarging interpolates bilinearly with pixel
 *    centres at +0.5 (half-pixel centres, as TF's resize_bilinear(half_pixel_centers=True)).
 *    The aspect ratio is not kept: the picture is stretched to the model's input, as Keras'
 *    image_dataset_from_directory does by default.
 */
import type { DecodedImage } from './images.js';

/** Convert the picture's channels to `channels` (1 or 3). */
function toChannels(img: DecodedImage, channels: number): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (img.channels === channels) {
      for (let c = 0; c < channels; c++) out[i * channels + c] = img.pixels[i * channels + c];
    } else if (channels === 1) {
      out[i] = 0.299 * img.pixels[3 * i] + 0.587 * img.pixels[3 * i + 1] + 0.114 * img.pixels[3 * i + 2];
    } else {
      for (let c = 0; c < channels; c++) out[i * channels + c] = img.pixels[i];
    }
  }
  return out;
}

/** Box-filter weights of output index o over the source axis (shrinking by factor s ≥ 1). */
function boxSpan(o: number, s: number, size: number): [number, number] {
  const from = Math.floor(o * s);
  return [from, Math.min(size, Math.max(from + 1, Math.ceil((o + 1) * s)))];
}

/** Resize one axis at a time: rows then columns (both filters are separable). */
function resizeAxis(src: Float32Array, w: number, h: number, c: number, outLen: number, horizontal: boolean): Float32Array {
  const inLen = horizontal ? w : h;
  const other = horizontal ? h : w;
  const out = new Float32Array(outLen * other * c);
  const at = (i: number, j: number, ch: number): number => (horizontal ? (j * w + i) * c + ch : (i * w + j) * c + ch);
  const put = (i: number, j: number, ch: number, v: number): void => {
    out[horizontal ? (j * outLen + i) * c + ch : (i * w + j) * c + ch] = v;
  };
  const s = inLen / outLen;
  for (let o = 0; o < outLen; o++) {
    if (s >= 1) {
      const [a, b] = boxSpan(o, s, inLen);
      for (let j = 0; j < other; j++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let i = a; i < b; i++) sum += src[at(i, j, ch)];
          put(o, j, ch, sum / (b - a));
        }
      }
    } else {
      const x = Math.min(inLen - 1, Math.max(0, (o + 0.5) * s - 0.5));
      const i0 = Math.floor(x);
      const i1 = Math.min(inLen - 1, i0 + 1);
      const t = x - i0;
      for (let j = 0; j < other; j++) {
        for (let ch = 0; ch < c; ch++) put(o, j, ch, src[at(i0, j, ch)] * (1 - t) + src[at(i1, j, ch)] * t);
      }
    }
  }
  return out;
}

/** The picture as one example of shape [height, width, channels], values 0–255 (float). */
export function imageToInput(img: DecodedImage, shape: readonly number[]): Float32Array {
  const [h, w, c] = shape;
  let x = toChannels(img, c);
  if (img.width !== w) x = resizeAxis(x, img.width, img.height, c, w, true);
  if (img.height !== h) x = resizeAxis(x, w, img.height, c, h, false);
  return x;
}

/** How the conversion is described to the user (printed once by `fitlab predict`). */
export const IMAGE_INPUT_METHOD = 'stretched to the model input (area average when shrinking, bilinear when enlarging); RGB→gray by BT.601 luma, gray→RGB by copying';
