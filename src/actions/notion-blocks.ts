import { ActionError } from './errors.js';

type Json = Record<string, unknown>;

/** Notion caps one rich-text object at 2,000 characters, and one append at 100 blocks. */
const CHUNK = 2000;
export const MAX_BLOCKS = 100;

/**
 * What `content` (text: a paragraph per line; or a list of texts) and `children` (raw Notion
 * blocks) render to, as the blocks of one request.
 */
export function blocksOf(params: Json, what: string): Json[] {
  // SPEC's names `text` and `blocks` are the same as `content` and `children`.
  const content = params.content ?? params.text;
  const children = params.children ?? params.blocks;
  const blocks: Json[] = [];
  if (content !== undefined && content !== null && content !== '') {
    const lines = Array.isArray(content) ? content.map(String) : String(content).split(/\r?\n/);
    for (const line of lines) {
      if (line.trim() === '') continue;
      const rich_text = [];
      for (let i = 0; i < line.length; i += CHUNK) rich_text.push({ type: 'text', text: { content: line.slice(i, i + CHUNK) } });
      blocks.push({ object: 'block', type: 'paragraph', paragraph: { rich_text } });
    }
  }
  if (children !== undefined) {
    if (!Array.isArray(children))
      throw new ActionError(`${what}: children must render to a list of Notion blocks`, { retriable: false, code: 'invalid_params' });
    blocks.push(...(children as Json[]));
  }
  if (blocks.length > MAX_BLOCKS) {
    throw new ActionError(`${what}: ${blocks.length} blocks; Notion takes ${MAX_BLOCKS} in one request`, { retriable: false, code: 'too_many_blocks' });
  }
  return blocks;
}

/** A block's plain text (its rich_text's), to recognise blocks an earlier try appended. */
export function blockText(block: Json): string {
  const body = block[String(block.type)] as { rich_text?: Array<{ plain_text?: string; text?: { content?: string } }> } | undefined;
  return (body?.rich_text ?? []).map((t) => t.plain_text ?? t.text?.content ?? '').join('');
}
