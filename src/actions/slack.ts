import { ErrorCode, LogLevel, WebClient, type ChatPostMessageResponse, type WebAPICallError } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ActionError, networkError } from './errors.js';
import { slackTransport } from './slack-transport.js';
import type { ActionExecutor } from './types.js';

/** Slack `ok:false` errors that are Slack's trouble, not ours: worth a retry. */
const TRANSIENT = new Set(['ratelimited', 'service_unavailable', 'fatal_error', 'internal_error', 'request_timeout', 'team_added_to_org']);

/**
 * `slack`: chat.postMessage through @slack/web-api, to a `channel` or to the person with
 * `user_email` (looked up once an hour). The client's own retries are off and rate
 * limits are rejected at once, so delivery is the one layer that retries (and honours Retry-After).
 */
export function slackAction(config: Config, log: Logger): ActionExecutor {
  let client: WebClient | undefined;
  // The method by its full URL, as the client would build it (slackApiUrl + method): the client
  // then skips rebuilding its base URL from its axios defaults on every call (`getUri`, about a
  // twentieth of the server's CPU per message end to end). Same request, same errors.
  const postMessage = `${config.slack.apiUrl}chat.postMessage`;
  const byEmail: EmailCache = new Map();
  return async (params) => {
    if (!config.slack.token)
      throw new ActionError('slack: no token configured (set SLACK_BOT_TOKEN or slack.token)', { retriable: false, code: 'not_configured' });
    client ??= new WebClient(config.slack.token, {
      slackApiUrl: config.slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: config.slack.timeoutMs,
      logger: slackLogger(log),
      logLevel: LogLevel.DEBUG,
      adapter: slackTransport(),
    });
    try {
      const channel = params.user_email ? await directTo(client, String(params.user_email), byEmail) : String(params.channel);
      const res = (await client.apiCall(postMessage, {
        channel,
        ...(params.text !== undefined ? { text: String(params.text) } : {}),
        ...(params.blocks !== undefined ? { blocks: params.blocks } : {}),
        ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}),
        ...(params.unfurl_links !== undefined ? { unfurl_links: params.unfurl_links === true || params.unfurl_links === 'true' } : {}),
      })) as ChatPostMessageResponse;
      return { channel: res.channel, ts: res.ts };
    } catch (err) {
      throw classifySlackError(err);
    }
  };
}

/** Slack user ids by email, kept an hour (and shared while in flight): a message to a person costs one lookup, not one each. */
type EmailCache = Map<string, { id: Promise<string>; at: number }>;
const EMAIL_TTL_MS = 60 * 60 * 1000;

/** The Slack user with this email (users.lookupByEmail): a message to a user id goes to their direct messages with the app. */
function directTo(client: WebClient, email: string, byEmail: EmailCache): Promise<string> {
  const hit = byEmail.get(email);
  if (hit && Date.now() - hit.at < EMAIL_TTL_MS) return hit.id;
  const id = lookup(client, email);
  if (byEmail.size >= 10_000) byEmail.clear();
  const entry = { id, at: Date.now() };
  byEmail.set(email, entry);
  id.catch(() => byEmail.get(email) === entry && byEmail.delete(email));
  return id;
}

async function lookup(client: WebClient, email: string): Promise<string> {
  try {
    const res = await client.users.lookupByEmail({ email });
    const id = res.user?.id;
    if (!id) throw new ActionError(`slack: no user id for ${email}`, { retriable: false, code: 'users_not_found' });
    return id;
  } catch (err) {
    if ((err as WebAPICallError).code === ErrorCode.PlatformError && (err as { data?: { error?: string } }).data?.error === 'users_not_found') {
      throw new ActionError(`slack: no Slack user has the email ${email} (users.lookupByEmail: users_not_found)`, {
        retriable: false,
        code: 'users_not_found',
      });
    }
    throw err;
  }
}

export function classifySlackError(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  const e = err as WebAPICallError;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new ActionError(`slack: rate limited (Retry-After ${e.retryAfter}s)`, {
        retriable: true,
        retryAfterMs: e.retryAfter * 1000,
        code: 'ratelimited',
        flowControl: true,
      });
    case ErrorCode.PlatformError: {
      const code = String(e.data.error);
      return new ActionError(`slack: ${code}`, { retriable: TRANSIENT.has(code), code });
    }
    case ErrorCode.HTTPError:
      return new ActionError(`slack: HTTP ${e.statusCode}`, { retriable: e.statusCode >= 500 || e.statusCode === 408, code: `http_${e.statusCode}` });
    case ErrorCode.RequestError:
      return networkError(e.original ?? e, 'slack');
    default:
      return networkError(err, 'slack');
  }
}

/** The Slack client's log lines, at debug level in our log (never the console). */
function slackLogger(log: Logger) {
  const line = (...msg: unknown[]) => log.debug({ slackClient: true }, msg.map(String).join(' '));
  return { debug: line, info: line, warn: line, error: line, setLevel: () => {}, getLevel: () => LogLevel.DEBUG, setName: () => {} };
}
