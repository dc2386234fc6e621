import { sign } from '../../src/receiver/sign.js';

export interface Sent {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** POSTs `body` (object or exact text) signed with `secret` (unsigned when secret is null). */
export async function postEvent(url: string, body: unknown, secret: string | null, headers: Record<string, string> = {}): Promise<Sent> {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (secret !== null && !('x-notion-signature' in headers)) h['x-notion-signature'] = sign(secret, text);
  const res = await fetch(url, { method: 'POST', headers: h, body: text });
  return read(res);
}

export async function read(res: Response): Promise<Sent> {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. metrics text); keep the text
  }
  return { status: res.status, body, text, headers: res.headers };
}
