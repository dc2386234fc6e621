import { HttpFake } from './http-fake.js';

export interface SentryEvent {
  event_id: string;
  level?: string;
  release?: string;
  environment?: string;
  tags?: Record<string, string>;
  fingerprint?: string[];
  exception?: { values: Array<{ type: string; value: string }> };
  request?: unknown;
}

/**
 * A fake Sentry ingest: `POST /api/<project>/envelope/` with a newline-delimited envelope (a
 * header line, then item header and payload lines), answered `{id}` as Sentry does.
 */
export class FakeSentry {
  readonly events: SentryEvent[] = [];
  readonly http = new HttpFake((req) => {
    if (req.method !== 'POST' || !/^\/api\/\d+\/envelope\/?$/.test(req.path)) return { status: 404, body: { detail: 'not found' } };
    const lines = String(req.body)
      .split('\n')
      .filter((l) => l.trim() !== '');
    const header = JSON.parse(lines[0]!) as { event_id?: string };
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const item = JSON.parse(lines[i]!) as { type: string };
      if (item.type === 'event') this.events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
    }
    return { status: 200, body: { id: header.event_id ?? '' } };
  });
  dsn = '';

  async start(): Promise<string> {
    const url = new URL(await this.http.start());
    this.dsn = `http://0123456789abcdef0123456789abcdef@${url.host}/42`;
    return this.dsn;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  untilEvents(n: number, timeoutMs?: number): Promise<void> {
    return this.http.until(() => this.events.length >= n, timeoutMs);
  }
}
