import type { Config, Rate } from '../config/types.js';
import type { ActionIntent } from '../model/event.js';

/** A destination's pace: `rate` calls a second on average, `burst` at once. */
export interface Pace {
  rate: number;
  burst: number;
}

export interface DestinationLimits {
  /** Every Notion call of the deployment's token (Notion: an average of 3 requests/s per connection). */
  notion: Pace;
  /** chat.postMessage per channel (Slack: about one message a second per channel, short bursts). */
  slackChannel: Pace;
  /** Per origin, for the origins listed; others are not paced. */
  http: Record<string, Pace>;
}

/** How long a destination pauses after a 429 or 529 that names no Retry-After. */
const DEFAULT_PAUSE_MS = 1000;
/** Real failures in a row (5xx, timeouts, network) that open a destination's breaker. */
const BREAKER_THRESHOLD = 3;
/** A call whose turn is this close goes now rather than waiting in the store. */
const SLACK_MS = 20;

/**
 * Where an action's calls go, for pacing and pausing: `notion`, `slack:<channel>`,
 * `http:<origin>`; undefined for actions that call nobody (log, search).
 */
export function destinationOf(action: ActionIntent): string | undefined {
  if (action.type.startsWith('notion.')) return 'notion';
  if (action.type === 'slack') return `slack:${String(action.params.channel ?? action.params.user_email ?? '')}`;
  if (action.type === 'http') {
    try {
      return `http:${new URL(String(action.params.url)).origin}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

interface State {
  /** GCRA's theoretical arrival time: when the next call would be on pace. */
  tat: number;
  pausedUntil: number;
  reason: string;
  calls: number;
  limited: number;
  /** Real failures in a row; at BREAKER_THRESHOLD the breaker is open. */
  failures: number;
  /** Times the breaker opened in a row (its wait doubles each time). */
  opens: number;
  /** Open breaker: no call before this, then one probe. */
  openUntil: number;
  /** The call let through as the probe (`jobId:index`). */
  probe: string | undefined;
  lastError: string;
}

/**
 * The destinations' state in this process: a pace per destination (GCRA: calls are spread at
 * `rate` a second with up to `burst` at once, each caller told when its turn is), a pause after a
 * 429 or 529, for every job of that destination until Retry-After, and a circuit breaker: after
 * BREAKER_THRESHOLD real failures in a row, no call goes for a backoff period, then one probe; its
 * success closes the breaker, its failure doubles the wait. A job whose turn is later waits in the
 * store (its slot is free meanwhile) and keeps its reserved turn.
 */
export class Destinations {
  private readonly states = new Map<string, State>();
  /** Turns reserved by jobs waiting in the store: `jobId:actionIndex` → time. */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly limits: DestinationLimits,
    /** The breaker's waits: baseMs, doubling, up to maxMs (delivery.backoff). */
    private readonly backoff: { baseMs: number; maxMs: number } = { baseMs: 1000, maxMs: 600_000 },
  ) {}

  /**
   * When the call of `jobId`'s action `index` to `dest` may go: now (0) or a later time, by which
   * the caller should wait. A later time is reserved for it: asking again then says go.
   */
  turn(dest: string, jobId: number, index: number, now = Date.now()): number {
    const s = this.state(dest);
    const key = `${jobId}:${index}`;
    if (s.failures >= BREAKER_THRESHOLD) {
      if (now < s.openUntil && s.probe !== key) return s.openUntil;
      // Half-open: this call is the probe (one per wait); the others wait for its outcome.
      s.probe = key;
      s.openUntil = now + this.breakerWait(s.opens);
      return 0;
    }
    const held = this.reserved.get(key);
    if (held !== undefined) {
      this.reserved.delete(key);
      if (held >= s.pausedUntil) return this.hold(key, held, now);
      // A pause came after this turn was reserved: take a new one after it.
    }
    const pace = this.paceOf(dest);
    if (!pace) return s.pausedUntil > now ? s.pausedUntil : 0;
    const interval = 1000 / pace.rate;
    const tolerance = (pace.burst - 1) * interval;
    const at = Math.max(now, s.pausedUntil, s.tat - tolerance);
    s.tat = Math.max(s.tat, at) + interval;
    return this.hold(key, at, now);
  }

  /** Go now when the turn is (about) now; else keep the turn for the caller and name it. */
  private hold(key: string, at: number, now: number): number {
    if (at <= now + SLACK_MS) return 0;
    if (this.reserved.size < 100_000) this.reserved.set(key, at);
    return at;
  }

  /** The destination answered 429 or 529: every call to it waits until `until`. */
  pause(dest: string, retryAfterMs: number | undefined, reason: string, now = Date.now()): number {
    const s = this.state(dest);
    const until = now + (retryAfterMs ?? DEFAULT_PAUSE_MS);
    s.pausedUntil = Math.max(s.pausedUntil, until);
    // After the pause, calls resume one at a time on pace, not in a burst.
    const pace = this.paceOf(dest);
    if (pace) s.tat = Math.max(s.tat, s.pausedUntil + ((pace.burst - 1) * 1000) / pace.rate);
    s.reason = reason;
    s.limited++;
    return s.pausedUntil;
  }

  called(dest: string): void {
    this.state(dest).calls++;
  }

  /** A call succeeded: the breaker closes. */
  succeeded(dest: string): void {
    const s = this.state(dest);
    s.failures = 0;
    s.opens = 0;
    s.openUntil = 0;
    s.probe = undefined;
  }

  /** A call failed for real (5xx, timeout, network): at the threshold the breaker opens, longer each time. */
  failed(dest: string, error: string, now = Date.now()): void {
    const s = this.state(dest);
    s.failures++;
    s.lastError = error;
    if (s.failures < BREAKER_THRESHOLD) return;
    s.opens++;
    s.openUntil = now + this.breakerWait(s.opens);
    s.probe = undefined;
  }

  private breakerWait(opens: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.max(0, opens - 1));
  }

  /** Destinations seen, for /health and /metrics. */
  snapshot(now = Date.now()): Array<{ destination: string; pausedUntil: string | null; reason: string | null; calls: number; limited: number; failing: { failures: number; nextTryAt: string; error: string } | null }> {
    return [...this.states].map(([destination, s]) => ({
      destination,
      pausedUntil: s.pausedUntil > now ? new Date(s.pausedUntil).toISOString() : null,
      reason: s.pausedUntil > now ? s.reason : null,
      calls: s.calls,
      limited: s.limited,
      failing: s.failures >= BREAKER_THRESHOLD ? { failures: s.failures, nextTryAt: new Date(Math.max(now, s.openUntil)).toISOString(), error: s.lastError } : null,
    }));
  }

  private state(dest: string): State {
    let s = this.states.get(dest);
    if (!s) this.states.set(dest, (s = { tat: 0, pausedUntil: 0, reason: '', calls: 0, limited: 0, failures: 0, opens: 0, openUntil: 0, probe: undefined, lastError: '' }));
    return s;
  }

  private paceOf(dest: string): Pace | undefined {
    if (dest === 'notion') return this.limits.notion;
    if (dest.startsWith('slack:')) return this.limits.slackChannel;
    if (dest.startsWith('http:')) return this.limits.http[dest.slice(5)];
    return undefined;
  }
}

/** Calls a second from a configured rate (`3`, `3/s`, `60/min`). */
export function perSecond(rate: Rate): number {
  if (typeof rate === 'number') return rate;
  const [n, unit] = rate.split('/');
  return unit === 'min' ? Number(n) / 60 : Number(n);
}

/** The destinations' paces from delivery.limits. */
export function limitsOf(limits: Config['delivery']['limits']): DestinationLimits {
  const http: Record<string, Pace> = {};
  for (const [origin, l] of Object.entries(limits.http)) {
    const rate = perSecond(typeof l === 'object' ? l.rate : l);
    http[new URL(origin).origin] = { rate, burst: typeof l === 'object' && l.burst ? l.burst : Math.max(1, Math.ceil(rate)) };
  }
  return {
    notion: { rate: perSecond(limits.notion.rate), burst: limits.notion.burst },
    slackChannel: { rate: perSecond(limits.slack.perChannel), burst: limits.slack.burst },
    http,
  };
}
