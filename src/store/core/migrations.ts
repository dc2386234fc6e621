import { StoreVersionError } from '../errors.js';

/**
 * The schema, as an append-only list per database: a released migration is never edited, only
 * followed by a new one. A store applies what its database lacks when it opens.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * A table rebuild: runs with foreign keys off (dropping the old table must not cascade to the
   * rows that refer to it) and is checked with `foreign_key_check` before it commits (SQLite).
   */
  foreignKeysOff?: boolean;
}

/** The table that records which migrations a database has. */
export const MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)';
export const SCHEMA_VERSION = 'SELECT coalesce(max(version), 0) AS v FROM schema_migrations';
/** Records a migration as applied (`?` placeholders: version, name, time). */
export const RECORD_MIGRATION = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)';

/**
 * What a database at version `have` lacks, in order. A database newer than this release knows is
 * refused: its schema may mean things this code would get wrong.
 */
export function migrationsToApply(have: number, list: readonly Migration[]): Migration[] {
  const latest = list[list.length - 1]?.version ?? 0;
  if (have > latest) {
    throw new StoreVersionError(`the store's schema is version ${have}, newer than this notion-rules knows (${latest}); run a newer release or a fresh store`);
  }
  return list.filter((m) => m.version > have);
}

/** The parameters of RECORD_MIGRATION for `m`. */
export function migrationRecord(m: Migration): unknown[] {
  return [m.version, m.name, new Date().toISOString()];
}
