import { ActionError } from './errors.js';
import type { ActionExecutor } from './types.js';

/** `search.index`: upserts a document into the embedded FTS5 index (id defaults to the entity). */
export const searchIndexAction: ActionExecutor = async (params, ctx) => {
  const id = String(params.id ?? '');
  if (!id) throw new ActionError('search.index: no id (the event names no entity)', { retriable: false, code: 'invalid_params' });
  await ctx.store.indexDocument({
    id,
    title: String(params.title ?? ''),
    text: String(params.text ?? ''),
    url: String(params.url ?? ''),
    fields: params.fields && typeof params.fields === 'object' ? (params.fields as Record<string, unknown>) : {},
  });
  return { id };
};

/** `search.delete`: removes a document (id defaults to the entity). */
export const searchDeleteAction: ActionExecutor = async (params, ctx) => {
  const id = String(params.id ?? '');
  const removed = await ctx.store.deleteDocument(id);
  return { id, removed };
};
