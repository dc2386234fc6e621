import type { Client } from '@notionhq/client';
import { createNotionClient } from '../../actions/notion-client.js';
import { loadConfig } from '../../config/load.js';
import { perSecond } from '../../delivery/destinations.js';
import { pageView } from '../../engine/props.js';
import { createLogger } from '../../server/logger.js';
import { openStore } from '../../store/open.js';
import type { Snapshots } from '../../store/ports.js';
import type { SnapshotWrite } from '../../store/types.js';
import { NotionPace } from '../notion-pace.js';
import { CliError, EXIT_USAGE, print } from '../output.js';

/**
 * `notion-rules snapshot --database ID`: records what each page of a database (or data source)
 * looks like now, as of its last edit, so the first change after deployment already has a
 * `before`. Notion is read at `delivery.limits.notion.rate` (one call at a time), and a 429's
 * Retry-After is waited out. A snapshot the server has already replaced with a newer one stays.
 */
export async function snapshotCommand(opts: { config: string; database: string; json?: boolean }): Promise<void> {
  const config = loadConfig(opts.config, { lenient: true });
  const notion = createNotionClient(config, createLogger('silent'));
  if (!notion) throw new CliError('snapshot: reads Notion: set NOTION_TOKEN (or notion.token)', EXIT_USAGE);
  const pace = new NotionPace(1000 / (perSecond(config.delivery.limits.notion.rate) * 0.97), 'snapshot');
  const store = await openStore(config.store.url);
  try {
    let pages = 0;
    let recorded = 0;
    for (const source of await dataSourcesOf(notion, opts.database, pace)) {
      let cursor: string | undefined;
      do {
        const res = await pace.call('query the data source', () =>
          notion.dataSources.query({ data_source_id: source, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) }),
        );
        const snapshots = res.results.flatMap(toSnapshot);
        pages += snapshots.length;
        recorded += await (store as Snapshots).recordSnapshots(snapshots);
        cursor = res.has_more && res.next_cursor ? res.next_cursor : undefined;
      } while (cursor);
    }
    print(
      opts.json
        ? JSON.stringify({ database: opts.database, pages, recorded })
        : `snapshot: ${pages} page(s) of ${opts.database} read; ${recorded} recorded (the others were already seen as recently)`,
    );
  } finally {
    await store.close();
  }
}

/** The data sources of a database; an id that is no database is taken as a data source's. */
async function dataSourcesOf(notion: Client, id: string, pace: NotionPace): Promise<string[]> {
  try {
    const db = (await pace.call('read the database', () => notion.databases.retrieve({ database_id: id }))) as { data_sources?: Array<{ id: string }> };
    return (db.data_sources ?? []).map((d) => d.id);
  } catch (err) {
    if (err instanceof CliError && err.message.includes('object_not_found')) return [id];
    throw err;
  }
}

function toSnapshot(result: unknown): SnapshotWrite[] {
  const page = result as { object?: string; id?: string; last_edited_time?: string; properties?: unknown };
  if (page.object !== 'page' || !page.id || !page.last_edited_time || !page.properties) return [];
  const view = pageView(page as Record<string, unknown>);
  return [{ pageId: page.id, seenAt: new Date(page.last_edited_time).toISOString(), title: view.title, props: { ...view.props } }];
}
