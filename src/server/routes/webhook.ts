import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { NotionEvent } from '../../model/event.js';
import { httpError } from '../../errors/http.js';
import { receive, type ReceiveOptions, type RejectReason } from '../../receiver/receive.js';
import { StoreUnavailableError } from '../../store/errors.js';
import type { EventLog, Meta } from '../../store/ports.js';
import type { InsertOptions } from '../../store/types.js';

export type { RejectReason };

export interface WebhookOptions {
  path: string;
  store: EventLog & Meta;
  log: Logger;
  /**
   * The HMAC keys accepted now (current first, then older ones during a rotation; read per request,
   * so a reload of secret files takes effect at once); none in handshake-only mode (every event is then 401).
   */
  secrets: () => readonly string[];
  allowUnsigned: boolean;
  /** Called once per newly stored event, after its commit, with how it was stored. */
  onStored?: (event: NotionEvent, how: InsertOptions) => void;
  /** How to store a new event (a lease to match it from memory, or matched already). */
  intake?: (event: NotionEvent) => InsertOptions;
  onDuplicate?: (event: NotionEvent) => void;
  onRejected?: (reason: RejectReason) => void;
  /** A new event committed: seconds since its request began. */
  onIngested?: (seconds: number, event: NotionEvent) => void;
  onHandshake?: (token: string) => void;
  /** server.rateLimit: more than `max` requests per client in `timeWindowMs` are answered 429. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** security.userAgent: a request whose User-Agent does not match is answered 403. */
  userAgent?: RegExp;
}

export const VERIFICATION_TOKEN_KEY = 'verification_token';
const IGNORED_TOKENS_MAX = 100;
const USER_AGENT_WARN_EVERY_MS = 60_000;

/**
 * `POST <path>`: the receiver (receiver/receive.ts) decides what the request is from its bytes and
 * signature; this route answers it, commits an event before answering (SPEC §3) and keeps the
 * handshake's token. Rule work happens after, never inside the request.
 */
