/** Calls to the dashboard server: JSON in, JSON out, errors as thrown Error with the server's reason. */

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

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export async function postJson<T>(url: string, value: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(value) });
  const body = (await res.json()) as T & { error?: string; hint?: string };
  if (!res.ok) throw new Error((body.error ?? `${res.status} ${res.statusText}`) + (body.hint ? ` — ${body.hint}` : ''));
  return body;
}
