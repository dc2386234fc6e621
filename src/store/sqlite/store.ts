import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { NotionEvent } from '../../model/event.js';
import { StoreUnavailableError, StoreVersionError } from '../errors.js';
import type { InsertResult, Store, StoreHealth, StoredEvent, EventStatus } from '../types.js';
import { migrations } from './migrations.js';

interface PendingInsert {
  event: NotionEvent;
  raw: string;
  receivedAt: number;
  resolve: (r: InsertResult) => void;
  reject: (e: Error) => void;
}

interface EventRow {
  id: string;
  event: string;
  raw: string;
  status: EventStatus;
  received_at: number;
  duplicates: number;
}

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit survives a
 * crash of the process and of the machine. Inserts that arrive in the same tick share one
 * transaction (group commit): one fsync for many events, each answered only after it.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private pending: PendingInsert[] = [];
  private flushScheduled = false;
  private lastWriteError: string | undefined;
  private closed = false;
  private readonly stmts;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.stmts = {
      insert: db.prepare<[string, string, string, string, string, number, string, string], { duplicates: number }>(
        `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, event, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET duplicates = duplicates + 1
         RETURNING duplicates`,
      ),
      get: db.prepare<[string], EventRow>('SELECT id, event, raw, status, received_at, duplicates FROM events WHERE id = ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  static open(location: string): SqliteStore {
    const path = location === ':memory:' ? location : resolve(location);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (err) {
      if (err instanceof StoreVersionError) throw err;
      throw new StoreUnavailableError(`cannot open SQLite store ${path}: ${(err as Error).message}`, (err as { code?: string }).code);
    }
    return new SqliteStore(db, path);
  }

  insertEvent(event: NotionEvent, raw: string): Promise<InsertResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ event, raw, receivedAt: Date.now(), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const results: InsertResult[] = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const { raw: _raw, ...rest } = p.event;
          const row = this.stmts.insert.get(
            p.event.id,
            p.event.type,
            p.event.entity.id,
            p.event.entity.type,
            p.event.timestamp,
            p.receivedAt,
            JSON.stringify(rest),
            p.raw,
          );
          results.push({ duplicate: (row?.duplicates ?? 0) > 0 });
        }
      })();
      this.lastWriteError = undefined;
    } catch (err) {
      const e = this.unavailable(err);
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.read(() => this.stmts.get.get(id));
    return row && toStored(row);
  }

  async countEvents(): Promise<number> {
    return this.read(() => this.stmts.count.get()!.n);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.read(() => this.stmts.getMeta.get(key)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.write(() => this.stmts.setMeta.run(key, value));
  }

  async health(): Promise<StoreHealth> {
    const schemaVersion = this.closed ? 0 : currentVersion(this.db);
    const error = this.closed ? 'store is closed' : this.lastWriteError;
    return { ok: !error, kind: 'sqlite', schemaVersion, ...(error ? { error } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    this.db.close();
  }

  private read<T>(fn: () => T): T {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    try {
      return fn();
    } catch (err) {
      throw new StoreUnavailableError((err as Error).message, (err as { code?: string }).code);
    }
  }

  private write<T>(fn: () => T): T {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    try {
      const out = fn();
      this.lastWriteError = undefined;
      return out;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): StoreUnavailableError {
    const code = (err as { code?: string }).code;
    const message = `${code ? `${code}: ` : ''}${(err as Error).message}`;
    this.lastWriteError = message;
    return new StoreUnavailableError(message, code);
  }
}

function toStored(row: EventRow): StoredEvent {
  const event = { ...(JSON.parse(row.event) as Omit<NotionEvent, 'raw'>), raw: JSON.parse(row.raw) as Record<string, unknown> };
  return { event, status: row.status, receivedAt: row.received_at, duplicates: row.duplicates };
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_migrations').get();
  return row?.v ?? 0;
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const have = currentVersion(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (have > latest) {
    throw new StoreVersionError(
      `the store's schema is version ${have}, newer than this notion-rules knows (${latest}); run a newer release or a fresh store`,
    );
  }
  for (const m of migrations) {
    if (m.version <= have) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    })();
  }
}
