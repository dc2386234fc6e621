import { readFileSync } from 'node:fs';
import { fixturesDir } from '../support/fixtures.js';
import { HttpFake, type Fault } from './http-fake.js';

type Json = Record<string, unknown>;

function error(status: number, code: string, message: string): { status: number; body: Json } {
  return { status, body: { object: 'error', status, code, message, request_id: 'req-fake' } };
}

export interface FakeComment {
  id: string;
  page_id?: string;
  discussion_id: string;
  text: string;
  created_time: string;
  created_by: string;
}

/**
 * A fake Notion API (the routes notion-rules uses): pages, page updates, comments, block
 * children, databases. Unknown ids answer 404 `object_not_found` as Notion does.
 */
export class FakeNotion {
  readonly pages = new Map<string, Json>();
  readonly blocks = new Map<string, Json>();
  readonly databases = new Map<string, Json>();
  readonly comments: FakeComment[] = [];
  /** Users by id (GET /v1/users/:id), as Notion returns them. */
  readonly users = new Map<string, Json>();
  readonly updates: Array<{ page_id: string; body: Json }> = [];
  /** Pages created (POST /v1/pages), with the request body. */
  readonly created: Array<{ id: string; body: Json }> = [];
  /** Blocks appended (PATCH /v1/blocks/:id/children). */
  readonly appended: Array<{ page_id: string; children: Json[] }> = [];
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

  /** A comment as a person left it on `pageId` (a new discussion unless `discussion` is given). */
  addComment(pageId: string, text: string, discussion = `disc-${this.seq + 1}`, by = 'bot-user'): FakeComment {
    const c: FakeComment = {
      id: `comment-${++this.seq}`,
      page_id: pageId,
      discussion_id: discussion,
      text,
      created_time: new Date().toISOString(),
      created_by: by,
    };
    this.comments.push(c);
    return c;
  }

  /** A person (GET /v1/users/:id answers it), with an email as Notion shows it to integrations that may read emails. */
  addPerson(id: string, name: string, email: string): void {
    this.users.set(id, { object: 'user', id, type: 'person', name, avatar_url: null, person: { email } });
  }

