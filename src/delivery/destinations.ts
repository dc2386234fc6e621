import type { Config, Rate } from '../config/types.js';
import type { ActionIntent } from '../model/event.js';
import type { PaceLedger } from '../store/types.js';

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
/**
 * The longest wait between probes of a failing service, whatever backoff.maxMs: a probe a minute
 * costs the service nothing, and the queue drains within a minute of its return.
 */
const PROBE_MAX_MS = 60_000;
/** A call whose turn is this close waits for it in memory rather than in the store. */
const NEAR_MS = 100;

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

/** A destination as this process sees it (/health, /metrics, the console). */
export interface DestinationState {
  destination: string;
  pausedUntil: string | null;
  reason: string | null;
  calls: number;
  limited: number;
  queued: number;
  speed: number;
  failing: { service: string; failures: number; nextTryAt: string; error: string } | null;
}

/** The pace of each destination, kept in this process (one replica). */
export class LocalPaceLedger implements PaceLedger {
  private readonly tats = new Map<string, { tat: number; pausedUntil: number }>();

  async take(dest: string, intervalMs: number, toleranceMs: number, now: number): Promise<number> {
    return this.takeNow(dest, intervalMs, toleranceMs, now);
  }

  takeNow(dest: string, intervalMs: number, toleranceMs: number, now: number): number {
    const s = this.of(dest);
    const at = Math.max(now, s.pausedUntil, s.tat - toleranceMs);
    s.tat = Math.max(s.tat, at) + intervalMs;
    return at;
  }

  async pause(dest: string, until: number, resumeAfterMs: number): Promise<void> {
    const s = this.of(dest);
    s.pausedUntil = Math.max(s.pausedUntil, until);
    s.tat = Math.max(s.tat, s.pausedUntil + resumeAfterMs);
  }

  private of(dest: string): { tat: number; pausedUntil: number } {
    let s = this.tats.get(dest);
    if (!s) this.tats.set(dest, (s = { tat: 0, pausedUntil: 0 }));
    return s;
  }
}

/**
 * Calls go at this share of the configured rate: network jitter brings some calls closer together
 * than they were sent, and a destination that counts exactly would answer those 429.
 */
const PACE_MARGIN = 0.97;
/** Calls of a destination's burst left unused, for the same reason. */
const BURST_SPARE = 2;

/** A destination's pace after 429s: the rate is multiplied by this after each one (down to MIN_SLOWDOWN)… */
const SLOWDOWN = 0.8;
const MIN_SLOWDOWN = 0.1;
/** …and recovers by this much per successful call (a few calls after one 429, longer after several). */
const RECOVERY = 0.05;

interface State {
  /** This process's knowledge of the destination's pause (the ledger may know a longer one). */
  pausedUntil: number;
  reason: string;
  calls: number;
  limited: number;
  /** 1: the configured rate; less after 429s (adaptive), recovering with each success. */
  speed: number;
  /** Turns reserved by calls waiting in the store (their jobs or events). */
  queued: number;
  lastError: string;
}

/** A service's circuit breaker (Slack as a whole, Notion, an http origin): outages are per service. */
interface Breaker {
  /** Real failures in a row; at BREAKER_THRESHOLD the breaker is open. */
  failures: number;
  /** Times the breaker opened in a row (its wait doubles each time). */
  opens: number;
  /** Open breaker: no call before this, then one probe. */
  openUntil: number;
  /** The call let through as the probe. */
  probe: string | undefined;
  lastError: string;
  /** Calls that waited for the breaker: told to go at once when it closes. */
  waiting: Set<string>;
}

/**
 * The destinations' state: a pace per destination (GCRA: calls are spread at `rate` a second with
 * up to `burst` at once, each caller told when its turn is; the pace slows after a 429 and recovers
 * slowly), a pause after a 429 or 529, for every call to that destination until Retry-After, and a
 * circuit breaker per service: after BREAKER_THRESHOLD real failures in a row, no call goes for a
 * backoff period, then one probe; its success closes the breaker (and the calls that waited for it
 * go at once), its failure doubles the wait. A caller whose turn is later waits in the store (its
 * slot is free meanwhile) and keeps its reserved turn.
 */
export class Destinations {
  private readonly states = new Map<string, State>();
  private readonly breakers = new Map<string, Breaker>();
  /** Turns reserved by callers waiting in the store: key → destination and time. */
  private readonly reserved = new Map<string, { dest: string; at: number }>();
  private readonly local = new LocalPaceLedger();
  private readonly ledger: PaceLedger;

