/**
 * `fitlab worker`: take run jobs from the queue and train them, one at a time per process.
 *
 * A job trains in a private folder under the worker's work directory. After every epoch the
 * whole run directory (checkpoint included) goes to the store, then the job's progress says so.
 * When a worker dies (kill -9, a power cut), its job's lock runs out and BullMQ's stalled-job
 * check puts the job back in the queue; the next worker finds the checkpoint in the store and
 * resumes it with the run-level resume (`fitlab train --resume`), which continues bit for bit.
 *
 * Locks: a job's lock lasts `lockMs` (default 2 minutes) and BullMQ renews it every lockMs/2 from
 * the worker's event loop; training yields to that loop after every batch, and every epoch renews
 * the lock explicitly before its checkpoint goes out. A worker that finds its lock gone (another
 * worker owns the job now) stops training that job without writing anything more.
 *
 * Failures: a FitlabError (a bad configuration, a dataset not found — its message names the
 * places searched) fails the job once (UnrecoverableError); the submitter shows the message.
 * Anything else is retried once on another attempt.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { FitlabError } from '../errors.js';
import { type RunHooks, type TrainRunResult, resumeRun, trainRun } from '../run/train-run.js';
import { type QueueTarget, bullConnection, checkReachable } from './connection.js';
import { KEY_PREFIX, QUEUE_NAME, type RunJobData, type RunJobResult, type RunProgress, packRunDir, unpackRunDir, validateJobData } from './job.js';
import { type ArtifactStore, folderStore, redisStore } from './store.js';

export interface WorkerOptions {
  target: QueueTarget;
  /** kernel threads for jobs whose configuration does not fix them */
  threads?: number;
  /** where jobs train (a fresh folder per job, removed when the job is done) */
  workDir: string;
  /** the job lock's duration (ms); a dead worker's job is handed on after about this long */
  lockMs: number;
  log: (line: string) => void;
}

export const DEFAULT_LOCK_MS = 120_000;

export interface RunningWorker {
  name: string;
  /** stop taking jobs; the current one checkpoints and goes back to the queue */
  stop(): void;
  /** resolves when the worker has left */
  done: Promise<void>;
}

/** A job that is handed back (Ctrl-C) or lost (its lock is another worker's now). */
class Handback extends Error {}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  await checkReachable(o.target);
  const name = `${hostname()}:${process.pid}`;
  mkdirSync(o.workDir, { recursive: true });
  const client = new Redis(o.target.options);
  client.on('error', (err: Error) => o.log(`fitlab worker: redis: ${err.message}`));
  const stores = new Map<string, ArtifactStore>();
  const storeFor = (data: RunJobData): ArtifactStore => {
    if (!data.store) return redisStore(client);
    let s = stores.get(data.store);
    if (!s) stores.set(data.store, (s = folderStore(data.store)));
    return s;
  };
  let stopping = false;

  const processor = async (job: Job, token?: string): Promise<RunJobResult> => {
    let data: RunJobData;
    try {
      data = validateJobData(job.data);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    const id = String(job.id);
    const store = storeFor(data);
    const say = (line: string): void => o.log(`[${id}] ${line}`);
    const work = mkdtempSync(join(o.workDir, `${id.replace(/[^A-Za-z0-9._-]+/g, '_')}-`));
    let lost = false;
    let pending: Promise<void> = Promise.resolve();
    let runDir: string | null = null;
    const hooks: RunHooks = {
      log: say,
      onStart: (run) => { runDir = run.runDir; },
      // training yields to the event loop after each batch so BullMQ's lock renewal runs; the
      // previous epoch's upload is awaited here, so at most one is ever in flight
      afterBatch: async () => {
        await pending;
        await yieldToLoop();
      },
      shouldInterrupt: () => stopping || lost,
      onEpoch: (log, epochs) => {
        if (!runDir) return;
        const zip = packRunDir(runDir);
        const epoch = Number(log.epoch) + 1;
        pending = pending.then(async () => {
          if (lost) return;
          if (token && (await job.extendLock(token, o.lockMs)) === 0) {
            lost = true;
            return;
          }
          const at = await store.put(id, 'checkpoint', zip);
          const p: RunProgress = { epoch, epochs, worker: name, pid: process.pid, loss: num(log.loss), valAccuracy: num(log.val_accuracy), checkpoint: true, stored: at.where };
          await job.updateProgress(p);
        });
      },
    };
    try {
      const saved = await store.get(id, 'checkpoint');
      let result: TrainRunResult;
      let resumed = 0;
      if (saved) {
        runDir = unpackRunDir(saved, work);
        resumed = 1;
        say(`resuming ${data.label} from the checkpoint in the store (attempt ${job.attemptsStarted})`);
        result = await resumeRun(runDir, hooks);
      } else {
        say(`training ${data.label}`);
        result = await trainRun({ ...data.config, threads: data.config.threads ?? o.threads, out: work }, hooks);
      }
      await pending;
      if (lost) throw new Handback(`job ${id}: its lock expired and another worker took it; this worker stops training it`);
      if (result.interrupted) {
        // Ctrl-C: the run saved a checkpoint inside its epoch; it goes to the store, the job back to the queue
        await store.put(id, 'checkpoint', packRunDir(result.runDir));
        if (token) await job.moveToWait(token);
        say(`checkpointed at ${result.checkpointAt.epochs} epochs + ${result.checkpointAt.batch} batches and handed back to the queue`);
        throw new WaitingError();
      }
      const artifact = await store.put(id, 'run', packRunDir(result.runDir));
      await store.remove(id, 'checkpoint');
      say(`finished ${data.label}: ${result.epochsRun} epochs; run directory ${artifact.bytes.toLocaleString('en-US')} bytes zipped`);
      return { worker: name, runName: basename(result.runDir), artifact, resumed, stopCause: result.stopCause };
    } catch (err) {
      await pending.catch(() => undefined);
      if (err instanceof WaitingError || err instanceof Handback || err instanceof UnrecoverableError) throw err;
      if (err instanceof FitlabError) {
        // the run itself refused (bad configuration, missing data): retrying cannot help
        throw new UnrecoverableError(err.hint ? `${err.message} (hint: ${err.hint})` : err.message);
      }
      throw err;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(o.target),
    prefix: KEY_PREFIX,
    name,
    concurrency: 1,
    lockDuration: o.lockMs,
    // a stalled check every half lock: a dead worker's job goes back within about 1.5 locks
    stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)),
    // a job whose worker died this often is failing them (memory?): stop handing it out
    maxStalledCount: 5,
  });
  worker.on('error', (err) => o.log(`fitlab worker: ${err.message}`));
  worker.on('failed', (job, err) => {
    if (job && !(err instanceof WaitingError) && err.name !== 'WaitingError') o.log(`[${String(job.id)}] failed: ${err.message}`);
  });
  await worker.waitUntilReady();
  o.log(`fitlab worker ${name}: waiting for runs on ${o.target.display} (queue ${KEY_PREFIX}:${QUEUE_NAME})`);
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  return {
    name,
    stop: () => {
      if (stopping) return;
      stopping = true;
      void (async () => {
        await worker.close();
        client.disconnect();
        resolveDone();
      })();
    },
    done,
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
