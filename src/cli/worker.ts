/**
 * `fitlab worker --queue <url>`: train runs from the queue until Ctrl-C. With --concurrency K
 * it starts K worker processes (each its own kernels and threads; training is CPU-bound, so one
 * process per job), forwards Ctrl-C to them once, and leaves when they have.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULT_LOCK_MS, startWorker } from '../queue/worker.js';
import { intOption, setupBackend } from './common.js';
import { type TlsFlags, queueTarget, tlsOptions } from './queue.js';

interface WorkerFlags extends TlsFlags {
  queue: string;
  threads?: number;
  concurrency: number;
  dataDir?: string;
  workDir?: string;
  lockDuration: number;
  backend?: string;
}

/** The child's own command line: the same flags, one job at a time. */
function childArgs(f: WorkerFlags): string[] {
  const a = ['worker', '--queue', f.queue, '--concurrency', '1', '--lock-duration', String(f.lockDuration)];
  if (f.threads !== undefined) a.push('--threads', String(f.threads));
  if (f.dataDir) a.push('--data-dir', f.dataDir);
  if (f.workDir) a.push('--work-dir', f.workDir);
  if (f.backend) a.push('--backend', f.backend);
  if (f.tlsCa) a.push('--tls-ca', f.tlsCa);
  if (f.tlsCert) a.push('--tls-cert', f.tlsCert);
  if (f.tlsKey) a.push('--tls-key', f.tlsKey);
  return a;
}

async function runChildren(f: WorkerFlags): Promise<number> {
  // each child in its own process group: a terminal's Ctrl-C reaches this process only, which
  // passes it on once (two would mean "quit at once" to a child)
  const children: ChildProcess[] = [];
  for (let k = 0; k < f.concurrency; k++) {
    children.push(spawn(process.execPath, [process.argv[1], ...childArgs(f)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true }));
  }
  let presses = 0;
  const forward = (): void => {
    presses++;
    for (const c of children) if (c.exitCode === null) c.kill(presses > 1 ? 'SIGKILL' : 'SIGINT');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const codes = await Promise.all(children.map((c) => new Promise<number>((r) => c.on('exit', (code) => r(code ?? 1)))));
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return codes.find((c) => c !== 0) ?? 0;
}

export function registerWorker(program: Command): void {
  tlsOptions(program.command('worker')
    .description('train runs from a queue (BullMQ on Redis) until Ctrl-C, which checkpoints the current run and hands it back')
    .requiredOption('--queue <url>', 'redis://[:password@]host:port[/db], or rediss:// for TLS')
    .option('--threads <n>', 'kernel threads per run (a run whose configuration fixes its threads keeps them)', intOption('--threads'))
    .option('--concurrency <k>', 'runs at once on this machine (one process each)', intOption('--concurrency'), 1)
    .option('--data-dir <dir>', 'where this machine keeps named datasets (searched first)')
    .option('--work-dir <dir>', 'where runs train before they go back (default: a folder in the system temp)')
    .option('--lock-duration <seconds>', 'how long a run stays this worker\'s without a sign of life; a dead worker\'s run moves on after about 1.5× this', intOption('--lock-duration'), DEFAULT_LOCK_MS / 1000)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['native', 'reference', 'auto'])))
    .action(async (f: WorkerFlags) => {
      const target = queueTarget(f.queue, f);
      if (f.concurrency > 1) {
        process.exitCode = await runChildren(f);
        return;
      }
      setupBackend(f);
      // datasets are found by name as on the command line, this machine's folder first
      if (f.dataDir) process.env.FITLAB_DATA = resolve(f.dataDir);
      const log = (line: string): void => { process.stdout.write(`${line}\n`); };
      // the default work folder is this process's own (named by its PID) and goes when it leaves
      const ownWorkDir = f.workDir ? null : join(tmpdir(), `fitlab-worker-${process.pid}`);
      const w = await startWorker({ target, threads: f.threads, lockMs: f.lockDuration * 1000, log, workDir: resolve(f.workDir ?? ownWorkDir ?? '') });
      let presses = 0;
      const stop = (): void => {
        if (++presses > 1) process.exit(130);
        log(`fitlab worker ${w.name}: leaving after the current run checkpoints (Ctrl-C again to quit at once)`);
        w.stop();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // a child of `--concurrency K` leaves with its parent
      if (process.send) process.on('disconnect', stop);
      await w.done;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('disconnect', stop);
      // the channel to a --concurrency parent would keep this process alive
      if (process.connected) process.disconnect();
      if (ownWorkDir) rmSync(ownWorkDir, { recursive: true, force: true });
      log(`fitlab worker ${w.name}: left`);
    });
}
