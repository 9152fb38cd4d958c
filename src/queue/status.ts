/** `fitlab queue status`: the jobs by state and the workers connected, read from Redis. */
import { Queue } from 'bullmq';
import { type QueueTarget, bullConnection, checkReachable } from './connection.js';
import { KEY_PREFIX, QUEUE_NAME, type RunProgress } from './job.js';

export interface QueueStatus {
  url: string;
  counts: { waiting: number; active: number; finished: number; failed: number; delayed: number };
  active: { id: string; label: string; worker: string | null; epoch: number | null; epochs: number | null }[];
  failed: { id: string; label: string; reason: string }[];
  workers: { name: string; address: string; idleSeconds: number }[];
}

const LIST = 20;

export async function queueStatus(target: QueueTarget): Promise<QueueStatus> {
  await checkReachable(target);
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(target), prefix: KEY_PREFIX });
  try {
    const c = await queue.getJobCounts('wait', 'active', 'completed', 'failed', 'delayed');
    const label = (data: unknown): string => {
      const d = data as { label?: unknown } | null;
      return typeof d?.label === 'string' ? d.label : '?';
    };
    const active = (await queue.getJobs(['active'], 0, LIST - 1)).filter(Boolean).map((j) => {
      const p = (typeof j.progress === 'object' ? j.progress : null) as RunProgress | null;
      return { id: String(j.id), label: label(j.data), worker: p?.worker ?? j.processedBy ?? null, epoch: p?.epoch ?? null, epochs: p?.epochs ?? null };
    });
    const failed = (await queue.getJobs(['failed'], 0, LIST - 1)).filter(Boolean).map((j) => ({ id: String(j.id), label: label(j.data), reason: j.failedReason }));
    const workers = (await queue.getWorkers()).map((w) => {
      const raw = String(w.rawname ?? w.name ?? '');
      const k = raw.indexOf(':w:');
      return { name: k >= 0 ? raw.slice(k + 3) : raw, address: String(w.addr ?? ''), idleSeconds: Number(w.idle ?? 0) };
    });
    return {
      url: target.display,
      counts: { waiting: c.wait ?? 0, active: c.active ?? 0, finished: c.completed ?? 0, failed: c.failed ?? 0, delayed: c.delayed ?? 0 },
      active, failed, workers,
    };
  } finally {
    await queue.close();
  }
}
