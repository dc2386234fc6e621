import type { Client } from '@notionhq/client';
import { ActionError } from './errors.js';
import { classifyNotionError, requireNotion } from './notion-client.js';
import type { ActionExecutor } from './types.js';

type Json = Record<string, unknown>;

/** Keys that mark a value as raw Notion property JSON, passed through as written. */
const RAW_KEYS = new Set([
  'title',
  'rich_text',
  'select',
  'status',
  'multi_select',
  'number',
  'checkbox',
  'date',
  'url',
  'email',
  'phone_number',
  'people',
  'relation',
  'files',
]);

/**
 * `notion.update`: pages.update with plain values (`Status: Done`, `Tags: [a, b]`, `Estimate: 3`).
 * Plain values need the property's type, so the page is read first (pages.retrieve).
 */
export function notionUpdateAction(client: Client | undefined): ActionExecutor {
  return async (params) => {
    const notion = requireNotion(client, 'notion.update');
    const pageId = String(params.page_id);
    const wanted = params.properties;
    if (!wanted || typeof wanted !== 'object' || Array.isArray(wanted)) {
      throw new ActionError('notion.update: properties must render to a mapping of property name to value', { retriable: false, code: 'invalid_params' });
    }
    const entries = Object.entries(wanted as Json);
    let types: Map<string, string> = new Map();
    if (entries.some(([, v]) => !isRaw(v))) {
      try {
        const page = (await notion.pages.retrieve({ page_id: pageId })) as { properties?: Record<string, { type: string }> };
        types = new Map(Object.entries(page.properties ?? {}).map(([name, p]) => [name, p.type]));
      } catch (err) {
        throw classifyNotionError(err, 'notion.update (reading the page)');
      }
    }
    const properties: Json = {};
    for (const [name, value] of entries) {
      if (isRaw(value)) {
        properties[name] = value;
        continue;
      }
      const type = types.get(name);
      if (!type) {
        throw new ActionError(`notion.update: the page has no property "${name}" (it has ${[...types.keys()].join(', ') || 'none'})`, {
          retriable: false,
          code: 'unknown_property',
        });
      }
      properties[name] = toNotion(name, type, value);
    }
    try {
      await notion.pages.update({
        page_id: pageId,
        properties: properties as never,
        ...(params.archived !== undefined ? { archived: params.archived === true || params.archived === 'true' } : {}),
      });
      return { page_id: pageId, properties: Object.keys(properties) };
    } catch (err) {
      throw classifyNotionError(err, 'notion.update');
    }
  };
}

function isRaw(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => RAW_KEYS.has(k) || k === 'type');
}

function text(v: unknown): Array<{ text: { content: string } }> {
  const s = v === null || v === undefined ? '' : String(v);
  return s ? [{ text: { content: s.slice(0, 2000) } }] : [];
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (v === null || v === undefined || v === '') return [];
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A plain value as the property JSON pages.update takes. */
export function toNotion(name: string, type: string, v: unknown): Json {
  switch (type) {
    case 'title':
      return { title: text(v) };
    case 'rich_text':
      return { rich_text: text(v) };
    case 'select':
      return { select: v === null || v === '' ? null : { name: String(v) } };
    case 'status':
      return { status: v === null || v === '' ? null : { name: String(v) } };
    case 'multi_select':
      return { multi_select: list(v).map((n) => ({ name: n })) };
    case 'number': {
      if (v === null || v === '') return { number: null };
      const n = Number(v);
      if (!Number.isFinite(n))
        throw new ActionError(`notion.update: ${name} is a number property; got ${JSON.stringify(v)}`, { retriable: false, code: 'invalid_value' });
      return { number: n };
    }
    case 'checkbox':
      return { checkbox: v === true || v === 'true' || v === 1 };
    case 'date':
      if (v === null || v === '') return { date: null };
      return { date: typeof v === 'object' ? v : { start: String(v) } };
    case 'url':
    case 'email':
    case 'phone_number':
      return { [type]: v === null || v === '' ? null : String(v) };
    case 'people':
      return { people: list(v).map((id) => ({ id })) };
    case 'relation':
      return { relation: list(v).map((id) => ({ id })) };
    default:
      throw new ActionError(`notion.update: ${name} is a ${type} property, which takes raw Notion JSON only`, { retriable: false, code: 'unsupported_type' });
  }
}
