import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
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
  PaceLedger,
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
import { migrations } from './migrations.js';
import { attemptFromRow, type AttemptRow, EVENT_COLUMNS, eventFromRow, type EventRow, jobFromRow, type JobRow } from '../rows.js';

type Row = Record<string, unknown>;
/** How a time recorded for an entity meets the one already there: the later stays. */
/** A resolved event older than the cutoff ($1); see Store.prune. Attempts go with their jobs. */
const PRUNABLE = `e.status = 'dispatched' AND e.received_at < $1
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND (j.status <> 'done' OR j.updated_at >= $1))`;

/** A failed event handed back to the matcher (see Store.replayEvent); `$1` is now. */
const REMATCH = "UPDATE events SET status = 'new', next_dispatch_at = $1, lease_until = 0, lease_owner = NULL, dispatch_attempts = 0 WHERE status = 'failed'";
const KEEP_LATEST = 'ON CONFLICT (entity_id) DO UPDATE SET timestamp = greatest(entity_latest.timestamp, excluded.timestamp)';

/**
 * The shared pace (GCRA; see Destinations): takes destination $1's next turn, one per $2 ms with
 * up to $3 ms early for bursts, none before its pause ends, and returns how far from now it is.
 * Times are the database's clock, so replicas' clocks need not agree.
 */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::float8';
const TAKE_TURN = `INSERT INTO destination_pace AS d (destination, tat, paused_until, touched)
  SELECT $1, c.now + $2, 0, c.now FROM (SELECT ${NOW_MS} AS now) c
  ON CONFLICT (destination) DO UPDATE SET tat = greatest(d.tat, excluded.touched, d.paused_until) + $2, touched = excluded.touched
  RETURNING greatest(d.touched, d.paused_until, d.tat - $2 - $3) - d.touched AS delay`;
/** Pauses destination $1 for $2 ms from now; its next turn is $3 ms after the pause. */
const PAUSE = `INSERT INTO destination_pace AS d (destination, tat, paused_until, touched)
  SELECT $1, c.now + $2 + $3, c.now + $2, c.now FROM (SELECT ${NOW_MS} AS now) c
  ON CONFLICT (destination) DO UPDATE SET paused_until = greatest(d.paused_until, excluded.paused_until),
    tat = greatest(d.tat, greatest(d.paused_until, excluded.paused_until) + $3)`;

const EVENT_COLS = EVENT_COLUMNS;

/** Codes that mean "the database is there but cannot take this now": answer 503, retry later. */
const UNAVAILABLE = /^(08|53|57P0|58)/;

