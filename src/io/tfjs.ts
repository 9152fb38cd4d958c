/**
 * TensorFlow.js Layers models on disk: `model.json` plus binary weight shards (≤ 4 MB each,
 * named group1-shard{i}of{n}.bin), written atomically with shard checksums and verified on
 * every read. The format itself (topology ↔ spec, weights) is src/io/tfjs-format.ts, shared
 * with the browser's download (src/io/tfjs-artifacts.ts), whose `<name>.json` +
 * `<name>.weights.bin` this reader takes too: a path to the .json, or a folder holding exactly
 * one TF.js model .json when it has no model.json.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { checkSpecDepth } from '../util/config-reader.js';
import type { Model } from '../nn/model.js';
import { packageVersion } from '../util/paths.js';
import { type DirTarget, writeDirAtomic } from './atomic.js';
import { TFJS_INTEGRITY_KEY, checksumRecord, otherGoodModel, readChecksums, verifyChecksum } from './integrity.js';
import { type LoadedTfjs, type TfjsArtifacts, type WeightSpec, modelToTfjsArtifacts, shardWeights, tfjsModelJson, topologyToSpec } from './tfjs-format.js';

export * from './tfjs-format.js';

/** The TF.js artifacts of a built model, stamped with this fitlab's version. */
export function modelToTfjs(model: Model): TfjsArtifacts {
  return modelToTfjsArtifacts(model, `fitlab ${packageVersion()}`);
}

/**
 * Write model.json and weight shards into `dir` (atomically: a reader never sees half a model).
 * By default `dir` is a fixed-name folder of a run directory (model-best/ …); an export to a
 * folder the user named passes `{ own: false, force, label: '--out' }` (src/io/owned.ts).
 */
export function saveTfjs(model: Model, dir: string, extra: Record<string, unknown> = {}, target: Omit<DirTarget, 'kind'> = { own: true }): void {
  const art = modelToTfjs(model);
  const shardBytes = shardWeights(art.weightData);
  const paths = shardBytes.map((_, i) => `group1-shard${i + 1}of${shardBytes.length}.bin`);
  writeDirAtomic(dir, (tmp) => {
    paths.forEach((p, i) => writeFileSync(join(tmp, p), shardBytes[i]));
    const modelJson = tfjsModelJson(art, paths, `fitlab ${packageVersion()}`, checksumRecord(paths.map((p, i) => [p, shardBytes[i]])), extra);
    writeFileSync(join(tmp, 'model.json'), JSON.stringify(modelJson));
  }, { ...target, kind: 'tfjs-model' });
}

/** Does this file parse as a TF.js / Keras layers model.json (a topology at its top)? */
function isTfjsModelFile(file: string): boolean {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return !!o && typeof o === 'object' && 'modelTopology' in o && 'weightsManifest' in o;
  } catch {
    return false;
  }
}

/**
 * The model file of a TF.js model folder: its model.json, or else the one `*.json` in it that
 * is a TF.js model (a browser download: `<name>.json` beside `<name>.weights.bin`). Null when
 * the folder holds none; an error naming them when it holds several.
 */
export function tfjsModelFile(dir: string): string | null {
  if (existsSync(join(dir, 'model.json'))) return join(dir, 'model.json');
  const candidates = readdirSync(dir).filter((f) => /\.json$/i.test(f) && statSync(join(dir, f)).isFile() && isTfjsModelFile(join(dir, f))).sort();
  if (candidates.length > 1) {
    throw new ArgumentError(`${dir} holds ${candidates.length} TF.js models (${candidates.slice(0, 4).join(', ')}${candidates.length > 4 ? ', …' : ''}) and no model.json; pass the .json of the one to use`);
  }
  return candidates.length ? join(dir, candidates[0]) : null;
}

/** Read a model.json (or a directory holding one, see tfjsModelFile) and its weight shards. */
export function readTfjs(path: string): LoadedTfjs {
  const file = existsSync(path) && statSync(path).isDirectory() ? (tfjsModelFile(path) ?? join(path, 'model.json')) : path;
  if (!existsSync(file)) throw new FitlabError(`no TF.js model at ${file}`, 'pass a model.json or the directory that holds it');
  let modelJson: Record<string, unknown>;
  try {
    modelJson = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    // V8 quotes the text around the fault, newlines included: keep the message one line
    throw new FitlabError(`${file} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  checkSpecDepth(modelJson, file);
  const spec = topologyToSpec(modelJson, file);
  const manifest = (modelJson.weightsManifest ?? []) as { paths: string[]; weights: WeightSpec[] }[];
  if (!Array.isArray(manifest)) throw new ArgumentError(`${file}: weightsManifest must be a list of {paths, weights}`);
  const chunks: Uint8Array[] = [];
  const weightSpecs: WeightSpec[] = [];
  // fitlab's own models carry shard checksums; models from elsewhere have none and load as before
  const sums = readChecksums(modelJson[TFJS_INTEGRITY_KEY], file);
  for (const group of manifest) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights) || !group.paths.every((p) => typeof p === 'string' && p && !isAbsolute(p) && !p.split(/[\\/]/).includes('..'))) {
      throw new ArgumentError(`${file}: each weightsManifest entry must be {paths: [shard file names beside model.json], weights: [...]}; received ${describe(group)}`);
    }
    for (const p of group.paths) {
      const shard = join(dirname(file), p);
      if (!existsSync(shard)) throw new FitlabError(`${file}: weight shard ${shard} is missing`);
      const bytes = readFileSync(shard);
      const expected = sums?.get(p);
      if (sums && expected === undefined) throw new FitlabError(`${file}: weight shard ${p} has no recorded checksum (the model.json was edited)`);
      if (expected !== undefined) verifyChecksum(shard, bytes, expected, otherGoodModel(dirname(file)));
      chunks.push(bytes);
    }
    for (const w of group.weights) weightSpecs.push(w); // not push(...): a manifest may list 10⁶ weights
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.length;
  }
  return { spec, weightSpecs, weightData, modelJson };
}

