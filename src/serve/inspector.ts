/**
 * The server's side of the inspection worker: one worker thread, started on the first request,
 * that answers finished runs' view requests in order. A worker that dies fails its open
 * requests and is started afresh by the next one.
 */
import type { Worker } from 'node:worker_threads';
import { FitlabError } from '../errors.js';
import type { NetworkView, PredictionsView } from './protocol.js';
import type { InspectRequest } from './saved-views.js';
import { startWorker } from './worker-boot.js';

export interface InspectTask {
  id: number;
  request: InspectRequest;
}

export type InspectReply = { id: number; view: NetworkView | PredictionsView } | { id: number; error: string; user: boolean };

export class Inspector {
  private worker: Worker | null = null;
  private next = 1;
  private readonly open = new Map<number, { ok: (v: NetworkView | PredictionsView) => void; fail: (e: Error) => void }>();

  private start(): Worker {
    const w = startWorker('inspect-worker', null);
    w.on('message', (r: InspectReply) => {
      const p = this.open.get(r.id);
      if (!p) return;
      this.open.delete(r.id);
      if ('view' in r) p.ok(r.view);
      else p.fail(r.user ? new FitlabError(r.error) : new Error(r.error));
    });
    const failAll = (why: string): void => {
      if (this.worker === w) this.worker = null;
      for (const p of this.open.values()) p.fail(new Error(why));
      this.open.clear();
    };
    w.on('error', (err) => failAll(`the inspection worker failed: ${err.message}`));
    w.on('exit', () => failAll('the inspection worker exited'));
    return w;
  }

  /** The view asked for, computed in the worker. */
  view(request: InspectRequest): Promise<NetworkView | PredictionsView> {
    this.worker ??= this.start();
    const id = this.next++;
    const worker = this.worker;
    return new Promise((ok, fail) => {
      this.open.set(id, { ok, fail });
      worker.postMessage({ id, request } satisfies InspectTask);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
