import type { Client } from '@notionhq/client';
import { ActionError } from '../actions/errors.js';
import { classifyNotionError } from '../actions/notion-client.js';
import { blocksText, commentView } from '../engine/props.js';
import type { Fact, FactSource } from '../engine/types.js';
import type { NotionEvent } from '../model/event.js';
import { databaseIdOf, pageIdOf } from '../model/entities.js';
import type { Destinations } from '../delivery/destinations.js';
import { People } from './people.js';
import { queryPages, type QuerySpec } from './query.js';

/** Blocks read for `content`, at most (10 pages of 100). */
const MAX_BLOCK_PAGES = 10;

/** How long a finished read may still serve another event (one sent after that event happened). */
const SHARE_AFTER_MS = 2000;

/**
 * Reads of Notion shared between events: a burst of events about one page (a bulk edit, a page
 * edited in several steps) costs one request, not one each. A read serves an event only if it
 * was sent after the event happened, so a newer event never sees an older page than its own
 * change; a failed read is not shared.
 */
export class SharedReads {
  private readonly reads = new Map<string, { sentAt: number; result: Promise<unknown>; doneAt?: number }>();

  get(key: string, happenedAt: number, read: () => Promise<unknown>, now = Date.now()): Promise<unknown> {
    const hit = this.reads.get(key);
    if (hit && hit.sentAt >= happenedAt && (hit.doneAt === undefined || now - hit.doneAt <= SHARE_AFTER_MS)) return hit.result;
    const entry: { sentAt: number; result: Promise<unknown>; doneAt?: number } = { sentAt: now, result: read() };
    this.reads.set(key, entry);
    entry.result.then(
      () => (entry.doneAt = Date.now()),
      () => this.reads.get(key) === entry && this.reads.delete(key),
    );
    if (this.reads.size > 10_000) this.prune(now);
    return entry.result;
  }

  private prune(now: number): void {
    for (const [key, r] of this.reads) if (r.doneAt !== undefined && now - r.doneAt > SHARE_AFTER_MS) this.reads.delete(key);
  }
}

/**
 * The Notion API as the engine's fact source, for one event: each fact is fetched at most once,
 * however many rules ask (the promise is shared), and page and content reads are shared with
 * other events through `shared` (see SharedReads).
 */
export function notionFacts(
  client: Client | undefined,
  shared?: SharedReads,
  destinations?: Destinations,
  turnAt?: number | null,
  people: People = new People(),
): FactSource {
  const cache = new Map<Fact, Promise<unknown>>();
  return {
    get(fact, event) {
      let p = cache.get(fact);
      if (!p) {
        // Page and content reads serve other events about the page; a comment or authors are the event's own.
        const id = fact === 'page' || fact === 'content' ? pageIdOf(event) : undefined;
        const read = () =>
          destinations && client
            ? paced(destinations, `event:${event.id}:${fact}`, turnAt, () => load(client, fact, event, people))
            : load(client, fact, event, people);
        p = shared && client && id ? shared.get(`${fact}:${id}`, Date.parse(event.timestamp), read) : read();
        cache.set(fact, p);
      }
      return p;
    },
  };
}

/**
 * A read at Notion's pace, like an action's call: when it is not its turn (the pace, a pause after
 * a 429, an open breaker) it fails as flow control with the time to come back (the event waits in
 * the store until then, spending no attempt); a 429 pauses every Notion call.
 */
async function paced(destinations: Destinations, key: string, turnAt: number | null | undefined, read: () => Promise<unknown>): Promise<unknown> {
  const turn = await destinations.ready('notion', key, turnAt);
  if (turn > 0)
    throw new ActionError(`waiting for Notion's turn until ${new Date(turn).toISOString()}`, {
      retriable: true,
      flowControl: true,
      code: 'paced',
      waitUntil: turn,
      turnReserved: destinations.reservedFor(key) === turn,
    });
  destinations.called('notion');
  try {
    const value = await read();
    destinations.succeeded('notion');
    return value;
  } catch (err) {
    if (!(err instanceof ActionError)) throw err;
    if (err.flowControl) {
      const until = await destinations.pause('notion', err.retryAfterMs, err.message);
      throw new ActionError(`${err.message}: Notion paused until ${new Date(until).toISOString()}`, {
        retriable: true,
        flowControl: true,
        ...(err.code ? { code: err.code } : {}),
        waitUntil: until,
      });
    }
    if (err.retriable) destinations.failed('notion', err.message, key);
    throw err;
  }
}

async function load(client: Client | undefined, fact: Fact, event: NotionEvent, people: People): Promise<unknown> {
  if (!client)
    throw new ActionError('no Notion token configured (set NOTION_TOKEN): rules with fetch cannot run', { retriable: false, code: 'not_configured' });
  try {
    if (fact === 'page') {
      const id = pageIdOf(event);
      if (!id) throw new ActionError(`a ${event.entity.type || 'non-page'} event has no page to fetch`, { retriable: false, code: 'no_page' });
      return await client.pages.retrieve({ page_id: id });
    }
    if (fact === 'content') {
      const id = pageIdOf(event);
      if (!id) throw new ActionError(`a ${event.entity.type || 'non-page'} event has no page content`, { retriable: false, code: 'no_page' });
      const results: unknown[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < MAX_BLOCK_PAGES; i++) {
        const res = await client.blocks.children.list({ block_id: id, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) });
        results.push(...res.results);
        if (!res.has_more || !res.next_cursor) break;
        cursor = res.next_cursor;
      }
      return blocksText(results);
    }
    if (fact === 'comment') {
      if (event.entity.type !== 'comment') throw new ActionError(`a ${event.type} event has no comment to fetch`, { retriable: false, code: 'no_comment' });
      return commentView(await client.comments.retrieve({ comment_id: event.entity.id }));
    }
    if (fact === 'authors') return await Promise.all(event.authors.map((a) => people.get(client, a)));
    if (fact === 'query') return await queryPages(client, event.data.query as QuerySpec);
    if (fact === 'before') throw new Error("a page snapshot is the store's, not Notion's");
    const id = databaseIdOf(event);
    if (!id) throw new ActionError('the event names no database', { retriable: false, code: 'no_database' });
    return await client.databases.retrieve({ database_id: id });
  } catch (err) {
    if (err instanceof ActionError) throw err;
    throw classifyNotionError(err, `GET ${fact}`);
  }
}
