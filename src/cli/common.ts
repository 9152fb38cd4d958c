/**
 * Shared CLI plumbing: option parsers that name the flag, the value and what is allowed;
 * backend selection (--backend, --threads); output routing (with --json, stdout carries only
 * the JSON object and human-readable lines go to stderr).
 */
import { InvalidArgumentError } from 'commander';
import { createBackend, setBackend } from '../backend/index.js';
import { pct as percent } from '../util/format.js';

export function intOption(flag: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}; received ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export function numberOption(flag: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      const range = Number.isFinite(min) || Number.isFinite(max) ? ` in [${min}, ${max}]` : '';
      throw new InvalidArgumentError(`${flag} must be a number${range}; received ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** "28,28,1" → [28, 28, 1] */
export function shapeOption(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(/[,x×]/).map((p) => p.trim());
    const dims = parts.map(Number);
    if (parts.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new InvalidArgumentError(`${flag} must be positive integers separated by commas, e.g. 28,28,1; received ${JSON.stringify(value)}`);
    }
    return dims;
  };
}

export interface BackendFlags {
  backend?: string;
  threads?: number;
}

/** Apply --backend and --threads to the process-wide backend. */
export function setupBackend(flags: BackendFlags): void {
  if (flags.backend !== undefined && !['native', 'reference', 'ts', 'auto'].includes(flags.backend)) {
    throw new InvalidArgumentError(`--backend must be native, reference or auto; received ${JSON.stringify(flags.backend)}`);
  }
  const name = flags.backend === 'ts' ? 'reference' : flags.backend;
  if (name !== undefined || flags.threads !== undefined) {
    setBackend(createBackend({ backend: name as 'native' | 'reference' | 'auto' | undefined, threads: flags.threads }));
  }
}

const guarded = new WeakSet<NodeJS.WriteStream>();

/** From now on, writes to `stream` are dropped (their callbacks still run, so nothing waits forever). */
function dropWrites(stream: NodeJS.WriteStream): void {
  stream.write = (_chunk: unknown, encodingOrDone?: unknown, done?: unknown): boolean => {
    const cb = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  };
}

/**
 * Survive a reader that goes away (`fitlab diagnose run | head -1`): Node reports the broken pipe
 * (EPIPE) later, as an 'error' event on process.stdout, and an 'error' nobody listens to kills
 * the process — a training piped to `head` died at its third epoch. Here the failed stream is
 * silenced and the command finishes its work (a training still saves its run) and exits 0: the
 * reader chose to stop reading. Any other failure of stdout (a redirect to a full disk) is one
 * warning on stderr and exit 1, since the output the user asked for is incomplete.
 */
export function guardOutputStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      dropWrites(stream);
      if (err.code === 'EPIPE' || stream !== process.stdout) return;
      process.stderr.write(`fitlab: warning: cannot write to stdout (${err.code ?? err.message}); the rest of the output is dropped\n`);
      if (!process.exitCode) process.exitCode = 1;
    });
  }
}

export interface Output {
  /** human-readable progress line (stdout, or stderr under --json); silent under --quiet */
  info(line: string): void;
  /** a line the user must see even under --quiet (results, why a run stopped) */
  always(line: string): void;
  /** the machine-readable result (stdout) */
  json(value: unknown): void;
  quiet: boolean;
  jsonMode: boolean;
}

export function makeOutput(opts: { json?: boolean; quiet?: boolean }): Output {
  const jsonMode = Boolean(opts.json);
  const quiet = Boolean(opts.quiet);
  return {
    jsonMode,
    quiet,
    info(line) {
      if (quiet) return;
      (jsonMode ? process.stderr : process.stdout).write(`${line}\n`);
    },
    always(line) {
      (jsonMode ? process.stderr : process.stdout).write(`${line}\n`);
    },
    json(value) {
      process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    },
  };
}

export function fmt(n: number | undefined | null, digits = 4): string {
  return n === undefined || n === null || !Number.isFinite(n) ? String(n) : n.toFixed(digits);
}

/** Accuracies on the command line carry two decimals: '84.12%' (util/format's pct). */
export function pct(n: number | undefined | null): string {
  return percent(n, 2);
}
