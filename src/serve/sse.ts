/**
 * Server-Sent Events fan-out: every connected page gets every event, in order. A page that
 * connects late first gets a snapshot (the `hello` event); a page that stops reading (its
 * buffer passes MAX_BUFFERED) is dropped and reconnects by itself, getting a fresh snapshot.
 */
import type { ServerResponse } from 'node:http';

const MAX_BUFFERED = 4 << 20;
const HEARTBEAT_MS = 15_000;

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly timer: NodeJS.Timeout;
  private seq = 0;

  constructor() {
    // a comment line now and then keeps proxies and idle timeouts from closing the stream
    this.timer = setInterval(() => this.writeAll(': keep-alive\n\n'), HEARTBEAT_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Take over a response as an event stream; `hello` is its first event. */
  connect(res: ServerResponse, hello: unknown): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Send an event to every page. */
  publish(event: string, data: unknown): void {
    this.seq++;
    this.writeAll(`id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
