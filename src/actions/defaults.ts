import { pageIdOf } from '../model/entities.js';
import type { ActionIntent, NotionEvent } from '../model/event.js';

/** Fills what an action leaves to the event: the page of notion.* actions, the id of search.*. */
export function withDefaults(actions: ActionIntent[], event: NotionEvent): ActionIntent[] {
  const page = pageIdOf(event) ?? (typeof event.data.id === 'string' ? event.data.id : undefined);
  return actions.map((a) => {
    if ((a.type === 'notion.comment' || a.type === 'notion.update') && !a.params.page_id && !a.params.discussion_id && page) {
      return { ...a, params: { ...a.params, page_id: page } };
    }
    if ((a.type === 'search.index' || a.type === 'search.delete') && !a.params.id && (page ?? event.entity.id)) {
      return { ...a, params: { ...a.params, id: page ?? event.entity.id } };
    }
    return a;
  });
}
