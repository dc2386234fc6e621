import type { NotionEvent } from './event.js';

/** The page an event is about: the entity itself, or the page of a comment or block. */
export function pageIdOf(event: NotionEvent): string | undefined {
  if (event.entity.type === 'page') return event.entity.id;
  const d = event.data as { page_id?: unknown; parent?: { id?: unknown; type?: unknown } };
  if (typeof d.page_id === 'string') return d.page_id;
  if (d.parent?.type === 'page' && typeof d.parent.id === 'string') return d.parent.id;
  return undefined;
}

/** The database an event is about: the entity itself, or the parent of a page. */
export function databaseIdOf(event: NotionEvent): string | undefined {
  if (event.entity.type === 'database') return event.entity.id;
  const parent = (event.data as { parent?: { database_id?: unknown; type?: unknown; id?: unknown } }).parent;
  if (typeof parent?.database_id === 'string') return parent.database_id;
  if (parent?.type === 'database' && typeof parent.id === 'string') return parent.id;
  return undefined;
}
