import type { NotionEvent } from '../model/event.js';
import { InvalidEvent, normalize, verificationToken } from '../model/normalize.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './depth.js';
import { httpError } from '../errors/http.js';
import { verifySignature } from './verify.js';

/** Why a webhook request was turned away (also the label of `…_events_rejected_total`). */
export const REJECT_REASONS = [
  'invalid_signature',
  'invalid_event',
  'too_large',
  'unsupported_media_type',
  'store_unavailable',
  'rate_limited',
  'user_agent',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** What a webhook request is, decided from its bytes and signature alone. */
export type Received =
  /** Notion's verification request while no token is configured: the token to keep. */
  | { kind: 'handshake'; token: string }
  /** A signed verification request while a token is configured: answered, nothing kept. */
  | { kind: 'verification_ignored'; token: string }
  /** An event to store: normalized, and the body as received. */
  | { kind: 'event'; event: NotionEvent; text: string }
  | { kind: 'rejected'; reason: RejectReason; error: ReturnType<typeof httpError> };

export interface ReceiveOptions {
  /**
   * The verification tokens an event may be signed with: the current one first, then older ones
   * still accepted while a subscription is re-created (rotation). Empty: handshake-only mode.
   */
  secrets: readonly string[];
  /** Accept events with no valid signature (development only). */
  allowUnsigned: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** An unsigned handshake is small: a larger unsigned body is not parsed to look for a token. */
const HANDSHAKE_MAX = 4096;

/**
 * The receiver: verifies the signature on the raw bytes (with any of the accepted secrets), then
 * decodes, bounds, parses and normalizes the body. Pure: the HTTP route adapts it (status codes,
 * storage, the handshake's effects).
 */
export function receive(raw: Uint8Array, signature: string | string[] | undefined, opts: ReceiveOptions): Received {
  const configured = opts.secrets.length > 0;
  const signed = opts.secrets.some((secret) => verifySignature(secret, raw, signature));

  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    if (!signed && !opts.allowUnsigned) return rejected('invalid_signature');
    return rejected('invalid_event', 'body is not valid UTF-8');
  }

  if (!signed && !opts.allowUnsigned) {
    // The handshake may come unsigned, but only while no token is configured: the sender cannot
    // know it yet. Once one is, an unsigned request is refused like any other.
    const token = !configured && raw.length <= HANDSHAKE_MAX ? verificationToken(tryParse(text)) : undefined;
    return token === undefined ? rejected('invalid_signature') : { kind: 'handshake', token };
  }

  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    return rejected('invalid_event', `JSON nested deeper than ${MAX_JSON_DEPTH} levels; Notion never sends such events`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return rejected('invalid_event', `not JSON: ${(err as Error).message}`);
  }
  const token = verificationToken(body);
  if (token !== undefined) return configured ? { kind: 'verification_ignored', token } : { kind: 'handshake', token };

  try {
    const event = normalize(body);
    // A schedule's ticks are notion-rules' own events: a webhook cannot start a scheduled rule.
    if (event.type === 'schedule') return rejected('invalid_event', '"schedule" is the type of notion-rules\' own schedule ticks, not a webhook event');
    return { kind: 'event', event, text };
  } catch (err) {
    if (err instanceof InvalidEvent) return rejected('invalid_event', err.detail);
    throw err;
  }
}

function rejected(reason: 'invalid_signature' | 'invalid_event', detail?: string): Received {
  return { kind: 'rejected', reason, error: httpError(reason, detail) };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
