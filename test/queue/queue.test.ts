/**
 * Experiments across machines (issue 20), with real components: a redis-server on a free port
 * with its own temporary folder, two real `fitlab worker` processes, the real CLI submitting.
 *
 * - a tiny sweep through the queue gives the experiment.json numbers of the same sweep run here;
 * - a worker killed with SIGKILL in the middle of a run (right after the progress event that
 *   says its checkpoint is in the store — a condition, not a sleep) loses nothing: the other
 *   worker resumes it and the finished run is bit-identical to an uninterrupted local one;
 * - Ctrl-C (SIGINT) on a worker checkpoints its run and hands it back, with the same result;
 * - a run that fails for a real reason (its dataset is not on the worker) fails once, and its
 *   message (the places searched) reaches the submitter;
 * - an unreachable Redis is one line naming the URL, not a hang.
 * Every process the tests start is stopped by its PID in afterAll.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl, bullConnection } from '../../src/queue/connection.js';
import { KEY_PREFIX, QUEUE_NAME, type RunProgress } from '../../src/queue/job.js';
import { QueueClient, RunFailedError } from '../../src/queue/submit.js';
import { type TrainRunConfig, trainRun } from '../../src/run/train-run.js';
import { BIN, ROOT, ensureBuilt, fitlab } from '../cli/cli-helpers.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

let tmp = '';
let url = '';
let redis: ChildProcess | null = null;
const workers: { proc: ChildProcess; output: string[] }[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Wait for Redis to answer PING (bounded by a count of attempts, each a connect timeout). */
async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      c.disconnect();
    }
  }
  throw new Error(`redis-server on port ${port} never answered`);
}

/** Start a `fitlab worker`; resolves once it says it waits for runs. */
function startWorker(name: string, queueUrl = url): Promise<{ proc: ChildProcess; output: string[] }> {
  const work = join(tmp, `work-${name}`);
  const proc = spawn(process.execPath, [BIN, 'worker', '--queue', queueUrl, '--threads', '1', '--lock-duration', '4', '--work-dir', work, '--data-dir', join(tmp, 'no-data')], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    // no user cache: a dataset the test says is missing is missing
    env: { ...process.env, XDG_CACHE_HOME: join(tmp, 'cache'), HOME: join(tmp, 'home'), FITLAB_DATA: '' },
  });
  const w = { proc, output: [] as string[] };
  workers.push(w);
  return new Promise((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => w.output.push(d.toString()));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      w.output.push(line);
      if (/waiting for runs/.test(line)) resolve(w);
    });
    proc.on('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it was ready:\n${w.output.join('\n')}`)));
  });
}

/** experiment.json without what differs between any two runs of it (times and paths). */
function numbers(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'), (k, v: unknown) => (['seconds', 'wallSeconds', 'dir', 'runDir'].includes(k) ? undefined : v));
}

function onlyDir(parent: string): string {
  const d = readdirSync(parent);
  expect(d).toHaveLength(1);
  return join(parent, d[0]);
}

/** history.jsonl without the per-epoch wall time. */
function history(runDir: string): unknown[] {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8').trim().split('\n').map((l): unknown => JSON.parse(l, (k, v: unknown) => (k === 'seconds' ? undefined : v)));
}

/** Every weight shard of model-final/, concatenated. */
function finalWeights(runDir: string): Buffer {
  const dir = join(runDir, 'model-final');
  return Buffer.concat(readdirSync(dir).filter((f) => f.endsWith('.bin')).sort().map((f) => readFileSync(join(dir, f))));
}

