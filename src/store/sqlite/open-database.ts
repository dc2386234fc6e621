import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS_TABLE, migrationRecord, migrationsToApply, RECORD_MIGRATION, SCHEMA_VERSION } from '../core/migrations.js';
import { migrations } from './schema.js';
import { WalSync } from './wal-sync.js';

/** Opens (or creates) the database file, sets it up for durable WAL commits and migrates it. */
export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') createPrivately(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Statement journals (a savepoint's undo copies, written for every page a group-commit write
  // changes) and sort space stay in memory: in temp files they were 3/4 of the bytes written per
  // event. Crash safety is the WAL's, not theirs.
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = ON');
  // A new store frees pages as it prunes (PRAGMA incremental_vacuum), so its file shrinks.
  if (path !== ':memory:' && isEmpty(db)) db.pragma('auto_vacuum = INCREMENTAL');
  migrate(db);
  return db;
}

export function schemaVersion(db: Database.Database): number {
  return Number(db.prepare<[], { v: number }>(SCHEMA_VERSION).get()?.v ?? 0);
}

/** Each missing migration in its own transaction. */
function migrate(db: Database.Database): void {
  db.exec(MIGRATIONS_TABLE);
  for (const m of migrationsToApply(schemaVersion(db), migrations)) {
    // The pragma is a no-op inside a transaction: set around it.
    if (m.foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.foreignKeysOff && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
          throw new Error(`migration ${m.version} (${m.name}) would leave rows referring to rows that do not exist`);
        }
        db.prepare(RECORD_MIGRATION).run(...migrationRecord(m));
      })();
    } finally {
      if (m.foreignKeysOff) db.pragma('foreign_keys = ON');
    }
  }
}

/**
 * Commits fsynced by WalSync instead of inside SQLite; synchronous=FULL stays if the WAL file
 * cannot be opened (then nothing is lost, only the flush stays on the event loop).
 */
export function offLoopSync(db: Database.Database, path: string): WalSync | undefined {
  try {
    const sync = WalSync.open(path);
    db.pragma('synchronous = NORMAL');
    return sync;
  } catch {
    return undefined;
  }
}

function isEmpty(db: Database.Database): boolean {
  return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()!.n === 0;
}

/**
 * The store holds every event's content: a folder we create is 0700 and a database file we create
 * is 0600 (SQLite gives its -wal and -shm files the database file's mode). Existing ones are left
 * as the operator set them.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
}
