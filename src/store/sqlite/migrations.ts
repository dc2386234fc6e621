/**
 * The schema, as an append-only list: a released migration is never edited, only followed by a
 * new one. The store applies what a database lacks, each in its own transaction, at open.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events and meta',
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        event TEXT NOT NULL,
        raw TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        duplicates INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX events_status_received ON events (status, received_at);
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];
