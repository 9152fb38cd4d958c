/**
 * Seeded fuzzing of a real checkpoint (issue 14): state.json with numbers changed, types
 * swapped, keys deleted or the text truncated, and arrays.bin truncated, extended or with a bit
 * flipped. Every case must end in a successful resume — bit-identical to the unmutated one when
 * the mutation changed nothing — or a FitlabError with a one-line message; never another
 * exception and never a hang (the cases are bounded by count, each resume by its epochs).
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FitlabError } from '../../src/errors.js';
import type { ModelSpec } from '../../src/nn/spec.js';
import { resumeRun, trainRun } from '../../src/run/train-run.js';
import { shards } from '../cli/cli-helpers.js';
import { seeded } from './mutate.js';

const SPEC: ModelSpec = { name: 'fuzz-mlp', input: [2], layers: [
  { type: 'dense', units: 8, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 2, activation: 'softmax' },
] };
const CASES = 40;

let tmp = '';
let base = '';
let reference: Buffer;
let copies = 0;

function copyRun(): string {
  const dir = join(tmp, `case-${++copies}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

/** Resume a run to 3 epochs (the base run did 2), quietly, on one thread. */
const resume = (run: string): Promise<unknown> => resumeRun(run, {}, { epochs: 3, threads: 1 });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every [parent, key] of the JSON tree, root first (so deleting/replacing reaches any depth). */
function slots(root: Json): [Json[] | Record<string, Json>, string | number][] {
  const out: [Json[] | Record<string, Json>, string | number][] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((c, i) => { out.push([v, i]); walk(c); });
    else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) { out.push([v, k]); walk(c); }
  };
  walk(root);
  return out;
}

const REPLACEMENTS: Json[] = [-5, -1, 0, 1.5, 1e308, 2 ** 53, 4294967296, null, '', 'two', true, [], {}, [1, 2, 3], { a: 1 }];

/** One seeded mutation of state.json's text; returns the new text. */
function mutateState(text: string, rand: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const kind = pick(['number', 'replace', 'delete', 'truncate', 'reformat']);
  if (kind === 'truncate') return text.slice(0, Math.floor(rand() * text.length));
  const root = JSON.parse(text) as Json;
  if (kind === 'reformat') return JSON.stringify(root, null, 2);
  const all = slots(root);
  const numeric = all.filter(([p, k]) => typeof (p as Record<string, Json>)[k] === 'number');
  const [parent, key] = kind === 'number' && numeric.length ? pick(numeric) : pick(all);
  const obj = parent as Record<string | number, Json>;
  if (kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete obj[key];
  } else if (kind === 'number' && typeof obj[key] === 'number') {
    const v = obj[key];
    obj[key] = pick([v + 1, v - 1, -v, v * 2, v + 0.5, -5, 1e300]);
  } else obj[key] = pick(REPLACEMENTS);
  return JSON.stringify(root);
}

/** Where two texts first differ, for the failure message. */
function describeChange(before: string, after: string): string {
  let i = 0;
  while (i < before.length && before[i] === after[i]) i++;
  return `at character ${i}: ${JSON.stringify(before.slice(Math.max(0, i - 40), i + 20))} → ${JSON.stringify(after.slice(Math.max(0, i - 40), i + 20))}`;
}

/** One seeded mutation of arrays.bin's bytes. */
function mutateArrays(bytes: Buffer, rand: () => number): Buffer {
  const kind = Math.floor(rand() * 4);
  if (kind === 0) return bytes.subarray(0, Math.floor(rand() * bytes.length));
  if (kind === 1) return Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(rand() * 8))]);
  const out = Buffer.from(bytes);
  if (kind === 2) out[Math.floor(rand() * out.length)] ^= 1 << Math.floor(rand() * 8);
  return out; // kind 3: the same bytes written again (a no-op)
}

/** The resume must succeed or fail with a one-line FitlabError; anything else is a bug. */
async function outcome(run: string, what: string): Promise<'ok' | 'refused'> {
  try {
    await resume(run);
    return 'ok';
  } catch (err) {
    if (!(err instanceof FitlabError)) throw new Error(`${what}: ${(err as Error).stack ?? String(err)}`);
    expect(err.message.length).toBeGreaterThan(10);
    expect(err.message).not.toContain('\n');
    return 'refused';
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-fuzz-ckpt-'));
  const out = join(tmp, 'base');
  const r = await trainRun({ model: 'fuzz-mlp', modelSpec: SPEC, dataset: 'moons', epochs: 2, batchSize: 16, seed: 4, threads: 1, out, earlyStopping: 5 });
  base = r.runDir;
  const clean = copyRun();
  await resume(clean);
  reference = shards(join(clean, 'model-final'));
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fuzzed checkpoints end in a bit-identical resume or a FitlabError', () => {
  it(`${CASES} seeded mutations of state.json`, async () => {
    const rand = seeded(2024);
    const counts = { ok: 0, refused: 0, noop: 0 };
    for (let i = 0; i < CASES; i++) {
      const run = copyRun();
      const file = join(run, 'checkpoint', 'state.json');
      const before = readFileSync(file, 'utf8');
      const after = mutateState(before, rand);
      writeFileSync(file, after);
      let same = false;
      try {
        same = isDeepStrictEqual(JSON.parse(before), JSON.parse(after));
      } catch {
        // truncated: not JSON, certainly not the same
      }
      const got = await outcome(run, `state.json case ${i}: ${describeChange(before, after)}`);
      counts[got]++;
      if (same) {
        counts.noop++;
        expect(got, `case ${i}: a no-op mutation must resume`).toBe('ok');
        expect(shards(join(run, 'model-final')).equals(reference), `case ${i}`).toBe(true);
      }
      rmSync(run, { recursive: true, force: true });
    }
    // the mix exercised both outcomes and the no-op check
    expect(counts.refused).toBeGreaterThan(CASES / 3);
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.noop).toBeGreaterThan(0);
  }, 300_000);

  it('20 seeded mutations of arrays.bin: any change is refused by its checksum, a rewrite of the same bytes resumes identically', async () => {
    const rand = seeded(7);
    let noops = 0;
    for (let i = 0; i < 20; i++) {
      const run = copyRun();
      const file = join(run, 'checkpoint', 'arrays.bin');
      const before = readFileSync(file);
      const after = mutateArrays(before, rand);
      writeFileSync(file, after);
      const got = await outcome(run, `arrays.bin case ${i}`);
      if (after.equals(before)) {
        noops++;
        expect(got).toBe('ok');
        expect(shards(join(run, 'model-final')).equals(reference)).toBe(true);
      } else {
        expect(got, `case ${i}`).toBe('refused');
      }
      rmSync(run, { recursive: true, force: true });
    }
    expect(noops).toBeGreaterThan(0);
  }, 300_000);

  it('the base run is what the cases mutate: two epochs, a checkpoint with layer streams and callbacks', () => {
    const state = JSON.parse(readFileSync(join(base, 'checkpoint', 'state.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(state.epoch).toBe(2);
    expect(Object.keys(state.layerStreams)).toHaveLength(1);
    expect(Object.keys(state.callbacks).sort()).toEqual(['EarlyStopping', 'ModelCheckpoint', 'TerminateOnNaN', 'WeightTracker']);
    expect(readdirSync(join(base, 'checkpoint')).sort()).toContain('arrays.bin');
  });
});
