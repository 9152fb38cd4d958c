/**
 * Give the host's event loop a turn from inside a long async loop (the Trainer between batches),
 * on any host: Node's `setImmediate` where it exists (it runs after pending I/O, so Ctrl-C and a
 * worker's messages get through), else a MessageChannel task (browsers and Web Workers: unlike
 * `setTimeout(0)` it is not clamped to 4 ms after a few nestings), else `setTimeout(0)`.
 * The train floor calls this instead of a Node global, so the browser bundle needs no polyfill.
 */

interface HostTimers {
  setImmediate?: (f: () => void) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close(): void }; port2: { postMessage(m: unknown): void; close(): void } };
  setTimeout: (f: () => void, ms: number) => unknown;
}

/**
 * Resolves after the host has run its other pending tasks.
 *
 * @example
 * for (const batch of batches) { step(batch); await yieldToHost(); }
 */
export function yieldToHost(): Promise<void> {
  const host = globalThis as unknown as HostTimers;
  return new Promise<void>((resolve) => {
    if (typeof host.setImmediate === 'function') {
      host.setImmediate(resolve);
    } else if (typeof host.MessageChannel === 'function') {
      const channel = new host.MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        channel.port2.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else {
      host.setTimeout(resolve, 0);
    }
  });
}
