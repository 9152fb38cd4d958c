/**
 * Small HTTP helpers for the dashboard server: safe path resolution under a root, bounded
 * JSON bodies, and JSON/error replies. A refused request gets a 4xx and a one-line reason.
 */
import { realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, sep } from 'node:path';

/** A request the server refuses: status (4xx) and a reason for the page. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const MAX_BODY = 64 * 1024;

/**
 * Split a raw URL path (still percent-encoded) into decoded segments, refusing anything that
 * could leave the folder it names: `..` and `.` segments (encoded or not), empty segments
 * (`//`, a leading `/` after the prefix: absolute paths), backslashes, NUL, drive letters.
 */
export function safeSegments(rawPath: string): string[] {
  const segments = rawPath.split('/');
  return segments.map((seg) => {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      throw new HttpError(400, `bad percent-encoding in the path: ${JSON.stringify(seg.slice(0, 80))}`);
    }
    if (s === '' || s === '.' || s === '..' || /[\\/\0]/.test(s) || /^[A-Za-z]:/.test(s) || isAbsolute(s)) {
      throw new HttpError(400, 'paths may not contain empty, "." or ".." segments, slashes, backslashes or drive letters');
    }
    return s;
  });
}

/** The real path of `segments` under `root`, or a 4xx: it must exist and stay under root after symlinks. */
export function resolveUnder(root: string, segments: string[]): string {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new HttpError(404, 'not found');
  }
  let real: string;
  try {
    real = realpathSync(join(realRoot, ...segments));
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new HttpError(403, 'outside the served folder');
  if (!statSync(real).isFile()) throw new HttpError(404, 'not a file');
  return real;
}

/** Read a JSON body: application/json, at most MAX_BODY bytes, parsed with JSON.parse only. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, `the body must be application/json; received ${JSON.stringify(type || 'none')}`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new HttpError(413, `the body is larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the text it choked on; the reason is enough
    throw new HttpError(400, 'the body is not valid JSON');
  }
  checkDepth(value, MAX_DEPTH);
  return value;
}

/** Nesting a request body may have: a model spec needs a handful of levels. */
export const MAX_DEPTH = 32;

/**
 * Refuse a value nested deeper than `max` levels. JSON.parse builds 100,000 nested arrays
 * without complaint, but every recursive reader after it (validation messages, structured
 * clone to the worker, JSON.stringify) would overflow the stack; this walk is iterative.
 */
export function checkDepth(value: unknown, max: number): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) throw new HttpError(400, `the body is nested deeper than ${max} levels`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'",
};

export function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
}

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

export function contentType(file: string): string {
  const dot = file.lastIndexOf('.');
  return CONTENT_TYPES[dot >= 0 ? file.slice(dot).toLowerCase() : ''] ?? 'application/octet-stream';
}
