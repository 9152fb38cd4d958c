/**
 * Checksums for the files fitlab writes (ARCHITECTURE decision 11: state files carry
 * checksums). A flipped bit in a weight shard or a checkpoint's arrays does not break parsing:
 * it trains or predicts on silently wrong numbers. So every binary file we write gets its
 * SHA-256 recorded beside it (checkpoint/state.json, model.json), and every load verifies it.
 * Files written before checksums existed, and models from elsewhere, carry none and load as
 * before: there is nothing to compare against, and refusing them would break every old run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FitlabError } from '../errors.js';
import { TFJS_INTEGRITY_KEY } from './sha256.js';

/** The model.json key of shard checksums (defined with the pure SHA-256 the browser export uses). */
export { TFJS_INTEGRITY_KEY };

/** Hex SHA-256 of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The recorded checksums of a file set, or null when none were recorded (an older fitlab, or
 * a model from elsewhere). A record that exists but is malformed is an error: it was altered.
 */
export function readChecksums(record: unknown, where: string): Map<string, string> | null {
  if (record === undefined) return null;
  const table: unknown = record && typeof record === 'object' ? (record as Record<string, unknown>).sha256 : undefined;
  if (!table || typeof table !== 'object' || Array.isArray(table)) {
    throw new FitlabError(`${where}: the checksum record must be {"sha256": {"<file>": "<64 hex digits>"}}; received ${JSON.stringify(record)?.slice(0, 80)}`);
  }
  const out = new Map<string, string>();
  for (const [file, hex] of Object.entries(table)) {
    if (typeof hex !== 'string' || !HEX64.test(hex)) {
      throw new FitlabError(`${where}: the checksum of ${file} must be 64 hex digits; received ${JSON.stringify(hex)?.slice(0, 80)}`);
    }
    out.set(file, hex);
  }
  return out;
}

/** The checksum record for named byte arrays (what writers store). */
export function checksumRecord(files: [string, Uint8Array][]): { sha256: Record<string, string> } {
  return { sha256: Object.fromEntries(files.map(([name, bytes]) => [name, sha256(bytes)])) };
}

/**
 * Throw when `bytes` (the content of `file`) does not match its recorded checksum. `other`
 * names the copy the user can fall back on, or null when there is none; it goes into the
 * message itself, so the one line says both what broke and what still works.
 */
export function verifyChecksum(file: string, bytes: Uint8Array, expected: string, other: string | null): void {
  if (sha256(bytes) === expected) return;
  throw new FitlabError(`${file} fails its SHA-256 check: it changed after fitlab wrote it (damaged or edited), so it is not used; ${other ?? 'there is no other copy of it'}`);
}

/** True when a TF.js model directory has checksums and every shard matches them. */
export function tfjsDirVerifies(dir: string): boolean {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return false;
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const sums = readChecksums(json[TFJS_INTEGRITY_KEY], file);
    if (!sums || sums.size === 0) return false;
    for (const [name, hex] of sums) {
      const shard = join(dir, name);
      if (!existsSync(shard) || sha256(readFileSync(shard)) !== hex) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * For a model inside a run directory (run/model-final, run/model-best), the other saved model
 * of that run when its checksums verify, as advice; null otherwise.
 */
export function otherGoodModel(modelDir: string): string | null {
  const name = basename(modelDir);
  const twin = name === 'model-final' ? 'model-best' : name === 'model-best' ? 'model-final' : null;
  const run = dirname(modelDir);
  if (!twin || !existsSync(join(run, 'config.json'))) return null;
  const other = join(run, twin);
  if (!tfjsDirVerifies(other)) return null;
  return `the run's other copy ${other} verifies: use it instead (--which ${twin === 'model-best' ? 'best' : 'final'}, or pass that folder)`;
}

// ---- data fingerprints --------------------------------------------------------------------

interface Part {
  x: Uint8Array | Float32Array;
  y: Int32Array;
}

/** One part of the data: its example count and the SHA-256 of its inputs and labels. */
export interface PartPrint {
  examples: number;
  sha256: string;
}

/** What config.json records about the exact data a run trains on (after split and tools). */
export interface DataFingerprint {
  shape: number[];
  train: PartPrint;
  val: PartPrint | null;
  test: PartPrint | null;
}

function partPrint(part: Part | null): PartPrint | null {
  if (!part) return null;
  const h = createHash('sha256');
  // hash the typed arrays' own bytes (views may sit inside a larger buffer)
  h.update(new Uint8Array(part.x.buffer, part.x.byteOffset, part.x.byteLength));
  h.update(new Uint8Array(part.y.buffer, part.y.byteOffset, part.y.byteLength));
  return { examples: part.y.length, sha256: h.digest('hex') };
}

/** Fingerprint the training, validation and test data (one pass of SHA-256: a fraction of an epoch). */
export function dataFingerprint(shape: number[], train: Part, val: Part | null, test: Part | null): DataFingerprint {
  return { shape: [...shape], train: partPrint(train) as PartPrint, val: partPrint(val), test: partPrint(test) };
}

/**
 * How the data differs from a recorded fingerprint, in words, or null when it is the same (or
 * nothing was recorded: runs from before fingerprints resume as before).
 */
export function describeDataChange(recorded: unknown, now: DataFingerprint): string | null {
  if (!recorded || typeof recorded !== 'object') return null;
  const was = recorded as Partial<DataFingerprint>;
  const changes: string[] = [];
  if (JSON.stringify(was.shape) !== JSON.stringify(now.shape)) changes.push(`example shape ${JSON.stringify(was.shape)} → ${JSON.stringify(now.shape)}`);
  const contents: string[] = [];
  for (const name of ['train', 'val', 'test'] as const) {
    const a = was[name] ?? null;
    const b = now[name];
    const n = (p: PartPrint | null): number => p?.examples ?? 0;
    if (n(a) !== n(b)) changes.push(`${name} ${n(a)} → ${n(b)} examples`);
    else if (a?.sha256 !== b?.sha256) contents.push(name);
  }
  if (changes.length) return changes.concat(contents.map((c) => `${c} contents differ`)).join(', ');
  return contents.length ? `same shape and counts, different contents (${contents.join(', ')})` : null;
}