/** A run long enough that a kill lands in its middle: 3,200 spirals, batch 8, 12 epochs. */
function longRun(out: string): TrainRunConfig {
  return {
    model: 'queue-mlp', dataset: 'spirals', synthetic: { n: 4000 }, epochs: 12, batchSize: 8, seed: 7, threads: 1, val: '0.2', out,
    modelSpec: {
      name: 'queue-mlp', input: [2], layers: [
        { type: 'dense', units: 64, activation: 'relu' }, { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' },
      ],
    },
  };
}

describe.skipIf(!hasRedis)(`runs through a BullMQ queue on a real Redis with two real workers${hasRedis ? '' : ' (skipped: redis-server is absent; apt-get install redis-server)'}`, () => {
  let client: QueueClient;
  let events: QueueEvents;
  let queue: Queue;

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'fitlab-queue-'));
    mkdirSync(join(tmp, 'redis'));
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(tmp, 'redis'), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForRedis(port);
    url = `redis://127.0.0.1:${port}`;
    await Promise.all([startWorker('a'), startWorker('b')]);
    const target = parseQueueUrl(url);
    client = await QueueClient.open({ target, store: null, log: () => undefined });
    events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(target), prefix: KEY_PREFIX });
    queue = new Queue(QUEUE_NAME, { connection: bullConnection(target), prefix: KEY_PREFIX });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await client?.close();
    await events?.close();
    await queue?.close();
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    if (redis?.pid) redis.kill('SIGKILL');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a tiny sweep through the queue gives the same experiment.json numbers as run here', () => {
    const args = ['experiment', 'sweep', '--dataset', 'spirals', '--param', 'l2', '--values', '0,0.001', '--folds', '0', '--epochs', '3', '--subset', '50', '--threads', '1', '--quiet'];
    const local = fitlab([...args, '--out', join(tmp, 'local')]);
    expect(local.stderr).toBe('');
    expect(local.status).toBe(0);
    const queued = fitlab([...args, '--out', join(tmp, 'queued'), '--queue', url]);
    expect(queued.stderr).toBe('');
    expect(queued.status).toBe(0);
    const a = onlyDir(join(tmp, 'local'));
    const b = onlyDir(join(tmp, 'queued'));
    expect(numbers(join(b, 'experiment.json'))).toEqual(numbers(join(a, 'experiment.json')));
    // the same experiment directory: report, charts, and every run with its files
    for (const f of ['report.html', 'validation-curve.svg', 'val-accuracy.svg']) expect(existsSync(join(b, f))).toBe(true);
    const runsA = readdirSync(join(a, 'runs'));
    const runsB = readdirSync(join(b, 'runs'));
    expect(runsB).toHaveLength(runsA.length);
    for (let i = 0; i < runsA.length; i++) {
      expect(readdirSync(join(b, 'runs', runsB[i])).sort()).toEqual(readdirSync(join(a, 'runs', runsA[i])).sort());
      expect(history(join(b, 'runs', runsB[i]))).toEqual(history(join(a, 'runs', runsA[i])));
    }
  });

  it('an experiment hands all its independent runs to the queue at once, so every worker can take one', async () => {
    // database 1: no worker listens there yet, so what the submitter enqueues stays waiting
    const dbUrl = `${url}/1`;
    const out = join(tmp, 'together');
    const args = ['experiment', 'sweep', '--dataset', 'spirals', '--param', 'l2', '--values', '0,0.001,0.01', '--folds', '0', '--epochs', '2', '--subset', '50', '--threads', '1', '--quiet'];
    const submitter = spawn(process.execPath, [BIN, ...args, '--out', out, '--queue', dbUrl], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const said: string[] = [];
    submitter.stdout?.on('data', (d: Buffer) => said.push(d.toString()));
    submitter.stderr?.on('data', (d: Buffer) => said.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => submitter.on('exit', (code) => resolve(code)));
    const q = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueUrl(dbUrl)), prefix: KEY_PREFIX });
    try {
      // bounded by a count of polls; one run at a time would never put more than 1 there
      let waiting = 0;
      for (let i = 0; i < 3000 && waiting < 3 && submitter.exitCode === null; i++) {
        waiting = await q.getWaitingCount();
        if (waiting < 3) await new Promise((r) => setTimeout(r, 100));
      }
      expect(waiting, said.join('')).toBe(3);
      await startWorker('c', dbUrl);
      expect(await exited, said.join('')).toBe(0);
      expect(readdirSync(join(onlyDir(out), 'runs'))).toHaveLength(3);
    } finally {
      if (submitter.exitCode === null) submitter.kill('SIGKILL');
      await q.close();
    }
  });

  it('a submitter killed mid-experiment loses nothing: --resume with --queue collects what the workers kept training, same numbers', async () => {
    const args = ['experiment', 'sweep', '--dataset', 'spirals', '--param', 'l2', '--values', '0,0.001', '--folds', '0', '--epochs', '30', '--subset', '200', '--threads', '1'];
    const out = join(tmp, 'queued-killed');
    const submitter = spawn(process.execPath, [BIN, ...args, '--out', out, '--queue', url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const killed = await new Promise<boolean>((resolve) => {
      // the first progress line a worker reports: the run is on the queue and training
      createInterface({ input: submitter.stdout }).on('line', (line) => {
        if (/: epoch \d+\/30 on /.test(line)) resolve(submitter.kill('SIGKILL'));
      });
      submitter.on('exit', () => resolve(false));
    });
    expect(killed).toBe(true);
    // gone for good (reaped), so its experiment lock is stale for --resume
    if (submitter.exitCode === null && submitter.signalCode === null) await new Promise((r) => submitter.on('exit', r));
    const dir = onlyDir(out);
    const resumed = fitlab(['experiment', 'sweep', '--resume', dir, '--queue', url, '--quiet']);
    // the killed submitter's experiment lock is taken over, with one line saying so
    expect(resumed.stderr).toMatch(/^fitlab: taking over the lock of \S+ from process \d+, which is no longer running\n$/);
    expect(resumed.status).toBe(0);
    const local = fitlab([...args, '--out', join(tmp, 'local-killed'), '--quiet']);
    expect(local.status).toBe(0);
    expect(numbers(join(dir, 'experiment.json'))).toEqual(numbers(join(onlyDir(join(tmp, 'local-killed')), 'experiment.json')));
  });

  /** Submit `config`; when its progress says a checkpoint of epoch ≥ 2 is in the store, signal the worker training it. */
  async function runAndSignal(config: TrainRunConfig, signal: NodeJS.Signals): Promise<{ runDir: string; signalled: number | null }> {
    const jobId = `test-${signal}-${process.pid}`;
    let signalled: number | null = null;
    const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }): void => {
      const p = data as RunProgress;
      if (id !== jobId || signalled !== null || !p.checkpoint || p.epoch < 2) return;
      const w = workers.find((x) => x.proc.pid === p.pid);
      if (w && w.proc.kill(signal)) signalled = p.pid;
    };
    events.on('progress', onProgress);
    try {
      const result = await client.run(config, { jobId, label: `long run (${signal})` });
      if (!result) throw new Error('the run never came back');
      return { runDir: result.runDir, signalled };
    } finally {
      events.off('progress', onProgress);
    }
  }

  it('a worker killed with SIGKILL mid-run loses nothing: the other resumes it from the checkpoint, bit-identical to a local run', async () => {
    const local = await trainRun(longRun(join(tmp, 'local-long')));
    const { runDir, signalled } = await runAndSignal(longRun(join(tmp, 'queued-long')), 'SIGKILL');
    expect(signalled).not.toBeNull();
    // the run was resumed (not retrained from scratch by luck of timing)
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { resumed?: string };
    expect(config.resumed).toBeTypeOf('string');
    expect(history(runDir)).toEqual(history(local.runDir));
    expect(finalWeights(runDir).equals(finalWeights(local.runDir))).toBe(true);
    // bring the pool back to two workers for what follows
    await startWorker('c');
  });

  it('Ctrl-C on a worker checkpoints its run and hands it back; the run finishes elsewhere, bit-identical', async () => {
    const local = await trainRun({ ...longRun(join(tmp, 'local-int')), seed: 8 });
    const { runDir, signalled } = await runAndSignal({ ...longRun(join(tmp, 'queued-int')), seed: 8 }, 'SIGINT');
    expect(signalled).not.toBeNull();
    const w = workers.find((x) => x.proc.pid === signalled)!;
    // the interrupted worker left by itself, after handing the run back
    const code = w.proc.exitCode ?? (await new Promise<number | null>((r) => w.proc.on('exit', (c) => r(c))));
    expect(code).toBe(0);
    expect(w.output.join('\n')).toMatch(/handed back to the queue/);
    expect(history(runDir)).toEqual(history(local.runDir));
    expect(finalWeights(runDir).equals(finalWeights(local.runDir))).toBe(true);
  });

  it('a run whose dataset is missing on the worker fails once, naming the dataset and the places searched', async () => {
    const jobId = `test-missing-${process.pid}`;
    const err = await client.run({ model: 'paper-mlp', dataset: 'cifar100', epochs: 1, out: join(tmp, 'never') }, { jobId, label: 'missing data' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as Error).message).toMatch(/cifar100.*not found/);
    expect((err as Error).message).toContain(join(tmp, 'no-data'));
    const job = await queue.getJob(jobId);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  });

  it('a configuration the run contract refuses is refused on the submitter, before it reaches the queue', async () => {
    const err = await client.run({ model: 'paper-mlp', dataset: 'spirals', epochs: 0, out: join(tmp, 'never') }, { jobId: `test-bad-${process.pid}`, label: 'bad' }).then(() => null, (e: unknown) => e);
    expect((err as Error).message).toMatch(/epochs/);
    expect(await queue.getJob(`test-bad-${process.pid}`)).toBeUndefined();
  });

  it('with --store, checkpoints and the finished run go through the shared folder, not Redis', async () => {
    const store = join(tmp, 'store');
    const viaStore = await QueueClient.open({ target: parseQueueUrl(url), store, log: () => undefined });
    const seen = new Set<string>();
    const onProgress = ({ data }: { data: unknown }): void => {
      const p = data as RunProgress;
      if (p.checkpoint && p.stored) seen.add(p.stored);
    };
    events.on('progress', onProgress);
    try {
      const r = await viaStore.run({ ...longRun(join(tmp, 'queued-store')), epochs: 3, synthetic: { n: 400 } }, { jobId: `test-store-${process.pid}`, label: 'via the store' });
      if (!r) throw new Error('the run never came back');
      expect(history(r.runDir)).toHaveLength(3);
      // the test's own event stream may lag the submitter's: wait for it (a bounded count of looks)
      for (let i = 0; i < 200 && !seen.size; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      events.off('progress', onProgress);
      await viaStore.close();
    }
    expect([...seen]).toEqual([join(store, `test-store-${process.pid}.checkpoint.zip`)]);
    // collected: nothing left behind in the folder or in Redis
    expect(readdirSync(store)).toEqual([]);
    const r = new Redis(parseQueueUrl(url).options);
    try {
      expect(await r.keys(`${KEY_PREFIX}:${QUEUE_NAME}:artifact:*`)).toEqual([]);
    } finally {
      r.disconnect();
    }
  });

  it('fitlab queue status lists the finished and failed runs and the workers', () => {
    const r = fitlab(['queue', 'status', url, '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { counts: { finished: number; failed: number }; workers: { name: string }[] };
    expect(s.counts.finished).toBeGreaterThanOrEqual(7);
    expect(s.counts.failed).toBe(1);
    const alive = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null).map((w) => w.proc.pid);
    expect(s.workers.map((w) => Number(w.name.split(':').pop())).sort()).toEqual(alive.sort());
  });
  it('--concurrency 2 starts two worker processes; one Ctrl-C makes both leave', async () => {
    const proc = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--threads', '1', '--concurrency', '2', '--work-dir', join(tmp, 'work-k')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.push({ proc, output: [] });
    const names: string[] = [];
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        const m = /^fitlab worker (\S+): waiting for runs/.exec(line);
        if (m && names.push(m[1]) === 2) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`fitlab worker --concurrency 2 exited (${code}) before both were ready`)));
    });
    const status = JSON.parse(fitlab(['queue', 'status', url, '--json']).stdout) as { workers: { name: string }[] };
    for (const n of names) expect(status.workers.map((w) => w.name)).toContain(n);
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('an unreachable queue is one line naming the URL, never a hang', () => {
  it('fitlab worker and fitlab experiment --queue on a port nothing listens on', async () => {
    ensureBuilt();
    const port = await freePort();
    const bad = `redis://127.0.0.1:${port}/3`;
    for (const args of [['worker', '--queue', bad], ['experiment', 'sweep', '--dataset', 'spirals', '--queue', bad, '--out', join(tmpdir(), 'fitlab-never')], ['queue', 'status', bad]]) {
      const r = fitlab(args, { timeoutMs: 20_000 });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`cannot reach the queue at ${bad}: connection refused`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a URL that is not redis:// or a password in it: refused or hidden', () => {
    const r = fitlab(['queue', 'status', 'http://localhost:6379']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--queue must start with redis:\/\/ or rediss:\/\//);
    expect(parseQueueUrl('redis://:s3cret@db.example:6380/2').display).toBe('redis://:***@db.example:6380/2');
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasRedis || !hasOpenssl)(`rediss:// with a password and a self-signed certificate${hasRedis && hasOpenssl ? '' : ' (skipped: needs redis-server and openssl)'}`, () => {
  let dir = '';
  let server: ChildProcess | null = null;
  let port = 0;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'fitlab-queue-tls-'));
    const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    expect(cert.status).toBe(0);
    port = await freePort();
    server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'),
      '--tls-auth-clients', 'no', '--requirepass', 's3cret', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // ready when the TLS port answers (a bounded count of looks)
    const target = parseQueueUrl(`rediss://:s3cret@localhost:${port}`, { ca: join(dir, 'cert.pem') });
    for (let i = 0; i < 100; i++) {
      const c = new Redis({ ...target.options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        c.disconnect();
      }
    }
  });

  afterAll(() => {
    if (server?.pid) server.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with --tls-ca and the password; a wrong password or a missing CA is one line', () => {
    const ok = fitlab(['queue', 'status', `rediss://:s3cret@localhost:${port}`, '--tls-ca', join(dir, 'cert.pem')]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`queue rediss://:***@localhost:${port}: 0 waiting`);
    const wrong = fitlab(['queue', 'status', `rediss://:nope@localhost:${port}`, '--tls-ca', join(dir, 'cert.pem')]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('authentication failed');
    expect(wrong.stderr).not.toContain('nope');
    const noCa = fitlab(['queue', 'status', `rediss://:s3cret@localhost:${port}`]);
    expect(noCa.status).toBe(1);
    expect(noCa.stderr).toMatch(/self-signed certificate/);
  });
});
