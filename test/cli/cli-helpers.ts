/**
 * Running the real `fitlab` command line from tests: `node bin/fitlab.js …` in the project root,
 * as a user would. bin/ runs the compiled CLI in dist/, so `ensureBuilt()` rebuilds dist/ when
 * any file under src/ is newer (once, under a lock: test files run in parallel workers).
 * Also: where the real datasets are (FITLAB_TEST_DATA, else <root>/../shared/datasets).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'fitlab.js');
const ENTRY = join(ROOT, 'dist', 'src', 'cli', 'main.js');
// .fitlab-tmp-* is git-ignored (src/util/atomic.ts names its temporaries the same way)
const LOCK = join(ROOT, '.fitlab-tmp-build-lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const isStale = (): boolean => !existsSync(ENTRY) || statSync(ENTRY).mtimeMs < newestMtime(join(ROOT, 'src'));

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Make dist/ current with src/ (tsc -p tsconfig.build.json), at most one builder at a time. */
export function ensureBuilt(): void {
  const deadline = Date.now() + 180_000;
  while (isStale()) {
    try {
      mkdirSync(LOCK);
    } catch {
      // another worker is building: wait for it, then look again (a lock left by a killed run
      // is taken over after two minutes)
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`dist/ is older than src/ and ${LOCK} is held; run \`npm run build\``);
      sleep(250);
      continue;
    }
    try {
      if (!isStale()) return;
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
      if (!existsSync(ENTRY)) throw new Error(`building dist/ failed (run \`npm run build\`):\n${tsc.stdout}${tsc.stderr}`);
      return;
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall milliseconds */
  ms: number;
}

/** Run `node bin/fitlab.js …args` in the project root and wait for it. */
/**
 * Process time limits in tests are hang guards, never timing assertions: a command's expected
 * time on an idle machine is multiplied by this so the suite passes on a machine busy with
 * other work (two busy loops on two cores more than halve our speed).
 */
export const HANG_GUARD = 5;

export function fitlab(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const t0 = performance.now();
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: (options.timeoutMs ?? 60_000) * HANG_GUARD, maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** The one JSON object a `--json` command prints on stdout (fails with its output when not). */
export function jsonOf<T>(r: CliResult): T {
  if (r.status !== 0) throw new Error(`fitlab exited with ${r.status}:\n${r.stderr}\n${r.stdout}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON object:\n${r.stdout}`);
  }
}

/** Lines that look like a JavaScript stack frame ("    at fn (file:line:col)"). */
export const STACK_FRAME = /^\s{4}at /m;

/** The weight shards of a TF.js model directory, concatenated in manifest order. */
export function shards(dir: string): Buffer {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  return Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
}

/**
 * The folder that holds the real test datasets (mnist/ …): $FITLAB_TEST_DATA, else
 * <project root>/../shared/datasets; null with the reason when there is none.
 */
export function testDataRoot(): { root: string | null; reason: string } {
  const env = process.env.FITLAB_TEST_DATA;
  if (env) return existsSync(env) ? { root: resolve(env), reason: '' } : { root: null, reason: `FITLAB_TEST_DATA=${env} does not exist` };
  const shared = resolve(ROOT, '..', 'shared', 'datasets');
  return existsSync(shared) ? { root: shared, reason: '' } : { root: null, reason: `no FITLAB_TEST_DATA and no ${shared}` };
}
