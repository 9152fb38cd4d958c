/**
 * The submitting side: put runs on the queue, follow the workers' progress, collect each finished
 * run directory (unzipped where a local run would have written it) and read its result back, so
 * the caller (an experiment) cannot tell a queued run from a local one except by its wall time.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Diagnosis } from '../diagnose/diagnose.js';
import { FitlabError } from '../errors.js';
import { readHistoryFile } from '../io/run-dir.js';
import type { TrainRunConfig, TrainRunResult } from '../run/train-run.js';
import type { StopCause } from '../train/callbacks.js';
import { type QueueTarget, bullConnection, checkReachable } from './connection.js';
import { KEY_PREFIX, QUEUE_NAME, type RunJobResult, type RunProgress, jobDataFor, unpackRunDir } from './job.js';
import { type ArtifactStore, folderStore, redisStore } from './store.js';

export interface SubmitOptions {
  target: QueueTarget;
  /** a shared folder for artifacts instead of Redis */
  store: string | null;
  log: (line: string) => void;
}

/** Finished and failed jobs (a few KB each) are dropped after a week. */
const KEEP_JOBS_SECONDS = 7 * 24 * 3600;

/** A failure a worker reported for a run: shown once, never retried by the submitter. */
export class RunFailedError extends FitlabError {}

export class QueueClient {
  private progress = new Map<string, (p: RunProgress) => void>();
  private readonly submitter = `${hostname()}:${process.pid}`;
  private readonly store: ArtifactStore;

  private constructor(
    private readonly o: SubmitOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly client: Redis,
  ) {
    this.store = o.store ? folderStore(o.store) : redisStore(client);
    events.on('progress', ({ jobId, data }) => this.progress.get(jobId)?.(data as unknown as RunProgress));
  }

  static async open(o: SubmitOptions): Promise<QueueClient> {
    await checkReachable(o.target);
    const queue = new Queue(QUEUE_NAME, { connection: bullConnection(o.target), prefix: KEY_PREFIX });
    const events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(o.target), prefix: KEY_PREFIX });
    const client = new Redis(o.target.options);
    queue.on('error', (err) => o.log(`fitlab: queue: ${err.message}`));
    events.on('error', (err) => o.log(`fitlab: queue events: ${err.message}`));
    client.on('error', (err) => o.log(`fitlab: redis: ${err.message}`));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueClient(o, queue, events, client);
  }

  /**
   * Train `config` on a worker; the run directory lands under `config.out` (as trainRun would
   * put it). Null when `shouldStop` said so before the run came back. `jobId` names the job: a job of that id already queued or finished is reused, not
   * trained again (an experiment resubmitted after its submitter died collects what is there).
   */
  async run(config: TrainRunConfig, o: { jobId: string; label: string; shouldStop?: () => boolean }): Promise<TrainRunResult | null> {
    const data = jobDataFor(config, { store: this.o.store, submitter: this.submitter, label: o.label });
    const added = await this.queue.add('run', data, {
      jobId: o.jobId, attempts: 2, backoff: { type: 'fixed', delay: 1000 },
      // kept a week, for `fitlab queue status` and for a resubmitted experiment to find
      removeOnComplete: { age: KEEP_JOBS_SECONDS }, removeOnFail: { age: KEEP_JOBS_SECONDS },
    });
    const id = String(added.id);
    let last = 0;
    this.progress.set(id, (p) => {
      if (p.epoch <= last) return;
      last = p.epoch;
      const acc = p.valAccuracy !== undefined ? `, val acc ${(100 * p.valAccuracy).toFixed(1)}%` : '';
      this.o.log(`  ${o.label}: epoch ${p.epoch}/${p.epochs} on ${p.worker}${p.loss !== undefined ? ` (loss ${p.loss.toFixed(4)}${acc})` : ''}`);
    });
    let value: RunJobResult;
    let poll: NodeJS.Timeout | undefined;
    try {
      const finished = added.waitUntilFinished(this.events) as Promise<RunJobResult>;
      // Ctrl-C on the submitter stops the waiting, not the run: it trains on, and submitting the
      // same job id again (experiment --resume) collects it
      const stopped = new Promise<null>((resolve) => {
        if (o.shouldStop) poll = setInterval(() => { if (o.shouldStop?.()) resolve(null); }, 200);
      });
      const first = await Promise.race([finished, stopped]);
      if (first === null) {
        finished.catch(() => undefined);
        return null;
      }
      value = first;
    } catch (err) {
      throw new RunFailedError(`run ${JSON.stringify(o.label)} (job ${id}) failed on a worker: ${(err as Error).message}`);
    } finally {
      if (poll) clearInterval(poll);
      this.progress.delete(id);
    }
    if (!value) {
      // an earlier submission's job of the same id: read its return value from Redis
      const job = await Job.fromId(this.queue, id);
      value = job?.returnvalue as RunJobResult;
    }
    return this.collect(id, value, config.out ?? 'runs');
  }

  /** Fetch the finished run's zip, unpack it under `out`, and read its result like trainRun returns it. */
  private async collect(id: string, value: RunJobResult, out: string): Promise<TrainRunResult> {
    const zip = await this.store.get(id, 'run');
    if (!zip) throw new RunFailedError(`run job ${id} finished on ${value.worker}, but its run directory is not in the ${value.artifact.kind === 'file' ? `store (${value.artifact.where})` : 'queue (Redis)'} any more`);
    const runDir = unpackRunDir(zip, out);
    await this.store.remove(id, 'run');
    return readResult(runDir, value.stopCause ?? null);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.client.disconnect();
  }
}

/** A finished run directory's result, as trainRun returned it on the worker (runDir: here). */
export function readResult(runDir: string, stopCause: StopCause | null): TrainRunResult {
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Omit<TrainRunResult, 'history' | 'diagnosis' | 'stopCause'>;
  let diagnosis: Diagnosis | null = null;
  try {
    diagnosis = JSON.parse(readFileSync(join(runDir, 'diagnosis.json'), 'utf8')) as Diagnosis;
  } catch {
    diagnosis = null;
  }
  return { ...summary, runDir, history: readHistoryFile(join(runDir, 'history.jsonl')), diagnosis, stopCause };
}
