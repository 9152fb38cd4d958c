/**
 * The inspection worker: computes finished runs' Network and Predictions views from their saved
 * models (saved-views.ts), one request at a time, off the server's event loop. Started by
 * inspector.ts when the first view is asked for; it keeps the last run's data loaded.
 */
import { parentPort } from 'node:worker_threads';
import { FitlabError } from '../errors.js';
import type { InspectReply, InspectTask } from './inspector.js';
import { inspectSaved } from './saved-views.js';

if (!parentPort) throw new Error('inspect-worker.ts runs inside a worker thread');
const port = parentPort;

// requests arrive one after another; each is answered before the next starts (the data cache is shared)
let chain: Promise<void> = Promise.resolve();
port.on('message', (task: InspectTask) => {
  chain = chain.then(async () => {
    let reply: InspectReply;
    try {
      reply = { id: task.id, view: await inspectSaved(task.request) };
    } catch (err) {
      reply = { id: task.id, error: (err as Error).message, user: err instanceof FitlabError };
    }
    port.postMessage(reply);
  });
});
