import type { NotionEvent } from '../model/event.js';

export type EventStatus = 'new' | 'dispatched' | 'failed';

export interface InsertResult {
  /** True when this id was already stored; nothing was written but the duplicate count. */
  duplicate: boolean;
}

export interface StoredEvent {
  event: NotionEvent;
  status: EventStatus;
  receivedAt: number;
  duplicates: number;
}

export interface StoreHealth {
  ok: boolean;
  kind: 'sqlite' | 'postgres';
  /** The last write error, while writes are failing. */
  error?: string;
  schemaVersion: number;
}

/**
 * Everything the service keeps. Implemented by SQLite (embedded default) and later PostgreSQL.
 * Every method may reject with StoreUnavailableError when the database cannot be written or read.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores an event once. Resolves only after the row is durably committed. */
  insertEvent(event: NotionEvent, raw: string): Promise<InsertResult>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  countEvents(): Promise<number>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
