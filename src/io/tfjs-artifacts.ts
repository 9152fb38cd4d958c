/**
 * A trained model as a browser download, with no Node module (issue 21): the TF.js Layers
 * format laid out as TF.js' `model.save('downloads://<name>')` saves it — `<name>.json`, whose
 * weightsManifest names one shard `<name>.weights.bin`, and that file. The model.json is the one
 * `saveTfjs` writes (same topology, same weight order, src/io/tfjs-format.ts), one shard
 * instead of 4 MB ones, with fitlab's shard checksum computed by the pure SHA-256 (Web Crypto's
 * is async only): `fitlab evaluate <name>.json` verifies the download as it does a run's model.
 */
import { ArgumentError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { TFJS_INTEGRITY_KEY, sha256Hex } from './sha256.js';
import { modelToTfjsArtifacts, tfjsModelJson } from './tfjs-format.js';

export { TFJS_INTEGRITY_KEY };

export interface TfjsDownload {
  /** `<name>.json`'s text */
  modelJson: string;
  /** `<name>.weights.bin`'s bytes */
  weights: Uint8Array;
  /** the weight file's name, as the manifest lists it */
  weightsFile: string;
}

/** A name TF.js' downloads:// and every file system accept: no path separators or control characters, not empty. */
const UNSAFE_CHARS = '\\/:*?"<>|';
const isSafeName = (name: string): boolean =>
  name.length > 0 && name !== '.' && name !== '..' && [...name].every((ch) => ch.charCodeAt(0) >= 0x20 && !UNSAFE_CHARS.includes(ch));

/**
 * The files of a browser download of `model`: save `modelJson` as `<name>.json` and `weights`
 * as `weightsFile`, side by side. `generatedBy` defaults to "fitlab (browser)".
 * @example const { modelJson, weights, weightsFile } = tfjsArtifacts(model, 'spirals-mlp');
 */
export function tfjsArtifacts(model: Model, name: string, generatedBy = 'fitlab (browser)'): TfjsDownload {
  if (typeof name !== 'string' || !isSafeName(name)) {
    throw new ArgumentError(`model download name must be a file name without / \\ : * ? " < > |; received ${JSON.stringify(name)}`);
  }
  const art = modelToTfjsArtifacts(model, generatedBy);
  const weights = new Uint8Array(art.weightData);
  const weightsFile = `${name}.weights.bin`;
  const json = tfjsModelJson(art, [weightsFile], generatedBy, { sha256: { [weightsFile]: sha256Hex(weights) } });
  return { modelJson: JSON.stringify(json), weights, weightsFile };
}
