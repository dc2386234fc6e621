import type { Client } from '@notionhq/client';
import { ActionError } from './errors.js';
import { blocksOf, blockText } from './notion-blocks.js';
import { classifyNotionError, requireNotion } from './notion-client.js';
import type { ActionExecutor } from './types.js';

/** Blocks read, at most, when looking for ones an earlier try appended (10 pages of 100). */
const LOOKUP_PAGES = 10;

/**
 * `notion.append`: blocks appended to a page (the event's, or `page_id`): `content` (a paragraph
 * per line) or `children` (raw blocks). Before trying again after a failed try, the page's blocks
 * are read: if blocks with the same text as ours, created since the job began, end the page, the
 * earlier try was stored and this action is done.
 */
export function notionAppendAction(client: Client | undefined): ActionExecutor {
  return async (params, ctx) => {
    const notion = requireNotion(client, 'notion.append');
    const pageId = String(params.page_id ?? '');
    if (!pageId) throw new ActionError('notion.append: no page (give page_id)', { retriable: false, code: 'invalid_params' });
    const children = blocksOf(params, 'notion.append');
    if (children.length === 0)
      throw new ActionError('notion.append: nothing to append (give content or children)', { retriable: false, code: 'invalid_params' });
    try {
      if (ctx.retry && (await alreadyAppended(notion, pageId, children.map(blockText), ctx.since)))
        return { page_id: pageId, blocks: children.length, found: true };
      const res = await notion.blocks.children.append({ block_id: pageId, children: children as never });
      return { page_id: pageId, blocks: res.results.length };
    } catch (err) {
      throw classifyNotionError(err, 'notion.append');
    }
  };
}

async function alreadyAppended(notion: Client, pageId: string, texts: string[], since: number): Promise<boolean> {
  const from = Math.floor(since / 60_000) * 60_000 - 60_000;
  const blocks: Array<Record<string, unknown>> = [];
  let cursor: string | undefined;
  for (let i = 0; i < LOOKUP_PAGES; i++) {
    const res = await notion.blocks.children.list({ block_id: pageId, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) });
    blocks.push(...(res.results as Array<Record<string, unknown>>));
    if (!res.has_more || !res.next_cursor) break;
    cursor = res.next_cursor;
  }
  const tail = blocks.slice(-texts.length);
  return tail.length === texts.length && tail.every((b, i) => blockText(b) === texts[i] && Date.parse(String(b.created_time ?? '')) >= from);
}
