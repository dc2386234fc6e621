import { APIErrorCode, Client, isHTTPResponseError, isNotionClientError, LogLevel, RequestTimeoutError } from '@notionhq/client';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ActionError, networkError, parseRetryAfter, retriableStatus } from './errors.js';

/**
 * One Notion client for actions and enrichment. `retry: false`: delivery owns retries, so the
 * client's own back-off does not multiply with ours.
 */
export function createNotionClient(config: Config, log: Logger): Client | undefined {
  if (!config.notion.token) return undefined;
  return new Client({
    auth: config.notion.token,
    baseUrl: config.notion.baseUrl,
    notionVersion: config.notion.version,
    timeoutMs: config.notion.timeoutMs,
    retry: false,
    // Failures surface as our own errors and log lines; the client's go to debug, not the console.
    logLevel: LogLevel.DEBUG,
    logger: (level, message, extra) => log.debug({ notionClient: level, ...extra }, message),
  });
}

export function requireNotion(client: Client | undefined, what: string): Client {
  if (!client) throw new ActionError(`${what}: no Notion token configured (set NOTION_TOKEN or notion.token)`, { retriable: false, code: 'not_configured' });
  return client;
}

const RETRIABLE_CODES = new Set<string>([
  APIErrorCode.RateLimited,
  APIErrorCode.InternalServerError,
  APIErrorCode.ServiceUnavailable,
  APIErrorCode.ConflictError,
  'gateway_timeout',
]);

export function classifyNotionError(err: unknown, what: string): ActionError {
  if (err instanceof RequestTimeoutError) return new ActionError(`${what}: timed out`, { retriable: true, code: 'timeout' });
  if (isHTTPResponseError(err)) {
    const headers = err.headers as { get?: (k: string) => string | null } | Record<string, string> | undefined;
    const retryAfter = typeof headers?.get === 'function' ? headers.get('retry-after') : (headers as Record<string, string> | undefined)?.['retry-after'];
    const retryAfterMs = parseRetryAfter(retryAfter);
    return new ActionError(`${what}: ${err.status} ${err.code}: ${err.message}`, {
      retriable: RETRIABLE_CODES.has(err.code) || retriableStatus(err.status),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      code: err.code,
      flowControl: err.status === 429 || err.status === 529 || err.code === APIErrorCode.RateLimited || (err.code as string) === 'service_overload',
    });
  }
  if (isNotionClientError(err)) return new ActionError(`${what}: ${err.message}`, { retriable: false, code: err.code });
  return networkError(err, what);
}