  constructor(
    private readonly limits: DestinationLimits,
    /** The breaker's waits: baseMs, doubling, up to maxMs (delivery.backoff). */
    private readonly backoff: { baseMs: number; maxMs: number } = { baseMs: 1000, maxMs: 600_000 },
    /** The pace shared by replicas (Store.pace); by default kept in this process. */
    shared?: PaceLedger,
    /** Called with the keys of calls that waited for a breaker that has just closed. */
    private readonly onBreakerClosed: (keys: string[]) => void = () => {},
  ) {
    this.ledger = shared ?? this.local;
  }

  /**
   * Waits for the call `key`'s turn at `dest` when it is near, and returns 0: go now. Else returns
   * the (reserved) time of its turn, by which the caller comes back after waiting in the store.
   * Never early: the destination counts too.
   */
  async ready(dest: string, key: string, reservedAt?: number | null): Promise<number> {
    const at = await this.turn(dest, key, Date.now(), reservedAt);
    if (at === 0 || at - Date.now() > NEAR_MS) return at;
    await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
    return this.turn(dest, key);
  }

  /**
   * When the call `key` (a job's action, an event's read) to `dest` may go: now (0) or a later
   * time, by which the caller should come back. A later time is reserved for it: asking again then
   * says go. `reservedAt`: the turn the caller was given before (by this process or another
   * replica), kept in the store with it.
   */
  async turn(dest: string, key: string, now = Date.now(), reservedAt?: number | null): Promise<number> {
    const s = this.state(dest);
    const b = this.breaker(dest);
    if (b.failures >= BREAKER_THRESHOLD) {
      if (now < b.openUntil && b.probe !== key) {
        b.waiting.add(key);
        return Math.ceil(b.openUntil);
      }
      // Half-open: this call is the probe (one per wait); the others wait for its outcome.
      b.probe = key;
      b.waiting.delete(key);
      b.openUntil = now + this.breakerWait(b.opens);
      return 0;
    }
    const held = this.reserved.get(key)?.at ?? reservedAt ?? undefined;
    if (held !== undefined) {
      this.unreserve(key);
      if (held >= s.pausedUntil) return this.hold(key, dest, held, now);
      // A pause came after this turn was reserved: take a new one after it.
    }
    const pace = this.paceOf(dest);
    if (!pace) return s.pausedUntil > now ? Math.ceil(s.pausedUntil) : 0;
    const interval = 1000 / (pace.rate * PACE_MARGIN * s.speed);
    // Two calls of the destination's burst are left unused: calls delayed here (a busy process)
    // and sent together then still fit.
    const tolerance = s.speed < 1 ? 0 : Math.max(0, pace.burst - 1 - BURST_SPARE) * interval;
    const at = Math.max(await this.take(dest, interval, tolerance, now), s.pausedUntil);
    return this.hold(key, dest, at, now);
  }

  /** A turn from the shared ledger; from this process's own while the shared one cannot answer. */
  private async take(dest: string, interval: number, tolerance: number, now: number): Promise<number> {
    if (this.ledger === this.local) return this.local.takeNow(dest, interval, tolerance, now);
    try {
      return await this.ledger.take(dest, interval, tolerance, now);
    } catch {
      return this.local.takeNow(dest, interval, tolerance, now);
    }
  }

  /** Go now when the turn is (about) now; else keep the turn for the caller and name it. */
  private hold(key: string, dest: string, at: number, now: number): number {
    if (at <= now) return 0;
    const ms = Math.ceil(at); // whole milliseconds, as the stores keep times
    if (this.reserved.size < 100_000) {
      this.reserved.set(key, { dest, at: ms });
      this.state(dest).queued++;
    }
    return ms;
  }

  /** The turn reserved for `key`, if it holds one (a pause's or breaker's end is no reservation). */
  reservedFor(key: string): number | undefined {
    return this.reserved.get(key)?.at;
  }

  private unreserve(key: string): void {
    const r = this.reserved.get(key);
    if (!r) return;
    this.reserved.delete(key);
    this.state(r.dest).queued--;
  }

  /**
   * The destination answered 429 or 529: every call to it waits until Retry-After (or a second),
   * and its pace slows (adaptive), recovering with each success. Returns until when.
   */
  async pause(dest: string, retryAfterMs: number | undefined, reason: string, now = Date.now()): Promise<number> {
    const s = this.state(dest);
    const until = now + (retryAfterMs ?? DEFAULT_PAUSE_MS);
    s.pausedUntil = Math.max(s.pausedUntil, Math.ceil(until));
    s.speed = Math.max(MIN_SLOWDOWN, s.speed * SLOWDOWN);
    s.reason = reason;
    s.limited++;
    // After the pause, calls resume one at a time on the slower pace, not in a burst.
    const pace = this.paceOf(dest);
    const resume = pace ? 1000 / (pace.rate * s.speed) : 0;
    await this.local.pause(dest, s.pausedUntil, resume);
    if (this.ledger !== this.local) await this.ledger.pause(dest, s.pausedUntil, resume, now).catch(() => {});
    return s.pausedUntil;
  }

