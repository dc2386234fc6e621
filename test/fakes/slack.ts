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
 * a bad token `{ok:false, error:"invalid_auth"}`.
 */
export class FakeSlack {
  readonly messages: SlackMessage[] = [];
  /** When set, other channels are channel_not_found. */
  knownChannels: Set<string> | undefined;
  readonly token = 'xoxb-test-token';
  private seq = 0;
  readonly http = new HttpFake((req) => {
    if (req.path !== '/api/chat.postMessage') return { status: 404, body: { ok: false, error: 'unknown_method' } };
    if (req.headers.authorization !== `Bearer ${this.token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const b = req.body as Record<string, string>;
    if (!b.channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    if (this.knownChannels && !this.knownChannels.has(b.channel)) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
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

  /** Calls to chat.postMessage so far (every attempt, answered or not). */
  get attempts(): number {
    return this.http.requests.filter((r) => r.path === '/api/chat.postMessage').length;
  }

  untilMessages(n: number, timeoutMs?: number): Promise<void> {
    return this.http.until(() => this.messages.length >= n, timeoutMs);
  }
}
