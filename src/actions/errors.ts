/**
 * The one error type delivery understands: what went wrong, whether trying again can help, and
 * how long the far side asked us to wait.
 */
export class ActionError extends Error {
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly code: string | undefined;
  /**
   * The destination asked us to slow down (429, Notion's 529 service_overload): flow control, not
   * a failure. Its calls pause until Retry-After; no attempt is spent.
   */
  readonly flowControl: boolean;
  /** A flow-control wait's end (this process's clock): the destination's pause or pace says when. */
  readonly waitUntil: number | undefined;
  /** When `waitUntil` is the call's own reserved turn at the destination's pace (not a pause's end). */
  readonly turnReserved: boolean;

  constructor(
    message: string,
    opts: { retriable: boolean; retryAfterMs?: number; code?: string; flowControl?: boolean; waitUntil?: number; turnReserved?: boolean },
  ) {
    super(message);
    this.name = 'ActionError';
    this.retriable = opts.retriable;
    this.retryAfterMs = opts.retryAfterMs;
    this.code = opts.code;
    this.flowControl = opts.flowControl ?? false;
    this.waitUntil = opts.waitUntil;
    this.turnReserved = opts.turnReserved ?? false;
  }
}

/** 5xx, 408 and 429 are worth retrying; other 4xx will fail the same way again. */
export function retriableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Network-level failures (refused, reset, DNS, timeout) are retriable. */
export function networkError(err: unknown, what: string): ActionError {
  const e = err as { code?: string; cause?: { code?: string }; name?: string; message?: string };
  const code = e.cause?.code ?? e.code ?? e.name;
  const timeout = e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT';
  return new ActionError(`${what}: ${timeout ? 'timed out' : `network error${code ? ` ${code}` : ''}: ${e.message ?? String(err)}`}`, {
    retriable: true,
    ...(code ? { code } : {}),
  });
}
