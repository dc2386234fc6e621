import type { Client } from '@notionhq/client';
import { pageView } from '../engine/props.js';

/** Requests of 100 pages a query makes at most (1,000 pages). */
const MAX_REQUESTS = 10;

export interface QuerySpec {
  database: string;
  filter?: unknown;
  sorts?: unknown[];
}

/**
 * A schedule's `query`: the pages of a database (each of its data sources) or of a data source,
 * with Notion's own filter and sorts, as rules see pages: `id`, `title`, `url`, `props`.
 */
export async function queryPages(client: Client, spec: QuerySpec): Promise<Array<Record<string, unknown>>> {
  const pages: Array<Record<string, unknown>> = [];
  let requests = 0;
  for (const source of await dataSourcesOf(client, spec.database)) {
    let cursor: string | undefined;
    do {
      const res = await client.dataSources.query({
        data_source_id: source,
        page_size: 100,
        ...(spec.filter ? { filter: spec.filter as never } : {}),
        ...(spec.sorts ? { sorts: spec.sorts as never } : {}),
        ...(cursor ? { start_cursor: cursor } : {}),
      });
      for (const r of res.results as Array<Record<string, unknown>>) {
        if (r.object !== 'page' || !r.properties) continue;
        const view = pageView(r);
        pages.push({ id: r.id, title: view.title, url: view.url, props: view.props, last_edited_time: r.last_edited_time });
      }
      cursor = res.has_more && res.next_cursor ? res.next_cursor : undefined;
    } while (cursor && ++requests < MAX_REQUESTS);
  }
  return pages;
}

async function dataSourcesOf(client: Client, id: string): Promise<string[]> {
  try {
    const db = (await client.databases.retrieve({ database_id: id })) as { data_sources?: Array<{ id: string }> };
    return (db.data_sources ?? []).map((d) => d.id);
  } catch (err) {
    if ((err as { code?: string }).code === 'object_not_found') return [id];
    throw err;
  }
}
