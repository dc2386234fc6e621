import { readFileSync } from 'node:fs';
import { fixturesDir } from '../support/fixtures.js';
import { HttpFake, type Fault } from './http-fake.js';

type Json = Record<string, unknown>;

function error(status: number, code: string, message: string): { status: number; body: Json } {
  return { status, body: { object: 'error', status, code, message, request_id: 'req-fake' } };
}

/**
 * A fake Notion API (the routes notion-rules uses): pages, page updates, comments, block
 * children, databases. Unknown ids answer 404 `object_not_found` as Notion does.
 */
export class FakeNotion {
  readonly pages = new Map<string, Json>();
  readonly blocks = new Map<string, Json>();
  readonly databases = new Map<string, Json>();
  readonly comments: Array<{ id: string; page_id?: string; discussion_id?: string; text: string; created_time: string }> = [];
  readonly updates: Array<{ page_id: string; body: Json }> = [];
  readonly token = 'ntn_test_token';
  private seq = 0;
  /** Answers that were 429 because the token was over its limit (see `limit`). */
  limited = 0;
  private bucket: { rate: number; burst: number; tokens: number; at: number } | undefined;
  readonly http = new HttpFake((req) => {
    if (req.headers.authorization === `Bearer ${this.token}` && this.bucket) {
      const wait = this.take(this.bucket);
      if (wait > 0) {
        this.limited++;
        return {
          status: 429,
          headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) },
          body: error(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.').body,
        };
      }
    }
    return this.route(req.method, req.path, req.body as Json, req.headers.authorization, new URL(req.url, 'http://fake').searchParams);
  });
  url = '';

  async start(): Promise<string> {
    this.url = await this.http.start();
    return this.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** Adds test/fixtures/notion/page.json under `id` (with optional changes), and its blocks. */
  addPage(id: string, change: (page: Json) => void = () => {}): Json {
    const page = JSON.parse(readFileSync(`${fixturesDir}notion/page.json`, 'utf8')) as Json;
    page.id = id;
    change(page);
    this.pages.set(id, page);
    this.blocks.set(id, JSON.parse(readFileSync(`${fixturesDir}notion/blocks.children.json`, 'utf8')) as Json);
    return page;
  }

  /**
   * Enforces Notion's limit per connection (token) as a token bucket: `rate` requests a second on
   * average with bursts of `burst`; over it, 429 `rate_limited` with Retry-After in whole seconds.
   */
  limit(rate: number, burst: number): void {
    this.bucket = { rate, burst, tokens: burst, at: Date.now() };
  }

  private take(b: { rate: number; burst: number; tokens: number; at: number }): number {
    const now = Date.now();
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / b.rate) * 1000;
  }

  static rateLimited(retryAfterSeconds: number): Fault {
    return {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: error(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.').body,
    };
  }

  static serverError(): Fault {
    return { kind: 'status', status: 500, body: error(500, 'internal_server_error', 'Unexpected error occurred.').body };
  }

  private route(method: string, path: string, body: Json, auth: string | undefined, query: URLSearchParams): { status: number; body: unknown } {
    if (auth !== `Bearer ${this.token}`) return error(401, 'unauthorized', 'API token is invalid.');
    let m: RegExpExecArray | null;
    if ((m = /^\/v1\/pages\/([^/]+)$/.exec(path))) {
      const page = this.pages.get(m[1]!);
      if (!page)
        return error(
          404,
          'object_not_found',
          `Could not find page with ID: ${m[1]}. Make sure the relevant pages and databases are shared with your integration.`,
        );
      if (method === 'PATCH') {
        this.updates.push({ page_id: m[1]!, body });
        return { status: 200, body: page };
      }
      return { status: 200, body: page };
    }
    if ((m = /^\/v1\/blocks\/([^/]+)\/children$/.exec(path))) {
      const blocks = this.blocks.get(m[1]!);
      return blocks ? { status: 200, body: blocks } : error(404, 'object_not_found', `Could not find block with ID: ${m[1]}.`);
    }
    if ((m = /^\/v1\/databases\/([^/]+)$/.exec(path))) {
      const db = this.databases.get(m[1]!);
      return db ? { status: 200, body: db } : error(404, 'object_not_found', `Could not find database with ID: ${m[1]}.`);
    }
    if (path === '/v1/comments' && method === 'POST') {
      const parent = body.parent as { page_id?: string } | undefined;
      if (parent?.page_id && !this.pages.has(parent.page_id)) return error(404, 'object_not_found', `Could not find page with ID: ${parent.page_id}.`);
      const text = ((body.rich_text as Array<{ text: { content: string } }>) ?? []).map((t) => t.text.content).join('');
      const id = `comment-${++this.seq}`;
      this.comments.push({
        id,
        ...(parent?.page_id ? { page_id: parent.page_id } : {}),
        ...(body.discussion_id ? { discussion_id: String(body.discussion_id) } : {}),
        text,
        created_time: new Date().toISOString(),
      });
      return { status: 200, body: { object: 'comment', id, parent: body.parent ?? null, discussion_id: 'disc-1', rich_text: body.rich_text } };
    }
    if (path === '/v1/comments' && method === 'GET') {
      // Oldest first, 100 a page at most, as Notion lists them.
      const blockId = query.get('block_id') ?? '';
      if (!this.pages.has(blockId)) return error(404, 'object_not_found', `Could not find block with ID: ${blockId}.`);
      const all = this.comments.filter((c) => c.page_id === blockId);
      const start = Number(query.get('start_cursor') ?? 0);
      const size = Math.min(100, Number(query.get('page_size') ?? 100));
      const slice = all.slice(start, start + size);
      const results = slice.map((c) => ({
        object: 'comment',
        id: c.id,
        parent: { type: 'page_id', page_id: c.page_id },
        discussion_id: c.discussion_id ?? 'disc-1',
        created_time: c.created_time,
        last_edited_time: c.created_time,
        created_by: { object: 'user', id: 'bot-user' },
        rich_text: [{ type: 'text', text: { content: c.text, link: null }, plain_text: c.text, href: null }],
      }));
      const more = start + size < all.length;
      return { status: 200, body: { object: 'list', results, next_cursor: more ? String(start + size) : null, has_more: more, type: 'comment', comment: {} } };
    }
    return error(400, 'invalid_request_url', 'Invalid request URL.');
  }
}
