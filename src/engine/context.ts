import type { NotionEvent } from '../model/event.js';
import { changesBetween, type PageSnapshot } from '../model/snapshot.js';
import { changedNames, pageView } from './props.js';

export interface ContextInput {
  event: NotionEvent;
  ruleId: string;
  /** `event` and `now`, the same for every rule of one event (`sharedContext`). */
  shared: SharedContext;
  page?: Record<string, unknown>;
  content?: string;
  database?: Record<string, unknown>;
  /** The page as last seen before this event (null: never seen, or the event is out of order). */
  before?: PageSnapshot | null;
  /** The comment of a `comment.*` event, read from Notion (`fetch: comment`). */
  comment?: Record<string, unknown>;
  /** The event's authors as people (`fetch: authors`). */
  authors?: unknown[];
  /** A schedule's query: the pages it read. */
  pages?: Array<Record<string, unknown>>;
}

export interface SharedContext {
  event: Record<string, unknown>;
  now: string;
}

/**
 * `event` and `now` of the context, built once per event: `stale` is true when a later event for
 * the same entity was already processed.
 */
export function sharedContext(event: NotionEvent, stale: boolean | undefined, now: Date = new Date()): SharedContext {
  const { raw: _raw, ...eventView } = event;
  return { event: { ...eventView, stale: stale === true }, now: now.toISOString() };
}

/**
 * The JSONata input and template scope of SPEC §4: `event`, `page` (title, url, props),
 * `content`, `database`, `changed`, `rule`, `now`; and, when a rule reads or fetches them,
 * `before` and `changes` (from the page's snapshot), `comment`, `authors`.
 */
export function buildContext(input: ContextInput): Record<string, unknown> {
  const { event } = input;
  const pageObject = input.page ?? seedPage(event);
  const ctx: Record<string, unknown> = { event: input.shared.event, rule: { id: input.ruleId }, now: input.shared.now };
  let props: Record<string, unknown> | undefined;
  if (pageObject) {
    const view = pageView(pageObject);
    props = view.props;
    ctx.page = { ...pageObject, title: view.title, url: view.url, props: view.props };
    ctx.changed = changedNames(pageObject, event.data.updated_properties);
  }
  if (input.before !== undefined) {
    ctx.before = input.before;
    // Unknown without both sides: no property counts as changed.
    ctx.changes = input.before && props ? changesBetween(input.before.props, props) : {};
  }
  if (input.comment !== undefined) ctx.comment = input.comment;
  if (input.authors !== undefined) ctx.authors = input.authors;
  if (input.pages !== undefined) ctx.pages = input.pages;
  if (event.type === 'schedule') ctx.schedule = { rule: event.data.rule, tick: event.timestamp };
  if (input.content !== undefined) ctx.content = input.content;
  if (input.database !== undefined) ctx.database = input.database;
  return ctx;
}

/** The seed envelope carries the whole page in `data`: no API call needed. */
export function seedPage(event: NotionEvent): Record<string, unknown> | undefined {
  const d = event.data;
  return d.object === 'page' && typeof d.id === 'string' ? d : undefined;
}
