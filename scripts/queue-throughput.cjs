#!/usr/bin/env node
// Runs per hour through the queue: submit N identical-size runs at once (seeds 1..N) to the
// workers listening on a queue, wait for all of them to come back, print runs/hour and each
// run's training time on its worker. Start the workers first (fitlab worker --queue URL).
//
//   node scripts/queue-throughput.cjs redis://127.0.0.1:6379 [runs=6] [epochs=10]
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { performance } = require('node:perf_hooks');

async function main() {
  const dist = (m) => import(pathToFileURL(join(__dirname, '..', 'dist', 'src', 'queue', m)).href);
  const { parseQueueUrl } = await dist('connection.js');
  const { QueueClient } = await dist('submit.js');

  const [url, runsArg = '6', epochsArg = '10'] = process.argv.slice(2);
  if (!url) {
    process.stderr.write('usage: node scripts/queue-throughput.cjs <redis-url> [runs] [epochs]\n');
    process.exit(2);
  }
  const runs = Number(runsArg);
  const epochs = Number(epochsArg);
  const out = mkdtempSync(join(tmpdir(), 'fitlab-throughput-'));
  const client = await QueueClient.open({ target: parseQueueUrl(url), store: null, log: () => undefined });
  const config = (seed) => ({
    model: 'throughput-mlp', dataset: 'spirals', synthetic: { n: 4000 }, epochs, batchSize: 8, seed, threads: 1, val: '0.2', out,
    modelSpec: { name: 'throughput-mlp', input: [2], layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] },
  });
  const t0 = performance.now();
  const tag = `throughput-${process.pid}-${Date.now()}`;
  const results = await Promise.all(Array.from({ length: runs }, (_, i) => client.run(config(i + 1), { jobId: `${tag}-${i + 1}`, label: `run ${i + 1}` })));
  const seconds = (performance.now() - t0) / 1000;
  await client.close();
  const perRun = results.map((r) => r.wallSeconds);
  process.stdout.write(`${runs} runs of ${epochs} epochs in ${seconds.toFixed(1)} s: ${(3600 * runs / seconds).toFixed(0)} runs/hour; ` +
    `training time per run (on its worker) ${Math.min(...perRun).toFixed(1)}–${Math.max(...perRun).toFixed(1)} s\n`);
  rmSync(out, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
