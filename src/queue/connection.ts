/**
 * Where the queue lives: a `redis://[:password@]host:port[/db]` or `rediss://` (TLS) URL, turned
 * into ioredis connection options, and checked once before BullMQ is handed the connection.
 *
 * The check matters because ioredis, left alone, retries an unreachable server forever: a typo in
 * the URL would hang `fitlab worker` with no word. Here one bounded attempt either answers PING or
 * becomes one line naming the URL (password hidden) and the reason.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ArgumentError, FitlabError } from '../errors.js';

/** TLS material for rediss:// (paths to PEM files); a server with a public certificate needs none. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface QueueTarget {
  /** the URL as the user may see it: the password replaced by *** */
  display: string;
  /** ioredis options for every connection BullMQ and fitlab open */
  options: RedisOptions;
}

/** Seconds a connection attempt may take before it is an error (not a hang). */
export const CONNECT_TIMEOUT_MS = 5000;

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ArgumentError(`${flag} ${JSON.stringify(path)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Parse a queue URL. Allowed: redis:// or rediss://, a host, an optional port (default 6379), an
 * optional database number path (/0 … /15 on a stock server) and optional credentials.
 */
export function parseQueueUrl(url: string, tls: TlsFiles = {}): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ArgumentError(`--queue must be a URL such as redis://host:6379 or rediss://:password@host:6380/0; received ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ArgumentError(`--queue must start with redis:// or rediss:// (TLS); received ${JSON.stringify(url)}`);
  }
  if (!u.hostname) throw new ArgumentError(`--queue names no host; received ${JSON.stringify(url)}`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\/+/, '');
  if (dbText && !/^\d+$/.test(dbText)) throw new ArgumentError(`--queue database must be a number (redis://host:6379/0); received ${JSON.stringify(dbText)}`);
  const db = dbText ? Number(dbText) : 0;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const secure = u.protocol === 'rediss:';
  if (!secure && (tls.ca || tls.cert || tls.key)) {
    throw new ArgumentError(`--tls-ca, --tls-cert and --tls-key need a rediss:// URL; received ${JSON.stringify(u.protocol + '//')}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const options: RedisOptions = {
    host, port, db, username, password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // BullMQ's workers block on Redis; it asks for unlimited retries per request
    maxRetriesPerRequest: null,
    ...(secure ? {
      tls: {
        servername: host,
        ...(tls.ca ? { ca: readPem('--tls-ca', tls.ca) } : {}),
        ...(tls.cert ? { cert: readPem('--tls-cert', tls.cert) } : {}),
        ...(tls.key ? { key: readPem('--tls-key', tls.key) } : {}),
      },
    } : {}),
  };
  const auth = password ? `${username ?? ''}:***@` : username ? `${username}@` : '';
  const display = `${u.protocol}//${auth}${u.host}${dbText ? `/${db}` : ''}`;
  return { display, options };
}

/**
 * One bounded attempt to reach the server: resolves when it answers PING, otherwise throws a
 * FitlabError naming the URL and the cause (refused, timed out, wrong password, TLS failure).
 */
export async function checkReachable(target: QueueTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const client = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: Error | null = null;
  // ioredis reports the socket's failure as an 'error' event before connect() rejects
  client.on('error', (err: Error) => { lastError = err; });
  let timer: NodeJS.Timeout | undefined;
  try {
    const attempt = (async () => { await client.connect(); await client.ping(); })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${(timeoutMs / 1000).toFixed(0)} s`)), timeoutMs);
    });
    await Promise.race([attempt, deadline]);
  } catch (err) {
    const cause = describeRedisError(lastError ?? (err as Error));
    throw new FitlabError(`cannot reach the queue at ${target.display}: ${cause}`, 'start Redis there (redis-server --port <port>), or check the host, port, password and TLS settings of --queue');
  } finally {
    if (timer) clearTimeout(timer);
    client.disconnect();
  }
}

function describeRedisError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens on that port)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(err.message)) return `authentication failed (${err.message.split('\n')[0]})`;
  if (/certificate/i.test(err.message)) return `${err.message.split('\n')[0]} (a server with its own certificate authority needs --tls-ca <file>)`;
  return err.message.split('\n')[0] || String(code ?? 'unknown error');
}

/**
 * The options as BullMQ's connection type. BullMQ 6 declares its own (driver-neutral) option
 * interface; ioredis' RedisOptions is what it hands to ioredis, so the two describe one object.
 */
export function bullConnection(target: QueueTarget): ConnectionOptions {
  return target.options as unknown as ConnectionOptions;
}