/**
 * The multi-replica store. Dedupe is the primary key (`INSERT … ON CONFLICT`), queues are drained
 * with `FOR UPDATE SKIP LOCKED` under leases carrying this replica's id, so a replica killed
 * mid-job has its job taken over when the lease expires, resumed at the first unfinished action.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly sharedByReplicas = true;
  private lastError: string | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly replica: string,
  ) {}

  static async open(
    url: string,
    replica = process.env.NOTION_RULES_REPLICA_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  ): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    pool.on('error', () => {}); // an idle client's error; the next query reports it
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      if (err instanceof StoreVersionError) throw err;
      throw new StoreUnavailableError(`cannot open PostgreSQL store: ${(err as Error).message}`, (err as { code?: string }).code);
    }
    return new PostgresStore(pool, replica);
  }

  private async q(sql: string, params: unknown[] = [], client: pg.Pool | pg.PoolClient = this.pool): Promise<Row[]> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    try {
      const res = await client.query(sql, params);
      this.lastError = undefined;
      return res.rows as Row[];
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && !UNAVAILABLE.test(code) && !['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) throw err;
      this.lastError = `${code ?? ''} ${(err as Error).message}`.trim();
      throw new StoreUnavailableError(this.lastError, code);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.lastError = (err as Error).message;
      throw new StoreUnavailableError(this.lastError, (err as { code?: string }).code);
    }
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async insertEvent(event: NotionEvent, raw: string, options: InsertOptions = {}): Promise<InsertResult> {
    const { matched } = options;
    // Only the body is kept (as in SQLite): the event is normalized from it when read.
    const values = [event.id, event.type, event.entity.id, event.entity.type, event.timestamp, Date.now(), raw];
    if (!matched) {
      const rows = await this.q(
        `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, lease_until, lease_owner)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET duplicates = events.duplicates + 1
         RETURNING duplicates`,
        [...values, options.leaseUntil ?? 0, options.leaseUntil ? this.replica : null],
      );
      return { duplicate: Number(rows[0]?.duplicates ?? 0) > 0 };
    }
    // One statement: the event as matched, and its entity's latest time when it is new.
    const rows = await this.q(
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

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.q(`SELECT ${EVENT_COLS} FROM events WHERE id = $1`, [id]);
    return row && eventFromRow(row as unknown as EventRow);
  }

  async countEvents(): Promise<number> {
    return Number((await this.q('SELECT count(*) AS n FROM events'))[0]!.n);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.q('SELECT value FROM meta WHERE key = $1', [key]))[0]?.value as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.q('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async claimEvents(limit: number, now: number, leaseMs: number): Promise<StoredEvent[]> {
    const rows = await this.q(
      `UPDATE events SET lease_until = $1, lease_owner = $2 WHERE id IN (
         SELECT id FROM events WHERE status = 'new' AND next_dispatch_at <= $3 AND lease_until <= $3
         ORDER BY received_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING ${EVENT_COLS}`,
      [now + leaseMs, this.replica, now, limit],
    );
    return rows.map((r) => eventFromRow(r as unknown as EventRow));
  }

  async completeDispatch(results: DispatchResult[], lease?: { until: number; max: number }): Promise<Job[]> {
    return this.guard(() =>
      this.tx(async (c) => {
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
            const claim = lease !== undefined && leased < lease.max;
            const res = await c.query(
              `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, lease_owner, run_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)
               ON CONFLICT (event_id, rule_id) DO NOTHING RETURNING *`,
              [r.eventId, j.ruleId, JSON.stringify(j.actions), claim ? 'running' : 'pending', claim ? lease.until : 0, claim ? this.replica : null, now],
            );
            if (!res.rows[0]) continue;
            if (claim) leased++;
            jobs.push(jobFromRow(res.rows[0] as JobRow));
          }
          if (r.entityId) {
            await c.query(`INSERT INTO entity_latest (entity_id, timestamp) VALUES ($1, $2) ${KEEP_LATEST}`, [r.entityId, r.timestamp]);
          }
        }
        return jobs;
      }),
    );
  }

  async deferDispatch(eventId: string, error: string, nextAt: number, wait?: { turnAt?: number }): Promise<void> {
    await this.q(
      'UPDATE events SET error = $1, next_dispatch_at = $2, lease_until = 0, dispatch_attempts = dispatch_attempts + $4, turn_at = $5 WHERE id = $3',
      [error, nextAt, eventId, wait ? 0 : 1, wait?.turnAt ?? null],
    );
  }

  async isStale(entityId: string, timestamp: string): Promise<boolean> {
    if (!entityId) return false;
    const [row] = await this.q('SELECT timestamp FROM entity_latest WHERE entity_id = $1', [entityId]);
    return row !== undefined && String(row.timestamp) > timestamp;
  }

  async trackEntities(on: boolean): Promise<void> {
    const complete = (await this.getMeta(ENTITY_RECORD_KEY)) !== 'partial';
    if (!on) {
      if (complete) await this.setMeta(ENTITY_RECORD_KEY, 'partial');
      return;
    }
    if (complete) return;
    await this.guard(() =>
      this.tx(async (c) => {
        await c.query(
          `INSERT INTO entity_latest (entity_id, timestamp)
             SELECT entity_id, max(timestamp) FROM events WHERE status IN ('dispatched', 'failed') AND entity_id <> '' GROUP BY entity_id
           ${KEEP_LATEST}`,
        );
        await c.query(`UPDATE meta SET value = 'complete' WHERE key = $1`, [ENTITY_RECORD_KEY]);
      }),
    );
  }

  async claimJobs(limit: number, now: number, leaseMs: number): Promise<Job[]> {
    const rows = await this.q(
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
    return this.guard(() =>
      this.tx(async (c) => {
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
      }),
    );
  }

  async deferJob(jobId: number, runAt: number, turnAt: number | null = null): Promise<boolean> {
    const rows = await this.q(
      "UPDATE jobs SET status = 'pending', run_at = $1, turn_at = $5, lease_until = 0, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND status = 'running' RETURNING id",
      [runAt, Date.now(), jobId, this.replica, turnAt],
    );
    return rows.length === 1;
  }

  async hasten(jobIds: number[], eventIds: string[], at: number): Promise<void> {
    if (jobIds.length > 0) await this.q("UPDATE jobs SET run_at = $1 WHERE id = ANY($2::bigint[]) AND status = 'pending' AND run_at > $1", [at, jobIds]);
    if (eventIds.length > 0)
      await this.q("UPDATE events SET next_dispatch_at = $1 WHERE id = ANY($2::text[]) AND status = 'new' AND next_dispatch_at > $1", [at, eventIds]);
  }

  readonly pace: PaceLedger = {
    take: async (dest, intervalMs, toleranceMs, now) => {
      const [row] = await this.q(TAKE_TURN, [dest, intervalMs, toleranceMs]);
      return now + Number(row!.delay);
    },
    pause: async (dest, until, resumeAfterMs, now) => {
      await this.q(PAUSE, [dest, Math.max(0, until - now), resumeAfterMs]);
    },
  };

  async extendLeases(jobIds: number[], until: number): Promise<void> {
    if (jobIds.length === 0) return;
    await this.q(`UPDATE jobs SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3 AND status = 'running'`, [until, jobIds, this.replica]);
  }

  async nextRunAt(): Promise<number | undefined> {
    const t = (await this.q("SELECT min(run_at) AS t FROM jobs WHERE status = 'pending'"))[0]?.t;
    return t === null || t === undefined ? undefined : Number(t);
  }

  /** Other replicas may be running: leases are released by expiry, not at start. */
  async releaseLeases(): Promise<void> {}

  async getJobs(eventId: string): Promise<Job[]> {
    return (await this.q('SELECT * FROM jobs WHERE event_id = $1 ORDER BY id', [eventId])).map((r) => jobFromRow(r as unknown as JobRow));
  }

  async getAttempts(jobId: number): Promise<Attempt[]> {
    return (await this.q('SELECT * FROM attempts WHERE job_id = $1 ORDER BY id', [jobId])).map((r) => attemptFromRow(r as unknown as AttemptRow));
  }

  async listJobs(status: JobStatus, limit: number): Promise<Job[]> {
    return (await this.q('SELECT * FROM jobs WHERE status = $1 ORDER BY updated_at DESC, id DESC LIMIT $2', [status, limit])).map((r) =>
      jobFromRow(r as unknown as JobRow),
    );
  }

  async listEvents(filter: { status?: EventListStatus; limit: number }): Promise<EventSummary[]> {
    const having: Record<EventListStatus, string> = {
      new: "e.status = 'new'",
      failed: "e.status = 'failed'",
      dead: "e.status <> 'failed' AND count(j.id) FILTER (WHERE j.status = 'dead') > 0",
      pending:
        "e.status = 'dispatched' AND count(j.id) FILTER (WHERE j.status = 'dead') = 0 AND count(j.id) FILTER (WHERE j.status IN ('pending', 'running')) > 0",
      processed:
        "e.status = 'dispatched' AND count(j.id) FILTER (WHERE j.status = 'dead') = 0 AND count(j.id) FILTER (WHERE j.status IN ('pending', 'running')) = 0",
    };
    const rows = await this.q(
      `SELECT e.id, e.type, e.entity_id, e.timestamp, e.received_at, e.status, e.duplicates,
         count(j.id) AS total,
         count(j.id) FILTER (WHERE j.status = 'done') AS done,
         count(j.id) FILTER (WHERE j.status = 'dead') AS dead,
         count(j.id) FILTER (WHERE j.status IN ('pending', 'running')) AS pending
       FROM events e LEFT JOIN jobs j ON j.event_id = e.id
       GROUP BY e.id ${filter.status ? `HAVING ${having[filter.status]}` : ''}
       ORDER BY e.received_at DESC LIMIT $1`,
      [filter.limit],
    );
    return rows.map((r) => {
      const jobs = { total: Number(r.total), done: Number(r.done), dead: Number(r.dead), pending: Number(r.pending) };
      return {
        id: String(r.id),
        type: String(r.type),
        entityId: String(r.entity_id),
        timestamp: String(r.timestamp),
        receivedAt: Number(r.received_at),
        duplicates: Number(r.duplicates),
        status: summaryStatus(r.status as EventStatus, jobs),
        jobs,
      };
    });
  }

  async replayEvent(eventId: string, now: number): Promise<ReplayResult> {
    return this.guard(() =>
      this.tx(async (c) => {
        const jobs = await c.query(
          "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1, lease_until = 0 WHERE event_id = $2 AND status = 'dead'",
          [now, eventId],
        );
        const events = await c.query(`${REMATCH} AND id = $2`, [now, eventId]);
        return { jobs: jobs.rowCount ?? 0, rematch: events.rowCount === 1 };
      }),
    );
  }

  async replayFailed(now: number): Promise<number> {
    return (await this.q(`${REMATCH} RETURNING id`, [now])).length;
  }

  async replayJob(jobId: number, now: number): Promise<boolean> {
    const rows = await this.q(
      "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1, lease_until = 0 WHERE id = $2 AND status = 'dead' RETURNING id",
      [now, jobId],
    );
    return rows.length === 1;
  }

  async rerenderJob(jobId: number, actions: ActionIntent[], note: string, now: number): Promise<boolean> {
    return this.guard(() =>
      this.tx(async (c) => {
        const res = await c.query(
          "UPDATE jobs SET actions = $1, status = 'pending', attempts = 0, last_error = NULL, turn_at = NULL, run_at = $2, updated_at = $2, lease_until = 0 WHERE id = $3 AND status = 'dead' RETURNING next_action",
          [JSON.stringify(actions), now, jobId],
        );
        const row = res.rows[0] as { next_action: number } | undefined;
        if (!row) return false;
        await c.query(
          `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome, error, result, replica)
           VALUES ($1, $2, $3, $4, 0, 'rerendered', $5, NULL, $6)`,
          [jobId, row.next_action, actions[row.next_action]?.type ?? 'none', now, note, this.replica],
        );
        return true;
      }),
    );
  }

  async replayDead(now: number): Promise<number> {
    const rows = await this.q(
      "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1, lease_until = 0 WHERE status = 'dead' RETURNING id",
      [now],
    );
    return rows.length;
  }

  async counts(): Promise<QueueCounts> {
    const rows = await this.q('SELECT status, count(*) AS n FROM jobs GROUP BY status');
    const by = Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)])) as Record<string, number>;
    const [events] = await this.q(
      "SELECT count(*) FILTER (WHERE status = 'new') AS waiting, count(*) FILTER (WHERE status = 'failed') AS failed, min(received_at) FILTER (WHERE status = 'new') AS oldest FROM events WHERE status IN ('new', 'failed')",
    );
    const [jobs] = await this.q("SELECT min(run_at) AS t FROM jobs WHERE status = 'pending'");
    const time = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      eventsToDispatch: Number(events!.waiting),
      failedEvents: Number(events!.failed),
      oldestPendingRunAt: time(jobs!.t),
      oldestNewReceivedAt: time(events!.oldest),
      pending: by.pending ?? 0,
      running: by.running ?? 0,
      dead: by.dead ?? 0,
      done: by.done ?? 0,
    };
  }

  async prune(cutoff: number, batch: number, dryRun = false): Promise<PruneResult> {
    if (dryRun) {
      const [row] = await this.q(
        `SELECT count(*) AS events, coalesce(sum((SELECT count(*) FROM jobs j WHERE j.event_id = e.id)), 0) AS jobs FROM events e WHERE ${PRUNABLE}`,
        [cutoff],
      );
      return { events: Number(row!.events), jobs: Number(row!.jobs) };
    }
    return this.guard(() =>
      this.tx(async (c) => {
        const ids = (await c.query(`SELECT e.id FROM events e WHERE ${PRUNABLE} LIMIT $2 FOR UPDATE SKIP LOCKED`, [cutoff, batch])).rows.map((r) =>
          String(r.id),
        );
        if (ids.length === 0) return { events: 0, jobs: 0 };
        const jobs = await c.query('DELETE FROM jobs WHERE event_id = ANY($1)', [ids]);
        const events = await c.query('DELETE FROM events WHERE id = ANY($1)', [ids]);
        await c.query('DELETE FROM entity_latest WHERE timestamp < $1', [new Date(cutoff).toISOString()]);
        return { events: events.rowCount ?? 0, jobs: jobs.rowCount ?? 0 };
      }),
    );
  }

  async sizeBytes(): Promise<number> {
    const [row] = await this.q('SELECT pg_database_size(current_database()) AS n');
    return Number(row!.n);
  }

  async indexDocument(doc: SearchDocument): Promise<void> {
    await this.q(
      `INSERT INTO search_index (doc_id, title, body, url, fields) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, body = excluded.body, url = excluded.url, fields = excluded.fields`,
      [doc.id, doc.title, doc.text, doc.url, JSON.stringify(doc.fields)],
    );
  }

  async deleteDocument(id: string): Promise<boolean> {
    return (await this.q('DELETE FROM search_index WHERE doc_id = $1 RETURNING doc_id', [id])).length > 0;
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const words = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
    if (words.length === 0) return [];
    const tsquery = words.map((w, i) => `'${w.toLowerCase()}'${i === words.length - 1 ? ':*' : ''}`).join(' & ');
    const rows = await this.q(
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
      const v = await this.q('SELECT max(version) AS v FROM schema_migrations');
      return {
        ok: !this.lastError,
        kind: 'postgres',
        replica: this.replica,
        schemaVersion: Number(v[0]?.v ?? 0),
        ...(this.lastError ? { error: this.lastError } : {}),
      };
    } catch (err) {
      return { ok: false, kind: 'postgres', replica: this.replica, schemaVersion: 0, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Errors inside a transaction surface as StoreUnavailableError when they are the database's. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      const code = (err as { code?: string }).code;
      if (code && (UNAVAILABLE.test(code) || ['ECONNREFUSED', 'ECONNRESET'].includes(code))) {
        this.lastError = (err as Error).message;
        throw new StoreUnavailableError(this.lastError, code);
      }
      throw err;
    }
  }
}

/** Applies missing migrations under an advisory lock, so replicas starting together take turns. */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(7317001)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const have = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (have > latest) {
      throw new StoreVersionError(`the store's schema is version ${have}, newer than this notion-rules knows (${latest}); run a newer release`);
    }
    for (const m of migrations) {
      if (m.version <= have) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
