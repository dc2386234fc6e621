import { createHmac } from 'node:crypto';
import type { Config } from '../config/types.js';
import { ActionError, networkError, parseRetryAfter, retriableStatus } from './errors.js';
import type { ActionExecutor } from './types.js';

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
    const headers: Record<string, string> = { 'user-agent': 'notion-rules', 'x-notion-rules-event': ctx.eventId };
    for (const [k, v] of Object.entries((params.headers as Record<string, unknown>) ?? {})) headers[k.toLowerCase()] = String(v);
    let body: string | undefined;
    if (params.body !== undefined && method !== 'GET') {
      body = typeof params.body === 'string' ? params.body : JSON.stringify(params.body);
      headers['content-type'] ??= typeof params.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    }
    if (params.sign === true) {
      if (!config.http.signingSecret) throw new ActionError('http: sign: true needs http.signingSecret (env NOTION_RULES_HTTP_SECRET)', { retriable: false, code: 'not_configured' });
      headers[HTTP_SIGNATURE_HEADER] = `sha256=${createHmac('sha256', config.http.signingSecret).update(body ?? '').digest('hex')}`;
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(config.http.timeoutMs), redirect: 'manual' });
    } catch (err) {
      throw networkError(err, `http ${method} ${new URL(url).origin}`);
    }
    const snippet = (await res.text().catch(() => '')).slice(0, 300);
    if (res.status >= 300) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      throw new ActionError(`http ${method} ${url}: ${res.status}${snippet ? ` ${snippet}` : ''}`, {
        retriable: retriableStatus(res.status),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        code: `http_${res.status}`,
      });
    }
    return { status: res.status };
  };
}
