/**
 * Plain values of Notion page properties, so rules can say `page.props.Status = "Done"` instead of
 * digging through `properties.Status.status.name`.
 */
type Json = Record<string, unknown>;

export interface PageView {
  title: string;
  url: string | null;
  props: Record<string, unknown>;
}

export function plainText(richText: unknown): string {
  if (!Array.isArray(richText)) return '';
  return richText.map((t) => (isObj(t) ? String(t.plain_text ?? (isObj(t.text) ? (t.text.content ?? '') : '')) : '')).join('');
}

function userName(u: unknown): string | null {
  if (!isObj(u)) return null;
  return typeof u.name === 'string' && u.name ? u.name : typeof u.id === 'string' ? u.id : null;
}

function dateStart(d: unknown): string | null {
  return isObj(d) && typeof d.start === 'string' ? d.start : null;
}

/** The plain value of one property object (`{type, <type>: …}`). */
export function plainValue(prop: unknown): unknown {
  if (!isObj(prop) || typeof prop.type !== 'string') return null;
  const v = prop[prop.type];
  switch (prop.type) {
    case 'title':
    case 'rich_text':
      return plainText(v);
    case 'select':
    case 'status':
      return isObj(v) && typeof v.name === 'string' ? v.name : null;
    case 'multi_select':
      return Array.isArray(v) ? v.filter(isObj).map((o) => String(o.name ?? '')) : [];
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'checkbox':
      return v === true;
    case 'date':
      return dateStart(v);
    case 'people':
      return Array.isArray(v) ? v.map(userName).filter((n): n is string => n !== null) : [];
    case 'created_by':
    case 'last_edited_by':
      return userName(v);
    case 'relation':
      return Array.isArray(v) ? v.filter(isObj).map((r) => String(r.id ?? '')) : [];
    case 'url':
    case 'email':
    case 'phone_number':
    case 'created_time':
    case 'last_edited_time':
      return typeof v === 'string' ? v : null;
    case 'files':
      return Array.isArray(v) ? v.filter(isObj).map((f) => String(f.name ?? '')) : [];
    case 'unique_id':
      return isObj(v) && typeof v.number === 'number' ? (v.prefix ? `${String(v.prefix)}-${v.number}` : v.number) : null;
    case 'formula':
      return isObj(v) && typeof v.type === 'string' ? (v.type === 'date' ? dateStart(v.date) : (v[v.type] ?? null)) : null;
    case 'rollup':
      if (!isObj(v) || typeof v.type !== 'string') return null;
      if (v.type === 'array') return Array.isArray(v.array) ? v.array.map(plainValue) : [];
      if (v.type === 'date') return dateStart(v.date);
      return v[v.type] ?? null;
    case 'verification':
      return isObj(v) ? (v.state ?? null) : null;
    default:
      return v ?? null;
  }
}

/** `title`, `url` and `props` of a page object (GET /v1/pages/:id, or the seed envelope's data). */
export function pageView(page: Json): PageView {
  const props: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let title = '';
  if (isObj(page.properties)) {
    for (const [name, prop] of Object.entries(page.properties)) {
      props[name] = plainValue(prop);
      if (isObj(prop) && prop.type === 'title') title = plainText(prop.title);
    }
  }
  // Older API versions and the seed guide put a database title at the top level.
  if (!title && Array.isArray(page.title)) title = plainText(page.title);
  return { title, url: typeof page.url === 'string' ? page.url : null, props };
}

/** Property names for the ids in `updated_properties` (ids arrive URL-encoded, e.g. `%3AUPp`). */
export function changedNames(page: Json, updated: unknown): string[] {
  if (!Array.isArray(updated) || !isObj(page.properties)) return [];
  const byId = new Map<string, string>();
  for (const [name, prop] of Object.entries(page.properties)) {
    if (isObj(prop) && typeof prop.id === 'string') {
      byId.set(prop.id, name);
      byId.set(safeDecode(prop.id), name);
    }
  }
  const names: string[] = [];
  for (const u of updated) {
    const id = typeof u === 'string' ? u : isObj(u) && typeof u.id === 'string' ? u.id : undefined;
    const direct = isObj(u) && typeof u.name === 'string' ? u.name : undefined;
    const name = direct ?? (id !== undefined ? (byId.get(id) ?? byId.get(safeDecode(id))) : undefined);
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Concatenated plain text of a block list (GET /v1/blocks/:id/children), one block a line. */
export function blocksText(blocks: unknown): string {
  const list = isObj(blocks) && Array.isArray(blocks.results) ? blocks.results : Array.isArray(blocks) ? blocks : [];
  const lines: string[] = [];
  for (const b of list) {
    if (!isObj(b) || typeof b.type !== 'string') continue;
    const body = b[b.type];
    if (isObj(body) && Array.isArray(body.rich_text)) lines.push(plainText(body.rich_text));
    else if (isObj(body) && typeof body.title === 'string') lines.push(body.title);
  }
  return lines.filter(Boolean).join('\n');
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A comment as rules see it: `comment.text` is its plain text. */
export function commentView(c: unknown): Record<string, unknown> {
  const comment = c as {
    id: string;
    discussion_id?: string;
    created_time?: string;
    created_by?: unknown;
    parent?: unknown;
    rich_text?: Array<{ plain_text?: string }>;
  };
  const richText = comment.rich_text ?? [];
  return {
    id: comment.id,
    text: richText.map((t) => t.plain_text ?? '').join(''),
    rich_text: richText,
    discussion_id: comment.discussion_id ?? null,
    author: comment.created_by ?? null,
    created_time: comment.created_time ?? null,
    parent: comment.parent ?? null,
  };
}