  private commentObject(c: FakeComment): Json {
    return {
      object: 'comment',
      id: c.id,
      parent: { type: 'page_id', page_id: c.page_id },
      discussion_id: c.discussion_id,
      created_time: c.created_time,
      last_edited_time: c.created_time,
      created_by: { object: 'user', id: c.created_by },
      rich_text: [{ type: 'text', text: { content: c.text, link: null }, annotations: {}, plain_text: c.text, href: null }],
    };
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
    if ((m = /^\/v1\/blocks\/([^/]+)\/children$/.exec(path)) && method === 'PATCH') {
      const list = this.blocks.get(m[1]!) as { results: Json[] } | undefined;
      if (!list) return error(404, 'object_not_found', `Could not find block with ID: ${m[1]}.`);
      const created_time = new Date().toISOString();
      const added = ((body.children as Json[] | undefined) ?? []).map((b) => ({
        object: 'block',
        id: `block-${++this.seq}`,
        created_time,
        has_children: false,
        ...b,
      }));
      list.results.push(...added);
      this.appended.push({ page_id: m[1]!, children: added });
      return { status: 200, body: { object: 'list', results: added, next_cursor: null, has_more: false } };
    }
    if ((m = /^\/v1\/blocks\/([^/]+)\/children$/.exec(path))) {
      const blocks = this.blocks.get(m[1]!);
      return blocks ? { status: 200, body: blocks } : error(404, 'object_not_found', `Could not find block with ID: ${m[1]}.`);
    }
    if ((m = /^\/v1\/databases\/([^/]+)$/.exec(path))) {
      const db = this.databases.get(m[1]!);
      return db ? { status: 200, body: db } : error(404, 'object_not_found', `Could not find database with ID: ${m[1]}.`);
    }
    if ((m = /^\/v1\/data_sources\/([^/]+)$/.exec(path)) && method === 'GET') {
      // Its schema: the property names and types of the fixture page.
      const template = JSON.parse(readFileSync(`${fixturesDir}notion/page.json`, 'utf8')) as { properties: Record<string, { id: string; type: string }> };
      const properties = Object.fromEntries(Object.entries(template.properties).map(([name, p]) => [name, { id: p.id, name, type: p.type, [p.type]: {} }]));
      return { status: 200, body: { object: 'data_source', id: m[1], properties } };
    }
    if (path === '/v1/pages' && method === 'POST') {
      const parent = body.parent as { data_source_id?: string; page_id?: string; database_id?: string };
      if (parent.page_id && !this.pages.has(parent.page_id)) return error(404, 'object_not_found', `Could not find page with ID: ${parent.page_id}.`);
      const id = `00000000-0000-4000-9000-${String(++this.seq).padStart(12, '0')}`;
      const now = new Date();
      now.setUTCSeconds(0, 0); // Notion keeps created_time to the minute
      const page: Json = {
        object: 'page',
        id,
        created_time: now.toISOString(),
        last_edited_time: now.toISOString(),
        parent: parent.data_source_id ? { type: 'data_source_id', data_source_id: parent.data_source_id } : { type: 'page_id', page_id: parent.page_id },
        properties: body.properties ?? {},
        url: `https://www.notion.so/${id.replace(/-/g, '')}`,
      };
      this.pages.set(id, page);
      this.created.push({ id, body });
      this.blocks.set(id, { object: 'list', results: (body.children as unknown[] | undefined) ?? [], next_cursor: null, has_more: false });
      return { status: 200, body: page };
    }
    if ((m = /^\/v1\/data_sources\/([^/]+)\/query$/.exec(path)) && method === 'POST') {
      // The pages whose parent is this data source, 100 a page at most, by cursor.
      const all = [...this.pages.values()].filter(
        (p) => (p.parent as { data_source_id?: string } | undefined)?.data_source_id === m![1] && matches(p, body.filter),
      );
      const start = Number(body.start_cursor ?? 0);
      const size = Math.min(100, Number(body.page_size ?? 100));
      const more = start + size < all.length;
      return {
        status: 200,
        body: {
          object: 'list',
          results: all.slice(start, start + size),
          next_cursor: more ? String(start + size) : null,
          has_more: more,
          type: 'page_or_data_source',
          page_or_data_source: {},
        },
      };
    }
    if (path === '/v1/comments' && method === 'POST') {
      const parent = body.parent as { page_id?: string } | undefined;
      if (parent?.page_id && !this.pages.has(parent.page_id)) return error(404, 'object_not_found', `Could not find page with ID: ${parent.page_id}.`);
      // A comment on a page opens a discussion; one with discussion_id answers in it.
      let pageId = parent?.page_id;
      let discussion = `disc-${this.seq + 1}`;
      if (body.discussion_id) {
        const first = this.comments.find((c) => c.discussion_id === body.discussion_id);
        if (!first) return error(404, 'object_not_found', `Could not find discussion with ID: ${String(body.discussion_id)}.`);
        discussion = String(body.discussion_id);
        pageId = first.page_id;
      }
      const text = ((body.rich_text as Array<{ text: { content: string } }>) ?? []).map((t) => t.text.content).join('');
      const c = this.addComment(pageId!, text, discussion);
      return { status: 200, body: this.commentObject(c) };
    }
    if ((m = /^\/v1\/comments\/([^/]+)$/.exec(path)) && method === 'GET') {
      const c = this.comments.find((x) => x.id === m![1]);
      return c ? { status: 200, body: this.commentObject(c) } : error(404, 'object_not_found', `Could not find comment with ID: ${m[1]}.`);
    }
    if ((m = /^\/v1\/users\/([^/]+)$/.exec(path)) && method === 'GET') {
      const u = this.users.get(m[1]!);
      return u ? { status: 200, body: u } : error(404, 'object_not_found', `Could not find user with ID: ${m[1]}.`);
    }
    if (path === '/v1/comments' && method === 'GET') {
      // Oldest first, 100 a page at most, as Notion lists them.
      const blockId = query.get('block_id') ?? '';
      if (!this.pages.has(blockId)) return error(404, 'object_not_found', `Could not find block with ID: ${blockId}.`);
      const all = this.comments.filter((c) => c.page_id === blockId);
      const start = Number(query.get('start_cursor') ?? 0);
      const size = Math.min(100, Number(query.get('page_size') ?? 100));
      const slice = all.slice(start, start + size);
      const results = slice.map((c) => this.commentObject(c));
      const more = start + size < all.length;
      return { status: 200, body: { object: 'list', results, next_cursor: more ? String(start + size) : null, has_more: more, type: 'comment', comment: {} } };
    }
    return error(400, 'invalid_request_url', 'Invalid request URL.');
  }
}

/** The part of Notion's query filter the fake knows: a title equal to a text, a created time on or after, and `and`. */
function matches(page: Json, filter: unknown): boolean {
  if (!filter || typeof filter !== 'object') return true;
  const f = filter as { and?: unknown[]; property?: string; title?: { equals?: string }; timestamp?: string; created_time?: { on_or_after?: string } };
  if (f.and) return f.and.every((x) => matches(page, x));
  if (f.title?.equals !== undefined && f.property) {
    const prop = (page.properties as Record<string, { title?: Array<{ text?: { content?: string }; plain_text?: string }> }>)[f.property];
    return (prop?.title ?? []).map((t) => t.plain_text ?? t.text?.content ?? '').join('') === f.title.equals;
  }
  if (f.timestamp === 'created_time' && f.created_time?.on_or_after) return String(page.created_time) >= new Date(f.created_time.on_or_after).toISOString();
  return true;
}
