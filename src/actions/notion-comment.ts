import type { Client } from '@notionhq/client';
import { ActionError } from './errors.js';
import { classifyNotionError, requireNotion } from './notion-client.js';
import type { ActionExecutor } from './types.js';

/** Notion caps one rich-text object at 2,000 characters. */
const CHUNK = 2000;

/** Comments read, at most, when looking for one an earlier try may have created (5 pages of 100). */
const LOOKUP_PAGES = 5;

/**
 * `notion.comment`: comments.create on the event's page (or `page_id`), or in a discussion: a
 * `discussion_id`, or `reply: true` on a comment.* event (the discussion of that comment, read
 * from Notion). Notion has no idempotency key, and a create that timed out or got a 5xx may have
 * been stored: before trying again, the page's comments are read, and one with the same text (in
 * the same discussion) created since the job began counts as this action done.
 */
export function notionCommentAction(client: Client | undefined): ActionExecutor {
  return async (params, ctx) => {
    const notion = requireNotion(client, 'notion.comment');
    const text = String(params.text ?? '');
    const rich_text = [];
    for (let i = 0; i < Math.max(text.length, 1); i += CHUNK) rich_text.push({ type: 'text' as const, text: { content: text.slice(i, i + CHUNK) } });
    const reply = params.reply === true || params.reply === 'true';
    if (reply && !params.comment_id && !params.discussion_id) {
      throw new ActionError('notion.comment: reply: true answers the comment of a comment.* event; this event has none (give discussion_id)', {
        retriable: false,
        code: 'no_comment',
      });
    }
    try {
      let discussion = params.discussion_id ? String(params.discussion_id) : undefined;
      let pageId = params.page_id ? String(params.page_id) : undefined;
      if (!discussion && reply) {
        const answered = (await notion.comments.retrieve({ comment_id: String(params.comment_id) })) as {
          discussion_id?: string;
          parent?: { page_id?: string };
        };
        discussion = answered.discussion_id;
        pageId = answered.parent?.page_id ?? pageId;
      }
      if (ctx.retry && pageId) {
        const existing = await findComment(notion, pageId, text, ctx.since, discussion);
        if (existing) return { comment_id: existing, found: true };
      }
      const res = await notion.comments.create(discussion ? { discussion_id: discussion, rich_text } : { parent: { page_id: String(pageId) }, rich_text });
      return { comment_id: res.id, ...(discussion ? { discussion_id: discussion } : {}) };
    } catch (err) {
      throw classifyNotionError(err, 'notion.comment');
    }
  };
}

/** A comment on `pageId` (in `discussion`, if given) with exactly `text`, created since `since` (Notion rounds times to the minute). */
async function findComment(notion: Client, pageId: string, text: string, since: number, discussion?: string): Promise<string | undefined> {
  const from = Math.floor(since / 60_000) * 60_000 - 60_000;
  let cursor: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const res = await notion.comments.list({ block_id: pageId, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) });
    for (const c of res.results) {
      const body = 'rich_text' in c ? c.rich_text.map((t) => t.plain_text).join('') : undefined;
      const inDiscussion = !discussion || ('discussion_id' in c && c.discussion_id === discussion);
      if (body === text && inDiscussion && 'created_time' in c && Date.parse(c.created_time) >= from) return c.id;
    }
    if (!res.has_more || !res.next_cursor) return undefined;
    cursor = res.next_cursor;
  }
  return undefined;
}
