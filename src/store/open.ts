import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/** Opens the store named by `store.url`: `sqlite:PATH` (or `sqlite::memory:`); PostgreSQL comes later. */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) return SqliteStore.open(url.slice('sqlite:'.length));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new Error('store.url: the PostgreSQL store is not available in this version; use sqlite:PATH');
  }
  throw new Error(`store.url: unsupported scheme in "${url}" (expected sqlite:PATH or postgres://…)`);
}
