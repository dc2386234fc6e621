import { createHash, createHmac } from 'node:crypto';
import type { Config } from '../config/types.js';
import { ActionError, networkError, parseRetryAfter, retriableStatus } from './errors.js';
import { maskSecrets } from '../util/mask.js';
import type { ActionContext, ActionExecutor } from './types.js';

export const HTTP_SIGNATURE_HEADER = 'x-notion-rules-signature';

/**
 * `http`: calls a URL with a JSON (or text) body; with `sign: true` the body is signed with
 * HMAC-SHA256 (http.signingSecret) in X-Notion-Rules-Signature: sha256=<hex>. The engine has
 * already checked that templates did not change the URL's origin.
 */
export function httpAction(config: Config): ActionExecutor {
  return async (params, ctx) => {
    const url = String(params.url);
    const method = String(params.method ?? 'POST').toUpperCase();
    // The same key on every try of this action (a retry after a timeout, a replay, a restart): a
    // receiver that honours Idempotency-Key does the work once.
    const headers: Record<string, string> = { 'user-agent': 'notion-rules', 'x-notion-rules-event': ctx.eventId, 'idempotency-key': idempotencyKey(ctx) };
    for (const [k, v] of Object.entries((params.headers as Record<string, unknown>) ?? {})) {
      const value = String(v);
      // The engine refuses these at render time; a replayed job from before gets the same answer.
      if (/[\r\n\0]/.test(value)) throw new ActionError(`http: header "${k}" has a line break; refused`, { retriable: false, code: 'invalid_header' });
      headers[k.toLowerCase()] = value;
    }
    let body: string | undefined;
    if (params.body !== undefined && method !== 'GET') {
      body = typeof params.body === 'string' ? params.body : JSON.stringify(params.body);
      headers['content-type'] ??= typeof params.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    }
    if (params.sign === true) {
      if (!config.http.signingSecret)
        throw new ActionError('http: sign: true needs http.signingSecret (env NOTION_RULES_HTTP_SECRET)', { retriable: false, code: 'not_configured' });
      headers[HTTP_SIGNATURE_HEADER] = `sha256=${createHmac('sha256', config.http.signingSecret)
        .update(body ?? '')
        .digest('hex')}`;
    }
    // Errors name the origin and path only: a query may carry a secret, and they reach logs,
    // the console and Sentry.
    const where = `http ${method} ${withoutQuery(url)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(config.http.timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      throw networkError(err, where);
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 300) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      const excerpt = excerptOf(text);
      throw new ActionError(`${where}: ${res.status}${excerpt ? ` ${excerpt}` : ''}`, {
        retriable: retriableStatus(res.status),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        code: `http_${res.status}`,
        flowControl: res.status === 429,
      });
    }
    return { status: res.status };
  };
}

/** Stable per event, rule and action: `nr-` and 32 hex digits. */
export function idempotencyKey(ctx: Pick<ActionContext, 'eventId' | 'ruleId' | 'actionIndex'>): string {
  return `nr-${createHash('sha256').update(`${ctx.eventId}\0${ctx.ruleId}\0${ctx.actionIndex}`).digest('hex').slice(0, 32)}`;
}

/** The origin and path of a URL: no query, no fragment, no credentials. */
export function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

const EXCERPT_CHARS = 80;

/** A short, masked, one-line excerpt of a response body for an error message. */
function excerptOf(body: string): string {
  const line = maskSecrets(body.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()) as string;
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}
