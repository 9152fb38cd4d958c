/**
 * `fitlab queue status <url>`: the queue's jobs (waiting, active, finished, failed) and its
 * workers; and the queue flags other commands share (--queue, --store, TLS files).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import type { ExperimentOptions } from '../experiments/experiment.js';
import { queueExecutor } from '../queue/executor.js';
import { QueueClient } from '../queue/submit.js';
import { type QueueTarget, parseQueueUrl } from '../queue/connection.js';
import { queueStatus } from '../queue/status.js';
import { textTable } from '../util/table.js';
import { makeOutput } from './common.js';

export interface TlsFlags {
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** --tls-ca/--tls-cert/--tls-key on a command that talks to the queue. */
export function tlsOptions(c: Command): Command {
  return c.option('--tls-ca <file>', 'rediss://: a PEM file of the certificate authority to trust (a self-signed server)')
    .option('--tls-cert <file>', 'rediss://: this client\'s certificate (PEM), when the server asks for one')
    .option('--tls-key <file>', 'rediss://: this client\'s private key (PEM)');
}

export function queueTarget(url: string, flags: TlsFlags): QueueTarget {
  return parseQueueUrl(url, { ca: flags.tlsCa, cert: flags.tlsCert, key: flags.tlsKey });
}

export function registerQueue(program: Command): void {
  const q = program.command('queue').description('the run queue shared by `fitlab worker`s (BullMQ on Redis)');
  tlsOptions(q.command('status <url>')
    .description('waiting, active, finished and failed runs, and the workers connected (url: redis://[:password@]host:port[/db] or rediss://)')
    .option('--json', 'print the status as JSON'))
    .action(async (url: string, flags: TlsFlags & { json?: boolean }) => {
      const out = makeOutput(flags);
      const s = await queueStatus(queueTarget(url, flags));
      if (out.jsonMode) {
        out.json(s);
        return;
      }
      const c = s.counts;
      out.always(`queue ${s.url}: ${c.waiting} waiting, ${c.active} active, ${c.finished} finished, ${c.failed} failed${c.delayed ? `, ${c.delayed} delayed (retrying)` : ''}`);
      out.always(`workers: ${s.workers.length}${s.workers.length ? '' : ' (start one with: fitlab worker --queue <url>)'}`);
      if (s.workers.length) out.always(textTable(['worker', 'address', 'idle'], s.workers.map((w) => [w.name, w.address, `${w.idleSeconds} s`])));
      if (s.active.length) {
        out.always('active runs:');
        out.always(textTable(['job', 'run', 'worker', 'epoch'], s.active.map((a) => [a.id, a.label, a.worker ?? '—', a.epoch !== null ? `${a.epoch}/${a.epochs ?? '?'}` : 'starting'])));
      }
      if (s.failed.length) {
        out.always('failed runs:');
        for (const f of s.failed) out.always(`  ${f.id} (${f.label}): ${f.reason}`);
      }
    });
}

export interface QueueFlags extends TlsFlags {
  queue?: string;
  store?: string;
}

/** --queue, --store and the TLS files on a command that trains several runs. */
export function queueOptions(c: Command): Command {
  return tlsOptions(c.option('--queue <url>', 'train the runs on `fitlab worker`s through this queue (redis://[:password@]host:port[/db] or rediss://) instead of here')
    .option('--store <dir>', 'with --queue: checkpoints and finished runs go through this shared folder (the same path on every machine) instead of Redis'));
}

/**
 * Run an experiment with its runs trained through the queue when --queue is given (the
 * experiment's directory is assembled here as for a local run), or locally otherwise.
 */
export async function withQueueExecutor<T>(flags: QueueFlags, o: ExperimentOptions, run: (o: ExperimentOptions) => Promise<T>): Promise<T> {
  if (!flags.queue) {
    if (flags.store) throw new ArgumentError(`--store needs --queue (it is where queued runs travel); received --store ${JSON.stringify(flags.store)} alone`);
    return run(o);
  }
  const client = await QueueClient.open({ target: queueTarget(flags.queue, flags), store: flags.store ? resolve(flags.store) : null, log: o.log });
  try {
    return await run({ ...o, executor: queueExecutor(client) });
  } finally {
    await client.close();
  }
}
