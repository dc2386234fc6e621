import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NotionEvent } from '../../model/event.js';
import { MIGRATIONS_TABLE, migrationRecord, migrationsToApply, RECORD_MIGRATION, SCHEMA_VERSION } from '../core/migrations.js';
import { EVENT_COLUMNS, eventFromRow, type EventRow, jobFromRow, type JobRow } from '../core/rows.js';
import { searchWords } from '../core/search-words.js';
import { RECORD_SNAPSHOT, snapshotParams } from '../core/snapshots.js';
import { type Dialect, numbered } from '../core/sql.js';
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
import { Connection } from './connection.js';
import { sharedPace } from './pace.js';
import { migrations } from './schema.js';

/** How a time recorded for an entity meets the one already there: the later stays. */
const KEEP_LATEST = 'ON CONFLICT (entity_id) DO UPDATE SET timestamp = greatest(entity_latest.timestamp, excluded.timestamp)';

const POSTGRES: Dialect = {
  release: 'lease_until = 0, lease_owner = NULL',
  arrival: 'e.id',
  skipLocked: 'FOR UPDATE SKIP LOCKED',
  eventWithId: (alias, value) => `${alias}id = ${value}`,
  eventKey: 'id',
  jobsCascade: true,
};

/**
 * The multi-replica store. Dedupe is the primary key (`INSERT … ON CONFLICT`), queues are drained
 * with `FOR UPDATE SKIP LOCKED` under leases carrying this replica's id, so a replica killed
 * mid-job has its job taken over when the lease expires, resumed at the first unfinished action.
 */
export class PostgresStore extends SqlStore implements Store {
  readonly kind = 'postgres' as const;
  readonly sharedByReplicas = true;
  protected readonly dialect = POSTGRES;
  protected readonly sql;
  /** The destinations' pace, shared by every replica (see Destinations). */
  readonly pace;

  private constructor(
    private readonly db: Connection,
    readonly replica: string,
  ) {
    super();
    this.sql = db.executor;
    this.pace = sharedPace(db);
  }

  static async open(
    url: string,
    replica = process.env.NOTION_RULES_REPLICA_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  ): Promise<PostgresStore> {
    const db = Connection.open(url);
    try {
      await db.tx(migrate);
    } catch (err) {
      await db.end();
      if (err instanceof StoreVersionError) throw err;
      throw new StoreUnavailableError(`cannot open PostgreSQL store: ${(err as Error).message}`, (err as { code?: string }).code);
    }
    return new PostgresStore(db, replica);
  }

  async insertEvent(event: NotionEvent, raw: string, options: InsertOptions = {}): Promise<InsertResult> {
    const { matched } = options;
    // Only the body is kept (as in SQLite): the event is normalized from it when read.
    const values = [event.id, event.type, event.entity.id, event.entity.type, event.timestamp, Date.now(), raw];
    if (!matched) {
      const rows = await this.db.query(
        `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, lease_until, lease_owner)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET duplicates = events.duplicates + 1
         RETURNING duplicates`,
        [...values, options.leaseUntil ?? 0, options.leaseUntil ? this.replica : null],
      );
      return { duplicate: Number(rows[0]?.duplicates ?? 0) > 0 };
    }
    // One statement: the event as matched, and its entity's latest time when it is new.
    const rows = await this.db.query(
      `WITH ins AS (
         INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, status, rules_version, report, dispatch_attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'dispatched', $8, '[]', 1)
         ON CONFLICT (id) DO UPDATE SET duplicates = events.duplicates + 1
         RETURNING duplicates),
       ent AS (
         INSERT INTO entity_latest (entity_id, timestamp)
         SELECT $9, $5 FROM ins WHERE ins.duplicates = 0 AND $9 <> ''
         ${KEEP_LATEST})
       SELECT duplicates FROM ins`,
      [...values, matched.rulesVersion, matched.entityId ?? ''],
    );
    return { duplicate: Number(rows[0]?.duplicates ?? 0) > 0 };
  }

  async claimEvents(limit: number, now: number, leaseMs: number): Promise<StoredEvent[]> {
    const rows = await this.db.query(
      `UPDATE events SET lease_until = $1, lease_owner = $2 WHERE id IN (
         SELECT id FROM events WHERE status = 'new' AND next_dispatch_at <= $3 AND lease_until <= $3
         ORDER BY received_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING ${EVENT_COLUMNS}`,
      [now + leaseMs, this.replica, now, limit],
    );
    return rows.map((r) => eventFromRow(r as unknown as EventRow));
  }

