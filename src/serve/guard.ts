/**
 * Who may change state through the dashboard. A page on another site can make the browser send
 * a POST to 127.0.0.1 (a form, fetch with mode no-cors): the same-origin policy hides the
 * answer from it, but the run would start all the same. So every state-changing request must
 *   - come from this server's own page: `Origin`, when the browser sends it, is our origin, and
 *     `Sec-Fetch-Site`, when sent, is `same-origin` (or `none`: typed by the user, curl);
 *   - carry the per-server token (header X-Fitlab-Token), which only someone who saw the URL
 *     printed at start (or the page opened from it) knows — as Jupyter does. A custom header
 *     also forces a CORS preflight on any cross-origin fetch, which this server never grants.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

export const TOKEN_HEADER = 'x-fitlab-token';

/** A fresh token: 32 random bytes as 64 hex digits. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Constant-time comparison, so the answer's timing tells nothing about a guess's prefix. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The token a request carries: the header, or for a read `?token=` as well (EventSource and a
 * report link cannot set headers). A state change must use the header: it forces the preflight.
 */
function requestToken(req: IncomingMessage, query: URLSearchParams | null): string | undefined {
  return header(req, TOKEN_HEADER) ?? query?.get('token') ?? undefined;
}

/** Refuse (403) a state change that a page of another origin could have sent. */
export function checkSameOrigin(req: IncomingMessage): void {
  const origin = header(req, 'origin');
  // our own origin is what the page was loaded from: http:// and the Host it asked for (the
  // Host itself is checked against loopback names by the server when it binds loopback)
  if (origin !== undefined && origin !== `http://${header(req, 'host') ?? ''}`) {
    throw new HttpError(403, `cross-origin request refused (Origin ${JSON.stringify(origin.slice(0, 100))}); use the dashboard's own page`);
  }
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site ${JSON.stringify(site.slice(0, 40))}); use the dashboard's own page`);
  }
}

/**
 * Refuse (403) a request without the server's token; `token` null means the check is off
 * (--no-token). `query` is given for reads only (see requestToken).
 */
export function checkToken(req: IncomingMessage, token: string | null, query: URLSearchParams | null): void {
  if (token === null) return;
  if (!tokenMatches(token, requestToken(req, query))) {
    throw new HttpError(403, 'missing or wrong dashboard token; open the URL with ?token=… that the dashboard printed at start');
  }
}

const DATA_ROUTES = ['/api/', '/runs/', '/experiments/'];

/**
 * The checks a request passes before it is routed (403 otherwise). Every state change (any
 * method but GET/HEAD): our origin and the token. Reads need the token only beyond loopback.
 * On loopback the same-origin policy keeps other sites' pages from reading our answers (we
 * send no CORS headers) and the Host check stops DNS rebinding, so a read-only GET is safe
 * without it and the page's links stay plain. Bound to a network address, anyone who can
 * reach the port could read every run, config and report: there the token guards reads of
 * data too. The page itself (/, /assets/) holds no data and loads without it.
 */
export function guardRequest(req: IncomingMessage, path: string, query: URLSearchParams, o: { token: string | null; loopback: boolean }): void {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    checkSameOrigin(req);
    checkToken(req, o.token, null);
  } else if (!o.loopback && DATA_ROUTES.some((prefix) => path.startsWith(prefix))) {
    checkToken(req, o.token, query);
  }
}
