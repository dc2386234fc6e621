import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { WebClientOptions } from '@slack/web-api';

type AdapterConfig = NonNullable<WebClientOptions['adapter']>;

/** What the client's axios hands its adapter, as far as this transport reads it. */
interface RequestConfig {
  url?: string;
  baseURL?: string;
  method?: string;
  data?: unknown;
  headers?: { toJSON?: () => Record<string, unknown> } | Record<string, unknown>;
  timeout?: number;
}

/** The answer axios expects from an adapter (it parses `data` and normalises `headers` itself). */
interface AdapterResponse {
  data: string;
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  config: RequestConfig;
  request: unknown;
}

/**
 * The HTTP transport under `@slack/web-api` (its `adapter` option): one keep-alive `node:http(s)`
 * request per call, in place of axios's general-purpose HTTP adapter (redirect, proxy,
 * decompression and stream machinery this client turns off or never uses), which cost about a
 * tenth of the server's CPU per Slack message end to end (docs/performance.md). Everything else
 * stays the client's: the form-encoded body and headers it builds, its reading of the answer
 * (status, `ok: false`, 429 and `Retry-After`), its error types. Failures are shaped as axios
 * shapes them — a `request` on network errors (the client then reports `slack_webapi_request_error`
 * with the original), `ECONNABORTED` and "timeout of N ms exceeded" when `timeout` passes — and
 * every status resolves, as the client's `validateStatus` asks.
 */
export function slackTransport(): AdapterConfig {
  // As Node's global agents, which axios would use: idle sockets kept 5 s, the latest reused first.
  const keep = { keepAlive: true, scheduling: 'lifo', timeout: 5000 } as const;
  const agents = { http: new HttpAgent(keep), https: new HttpsAgent(keep) };
  return ((config: RequestConfig) => send(config, agents)) as unknown as AdapterConfig;
}

function send(config: RequestConfig, agents: { http: HttpAgent; https: HttpsAgent }): Promise<AdapterResponse> {
  return new Promise((resolve, reject) => {
    const body = config.data ?? undefined;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      // Only file uploads send a stream; notion-rules posts messages and looks up users.
      reject(new Error('slack transport: only string bodies are sent (a file upload reached it)'));
      return;
    }
    const url = new URL(fullUrl(config));
    const secure = url.protocol === 'https:';
    const headers = plainHeaders(config.headers);
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const options = { method: (config.method ?? 'post').toUpperCase(), headers, agent: secure ? agents.https : agents.http };
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A connection lost mid-answer (the only error an undecoded answer has) fails as axios
      // reports it, and is never left pending (after 'end' the close does nothing).
      const aborted = () => fail(axiosShaped(Object.assign(new Error('stream has been aborted'), { code: 'ERR_BAD_RESPONSE' }), config, req));
      res.on('error', aborted);
      res.on('close', aborted);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({
          data: Buffer.concat(chunks).toString('utf8'),
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          config,
          request: req,
        });
      });
    });
    req.on('error', (err) => fail(axiosShaped(err, config, req)));
    if (config.timeout) {
      req.setTimeout(config.timeout, () => {
        fail(axiosShaped(Object.assign(new Error(`timeout of ${config.timeout}ms exceeded`), { code: 'ECONNABORTED' }), config, req));
        req.destroy();
      });
    }
    req.end(body);
  });
}

/** axios's rule: an absolute URL is used as it is, a relative one is joined to `baseURL`. */
function fullUrl(config: RequestConfig): string {
  const url = config.url ?? '';
  if (/^https?:\/\//i.test(url) || !config.baseURL) return url;
  return `${config.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

function plainHeaders(headers: RequestConfig['headers']): Record<string, string> {
  const all = (typeof headers?.toJSON === 'function' ? headers.toJSON() : (headers ?? {})) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    if (value === undefined || value === null || value === false) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** A failed request as axios reports one (`AxiosError.from`): the cause's message and code, and the request. */
function axiosShaped(err: Error & { code?: string }, config: RequestConfig, request: unknown): Error {
  return Object.assign(new Error(err.message), { name: 'AxiosError', code: err.code, config, request, cause: err, isAxiosError: true });
}
