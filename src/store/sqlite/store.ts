import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { NotionEvent } from '../../model/event.js';
import { EVENT_COLUMNS, eventFromRow, type EventRow, jobFromRow } from '../core/rows.js';
import { searchWords } from '../core/search-words.js';
import { snapshotParams } from '../core/snapshots.js';
import type { Dialect, Row, SqlExecutor, Statement, StepResult } from '../core/sql.js';
import { SqlStore } from '../core/sql-store.js';
import { StoreUnavailableError, StoreVersionError } from '../errors.js';
import type {
  Attempt,
  DispatchResult,
  InsertOptions,
  InsertResult,
  Job,
  JobUpdate,
  SearchDocument,
  SearchHit,
  Store,
  StoredEvent,
  StoreHealth,
} from '../types.js';
import { ENTITY_RECORD_KEY } from '../types.js';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { GENERATIONS, type GenerationSizes, IdFilters } from './id-filters.js';
import { offLoopSync, openDatabase, schemaVersion } from './open-database.js';
import { prepareStatements } from './statements.js';
import type { WalSync } from './wal-sync.js';

/** Events read per slice when `entity_latest` is rebuilt. */
const REBUILD_ROWS = 20_000;

const SQLITE: Dialect = {
  release: 'lease_until = 0',
  arrival: 'e.rowid',
  skipLocked: '',
  // An id alone is found in each generation's part of the index (about 150 probes at 10,000,000
  // events): for what an operator opens; the hot paths go by row number (see IdFilters).
  eventWithId: (alias, value) => `${alias}gen IN (SELECT gen FROM event_gens) AND ${alias}id = ${value}`,
  eventKey: 'rowid',
  jobsCascade: false,
};

/**
 * The embedded store: one SQLite file in WAL mode, every commit on disk before its caller hears
 * of it, so it survives a crash of the process and of the machine (synchronous=FULL; in the
 * server, the same fsync done on the thread pool by WalSync). The hot paths share the group
 * commit: one fsync for many events or action records. One process owns the file, so leases
 * only guard against that process's own restarts.
 */
