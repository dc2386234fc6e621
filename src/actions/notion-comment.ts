import type { Client } from '@notionhq/client';
import { classifyNotionError, requireNotion } from './notion-client.js';
import type { ActionExecutor } from './types.js';

/** Notion caps one rich-text object at 2,000 characters. */
const CHUNK = 2000;

/** `notion.comment`: comments.create on the event's page (or `page_id`, or a `discussion_id`). */
export function notionCommentAction(client: Client | undefined): ActionExecutor {
  return async (params) => {
    const notion = requireNotion(client, 'notion.comment');
    const text = String(params.text ?? '');
    const rich_text = [];
    for (let i = 0; i < Math.max(text.length, 1); i += CHUNK) rich_text.push({ type: 'text' as const, text: { content: text.slice(i, i + CHUNK) } });
    try {
      const res = await notion.comments.create(
        params.discussion_id
          ? { discussion_id: String(params.discussion_id), rich_text }
          : { parent: { page_id: String(params.page_id) }, rich_text },
      );
      return { comment_id: res.id };
    } catch (err) {
      throw classifyNotionError(err, 'notion.comment');
    }
  };
}
