import { HttpFake, type Fault } from './http-fake.js';

export interface SlackMessage {
  channel: string;
  text?: string;
  ts: string;
  thread_ts?: string;
}

/**
 * A fake Slack Web API: chat.postMessage answers `{ok:true, channel, ts, message}` as Slack does;
 * unknown channels (see `knownChannels`) answer `{ok:false, error:"channel_not_found"}` with 200,
 * a bad token `{ok:false, error:"invalid_auth"}`. users.lookupByEmail answers from `users`, else
 * `{ok:false, error:"users_not_found"}`.
 */
export class FakeSlack {
  readonly messages: SlackMessage[] = [];
  /** Workspace members by email (users.lookupByEmail): email → user id. */
  readonly users = new Map<string, string>();
  /** When set, other channels are channel_not_found. */
  knownChannels: Set<string> | undefined;
  readonly token = 'xoxb-test-token';
  /** Answers that were 429 because a channel was over its limit. */
  limited = 0;
  private seq = 0;
  private limit: { rate: number; burst: number } | undefined;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly http = new HttpFake((req) => {
    if (req.path === '/api/users.lookupByEmail') return this.lookupByEmail(req.headers.authorization, (req.body as Record<string, string>).email);
    if (req.path !== '/api/chat.postMessage') return { status: 404, body: { ok: false, error: 'unknown_method' } };
    if (req.headers.authorization !== `Bearer ${this.token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const b = req.body as Record<string, string>;
    if (!b.channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    if (this.knownChannels && !this.knownChannels.has(b.channel)) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    const wait = this.take(b.channel);
    if (wait > 0) {
      this.limited++;
      return { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) }, body: { ok: false, error: 'ratelimited' } };
    }
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
    const msg: SlackMessage = { channel: b.channel, ts, ...(b.text ? { text: b.text } : {}), ...(b.thread_ts ? { thread_ts: b.thread_ts } : {}) };
    this.messages.push(msg);
    return { status: 200, body: { ok: true, channel: b.channel, ts, message: { type: 'message', text: b.text ?? '', ts } } };
  });
  url = '';

  async start(): Promise<string> {
    this.url = `${await this.http.start()}/api/`;
    return this.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /**
   * Enforces Slack's chat.postMessage limit per channel as a token bucket (`rate` a second, up to
   * `burst` at once): over it, 429 with Retry-After in whole seconds, as Slack answers.
   */
  limitPerChannel(rate: number, burst: number): void {
    this.limit = { rate, burst };
  }

  /** 0 when the channel has a token (taken), else ms until it has one. */
  private take(channel: string): number {
    if (!this.limit) return 0;
    const now = Date.now();
    const b = this.buckets.get(channel) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.rate);
    b.at = now;
    this.buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / this.limit.rate) * 1000;
  }

  /** Slack's rate limit answer: 429 with Retry-After (seconds). */
  static rateLimited(retryAfterSeconds: number): Fault {
    return { kind: 'status', status: 429, headers: { 'retry-after': String(retryAfterSeconds) }, body: { ok: false, error: 'ratelimited' } };
  }

  static serverError(status = 500): Fault {
    return { kind: 'status', status, body: { ok: false, error: 'internal_error' } };
  }

  static platformError(error: string): Fault {
    return { kind: 'status', status: 200, body: { ok: false, error } };
  }

  private lookupByEmail(auth: string | undefined, email: string | undefined): { status: number; body: unknown } {
    if (auth !== `Bearer ${this.token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const id = email ? this.users.get(email) : undefined;
    if (!id) return { status: 200, body: { ok: false, error: 'users_not_found' } };
    const name = email!.split('@')[0]!;
    return { status: 200, body: { ok: true, user: { id, team_id: 'T0FAKE', name, real_name: name, deleted: false, is_bot: false, profile: { email } } } };
  }

  /** Calls of a Web API method so far (every attempt, answered or not). */
  calls(method: string): number {
    return this.http.requests.filter((r) => r.path === `/api/${method}`).length;
  }

  /** Calls to chat.postMessage so far (every attempt, answered or not). */
  get attempts(): number {
    return this.http.requests.filter((r) => r.path === '/api/chat.postMessage').length;
  }

  untilMessages(n: number, timeoutMs?: number): Promise<void> {
    return this.http.until(() => this.messages.length >= n, timeoutMs);
  }
}
