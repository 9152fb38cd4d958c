/**
 * `fitlab predict <run|model> <images or folders…>`: the trained classifier on the user's own
 * pictures. Each PNG/JPEG becomes one input example (src/data/image-input.ts says how), scaled as
 * the run scaled its data, and gets its top-k classes by name. A file that cannot be read is one
 * error line on stderr; the others still get their predictions (exit status 1 when any failed).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { IMAGE_INPUT_METHOD, imageToInput } from '../data/image-input.js';
import { decodeImage } from '../data/images.js';
import { FitlabError } from '../errors.js';
import { writeUserFile } from '../io/atomic.js';
import { formatShape } from '../nn/shape.js';
import type { Model } from '../nn/model.js';
import { pct } from './common.js';

export interface ImagePrediction {
  file: string;
  top: { class: number; name: string; probability: number }[];
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Files named, and the images inside folders named (sorted, one level deep is not enough for class folders: recursive). */
export function expandImageArgs(args: string[]): { files: string[]; folders: boolean } {
  const files: string[] = [];
  let folders = false;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && IMAGE_EXT.test(e.name)) files.push(p);
    }
  };
  for (const a of args) {
    let st;
    try {
      st = statSync(a);
    } catch {
      files.push(a); // reported per file below, so the others still run
      continue;
    }
    if (st.isDirectory()) {
      folders = true;
      walk(a);
    } else files.push(a);
  }
  return { files, folders };
}

/** Read one picture as a model input; a one-line error when it is not an image. */
function readInput(file: string, shape: readonly number[]): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new FitlabError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return imageToInput(decodeImage(bytes, file), shape);
}

/** Predict every readable file; errors are returned beside the predictions, not thrown. */
export function predictImages(model: Model, files: string[], options: { scale: number; classNames: string[]; top: number }): { predictions: ImagePrediction[]; errors: string[] } {
  const shape = model.inputShape;
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new FitlabError(`the model takes ${formatShape(shape)} inputs; pictures need a height × width × 1 or 3 input`);
  }
  const predictions: ImagePrediction[] = [];
  const errors: string[] = [];
  const per = shape[0] * shape[1] * shape[2];
  const k = model.outputSize;
  for (const file of files) {
    let x: Float32Array;
    try {
      x = readInput(file, shape);
    } catch (err) {
      if (!(err instanceof FitlabError)) throw err;
      errors.push(err.message);
      continue;
    }
    for (let i = 0; i < per; i++) x[i] *= options.scale;
    const probs = model.forward(x, { training: false }).slice(0, k);
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
    predictions.push({
      file,
      top: order.slice(0, Math.min(options.top, k)).map((c) => ({ class: c, name: options.classNames[c] ?? String(c), probability: probs[c] })),
    });
  }
  return { predictions, errors };
}

/** One line per picture: `file: cat 91.2% · dog 6.1% · …`. */
export function formatPrediction(p: ImagePrediction, base: string): string {
  const rel = relative(base, p.file);
  return `${rel && !rel.startsWith('..') ? rel : p.file}: ${p.top.map((t) => `${t.name} ${pct(t.probability)}`).join(' · ')}`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: file, predicted class, its probability, then every top-k name and probability. */
export function predictionsCsv(predictions: ImagePrediction[], top: number): string {
  const head = ['file', 'predicted', 'probability', ...Array.from({ length: top }, (_, i) => [`top${i + 1}`, `top${i + 1}_probability`]).flat()];
  const rows = predictions.map((p) => [p.file, p.top[0].name, String(p.top[0].probability), ...p.top.flatMap((t) => [t.name, String(t.probability)])].map(csvField).join(','));
  return [head.join(','), ...rows].join('\n') + '\n';
}

export function writePredictionsCsv(path: string, predictions: ImagePrediction[], top: number, force: boolean): void {
  writeUserFile(path, predictionsCsv(predictions, top), { force, label: '--csv' });
}

export { IMAGE_INPUT_METHOD };

/** How pixels are scaled, in words. */
export function describeScale(scale: number): string {
  if (Math.abs(scale - 1 / 255) < 1e-12) return 'pixels / 255';
  if (scale === 1) return 'raw pixels 0–255';
  return `pixels × ${scale}`;
}
