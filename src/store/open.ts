import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/** Opens the store named by `store.url`: `sqlite:PATH` (one process) or `postgres://…` (replicas). */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) return SqliteStore.open(url.slice('sqlite:'.length));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return PostgresStore.open(url);
  throw new Error(`store.url: unsupported scheme in "${url}" (expected sqlite:PATH or postgres://…)`);
}