  async completeDispatch(results: DispatchResult[], lease?: { until: number; max: number }): Promise<Job[]> {
    return this.db.tx(async (c) => {
      const now = Date.now();
      const jobs: Job[] = [];
      let leased = 0;
      for (const r of results) {
        // Only while still new: a replica whose lease expired must not overwrite another's result.
        const updated = await c.query(
          `UPDATE events SET status = $4, rules_version = $1, report = $2, error = NULL, lease_until = 0,
               dispatch_attempts = dispatch_attempts + 1 WHERE id = $3 AND status = 'new'`,
          [r.rulesVersion, JSON.stringify(r.report), r.eventId, r.failed ? 'failed' : 'dispatched'],
        );
        if (updated.rowCount === 0) continue;
        for (const j of r.jobs) {
          const held = j.runAt !== undefined && j.runAt > now;
          const claim = !j.shadow && !held && lease !== undefined && leased < lease.max;
          const res = await c.query(
            `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, lease_owner, run_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7)
               ON CONFLICT (event_id, rule_id) DO NOTHING RETURNING *`,
            [
              r.eventId,
              j.ruleId,
              JSON.stringify(j.actions),
              j.shadow ? 'shadow' : claim ? 'running' : 'pending',
              claim ? lease!.until : 0,
              claim ? this.replica : null,
              now,
              held ? j.runAt : now,
            ],
          );
          if (!res.rows[0] || j.shadow) continue;
          if (claim) leased++;
          jobs.push(jobFromRow(res.rows[0] as JobRow));
        }
        if (r.entityId) {
          await c.query(`INSERT INTO entity_latest (entity_id, timestamp) VALUES ($1, $2) ${KEEP_LATEST}`, [r.entityId, r.timestamp]);
        }
        if (r.snapshot) await c.query(numbered(RECORD_SNAPSHOT), snapshotParams(r.snapshot));
      }
      return jobs;
    });
  }

