import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ActionIntent, NotionEvent } from '../../model/event.js';
import { StoreUnavailableError, StoreVersionError } from '../errors.js';
import type {
  Attempt,
  DispatchResult,
  EventListStatus,
  EventStatus,
  EventSummary,
  InsertOptions,
  InsertResult,
  Job,
  JobStatus,
  JobUpdate,
  PruneResult,
  QueueCounts,
  ReplayResult,
  SearchDocument,
  SearchHit,
  Store,
  StoredEvent,
  StoreHealth,
} from '../types.js';
import { ENTITY_RECORD_KEY } from '../types.js';
import { summaryStatus } from '../summary.js';
import { Checkpointer } from './checkpointer.js';
import { migrations } from './migrations.js';
import { WalSync } from './wal-sync.js';
import { attemptFromRow, EVENT_COLUMNS, eventFromRow, jobFromRow } from '../rows.js';

/** A write waiting for the next group commit. */
interface PendingWrite {
  run: () => unknown;
  /** Several statements: run in a savepoint, so a failure rolls back all of them and only them. */
  several: boolean;
  resolve: (value: never) => void;
  reject: (e: Error) => void;
}

interface EventRow {
  id: string;
  timestamp: string;
  raw: string;
  status: EventStatus;
  received_at: number;
  duplicates: number;
  dispatch_attempts: number;
  rules_version: string | null;
  report: string | null;
  error: string | null;
  turn_at: number | null;
}

interface JobRow {
  id: number;
  event_id: string;
  rule_id: string;
  actions: string;
  next_action: number;
  status: JobStatus;
  attempts: number;
  run_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  turn_at: number | null;
}

/** Events read per slice when `entity_latest` is rebuilt. */
const REBUILD_ROWS = 20_000;

const EVENT_COLS = EVENT_COLUMNS;

