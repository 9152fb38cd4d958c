/** Calls to the dashboard server: JSON in, JSON out, errors as thrown Error with the server's reason. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export async function postJson<T>(url: string, value: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
  const body = (await res.json()) as T & { error?: string; hint?: string };
  if (!res.ok) throw new Error((body.error ?? `${res.status} ${res.statusText}`) + (body.hint ? ` — ${body.hint}` : ''));
  return body;
}
