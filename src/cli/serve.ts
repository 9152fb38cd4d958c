/** `fitlab serve`: the live dashboard; and `fitlab train --serve`: train with it open. */
import type { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import type { TrainRunConfig } from '../run/train-run.js';
import { type Dashboard, isLoopback, startDashboard } from '../serve/server.js';
import { LiveSession } from '../serve/session.js';
import { intOption } from './common.js';

export interface ServeFlags {
  port: number;
  host: string;
  runs: string;
  experiments: string;
  /** false with --no-token: state changes need no token (a warning says so) */
  token?: boolean;
  maxRuns?: number;
}

/** Start the server, warning when it listens beyond this machine. */
export async function openDashboard(flags: ServeFlags, log: (line: string) => void): Promise<Dashboard> {
  if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) throw new ArgumentError(`--port must be an integer in [0, 65535]; received ${flags.port}`);
  const maxRuns = flags.maxRuns ?? 2;
  if (!Number.isInteger(maxRuns) || maxRuns < 1) throw new ArgumentError(`--max-runs must be an integer >= 1; received ${maxRuns}`);
  const noToken = flags.token === false;
  if (!isLoopback(flags.host)) {
    log(`fitlab serve: WARNING: listening on ${flags.host}: anyone who can reach this machine ${noToken ? 'can see your runs and start training' : 'and has the token can see your runs and start training'}.`);
    log('fitlab serve: the connection is plain HTTP; keep the default --host 127.0.0.1 unless you trust the network.');
  }
  if (noToken) log('fitlab serve: WARNING: --no-token: any program on this machine can start, steer and stop runs through the dashboard.');
  const d = await startDashboard({ port: flags.port, host: flags.host, runs: flags.runs, experiments: flags.experiments, token: noToken ? null : undefined, maxRuns });
  log(`fitlab dashboard: ${d.pageUrl}   (runs from ${d.runsDir}; Ctrl-C to quit)`);
  return d;
}

/** Resolve on the first Ctrl-C (SIGINT or SIGTERM). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/**
 * `fitlab train … --serve`: the run trains in the dashboard's worker; Ctrl-C stops it (saving a
 * checkpoint) and a second Ctrl-C closes the dashboard. Returns the process exit code.
 */
export async function trainWithDashboard(config: TrainRunConfig | { resume: string; epochs?: number }, flags: ServeFlags, log: (line: string) => void): Promise<number> {
  const d = await openDashboard({ ...flags, runs: 'resume' in config ? flags.runs : config.out ?? flags.runs }, log);
  const session = new LiveSession('resume' in config ? { resume: { runDir: config.resume, epochs: config.epochs } } : { config }, d.hub);
  d.sessions.track(session);
  let quit: () => void = () => undefined;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  // Ctrl-C while training stops the run (checkpoint saved); once it has ended (or is already
  // stopping), Ctrl-C closes the dashboard
  const onSignal = (): void => {
    if (session.active && session.state.status !== 'stopping') {
      log('\nfitlab: stopping after this batch to save a checkpoint (Ctrl-C again closes the dashboard)');
      session.control({ action: 'stop' });
    } else quit();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const id = await session.started;
    log(`training ${id} — watch it at ${d.pageUrl}`);
    await Promise.race([session.finished, quitting]);
    const s = session.state;
    const last = s.epochs[s.epochs.length - 1];
    log(`run ${s.status}${s.error ? `: ${s.error}` : ''}: ${s.epochs.length} epochs${last?.val_accuracy !== undefined ? `, val_accuracy ${(100 * last.val_accuracy).toFixed(1)}%` : ''}${s.diagnosis ? `; ${s.diagnosis.regime}` : ''}`);
    log(`the dashboard stays open at ${d.pageUrl} — Ctrl-C to quit`);
    await quitting;
    return s.status === 'failed' ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await d.close();
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the live dashboard: watch and steer training, inspect the network, compare runs (a local web page)')
    .option('--port <n>', 'port to listen on (0: any free port)', intOption('--port', 0), 6006)
    .option('--host <host>', 'address to bind; anything but loopback exposes the dashboard to the network', '127.0.0.1')
    .option('--runs <dir>', 'folder of run directories to list and to train into', 'runs')
    .option('--experiments <dir>', 'folder of experiment directories', 'experiments')
    .option('--max-runs <n>', 'runs that may train at once from the page', intOption('--max-runs', 1), 2)
    .option('--no-token', 'let state changes through without the URL\'s token (any local program could start runs)')
    .addHelpText('after', `
Examples:
  fitlab serve                       # http://127.0.0.1:6006/
  fitlab serve --runs my-runs --port 8080
  fitlab train --model paper-cnn --dataset mnist --epochs 5 --serve`)
    .action(async (flags: ServeFlags) => {
      const log = (line: string): void => void process.stdout.write(line + '\n');
      const d = await openDashboard(flags, log);
      await untilSignal();
      log('fitlab serve: closing');
      await d.close();
    });
}