/**
 * The embedded store: one SQLite file in WAL mode, every commit on disk before its caller hears
 * of it, so it survives a crash of the process and of the machine (synchronous=FULL; in the
 * server, the same fsync done on the thread pool by WalSync). Writes that arrive in the same tick
 * share one transaction (group commit): one fsync for many events, each answered only after it.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly sharedByReplicas = false;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private lastWriteError: string | undefined;
  private closed = false;
  private readonly stmts;
  /** WAL checkpoints in a worker thread (the server's file stores only). */
  private readonly checkpointer: Checkpointer | undefined;
  /** The commit's fsync on the thread pool (the server's file stores only). */
  private readonly walSync: WalSync | undefined;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    server: boolean,
  ) {
    this.walSync = server && path !== ':memory:' ? offLoopSync(db, path) : undefined;
    this.checkpointer = server && path !== ':memory:' ? Checkpointer.start(db, path) : undefined;
    this.stmts = {
      // DO NOTHING and a count of changes, not DO UPDATE … RETURNING: a fifth less per insert.
      insert: db.prepare<[string, string, string, string, string, number, string, number]>(
        `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, lease_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      ),
      countDuplicate: db.prepare<[string]>('UPDATE events SET duplicates = duplicates + 1 WHERE id = ?'),
      insertMatched: db.prepare<[string, string, string, string, string, number, string, string]>(
        `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, status, rules_version, report, dispatch_attempts)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'dispatched', ?, '[]', 1)
         ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare<[string], EventRow>(`SELECT ${EVENT_COLS} FROM events WHERE id = ?`),
      claimEvents: db.prepare<[number, number, number, number], EventRow>(
        `UPDATE events SET lease_until = ? WHERE id IN (
           SELECT id FROM events WHERE status = 'new' AND next_dispatch_at <= ? AND lease_until <= ?
           ORDER BY received_at, rowid LIMIT ?)
         RETURNING ${EVENT_COLS}`,
      ),
      insertJob: db.prepare<[string, string, string, string, number, number, number, number], JobRow>(
        `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (event_id, rule_id) DO NOTHING RETURNING *`,
      ),
      markDispatched: db.prepare<[string, string, string, string]>(
        `UPDATE events SET status = ?, rules_version = ?, report = ?, error = NULL, lease_until = 0,
           dispatch_attempts = dispatch_attempts + 1 WHERE id = ?`,
      ),
      touchEntity: db.prepare<[string, string]>(
        `INSERT INTO entity_latest (entity_id, timestamp) VALUES (?, ?)
         ON CONFLICT (entity_id) DO UPDATE SET timestamp = max(timestamp, excluded.timestamp)`,
      ),
      entityLatest: db.prepare<[string], { timestamp: string }>('SELECT timestamp FROM entity_latest WHERE entity_id = ?'),
      rebuildEntities: db.prepare<[number, number]>(
        `INSERT INTO entity_latest (entity_id, timestamp)
           SELECT entity_id, max(timestamp) FROM events
           WHERE rowid > ? AND rowid <= ? AND status IN ('dispatched', 'failed') AND entity_id <> '' GROUP BY entity_id
         ON CONFLICT (entity_id) DO UPDATE SET timestamp = max(timestamp, excluded.timestamp)`,
      ),
      lastEventRow: db.prepare<[], { n: number | null }>('SELECT max(rowid) AS n FROM events'),
      deferDispatch: db.prepare<[string, number, number, number | null, string]>(
        'UPDATE events SET error = ?, next_dispatch_at = ?, lease_until = 0, dispatch_attempts = dispatch_attempts + ?, turn_at = ? WHERE id = ?',
      ),
      claimJobs: db.prepare<[number, number, number, number, number], JobRow>(
        `UPDATE jobs SET status = 'running', lease_until = ?, updated_at = ? WHERE id IN (
           SELECT id FROM jobs WHERE status = 'pending' AND run_at <= ? AND lease_until <= ?
           ORDER BY run_at, id LIMIT ?)
         RETURNING *`,
      ),
      insertAttempt: db.prepare<[number, number, string, number, number, string, string | null, string | null]>(
        `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome, error, result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateJob: db.prepare<[number, string, number, number, string | null, number, number]>(
        `UPDATE jobs SET next_action = ?, status = ?, attempts = ?, run_at = ?, last_error = ?, lease_until = 0, updated_at = ?, turn_at = NULL
         WHERE id = ?`,
      ),
      nextRunAt: db.prepare<[], { t: number | null }>("SELECT min(run_at) AS t FROM jobs WHERE status = 'pending'"),
      deferJob: db.prepare<[number, number | null, number, number]>(
        "UPDATE jobs SET status = 'pending', run_at = ?, turn_at = ?, lease_until = 0, updated_at = ? WHERE id = ? AND status = 'running'",
      ),
      hastenJob: db.prepare<[number, number, number]>("UPDATE jobs SET run_at = ? WHERE id = ? AND status = 'pending' AND run_at > ?"),
      hastenEvent: db.prepare<[number, string, number]>("UPDATE events SET next_dispatch_at = ? WHERE id = ? AND status = 'new' AND next_dispatch_at > ?"),
      releaseJobs: db.prepare("UPDATE jobs SET status = 'pending', lease_until = 0 WHERE status = 'running'"),
      releaseEvents: db.prepare('UPDATE events SET lease_until = 0 WHERE lease_until > 0'),
      jobsOf: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE event_id = ? ORDER BY id'),
      attemptsOf: db.prepare<
        [number],
        {
          job_id: number;
          action_index: number;
          action_type: string;
          started_at: number;
          duration_ms: number;
          outcome: Attempt['outcome'];
          error: string | null;
          result: string | null;
        }
      >('SELECT * FROM attempts WHERE job_id = ? ORDER BY id'),
      jobsByStatus: db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE status = ? ORDER BY updated_at DESC, id DESC LIMIT ?'),
      rematchEvent: db.prepare<[number, string]>(
        "UPDATE events SET status = 'new', next_dispatch_at = ?, lease_until = 0, dispatch_attempts = 0 WHERE id = ? AND status = 'failed'",
      ),
      rematchFailed: db.prepare<[number]>(
        "UPDATE events SET status = 'new', next_dispatch_at = ?, lease_until = 0, dispatch_attempts = 0 WHERE status = 'failed'",
      ),
      failedEvents: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM events WHERE status = 'failed'"),
      oldestPending: db.prepare<[], { t: number | null }>("SELECT min(run_at) AS t FROM jobs WHERE status = 'pending'"),
      oldestNew: db.prepare<[], { t: number | null }>("SELECT min(received_at) AS t FROM events WHERE status = 'new'"),
      replayEvent: db.prepare<[number, number, string]>(
        "UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?, lease_until = 0 WHERE event_id = ? AND status = 'dead'",
      ),
      replayJob: db.prepare<[number, number, number]>(
        "UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?, lease_until = 0 WHERE id = ? AND status = 'dead'",
      ),
      rerender: db.prepare<[string, number, number, number], { next_action: number }>(
        "UPDATE jobs SET actions = ?, status = 'pending', attempts = 0, last_error = NULL, turn_at = NULL, run_at = ?, updated_at = ?, lease_until = 0 WHERE id = ? AND status = 'dead' RETURNING next_action",
      ),
      replayDead: db.prepare<[number, number]>(
        "UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?, lease_until = 0 WHERE status = 'dead'",
      ),
      jobCounts: db.prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM jobs GROUP BY status'),
      newEvents: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM events WHERE status = 'new'"),
      searchDelete: db.prepare<[string]>('DELETE FROM search_index WHERE doc_id = ?'),
      searchInsert: db.prepare<[string, string, string, string, string]>('INSERT INTO search_index (doc_id, title, body, url, fields) VALUES (?, ?, ?, ?, ?)'),
      search: db.prepare<[string, number], { doc_id: string; title: string; url: string; snippet: string }>(
        `SELECT doc_id, title, url, snippet(search_index, 2, '[', ']', '…', 12) AS snippet
         FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT ?`,
      ),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  /**
   * With `server` (the long-running server), disk flushes leave the event loop: commits are
   * fsynced on the thread pool (WalSync) and WAL checkpoints run in a worker thread. Without it
   * (the CLI's short commands), SQLite syncs and checkpoints inside commits as usual.
   */
  static open(location: string, options: { server?: boolean } = {}): SqliteStore {
    const path = location === ':memory:' ? location : resolve(location);
    let db: Database.Database;
    try {
      if (path !== ':memory:') createPrivately(path);
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      // Statement journals (a savepoint's undo copies, written for every page a group-commit
      // write changes) and sort space stay in memory: in temp files they were 3/4 of the bytes
      // written per event. Crash safety is the WAL's, not theirs.
      db.pragma('temp_store = MEMORY');
      db.pragma('foreign_keys = ON');
      // A new store frees pages as it prunes (PRAGMA incremental_vacuum), so its file shrinks.
      if (path !== ':memory:' && isEmpty(db)) db.pragma('auto_vacuum = INCREMENTAL');
      migrate(db);
    } catch (err) {
      if (err instanceof StoreVersionError) throw err;
      throw new StoreUnavailableError(`cannot open SQLite store ${path}: ${(err as Error).message}`, (err as { code?: string }).code);
    }
    return new SqliteStore(db, path, options.server ?? false);
  }

  insertEvent(event: NotionEvent, raw: string, options: InsertOptions = {}): Promise<InsertResult> {
    const receivedAt = Date.now();
    const { matched } = options;
    return this.groupCommit(
      () => {
        const { changes } = matched
          ? this.stmts.insertMatched.run(event.id, event.type, event.entity.id, event.entity.type, event.timestamp, receivedAt, raw, matched.rulesVersion)
          : this.stmts.insert.run(event.id, event.type, event.entity.id, event.entity.type, event.timestamp, receivedAt, raw, options.leaseUntil ?? 0);
        if (changes === 0) {
          this.stmts.countDuplicate.run(event.id);
          return { duplicate: true };
        }
        if (matched?.entityId) this.stmts.touchEntity.run(matched.entityId, event.timestamp);
        return { duplicate: false };
      },
      matched?.entityId !== undefined, // two writes: one savepoint
    );
  }

  /**
   * Runs `run` in the transaction shared by every write queued in this tick: one commit (one
   * fsync) for many events or action records, each promise settled only after that commit.
   */
  private groupCommit<T>(run: () => T, several = false): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, several, resolve: resolve as (v: never) => void, reject });
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
    // A write that fails is rolled back alone (a statement is atomic; several share a savepoint)
    // and only its caller hears of it; a failing commit (disk full, read-only) fails them all.
    let outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
    try {
      outcomes = this.db.transaction(() =>
        batch.map((p) => {
          try {
            return { ok: true as const, value: p.several ? this.db.transaction(p.run)() : p.run() };
          } catch (error) {
            // SQLite rolls the whole transaction back on some errors (disk full, I/O): fail the batch.
            if (!this.db.inTransaction) throw error;
            return { ok: false as const, error };
          }
        }),
      )();
      this.lastWriteError = undefined;
    } catch (err) {
      const e = this.unavailable(err);
      for (const p of batch) p.reject(e);
      return;
    }
    const settle = () =>
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value as never);
        else p.reject(this.unavailable(o.error));
      });
    if (!this.walSync) return settle();
    // Committed, not yet on disk: nobody hears of it before the fsync.
    this.walSync.sync().then(settle, (err: unknown) => {
      const e = this.unavailable(err);
      for (const p of batch) p.reject(e);
    });
  }

  /** Resolves when every write made so far is on disk (at once when commits sync themselves). */
  private durable(): Promise<void> {
    return this.walSync ? this.walSync.sync().catch((err: unknown) => Promise.reject(this.unavailable(err))) : Promise.resolve();
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.read(() => this.stmts.get.get(id));
    return row && eventFromRow(row);
  }

  async countEvents(): Promise<number> {
    return this.read(() => this.stmts.count.get()!.n);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.read(() => this.stmts.getMeta.get(key)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.writeDurably(() => this.stmts.setMeta.run(key, value));
  }

  async claimEvents(limit: number, now: number, leaseMs: number): Promise<StoredEvent[]> {
    return this.write(() => this.stmts.claimEvents.all(now + leaseMs, now, now, limit)).map(eventFromRow);
  }

  /** Shares the group commit with the inserts of the same tick: one fsync for both. */
  completeDispatch(results: DispatchResult[], lease?: { until: number; max: number }): Promise<Job[]> {
    return this.groupCommit(() => {
      const now = Date.now();
      const jobs: Job[] = [];
      let leased = 0;
      for (const r of results) {
        for (const j of r.jobs) {
          const claim = lease !== undefined && leased < lease.max;
          const row = this.stmts.insertJob.get(
            r.eventId,
            j.ruleId,
            JSON.stringify(j.actions),
            claim ? 'running' : 'pending',
            claim ? lease.until : 0,
            now,
            now,
            now,
          );
          if (!row) continue;
          if (claim) leased++;
          jobs.push(jobFromRow(row));
        }
        this.stmts.markDispatched.run(r.failed ? 'failed' : 'dispatched', r.rulesVersion, JSON.stringify(r.report), r.eventId);
        if (r.entityId) this.stmts.touchEntity.run(r.entityId, r.timestamp);
      }
      return jobs;
    }, true);
  }

  async deferDispatch(eventId: string, error: string, nextAt: number, wait?: { turnAt?: number }): Promise<void> {
    this.write(() => this.stmts.deferDispatch.run(error, nextAt, wait ? 0 : 1, wait?.turnAt ?? null, eventId));
  }

  async isStale(entityId: string, timestamp: string): Promise<boolean> {
    if (!entityId) return false;
    const row = this.read(() => this.stmts.entityLatest.get(entityId));
    return row !== undefined && row.timestamp > timestamp;
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
    return this.write(() => this.stmts.claimJobs.all(now + leaseMs, now, now, now, limit)).map(jobFromRow);
  }

  /** One process owns a SQLite store, so the lease is always ours. */
  recordAttempt(a: Attempt, u: JobUpdate): Promise<boolean> {
    return this.groupCommit(() => {
      this.stmts.insertAttempt.run(
        a.jobId,
        a.actionIndex,
        a.actionType,
        a.startedAt,
        a.durationMs,
        a.outcome,
        a.error ?? null,
        a.result === undefined ? null : JSON.stringify(a.result),
      );
      this.stmts.updateJob.run(u.nextAction, u.status, u.attempts, u.runAt, u.lastError, Date.now(), a.jobId);
      return true;
    }, true);
  }

  /** Shares the group commit: a burst of deferrals costs one fsync. */
  async hasten(jobIds: number[], eventIds: string[], at: number): Promise<void> {
    this.write(() =>
      this.db.transaction(() => {
        for (const id of jobIds) this.stmts.hastenJob.run(at, id, at);
        for (const id of eventIds) this.stmts.hastenEvent.run(at, id, at);
      })(),
    );
  }

  deferJob(jobId: number, runAt: number, turnAt: number | null = null): Promise<boolean> {
    return this.groupCommit(() => this.stmts.deferJob.run(runAt, turnAt, Date.now(), jobId).changes === 1, false);
  }

  async extendLeases(): Promise<void> {
    // Leases only matter between processes; a SQLite store has one.
  }

  async nextRunAt(): Promise<number | undefined> {
    return this.read(() => this.stmts.nextRunAt.get()?.t ?? undefined);
  }

  async releaseLeases(): Promise<void> {
    this.write(() =>
      this.db.transaction(() => {
        this.stmts.releaseJobs.run();
        this.stmts.releaseEvents.run();
      })(),
    );
  }

  async getJobs(eventId: string): Promise<Job[]> {
    return this.read(() => this.stmts.jobsOf.all(eventId)).map(jobFromRow);
  }

  async getAttempts(jobId: number): Promise<Attempt[]> {
    return this.read(() => this.stmts.attemptsOf.all(jobId)).map(attemptFromRow);
  }

  async listJobs(status: JobStatus, limit: number): Promise<Job[]> {
    return this.read(() => this.stmts.jobsByStatus.all(status, limit)).map(jobFromRow);
  }

  async listEvents(filter: { status?: EventListStatus; limit: number }): Promise<EventSummary[]> {
    const having: Record<EventListStatus, string> = {
      new: "e.status = 'new'",
      failed: "e.status = 'failed'",
      dead: "e.status <> 'failed' AND dead > 0",
      pending: "e.status = 'dispatched' AND dead = 0 AND pending > 0",
      processed: "e.status = 'dispatched' AND dead = 0 AND pending = 0",
    };
    const sql = `SELECT e.id, e.type, e.entity_id, e.timestamp, e.received_at, e.status, e.duplicates,
        count(j.id) AS total,
        coalesce(sum(j.status = 'done'), 0) AS done,
        coalesce(sum(j.status = 'dead'), 0) AS dead,
        coalesce(sum(j.status IN ('pending', 'running')), 0) AS pending
      FROM events e LEFT JOIN jobs j ON j.event_id = e.id
      GROUP BY e.id ${filter.status ? `HAVING ${having[filter.status]}` : ''}
      ORDER BY e.received_at DESC, e.rowid DESC LIMIT ?`;
    type Row = {
      id: string;
      type: string;
      entity_id: string;
      timestamp: string;
      received_at: number;
      status: EventStatus;
      duplicates: number;
      total: number;
      done: number;
      dead: number;
      pending: number;
    };
    const rows = this.read(() => this.db.prepare<[number], Row>(sql).all(filter.limit));
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      entityId: r.entity_id,
      timestamp: r.timestamp,
      receivedAt: r.received_at,
      duplicates: r.duplicates,
      status: summaryStatus(r.status, r),
      jobs: { total: r.total, done: r.done, dead: r.dead, pending: r.pending },
    }));
  }

  async replayEvent(eventId: string, now: number): Promise<ReplayResult> {
    return this.writeDurably(() =>
      this.db.transaction(() => ({
        jobs: this.stmts.replayEvent.run(now, now, eventId).changes,
        rematch: this.stmts.rematchEvent.run(now, eventId).changes === 1,
      }))(),
    );
  }

  async replayFailed(now: number): Promise<number> {
    return this.writeDurably(() => this.stmts.rematchFailed.run(now).changes);
  }

  async replayJob(jobId: number, now: number): Promise<boolean> {
    return this.writeDurably(() => this.stmts.replayJob.run(now, now, jobId).changes === 1);
  }

  async rerenderJob(jobId: number, actions: ActionIntent[], note: string, now: number): Promise<boolean> {
    return this.writeDurably(() =>
      this.db.transaction(() => {
        const job = this.stmts.rerender.get(JSON.stringify(actions), now, now, jobId);
        if (!job) return false;
        this.stmts.insertAttempt.run(jobId, job.next_action, actions[job.next_action]?.type ?? 'none', now, 0, 'rerendered', note, null);
        return true;
      })(),
    );
  }

  async replayDead(now: number): Promise<number> {
    return this.writeDurably(() => this.stmts.replayDead.run(now, now).changes);
  }

  async counts(): Promise<QueueCounts> {
    const rows = this.read(() => this.stmts.jobCounts.all());
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
    return {
      eventsToDispatch: this.read(() => this.stmts.newEvents.get()!.n),
      failedEvents: this.read(() => this.stmts.failedEvents.get()!.n),
      oldestPendingRunAt: this.read(() => this.stmts.oldestPending.get()!.t),
      oldestNewReceivedAt: this.read(() => this.stmts.oldestNew.get()!.t),
      pending: by.pending ?? 0,
      running: by.running ?? 0,
      dead: by.dead ?? 0,
      done: by.done ?? 0,
    };
  }

  async prune(cutoff: number, batch: number, dryRun = false): Promise<PruneResult> {
    if (dryRun) {
      return this.read(() => {
        const row = this.db
          .prepare<[number, number], { events: number; jobs: number }>(
            `SELECT count(*) AS events, coalesce(sum((SELECT count(*) FROM jobs j WHERE j.event_id = e.id)), 0) AS jobs FROM events e WHERE ${PRUNABLE}`,
          )
          .get(cutoff, cutoff)!;
        return { events: row.events, jobs: row.jobs };
      });
    }
    const result = this.write(() =>
      this.db.transaction(() => {
        const ids = this.db
          .prepare<[number, number, number], { id: string }>(`SELECT e.id FROM events e WHERE ${PRUNABLE} LIMIT ?`)
          .all(cutoff, cutoff, batch)
          .map((r) => r.id);
        if (ids.length === 0) return { events: 0, jobs: 0 };
        const list = JSON.stringify(ids);
        const jobs = this.db.prepare<[string]>('DELETE FROM jobs WHERE event_id IN (SELECT value FROM json_each(?))').run(list).changes;
        const events = this.db.prepare<[string]>('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').run(list).changes;
        this.db.prepare<[string]>('DELETE FROM entity_latest WHERE timestamp < ?').run(new Date(cutoff).toISOString());
        return { events, jobs };
      })(),
    );
    // Freed pages go back to the file system (stores created with auto_vacuum = INCREMENTAL).
    if (result.events > 0) this.write(() => this.db.pragma('incremental_vacuum'));
    await this.durable();
    return result;
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
    const match = ftsQuery(query);
    if (!match) return [];
    return this.read(() => this.stmts.search.all(match, limit)).map((r) => ({ id: r.doc_id, title: r.title, url: r.url, snippet: r.snippet }));
  }

  async health(): Promise<StoreHealth> {
    const schemaVersion = this.closed ? 0 : currentVersion(this.db);
    // A failed fsync stays an error until restart (see WalSync), whatever commits came after.
    const error = this.closed ? 'store is closed' : (this.walSync?.failure?.message ?? this.lastWriteError);
    return { ok: !error, kind: 'sqlite', schemaVersion, ...(error ? { error } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    await this.walSync?.close();
    await this.checkpointer?.stop();
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
    await this.durable();
    return out;
  }

  private unavailable(err: unknown): StoreUnavailableError {
    const code = (err as { code?: string }).code;
    const message = `${code ? `${code}: ` : ''}${(err as Error).message}`;
    this.lastWriteError = message;
    return new StoreUnavailableError(message, code);
  }
}

/**
 * Commits fsynced by WalSync instead of inside SQLite; synchronous=FULL stays if the WAL file
 * cannot be opened (then nothing is lost, only the flush stays on the event loop).
 */
function offLoopSync(db: Database.Database, path: string): WalSync | undefined {
  try {
    const sync = WalSync.open(path);
    db.pragma('synchronous = NORMAL');
    return sync;
  } catch {
    return undefined;
  }
}

/** A user's words as an FTS5 query: every word must appear; the last may be a prefix. */
function ftsQuery(q: string): string {
  const words = q.match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

/**
 * A resolved event older than the cutoff (`?` twice): matched, every job done, none finished
 * since. Attempts go with their jobs (ON DELETE CASCADE).
 */
const PRUNABLE = `e.status = 'dispatched' AND e.received_at < ?
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND (j.status <> 'done' OR j.updated_at >= ?))`;

function isEmpty(db: Database.Database): boolean {
  return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()!.n === 0;
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
    throw new StoreVersionError(`the store's schema is version ${have}, newer than this notion-rules knows (${latest}); run a newer release or a fresh store`);
  }
  for (const m of migrations) {
    if (m.version <= have) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    })();
  }
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

/** Whether a statement's result shows a change: rows changed, or rows returned by `RETURNING`. */
function changedSomething(out: unknown): boolean {
  if (Array.isArray(out)) return out.length > 0;
  if (out && typeof out === 'object' && 'changes' in out) return (out as { changes: number }).changes > 0;
  return true;
}
