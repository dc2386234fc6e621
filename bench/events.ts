import { randomUUID } from 'node:crypto';
import { sign } from '../src/receiver/sign.js';

/** Notion's real envelope (see test/fixtures/notion), varied by type. */
const TYPES = ['page.created', 'page.properties_updated', 'page.content_updated', 'comment.created'] as const;

export interface EventStream {
  /** The next body and its signature header; a share of them re-send a recent id. */
  next(): { body: string; signature: string; id: string };
}

/**
 * `orderedIds`: ids that sort in the order they are sent (a millisecond clock, then a counter),
 * where Notion's are random. Only to measure what random ids cost the store's id index (the
 * `--ordered-ids` diagnostic); every target is measured with random ids.
 */
export function eventStream(secret: string, opts: { duplicateShare: number; types?: readonly string[]; orderedIds?: boolean }): EventStream {
  const types = opts.types ?? TYPES;
  const recent: string[] = [];
  let n = 0;
  return {
    next() {
      n++;
      const dup = recent.length > 0 && Math.random() < opts.duplicateShare;
      const id = dup ? recent[Math.floor(Math.random() * recent.length)]! : opts.orderedIds ? orderedId(n) : randomUUID();
      if (!dup) {
        recent.push(id);
        if (recent.length > 500) recent.shift();
      }
      const type = types[n % types.length]!;
      const body = JSON.stringify({
        id,
        timestamp: new Date().toISOString(),
        workspace_id: '7a3e1c52-4f0b-4d8e-9b6a-1f2c3d4e5f60',
        workspace_name: 'Acme Product',
        subscription_id: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
        integration_id: '2c3d4e5f-6071-4829-93a4-b5c6d7e8f9a0',
        type,
        authors: [{ id: 'c0ffee00-1111-4222-8333-444455556666', type: 'person' }],
        attempt_number: 1,
        api_version: '2025-09-03',
        entity: { id: randomUUID(), type: type.split('.')[0] === 'comment' ? 'comment' : 'page' },
        data: {
          parent: {
            id: '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1',
            type: 'data_source',
            data_source_id: '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1',
            database_id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
          },
          updated_properties: ['%3AUPp', 'title'],
        },
      });
      return { body, signature: sign(secret, body), id };
    },
  };
}

/** A UUID-shaped id that sorts after every earlier one of this stream. */
function orderedId(n: number): string {
  const h = (Date.now().toString(16).padStart(12, '0') + n.toString(16).padStart(8, '0') + '400080000000').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
