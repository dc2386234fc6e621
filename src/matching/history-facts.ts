import { UNKNOWN_MARK } from '../engine/whatif.js';
import { seedPage } from '../engine/context.js';
import { unnamedAuthors } from '../engine/rule-tests.js';
import type { Fact, FactSource } from '../engine/types.js';
import type { NotionEvent } from '../model/event.js';
import { pageIdOf } from '../model/entities.js';
import { snapshotBefore, type PageSnapshot } from '../model/snapshot.js';
import type { Snapshots } from '../store/ports.js';

/**
 * Facts for events that already happened (`whatif`): what the store kept of their pages. `before`
 * is the snapshot before the event, as the matcher gave it; `page` is the snapshot the event's own
 * read left (title and property values, as `page.props`), when it is still kept (the latest two
 * per page are); `authors` are the event's author ids. Anything else — or a page whose snapshot as
 * of the event is gone — comes from `live` (current reads from Notion, with `--fetch`), or is
 * unknown: the rule is then counted as not evaluable for that event, not as a change.
 */
export function historyFacts(
  store: Pick<Snapshots, 'snapshotOf'>,
  live?: (fact: Fact, event: NotionEvent) => Promise<unknown>,
): (event: NotionEvent) => FactSource {
  return (event) => {
    const cache = new Map<Fact, Promise<unknown>>();
    const load = async (fact: Fact): Promise<unknown> => {
      const pageId = pageIdOf(event);
      if (fact === 'before') return pageId ? snapshotBefore(await store.snapshotOf(pageId), event.timestamp) : null;
      if (fact === 'page') {
        const seeded = seedPage(event);
        if (seeded) return seeded;
        const record = pageId ? await store.snapshotOf(pageId) : undefined;
        const own = record && [record.current, record.previous].find((s) => s?.seenAt === event.timestamp);
        if (own && pageId) return pageOf(pageId, own);
      }
      if (fact === 'authors' && !live) return unnamedAuthors(event);
      if (live) return live(fact, event);
      throw new Error(`no ${fact} ${UNKNOWN_MARK}`);
    };
    return {
      get: (fact) => {
        let p = cache.get(fact);
        if (!p) cache.set(fact, (p = load(fact)));
        return p;
      },
    };
  };
}

/**
 * A page object whose view (`page.title`, `page.props`) is the snapshot's: the title property as
 * a title, every other value as it was kept. Property ids are not kept, so `changed` is empty.
 */
function pageOf(id: string, snapshot: PageSnapshot): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  let titled = false;
  for (const [name, value] of Object.entries(snapshot.props)) {
    if (!titled && value === snapshot.title) {
      properties[name] = { type: 'title', title: [{ plain_text: snapshot.title }] };
      titled = true;
    } else properties[name] = { type: 'formula', formula: { type: 'kept', kept: value } };
  }
  return { object: 'page', id, properties };
}