  called(dest: string): void {
    this.state(dest).calls++;
  }

  /** A call succeeded: the pace recovers a little, and the service's breaker closes. */
  succeeded(dest: string): void {
    const s = this.state(dest);
    s.speed = Math.min(1, s.speed + RECOVERY);
    const b = this.breaker(dest);
    const wasOpen = b.failures >= BREAKER_THRESHOLD;
    b.failures = 0;
    b.opens = 0;
    b.openUntil = 0;
    b.probe = undefined;
    if (b.waiting.size > 0) {
      const keys = [...b.waiting];
      b.waiting.clear();
      if (wasOpen) this.onBreakerClosed(keys);
    }
  }

  /**
   * A call failed for real (5xx, timeout, network): at the threshold the breaker opens, longer each
   * time. The caller `key` is told, like those waiting, when the breaker closes.
   */
  failed(dest: string, error: string, key?: string, now = Date.now()): void {
    this.state(dest).lastError = error;
    const b = this.breaker(dest);
    if (key) b.waiting.add(key);
    b.failures++;
    b.lastError = error;
    if (b.failures < BREAKER_THRESHOLD) return;
    b.opens++;
    b.openUntil = now + this.breakerWait(b.opens);
    b.probe = undefined;
  }

  private breakerWait(opens: number): number {
    return Math.min(this.backoff.maxMs, PROBE_MAX_MS, this.backoff.baseMs * 2 ** Math.max(0, opens - 1));
  }

  /** Destinations seen, for /health and /metrics; `failing` is the state of the destination's service. */
  snapshot(now = Date.now()): DestinationState[] {
    return [...this.states].map(([destination, s]) => {
      const service = serviceOf(destination);
      const b = this.breakers.get(service);
      return {
        destination,
        pausedUntil: s.pausedUntil > now ? new Date(s.pausedUntil).toISOString() : null,
        reason: s.pausedUntil > now ? s.reason : null,
        calls: s.calls,
        limited: s.limited,
        queued: Math.max(0, s.queued),
        speed: s.speed,
        failing:
          b && b.failures >= BREAKER_THRESHOLD
            ? { service, failures: b.failures, nextTryAt: new Date(Math.max(now, b.openUntil)).toISOString(), error: b.lastError }
            : null,
      };
    });
  }

  /** Services whose breaker is open, for /health. */
  failingServices(now = Date.now()): Array<{ service: string; failures: number; nextTryAt: string; error: string }> {
    return [...this.breakers]
      .filter(([, b]) => b.failures >= BREAKER_THRESHOLD)
      .map(([service, b]) => ({ service, failures: b.failures, nextTryAt: new Date(Math.max(now, b.openUntil)).toISOString(), error: b.lastError }));
  }

  private state(dest: string): State {
    let s = this.states.get(dest);
    if (!s) this.states.set(dest, (s = { pausedUntil: 0, reason: '', calls: 0, limited: 0, speed: 1, queued: 0, lastError: '' }));
    return s;
  }

  private breaker(dest: string): Breaker {
    const service = serviceOf(dest);
    let b = this.breakers.get(service);
    if (!b) this.breakers.set(service, (b = { failures: 0, opens: 0, openUntil: 0, probe: undefined, lastError: '', waiting: new Set() }));
    return b;
  }

  private paceOf(dest: string): Pace | undefined {
    if (dest === 'notion') return this.limits.notion;
    if (dest.startsWith('slack:')) return this.limits.slackChannel;
    if (dest.startsWith('http:')) return this.limits.http[dest.slice(5)];
    return undefined;
  }
}

/** The jobs and events behind turn keys (`job:<id>:<action>`, `event:<id>:<fact>`). */
export function callersOf(keys: string[]): { jobs: number[]; events: string[] } {
  const jobs = new Set<number>();
  const events = new Set<string>();
  for (const key of keys) {
    const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1, key.lastIndexOf(':'))];
    if (kind === 'job') jobs.add(Number(id));
    else if (kind === 'event') events.add(id);
  }
  return { jobs: [...jobs], events: [...events] };
}

/** The service a destination belongs to, for its breaker: `slack` for every channel, else itself. */
export function serviceOf(dest: string): string {
  return dest.startsWith('slack:') ? 'slack' : dest;
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