  /** By (received_at, id), on the received_at index; the cursor is the last row's pair. */
  async historyEvents(since: number, cursor: string | null, limit: number): Promise<{ events: StoredEvent[]; cursor: string | null }> {
    const [at, id] = cursor ? (JSON.parse(cursor) as [number, string]) : [since, ''];
    const rows = await this.db.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE received_at >= $1 AND (received_at > $2 OR (received_at = $2 AND id > $3)) ORDER BY received_at, id LIMIT $4`,
      [since, at, id, limit],
    );
    const last = rows[rows.length - 1];
    return {
      events: rows.map((r) => eventFromRow(r as unknown as EventRow)),
      cursor: rows.length === limit && last ? JSON.stringify([Number(last.received_at), String(last.id)]) : null,
    };
  }

  async deferDispatch(eventId: string, error: string, nextAt: number, wait?: { turnAt?: number }): Promise<void> {
    await this.db.query(
      'UPDATE events SET error = $1, next_dispatch_at = $2, lease_until = 0, dispatch_attempts = dispatch_attempts + $4, turn_at = $5 WHERE id = $3',
      [error, nextAt, eventId, wait ? 0 : 1, wait?.turnAt ?? null],
    );
  }

  async trackEntities(on: boolean): Promise<void> {
    const complete = (await this.getMeta(ENTITY_RECORD_KEY)) !== 'partial';
    if (!on) {
      if (complete) await this.setMeta(ENTITY_RECORD_KEY, 'partial');
      return;
    }
    if (complete) return;
    await this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO entity_latest (entity_id, timestamp)
             SELECT entity_id, max(timestamp) FROM events WHERE status IN ('dispatched', 'failed') AND entity_id <> '' GROUP BY entity_id
           ${KEEP_LATEST}`,
      );
      await c.query(`UPDATE meta SET value = 'complete' WHERE key = $1`, [ENTITY_RECORD_KEY]);
    });
  }

  async claimJobs(limit: number, now: number, leaseMs: number): Promise<Job[]> {
    const rows = await this.db.query(
      `UPDATE jobs SET status = 'running', lease_until = $1, lease_owner = $2, updated_at = $3 WHERE id IN (
         SELECT id FROM jobs
         WHERE (status = 'pending' AND run_at <= $3) OR (status = 'running' AND lease_until <= $3)
         ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now + leaseMs, this.replica, now, limit],
    );
    return rows.map((r) => jobFromRow(r as unknown as JobRow));
  }

  async recordAttempt(a: Attempt, u: JobUpdate): Promise<boolean> {
    return this.db.tx(async (c) => {
      const now = Date.now();
      const res = await c.query(
        `UPDATE jobs SET next_action = $1, status = $2, attempts = $3, run_at = $4, last_error = $5, updated_at = $6, turn_at = NULL,
             lease_until = CASE WHEN $2 = 'running' THEN lease_until ELSE 0 END
           WHERE id = $7 AND lease_owner = $8 AND status = 'running'`,
        [u.nextAction, u.status, u.attempts, u.runAt, u.lastError, now, a.jobId, this.replica],
      );
      if (res.rowCount === 0) return false; // the lease went to another replica
      await c.query(
        `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome, error, result, replica)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          a.jobId,
          a.actionIndex,
          a.actionType,
          a.startedAt,
          a.durationMs,
          a.outcome,
          a.error ?? null,
          a.result === undefined ? null : JSON.stringify(a.result),
          this.replica,
        ],
      );
      return true;
    });
  }

  async deferJob(jobId: number, runAt: number, turnAt: number | null = null): Promise<boolean> {
    const rows = await this.db.query(
      "UPDATE jobs SET status = 'pending', run_at = $1, turn_at = $5, lease_until = 0, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND status = 'running' RETURNING id",
      [runAt, Date.now(), jobId, this.replica, turnAt],
    );
    return rows.length === 1;
  }

  async hasten(jobIds: number[], eventIds: string[], at: number): Promise<void> {
    if (jobIds.length > 0) await this.db.query("UPDATE jobs SET run_at = $1 WHERE id = ANY($2::bigint[]) AND status = 'pending' AND run_at > $1", [at, jobIds]);
    if (eventIds.length > 0)
      await this.db.query("UPDATE events SET next_dispatch_at = $1 WHERE id = ANY($2::text[]) AND status = 'new' AND next_dispatch_at > $1", [at, eventIds]);
  }

  async extendLeases(jobIds: number[], until: number): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.query(`UPDATE jobs SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3 AND status = 'running'`, [
      until,
      jobIds,
      this.replica,
    ]);
  }

  /** Other replicas may be running: leases are released by expiry, not at start. */
  async releaseLeases(): Promise<void> {}

  async sizeBytes(): Promise<number> {
    const [row] = await this.db.query('SELECT pg_database_size(current_database()) AS n');
    return Number(row!.n);
  }

  async indexDocument(doc: SearchDocument): Promise<void> {
    await this.db.query(
      `INSERT INTO search_index (doc_id, title, body, url, fields) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, body = excluded.body, url = excluded.url, fields = excluded.fields`,
      [doc.id, doc.title, doc.text, doc.url, JSON.stringify(doc.fields)],
    );
  }

  async deleteDocument(id: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM search_index WHERE doc_id = $1 RETURNING doc_id', [id])).length > 0;
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const words = searchWords(query);
    if (words.length === 0) return [];
    const tsquery = words.map((w, i) => `'${w.toLowerCase()}'${i === words.length - 1 ? ':*' : ''}`).join(' & ');
    const rows = await this.db.query(
      `SELECT doc_id, title, url,
         ts_headline('simple', body, to_tsquery('simple', $1), 'StartSel=[, StopSel=], MaxWords=12, MinWords=3, FragmentDelimiter=…') AS snippet
       FROM search_index WHERE tsv @@ to_tsquery('simple', $1)
       ORDER BY ts_rank(tsv, to_tsquery('simple', $1)) DESC LIMIT $2`,
      [tsquery, limit],
    );
    return rows.map((r) => ({ id: String(r.doc_id), title: String(r.title), url: String(r.url), snippet: String(r.snippet) }));
  }

  async health(): Promise<StoreHealth> {
    try {
      const [row] = await this.db.query(SCHEMA_VERSION);
      const error = this.db.lastError;
      return { ok: !error, kind: 'postgres', replica: this.replica, schemaVersion: Number(row?.v ?? 0), ...(error ? { error } : {}) };
    } catch (err) {
      return { ok: false, kind: 'postgres', replica: this.replica, schemaVersion: 0, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}

/** Applies missing migrations in one transaction under an advisory lock, so replicas starting together take turns. */
async function migrate(c: import('pg').PoolClient): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7317001)');
  await c.query(MIGRATIONS_TABLE);
  const have = Number((await c.query(SCHEMA_VERSION)).rows[0].v);
  for (const m of migrationsToApply(have, migrations)) {
    await c.query(m.sql);
    await c.query(numbered(RECORD_MIGRATION), migrationRecord(m));
  }
}
