import type { Client } from '@notionhq/client';
import { ActionError } from './errors.js';
import { blocksOf } from './notion-blocks.js';
import { classifyNotionError, requireNotion } from './notion-client.js';
import { toNotion } from './notion-update.js';
import type { ActionExecutor } from './types.js';

type Json = Record<string, unknown>;

/**
 * `notion.create`: a page in a database (`database_id`: its data source; or `data_source_id`),
 * with `title`, plain-valued `properties` (typed from the data source's schema, read first) and
 * `content` (a paragraph per line) or `children` (raw blocks).
 *
 * Notion has no idempotency key, and a create that timed out may have been stored: before trying
 * again, the data source is queried for a page with the same title created since the job began
 * (Notion keeps creation times to the minute); one found counts as this action done. The created
 * page's id is the attempt's result.
 */
export function notionCreateAction(client: Client | undefined): ActionExecutor {
  return async (params, ctx) => {
    const notion = requireNotion(client, 'notion.create');
    const children = blocksOf(params, 'notion.create');
    const source = await dataSourceOf(notion, params);
    let schema: Record<string, { type: string }>;
    try {
      schema = ((await notion.dataSources.retrieve({ data_source_id: source })) as { properties?: Record<string, { type: string }> }).properties ?? {};
    } catch (err) {
      throw classifyNotionError(err, 'notion.create (reading the data source)');
    }
    const titleName = Object.entries(schema).find(([, p]) => p.type === 'title')?.[0];
    const properties: Json = {};
    for (const [name, value] of Object.entries((params.properties ?? {}) as Json)) {
      const type = schema[name]?.type;
      if (!type) {
        throw new ActionError(`notion.create: the data source has no property "${name}" (it has ${Object.keys(schema).join(', ') || 'none'})`, {
          retriable: false,
          code: 'unknown_property',
        });
      }
      properties[name] = toNotion(name, type, value);
    }
    const title = params.title === undefined ? undefined : String(params.title);
    if (title !== undefined) {
      if (!titleName) throw new ActionError('notion.create: the data source has no title property', { retriable: false, code: 'unknown_property' });
      properties[titleName] = toNotion(titleName, 'title', title);
    }
    try {
      if (ctx.retry && titleName && title) {
        const found = await createdSince(notion, source, titleName, title, ctx.since);
        if (found) return { page_id: found, found: true };
      }
      const page = await notion.pages.create({
        parent: { type: 'data_source_id', data_source_id: source },
        properties: properties as never,
        ...(children.length ? { children: children as never } : {}),
      });
      return { page_id: page.id };
    } catch (err) {
      throw classifyNotionError(err, 'notion.create');
    }
  };
}

async function dataSourceOf(notion: Client, params: Json): Promise<string> {
  if (params.data_source_id) return String(params.data_source_id);
  const database = params.database_id ?? params.parent; // `parent`: SPEC's name for the database
  if (!database) throw new ActionError('notion.create: give database_id or data_source_id', { retriable: false, code: 'invalid_params' });
  let db: { data_sources?: Array<{ id: string; name?: string }> };
  try {
    db = (await notion.databases.retrieve({ database_id: String(database) })) as typeof db;
  } catch (err) {
    throw classifyNotionError(err, 'notion.create (reading the database)');
  }
  const sources = db.data_sources ?? [];
  if (sources.length !== 1) {
    throw new ActionError(
      `notion.create: database ${String(database)} has ${sources.length} data sources (${sources.map((s) => s.name ?? s.id).join(', ')}); give data_source_id`,
      { retriable: false, code: 'ambiguous_parent' },
    );
  }
  return sources[0]!.id;
}

/** A page titled `title` created in the data source since `since` (to the minute), if any. */
async function createdSince(notion: Client, source: string, titleName: string, title: string, since: number): Promise<string | undefined> {
  const from = new Date(Math.floor(since / 60_000) * 60_000 - 60_000).toISOString();
  const res = await notion.dataSources.query({
    data_source_id: source,
    page_size: 10,
    filter: {
      and: [
        { property: titleName, title: { equals: title } },
        { timestamp: 'created_time', created_time: { on_or_after: from } },
      ],
    },
  });
  return res.results[0]?.id;
}