export const webhookRoute: FastifyPluginAsync<WebhookOptions> = async (app, opts) => {
  const { store, log } = opts;
  const receiving: ReceiveOptions = {
    get secrets() {
      return opts.secrets();
    },
    allowUnsigned: opts.allowUnsigned,
  };

  // No per-request child logger on this hot path (a pino child with redaction costs ~2 % of a
  // request): lines about a request carry its id themselves.
  app.setChildLoggerFactory((logger) => logger);

  // Only JSON is accepted; the body stays raw bytes so the signature is checked on what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  if (opts.rateLimit) {
    // Before the body is read; 429 with Retry-After makes Notion retry later, so nothing is lost.
    await app.register(rateLimit, {
      max: opts.rateLimit.max,
      timeWindow: opts.rateLimit.timeWindowMs,
      hook: 'onRequest',
      errorResponseBuilder: (_req, ctx) => {
        opts.onRejected?.('rate_limited');
        const e = httpError('rate_limited', `more than ${ctx.max} requests in ${opts.rateLimit!.timeWindowMs} ms; retry after ${ctx.after}`);
        return { statusCode: e.status, ...e.body };
      },
    });
  }

  const reject = (reply: FastifyReply, reason: RejectReason, e: ReturnType<typeof httpError>) => {
    opts.onRejected?.(reason);
    return reply.code(e.status).send(e.body);
  };

  if (opts.userAgent) {
    const pattern = opts.userAgent;
    let lastWarnAt = 0;
    let refused = 0;
    // Before the body is read: noise is turned away cheaply. Logged at most once a minute, so a
    // Notion that changed its User-Agent is noticed without a flood of lines.
    app.addHook('onRequest', async (req, reply) => {
      const ua = req.headers['user-agent'] ?? '';
      if (pattern.test(ua)) return;
      refused++;
      if (Date.now() - lastWarnAt >= USER_AGENT_WARN_EVERY_MS) {
        log.warn({ userAgent: ua.slice(0, 200), refused, pattern: pattern.source }, 'webhook request refused: User-Agent does not match security.userAgent');
        lastWarnAt = Date.now();
        refused = 0;
      }
      return reject(reply, 'user_agent', httpError('invalid_user_agent'));
    });
  }

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.statusCode === 429) {
      const e = httpError('rate_limited', (err as { detail?: string }).detail ?? err.message);
      return reply.code(e.status).send(e.body);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return reject(reply, 'too_large', httpError('payload_too_large'));
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return reject(reply, 'unsupported_media_type', httpError('unsupported_media_type', 'send application/json'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reject(reply, 'invalid_event', httpError('invalid_event', err.message));
    }
    log.error({ err, reqId: req.id }, 'webhook handler failed');
    const e = httpError('internal_error');
    return reply.code(e.status).send(e.body);
  });

  app.post(opts.path, async (req, reply) => {
    const raw = req.body;
    if (!Buffer.isBuffer(raw)) return reject(reply, 'unsupported_media_type', httpError('unsupported_media_type', 'send application/json'));
    const received = receive(raw, req.headers['x-notion-signature'], receiving);
    if (received.kind === 'rejected') return reject(reply, received.reason, received.error);
    if (received.kind === 'handshake') return handshake(received.token, reply);
    if (received.kind === 'verification_ignored') {
      noteIgnoredToken(received.token, 'a verification request arrived while notion.verificationToken is set: ignored (nothing stored)');
      return reply.code(200).send({ ok: true, verification: true });
    }

    const { event, text } = received;
    try {
      const how = opts.intake?.(event) ?? {};
      const { duplicate } = await store.insertEvent(event, text, how);
      if (duplicate) {
        log.debug({ eventId: event.id, eventType: event.type }, 'duplicate event ignored');
        opts.onDuplicate?.(event);
        return { ok: true, id: event.id, duplicate: true };
      }
      log.debug({ eventId: event.id, eventType: event.type }, 'event stored');
      opts.onStored?.(event, how);
      opts.onIngested?.(reply.elapsedTime / 1000, event);
      return { ok: true, id: event.id };
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      log.error({ eventId: event.id, err: err.message }, 'store unavailable: event refused with 503 so Notion retries');
      return reject(reply, 'store_unavailable', httpError('store_unavailable'));
    }
  });

  /** Tokens that were not kept, each logged once (a bounded set: a flood cannot grow it). */
  const ignored = new Set<string>();
  function noteIgnoredToken(token: string, message: string) {
    if (ignored.has(token) || ignored.size >= IGNORED_TOKENS_MAX) return;
    ignored.add(token);
    log.warn({ verificationTokenIgnored: token.slice(0, 200) }, message);
  }

  // One handshake at a time, so that of two arriving together the first is the one kept.
  let handshakes: Promise<unknown> = Promise.resolve();
  function handshake(token: string, reply: FastifyReply) {
    const run = handshakes.then(() => handshakeNow(token, reply));
    handshakes = run.catch(() => undefined);
    return run;
  }

  async function handshakeNow(token: string, reply: FastifyReply) {
    try {
      const previous = await store.getMeta(VERIFICATION_TOKEN_KEY);
      if (previous && previous !== token) {
        // The first token is kept: a later request (a replay, or anyone who can reach the port)
        // cannot replace what the operator pastes into Notion.
        noteIgnoredToken(
          token,
          'another verification token received; the first one is kept (run `notion-rules token --forget` if you re-created the subscription, then let Notion send it again)',
        );
      } else if (!previous) {
        await store.setMeta(VERIFICATION_TOKEN_KEY, token);
        // The one place the token is logged, on purpose: the operator pastes it into Notion.
        log.warn(
          { verificationTokenReceived: token },
          'Notion verification handshake received: paste this token into Notion to verify the subscription, and set NOTION_WEBHOOK_SECRET to it (`notion-rules token` prints it again)',
        );
        opts.onHandshake?.(token);
      }
      return reply.code(200).send({ ok: true, verification: true });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return reject(reply, 'store_unavailable', httpError('store_unavailable'));
    }
  }
};
