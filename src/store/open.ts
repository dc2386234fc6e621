import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export interface OpenOptions {
  /** The long-running server: SQLite fsyncs commits on the thread pool and checkpoints in a worker thread, off the event loop. */
  server?: boolean;
}

/** Opens the store named by `store.url`: `sqlite:PATH` (one process) or `postgres://…` (replicas). */
export async function openStore(url: string, options: OpenOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) return SqliteStore.open(url.slice('sqlite:'.length), { server: options.server ?? false });
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return PostgresStore.open(url);
  throw new Error(`store.url: unsupported scheme in "${url}" (expected sqlite:PATH or postgres://…)`);
}