export class SqliteStore extends SqlStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly sharedByReplicas = false;
  protected readonly dialect = SQLITE;
  private lastWriteError: string | undefined;
  private closed = false;
  private readonly stmts;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly commits: GroupCommit;
  /** WAL checkpoints in a worker thread (the server's file stores only). */
  private readonly checkpointer: Checkpointer | undefined;
  /** The commit's fsync on the thread pool (the server's file stores only). */
  private readonly walSync: WalSync | undefined;
  /** Which generations may hold an id: filled from the store when first needed (at start, in the server). */
  private filters: IdFilters | undefined;
  /** The row number the next event will most likely get: its generation is this ÷ the generation size. */
  private nextRow = 1;
  /** The group of generations new ids go into; the groups before it are closed, their filters saved. */
  private openGroup = 0;
  /** The newest generation holding ids: no id is looked for beyond it. */
  private newestGen = 0;
  /** Row numbers of the events being matched, by id: what the matcher's updates address. */
  private readonly claimed = new Map<string, number>();

  protected readonly sql: SqlExecutor = {
    rows: async (sql, params = []) => this.read(() => this.statement(sql).all(...params) as Row[]),
    change: async (sql, params = []) => (await this.writeDurably(() => this.statement(sql).run(...params))).changes,
    atomically: (steps) => this.writeDurably(() => this.db.transaction(() => steps.map((s) => this.step(s)))()),
  };

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    server: boolean,
    private readonly generations: GenerationSizes,
  ) {
    super();
    this.walSync = server && path !== ':memory:' ? offLoopSync(db, path) : undefined;
    this.stmts = prepareStatements(db);
    this.commits = new GroupCommit(
      db,
      this.walSync,
      (err) => this.unavailable(err),
      () => (this.lastWriteError = undefined),
    );
    this.checkpointer = server && path !== ':memory:' ? Checkpointer.start(db, path, this.commits) : undefined;
    // The server takes events: fill the filters before the first one. A CLI command rarely needs them.
    if (server) this.idFilters();
  }

  /**
   * With `server` (the long-running server), disk flushes leave the event loop: commits are
   * fsynced on the thread pool (WalSync) and WAL checkpoints run in a worker thread. Without it
   * (the CLI's short commands), SQLite syncs and checkpoints inside commits as usual.
   */
  static open(location: string, options: { server?: boolean; generations?: GenerationSizes } = {}): SqliteStore {
    const path = location === ':memory:' ? location : resolve(location);
    try {
      return new SqliteStore(openDatabase(path), path, options.server ?? false, options.generations ?? GENERATIONS);
    } catch (err) {
      if (err instanceof StoreVersionError) throw err;
      throw new StoreUnavailableError(`cannot open SQLite store ${path}: ${(err as Error).message}`, (err as { code?: string }).code);
    }
  }

  insertEvent(event: NotionEvent, raw: string, options: InsertOptions = {}): Promise<InsertResult> {
    const receivedAt = Date.now();
    const { matched } = options;
    return this.groupCommit(
      () => {
        const key = IdFilters.key(event.id);
        const stored = this.locate(event.id, key);
        if (stored !== undefined) {
          this.stmts.countDuplicate.run(stored);
          return { duplicate: true };
        }
        const gen = this.generationForNext();
        const { changes, lastInsertRowid } = matched
          ? this.stmts.insertMatched.run(gen, event.id, event.type, event.entity.id, event.entity.type, event.timestamp, receivedAt, raw, matched.rulesVersion)
          : this.stmts.insert.run(gen, event.id, event.type, event.entity.id, event.entity.type, event.timestamp, receivedAt, raw, options.leaseUntil ?? 0);
        if (changes === 0) {
          // Stored by another process since the filters were filled (one process owns a store; kept safe anyway).
          this.stmts.countDuplicate.run(this.stmts.findId.get(gen, event.id)?.seq ?? 0);
          return { duplicate: true };
        }
        // Added before the commit: if it fails, the filter only says "maybe" for an id not stored.
        this.nextRow = Number(lastInsertRowid) + 1;
        this.newestGen = Math.max(this.newestGen, gen);
        this.idFilters().add(gen, key);
        if (matched?.entityId) this.stmts.touchEntity.run(matched.entityId, event.timestamp);
        return { duplicate: false };
      },
      matched?.entityId !== undefined, // two writes: one savepoint
    );
  }

  async claimEvents(limit: number, now: number, leaseMs: number): Promise<StoredEvent[]> {
    const rows = await this.claim(() => this.stmts.claimEvents.all(now + leaseMs, now, now, limit));
    for (const r of rows) this.claimed.set(r.id, r.seq);
    return rows.map(eventFromRow);
  }

  /** By row number once the filters are filled (the server's); else by id in every generation. */
  override async getEvent(id: string): Promise<StoredEvent | undefined> {
    if (!this.filters) return super.getEvent(id);
    const row = this.read(() => {
      const seq = this.locate(id);
      return seq === undefined ? undefined : this.stmts.eventAt.get(seq);
    });
    return row && eventFromRow(row);
  }

  /** Shares the group commit with the inserts of the same tick: one fsync for both. */
  completeDispatch(results: DispatchResult[], lease?: { until: number; max: number }): Promise<Job[]> {
    return this.groupCommit(() => {
      const now = Date.now();
      const jobs: Job[] = [];
      let leased = 0;
      for (const r of results) {
        for (const j of r.jobs) {
          const held = j.runAt !== undefined && j.runAt > now;
          const claim = !j.shadow && !held && lease !== undefined && leased < lease.max;
          const row = this.stmts.insertJob.get(
            r.eventId,
            j.ruleId,
            JSON.stringify(j.actions),
            j.shadow ? 'shadow' : claim ? 'running' : 'pending',
            claim ? lease!.until : 0,
            held ? j.runAt! : now,
            now,
            now,
          );
          if (!row || j.shadow) continue;
          if (claim) leased++;
          jobs.push(jobFromRow(row));
        }
        this.stmts.markDispatched.run(r.failed ? 'failed' : 'dispatched', r.rulesVersion, JSON.stringify(r.report), this.rowOf(r.eventId));
        this.claimed.delete(r.eventId);
        if (r.entityId) this.stmts.touchEntity.run(r.entityId, r.timestamp);
        if (r.snapshot) this.stmts.recordSnapshot.run(...(snapshotParams(r.snapshot) as [string, string, string, string]));
      }
      return jobs;
    }, true);
  }

  /** In rowid order (arrival order here), so each page reads on from where the last one stopped. */
  async historyEvents(since: number, cursor: string | null, limit: number): Promise<{ events: StoredEvent[]; cursor: string | null }> {
    const rows = await this.sql.rows(`SELECT rowid AS seq, ${EVENT_COLUMNS} FROM events WHERE rowid > ? AND received_at >= ? ORDER BY rowid LIMIT ?`, [
      Number(cursor ?? 0),
      since,
      limit,
    ]);
    const last = rows[rows.length - 1];
    return { events: rows.map((r) => eventFromRow(r as unknown as EventRow)), cursor: rows.length === limit && last ? String(last.seq) : null };
  }

  async deferDispatch(eventId: string, error: string, nextAt: number, wait?: { turnAt?: number }): Promise<void> {
    this.write(() => this.stmts.deferDispatch.run(error, nextAt, wait ? 0 : 1, wait?.turnAt ?? null, this.rowOf(eventId)));
    this.claimed.delete(eventId);
  }

  async trackEntities(on: boolean): Promise<void> {
    const complete = (await this.getMeta(ENTITY_RECORD_KEY)) !== 'partial';
    if (!on) {
      if (complete) await this.setMeta(ENTITY_RECORD_KEY, 'partial');
      return;
    }
    if (complete) return;
    // In slices, each in the group commit: ingestion goes on between them. The end is read in
    // each slice, after the writes queued before it: an event stored as matched while tracking
    // was still off is covered however late its commit.
    let from = 0;
    for (let done = false; !done;) {
      done = await this.groupCommit(() => {
        const last = this.stmts.lastEventRow.get()?.n ?? 0;
        const to = Math.min(from + REBUILD_ROWS, last);
        this.stmts.rebuildEntities.run(from, to);
        from = to;
        return to >= last;
      });
    }
    await this.setMeta(ENTITY_RECORD_KEY, 'complete');
  }

  async claimJobs(limit: number, now: number, leaseMs: number): Promise<Job[]> {
    return (await this.claim(() => this.stmts.claimJobs.all(now + leaseMs, now, now, now, limit))).map(jobFromRow);
  }

  /** One process owns a SQLite store, so the lease is always ours. */
  recordAttempt(a: Attempt, u: JobUpdate): Promise<boolean> {
    return this.groupCommit(() => {
      const result = a.result === undefined ? null : JSON.stringify(a.result);
      this.stmts.insertAttempt.run(a.jobId, a.actionIndex, a.actionType, a.startedAt, a.durationMs, a.outcome, a.error ?? null, result);
      this.stmts.updateJob.run(u.nextAction, u.status, u.attempts, u.runAt, u.lastError, Date.now(), a.jobId);
      return true;
    }, true);
  }

  /** Shares the group commit: a burst of deferrals costs one fsync. */
  async hasten(jobIds: number[], eventIds: string[], at: number): Promise<void> {
    this.write(() =>
      this.db.transaction(() => {
        for (const id of jobIds) this.stmts.hastenJob.run(at, id, at);
        for (const id of eventIds) this.stmts.hastenEvent.run(at, this.rowOf(id), at);
      })(),
    );
  }

  deferJob(jobId: number, runAt: number, turnAt: number | null = null): Promise<boolean> {
    return this.groupCommit(() => this.stmts.deferJob.run(runAt, turnAt, Date.now(), jobId).changes === 1, false);
  }

  async extendLeases(): Promise<void> {
    // Leases only matter between processes; a SQLite store has one.
  }

  async releaseLeases(): Promise<void> {
    this.write(() =>
      this.db.transaction(() => {
        this.stmts.releaseJobs.run();
        this.stmts.releaseEvents.run();
      })(),
    );
  }

  /**
   * Freed pages go back to the file system (stores created with auto_vacuum = INCREMENTAL), and
   * the filters of generations retention emptied are forgotten.
   */
  protected override async reclaimSpace(): Promise<void> {
    this.write(() => {
      this.db.pragma('incremental_vacuum');
      if (this.filters) this.forgetEmptied(this.filters);
    });
    await this.commits.durable();
  }

  /** Forgets the filters, kept and saved, of the groups whose generations retention has emptied. */
  private forgetEmptied(filters: IdFilters): void {
    const first = this.stmts.firstGen.get()?.gen ?? filters.firstGen(this.openGroup);
    filters.dropBefore(first);
    this.stmts.dropFilters.run(filters.groupOf(first));
  }

  /**
   * The filters: the saved ones of closed groups, and the others filled from the stored ids (in
   * index order) the first time — at the first start after the migration, every group; then only
   * the open one. Closed groups filled here are saved for the next start.
   */
  private idFilters(): IdFilters {
    if (this.filters) return this.filters;
    const filters = new IdFilters(this.generations);
    let lastSaved = -1;
    for (const r of this.stmts.savedFilters.all()) if (filters.load(r.grp, r.layout, r.bits)) lastSaved = Math.max(lastSaved, r.grp);
    const first = this.stmts.firstGen.get()?.gen;
    const last = this.stmts.lastGen.get()?.gen;
    // Never behind a saved group: a saved filter must hold every id of its generations.
    this.openGroup = Math.max(last == null ? 0 : filters.groupOf(last), lastSaved + 1);
    const filled: number[] = [];
    if (first != null && last != null) {
      for (let g = filters.groupOf(first); g <= filters.groupOf(last); g++) {
        if (filters.has(g)) continue;
        for (const r of this.stmts.idsIn.iterate(filters.firstGen(g), filters.firstGen(g + 1))) filters.add(r.gen, IdFilters.key(r.id));
        if (g < this.openGroup && filters.has(g)) filled.push(g);
      }
    }
    this.db.transaction(() => {
      for (const g of filled) this.stmts.saveFilter.run(g, filters.layout, filters.saved(g)!);
      this.forgetEmptied(filters);
    })();
    this.nextRow = (this.stmts.lastEventRow.get()?.n ?? 0) + 1;
    this.newestGen = last ?? 0;
    return (this.filters = filters);
  }

  /**
   * The generation of the event about to be inserted: the next row number's, but never in a closed
   * group. When it opens a new group, the open one closes and its filter is saved in this write's
   * transaction (if that rolls back, the group is filled again at the next start).
   */
  private generationForNext(): number {
    const filters = this.idFilters();
    const gen = Math.floor(this.nextRow / this.generations.perGeneration);
    const group = filters.groupOf(gen);
    if (group < this.openGroup) return filters.firstGen(this.openGroup);
    if (group > this.openGroup) {
      const bits = filters.saved(this.openGroup);
      if (bits) this.stmts.saveFilter.run(this.openGroup, filters.layout, bits);
      this.openGroup = group;
    }
    return gen;
  }

  /** The row number of the stored event with this id: searched only in the generations its filters allow. */
  private locate(id: string, key = IdFilters.key(id)): number | undefined {
    for (const gen of this.idFilters().candidates(key, this.newestGen)) {
      const row = this.stmts.findId.get(gen, id);
      if (row) return row.seq;
    }
    return undefined;
  }

  /** An event's row number: the claim's, else found (0, no row, if it is gone). */
  private rowOf(id: string): number {
    return this.claimed.get(id) ?? this.locate(id) ?? 0;
  }

  async sizeBytes(): Promise<number> {
    if (this.path === ':memory:') return 0;
    const size = (p: string) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return size(this.path) + size(`${this.path}-wal`);
  }

  async indexDocument(doc: SearchDocument): Promise<void> {
    await this.writeDurably(() =>
      this.db.transaction(() => {
        this.stmts.searchDelete.run(doc.id);
        this.stmts.searchInsert.run(doc.id, doc.title, doc.text, doc.url, JSON.stringify(doc.fields));
      })(),
    );
  }

  async deleteDocument(id: string): Promise<boolean> {
    return this.writeDurably(() => this.stmts.searchDelete.run(id).changes > 0);
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    // An FTS5 query: each word quoted, the last a prefix.
    const words = searchWords(query);
    if (words.length === 0) return [];
    const match = words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
    return this.read(() => this.stmts.search.all(match, limit)).map((r) => ({ id: r.doc_id, title: r.title, url: r.url, snippet: r.snippet }));
  }

  async health(): Promise<StoreHealth> {
    const version = this.closed ? 0 : schemaVersion(this.db);
    // A failed fsync stays an error until restart (see WalSync), whatever commits came after.
    const error = this.closed ? 'store is closed' : (this.walSync?.failure?.message ?? this.lastWriteError);
    return { ok: !error, kind: 'sqlite', schemaVersion: version, ...(error ? { error } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.commits.waiting) this.commits.flush();
    this.closed = true;
    await this.walSync?.close();
    await this.checkpointer?.stop();
    this.db.close();
  }

  private groupCommit<T>(run: () => T, several = false, durable = true): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return this.commits.add(run, several, durable);
  }

  /**
   * A lease taken by this process (one process owns a SQLite store; leases are released at the
   * next start): in the next group commit's transaction rather than a commit of its own, answered
   * once committed, without waiting for the fsync.
   */
  private claim<T>(run: () => T): Promise<T> {
    return this.groupCommit(run, false, false);
  }

  /** A portable statement, prepared once per text. */
  private statement(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) this.cache.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  private step(s: Statement): StepResult {
    const stmt = this.statement(s.sql);
    if (stmt.reader) {
      const rows = stmt.all(...(s.params ?? [])) as Row[];
      return { changes: rows.length, rows };
    }
    return { changes: stmt.run(...(s.params ?? [])).changes, rows: [] };
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
      // Only a write that changed something proves the store writable again: an UPDATE that
      // matched no row (an idle poll) touches nothing on disk.
      if (changedSomething(out)) this.lastWriteError = undefined;
      return out;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** A write someone is told about (an operator's replay, the handshake's token): on disk first. */
  private async writeDurably<T>(fn: () => T): Promise<T> {
    const out = this.write(fn);
    await this.commits.durable();
    return out;
  }

  private unavailable(err: unknown): StoreUnavailableError {
    const code = (err as { code?: string }).code;
    const message = `${code ? `${code}: ` : ''}${(err as Error).message}`;
    this.lastWriteError = message;
    return new StoreUnavailableError(message, code);
  }
}

/** Whether a statement's result shows a change: rows changed, or rows returned (`RETURNING`, a step's results). */
function changedSomething(out: unknown): boolean {
  if (Array.isArray(out)) return out.length > 0;
  if (out && typeof out === 'object' && 'changes' in out) return (out as { changes: number }).changes > 0;
  return true;
}
