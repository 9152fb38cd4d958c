/**
 * Calls to the dashboard server: JSON in, JSON out, errors as thrown Error with the server's
 * reason. The views call getJson/postJson/subscribe on the server's URLs; a Transport decides
 * where they go: the server by fetch + EventSource (the default), or, in the static site that
 * `fitlab site` writes, an in-page session that answers the same URLs (web/src/site/).
 */

/** One stream event: its type ('hello', 'batch', 'epoch'…) and its JSON data. */
export type StreamListener = (type: string, data: unknown) => void;

/** Where the page's requests go. */
export interface Transport {
  get(url: string): Promise<unknown>;
  post(url: string, value: unknown): Promise<unknown>;
  /** open the event stream; `state` reports the connection ('live' or 'reconnecting') */
  subscribe(types: readonly string[], listener: StreamListener, state: (s: 'live' | 'reconnecting') => void): void;
  /** a URL for a link to a run's file (a download), or null where the transport has none */
  link(path: string): string | null;
}

const TOKEN_KEY = 'fitlab-token';

/**
 * The server's token, from the `?token=…` of the URL it printed at start. Kept in this tab's
 * sessionStorage (a reload still works) and taken out of the address bar, so it is not
 * bookmarked or shown on a shared screen. Null when the server runs with --no-token.
 */
function takeToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  let stored: string | null = null;
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    stored = sessionStorage.getItem(TOKEN_KEY);
  } catch {
    // storage can be disabled; the token then lives in this page only
  }
  if (fromUrl) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  return fromUrl ?? stored;
}

const token = takeToken();

/** Headers every request sends: the token (required for state changes, and for reads beyond loopback). */
function authHeaders(): Record<string, string> {
  return token ? { 'X-Fitlab-Token': token } : {};
}

/** `path` with the token as a query parameter, for what cannot send headers (EventSource, links). */
export function withToken(path: string): string {
  return token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
}

async function httpGet(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  const body = (await res.json()) as { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

async function httpPost(url: string, value: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(value) });
  const body = (await res.json()) as { error?: string; hint?: string };
  if (!res.ok) throw new Error((body.error ?? `${res.status} ${res.statusText}`) + (body.hint ? ` — ${body.hint}` : ''));
  return body;
}

/** The dashboard server: fetch for requests, Server-Sent Events for the stream. */
export const httpTransport: Transport = {
  get: httpGet,
  post: httpPost,
  subscribe(types, listener, state) {
    const es = new EventSource(withToken('/api/stream'));
    es.onopen = () => state('live');
    es.onerror = () => state('reconnecting');
    for (const type of types) es.addEventListener(type, (e) => listener(type, JSON.parse((e as MessageEvent<string>).data) as unknown));
  },
  link: (path) => withToken(path),
};

let transport: Transport = httpTransport;

/** Route the page's requests elsewhere (the static site's in-page session); call before the views start. */
export function setTransport(t: Transport): void {
  transport = t;
}

/** Whether the page runs as the static site (no server behind it). */
export const isStatic = (): boolean => transport !== httpTransport;

export async function getJson<T>(url: string): Promise<T> {
  return (await transport.get(url)) as T;
}

export async function postJson<T>(url: string, value: unknown): Promise<T> {
  return (await transport.post(url, value)) as T;
}

/** Open the event stream (see Transport.subscribe). */
export function subscribe(types: readonly string[], listener: StreamListener, state: (s: 'live' | 'reconnecting') => void): void {
  transport.subscribe(types, listener, state);
}

/** A link to a run's file, or null where there is none (see Transport.link). */
export function fileLink(path: string): string | null {
  return transport.link(path);
}
