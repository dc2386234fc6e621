import type { ActionIntent } from '../../model/event.js';
import type {
  Attempt,
  AuditEntry,
  AuditRecord,
  EventListStatus,
  EventStatus,
  EventSummary,
  Job,
  JobStatus,
  PruneResult,
  QueueCounts,
  ReplayResult,
  SnapshotWrite,
  StoredEvent,
  DigestGroup,
  FlowCount,
  FlowSeries,
  PendingDelay,
  RulePause,
  TimingStatus,
} from '../types.js';
import type { SnapshotRecord } from '../../model/snapshot.js';
import * as control from './rule-control.js';
import * as flow from './flow.js';
import * as timing from './timing.js';
import type { DigestEntry, DigestFlush } from './timing.js';
import { PRUNE_SNAPSHOTS, READ_SNAPSHOT, RECORD_SNAPSHOT, snapshotFromRow, snapshotParams } from './snapshots.js';
import { attemptFromRow, type AttemptRow, EVENT_COLUMNS, eventFromRow, type EventRow, jobFromRow, type JobRow } from './rows.js';
import type { Dialect, SqlExecutor } from './sql.js';
import { summaryStatus } from './summary.js';

/** A count or time as a number (PostgreSQL hands BIGINT and count(*) back as strings); null stays null. */
const num = (v: unknown): number => Number(v ?? 0);
const time = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The part of the store that is the same on every database, written once: the operator read
 * model (events, jobs, attempts, counts), replay, meta, the per-entity record's reads and
 * retention. A database's store extends it with what only it does well — SQLite's group commit,
 * PostgreSQL's SKIP LOCKED claims — and its executor and dialect.
 */
export abstract class SqlStore {
  protected abstract readonly sql: SqlExecutor;
  protected abstract readonly dialect: Dialect;

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.sql.rows(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${this.dialect.eventWithId('', '?')}`, [id]);
    return row && eventFromRow(row as unknown as EventRow);
  }

  async countEvents(): Promise<number> {
    return num((await this.sql.rows('SELECT count(*) AS n FROM events'))[0]?.n);
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.sql.rows('SELECT value FROM meta WHERE key = ?', [key]);
    return row === undefined ? undefined : String(row.value);
  }

  pauseRule(ruleId: string, pause: { until?: number; source: string; reason?: string }, now: number): Promise<void> {
    return control.pauseRule(this.sql, ruleId, pause, now);
  }

  resumeRule(ruleId: string, source: string, now: number): Promise<boolean> {
    return control.resumeRule(this.sql, ruleId, source, now);
  }

  pausedRules(now: number): Promise<RulePause[]> {
    return control.pausedRules(this.sql, now);
  }

  recordAudit(entry: AuditEntry): Promise<void> {
    return control.recordAudit(this.sql, entry);
  }

  listAudit(filter: { limit: number; ruleId?: string; before?: number }): Promise<AuditRecord[]> {
    return control.listAudit(this.sql, filter);
  }

  addFlow(counts: readonly FlowCount[]): Promise<void> {
    return flow.addFlow(this.sql, counts);
  }

  readFlow(series: readonly FlowSeries[], from: number, to: number, bucketMinutes?: number): Promise<FlowCount[]> {
    return flow.readFlow(this.sql, series, from, to, bucketMinutes);
  }

  async nthLatestReceivedAt(n: number): Promise<number | undefined> {
    const [row] = await this.sql.rows('SELECT received_at FROM events ORDER BY received_at DESC LIMIT 1 OFFSET ?', [Math.max(0, n - 1)]);
    return row ? num(row.received_at) : undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.sql.change('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  /** Whether an event with a later timestamp for this entity was already matched. */
  async isStale(entityId: string, timestamp: string): Promise<boolean> {
    if (!entityId) return false;
    const [row] = await this.sql.rows('SELECT timestamp FROM entity_latest WHERE entity_id = ?', [entityId]);
    return row !== undefined && String(row.timestamp) > timestamp;
  }

  async snapshotOf(pageId: string): Promise<SnapshotRecord | undefined> {
    const [row] = await this.sql.rows(READ_SNAPSHOT, [pageId]);
    return row && snapshotFromRow(row);
  }

  async recordSnapshots(snapshots: SnapshotWrite[]): Promise<number> {
    if (snapshots.length === 0) return 0;
    const done = await this.sql.atomically(snapshots.map((s) => ({ sql: RECORD_SNAPSHOT, params: snapshotParams(s) })));
    return done.reduce((n, r) => n + r.changes, 0);
  }

  /** Whether the rule may run for `key` at `at` (event time): it opens the window until `until` (see claimWindow). */
  async claimWindow(ruleId: string, key: string, eventId: string, at: number, until: number): Promise<boolean> {
    const s = timing.claimWindow(ruleId, key, eventId, at, until);
    return (await this.sql.change(s.sql, s.params)) === 1;
  }

  /** Adds events to their digest groups; an event already in its group is not added again. */
  async addToDigest(entries: DigestEntry[], now: number): Promise<void> {
    if (entries.length > 0) await this.sql.atomically(entries.flatMap((e) => timing.addToDigest(e, now)));
  }

  /** Takes up to `limit` due digest groups nobody is flushing, as `claim`, for `leaseMs`. */
  async claimDigests(claim: string, now: number, leaseMs: number, limit: number): Promise<DigestGroup[]> {
    const rows = await this.sql.rows(timing.claimDigests(this.dialect.skipLocked), [claim, now + leaseMs, now, now, limit]);
    return rows.map((r) => ({
      ruleId: String(r.rule_id),
      key: String(r.key),
      count: num(r.count),
      max: num(r.max),
      waitMs: num(r.wait_ms),
      openedAt: num(r.opened_at),
    }));
  }

  /** A group's first `max` items, oldest first. */
  async digestItems(ruleId: string, key: string, max: number): Promise<Array<{ id: number; eventId: string; item: Record<string, unknown> }>> {
    const rows = await this.sql.rows(timing.DIGEST_ITEMS, [ruleId, key, max]);
    return rows.map((r) => ({ id: num(r.id), eventId: String(r.event_id), item: JSON.parse(String(r.item)) as Record<string, unknown> }));
  }

  /** A flushed group's job, in one transaction with the group's end; false when the claim was no longer ours. */
  async completeDigest(flush: DigestFlush): Promise<boolean> {
    const [job, , group] = await this.sql.atomically(timing.completeDigest(flush));
    return job!.changes === 1 || group!.changes === 1;
  }

  async dropDigest(ruleId: string, key: string, claim: string): Promise<void> {
    await this.sql.atomically(timing.dropDigest(ruleId, key, claim));
  }

  async postponeDigest(ruleId: string, key: string, claim: string, at: number): Promise<void> {
    const s = timing.postponeDigest(ruleId, key, claim, at);
    await this.sql.change(s.sql, s.params);
  }

  /** When the earliest digest group nobody is flushing is due. */
  async nextDigestAt(): Promise<number | undefined> {
    const [row] = await this.sql.rows(timing.NEXT_DIGEST);
    return time(row?.t) ?? undefined;
  }

  /** Starts a rule's wait (`after`) for `key`; with `restart`, a pending one starts again from this event. */
  async scheduleDelay(ruleId: string, key: string, eventId: string, dueAt: number, restart: boolean): Promise<void> {
    const s = timing.scheduleDelay(ruleId, key, eventId, dueAt, restart);
    await this.sql.change(s.sql, s.params);
  }

  async restartDelay(ruleId: string, key: string, eventId: string, dueAt: number): Promise<boolean> {
    const s = timing.restartDelay(ruleId, key, eventId, dueAt);
    return (await this.sql.change(s.sql, s.params)) === 1;
  }

  async cancelDelay(ruleId: string, key: string): Promise<boolean> {
    const s = timing.cancelDelay(ruleId, key);
    return (await this.sql.change(s.sql, s.params)) === 1;
  }

  async claimDelays(claim: string, now: number, leaseMs: number, limit: number): Promise<PendingDelay[]> {
    const rows = await this.sql.rows(timing.claimDelays(this.dialect.skipLocked), [claim, now + leaseMs, now, now, limit]);
    return rows.map((r) => ({ ruleId: String(r.rule_id), key: String(r.key), eventId: String(r.event_id), dueAt: num(r.due_at) }));
  }

  async completeDelay(d: timing.DelayCompletion): Promise<boolean> {
    const [job, done] = await this.sql.atomically(timing.completeDelay(d));
    return job!.changes === 1 || done!.changes === 1;
  }

  async dropDelay(ruleId: string, key: string, claim: string): Promise<void> {
    const s = timing.dropDelay(ruleId, key, claim);
    await this.sql.change(s.sql, s.params);
  }

  async postponeDelay(ruleId: string, key: string, claim: string, at: number): Promise<void> {
    const s = timing.postponeDelay(ruleId, key, claim, at);
    await this.sql.change(s.sql, s.params);
  }

  async nextDelayAt(): Promise<number | undefined> {
    const [row] = await this.sql.rows(timing.NEXT_DELAY);
    return time(row?.t) ?? undefined;
  }

  async lastTick(ruleId: string): Promise<number | undefined> {
    const [row] = await this.sql.rows("SELECT max(timestamp) AS t FROM events WHERE type = 'schedule' AND entity_id = ?", [ruleId]);
    return row?.t === null || row?.t === undefined ? undefined : Date.parse(String(row.t));
  }

  /** Per rule: its open digest groups and pending waits, with when the next is due (the console's rules page). */
  async timingStatus(): Promise<TimingStatus> {
    const digests = await this.sql.rows('SELECT rule_id, count(*) AS groups, sum(count) AS items, min(due_at) AS due FROM digests GROUP BY rule_id');
    const delays = await this.sql.rows('SELECT rule_id, count(*) AS waiting, min(due_at) AS due FROM delays GROUP BY rule_id');
    return {
      digests: digests.map((r) => ({ ruleId: String(r.rule_id), groups: num(r.groups), items: num(r.items), nextDueAt: num(r.due) })),
      delays: delays.map((r) => ({ ruleId: String(r.rule_id), waiting: num(r.waiting), nextDueAt: num(r.due) })),
    };
  }

  async nextRunAt(): Promise<number | undefined> {
    const [row] = await this.sql.rows("SELECT min(run_at) AS t FROM jobs WHERE status = 'pending'");
    return time(row?.t) ?? undefined;
  }

  async getJobs(eventId: string): Promise<Job[]> {
    return (await this.sql.rows('SELECT * FROM jobs WHERE event_id = ? ORDER BY id', [eventId])).map((r) => jobFromRow(r as unknown as JobRow));
  }

  async getAttempts(jobId: number): Promise<Attempt[]> {
    return (await this.sql.rows('SELECT * FROM attempts WHERE job_id = ? ORDER BY id', [jobId])).map((r) => attemptFromRow(r as unknown as AttemptRow));
  }

  async listJobs(status: JobStatus, limit: number): Promise<Job[]> {
    const rows = await this.sql.rows('SELECT * FROM jobs WHERE status = ? ORDER BY updated_at DESC, id DESC LIMIT ?', [status, limit]);
    return rows.map((r) => jobFromRow(r as unknown as JobRow));
  }

  /**
   * The newest events (of a status), with their jobs' counts. The events are chosen first, newest
   * first on the received_at index (or from the few jobs that make a status, for dead and pending),
   * and only they are joined with their jobs: a page costs the same with 10 or 10 million stored.
   */
  async listEvents(filter: { status?: EventListStatus; limit: number }): Promise<EventSummary[]> {
    const listed = filter.status ? LISTED[filter.status] : undefined;
    const source = listed?.from ? `${listed.from} d CROSS JOIN events e` : 'events e';
    const where = [listed?.from ? this.dialect.eventWithId('e.', 'd.event_id') : '', listed?.where ?? ''].filter(Boolean).join(' AND ');
    const rows = await this.sql.rows(
      `SELECT e.id, e.type, e.entity_id, e.timestamp, e.received_at, e.status, e.duplicates,
         count(j.id) AS total, ${COUNT_DONE} AS done, ${COUNT_DEAD} AS dead, ${COUNT_PENDING} AS pending, ${COUNT_SHADOW} AS shadow
       FROM (SELECT e.id, e.type, e.entity_id, e.timestamp, e.received_at, e.status, e.duplicates, ${this.dialect.arrival} AS arrival
             FROM ${source} ${where ? `WHERE ${where}` : ''}
             ORDER BY e.received_at DESC, ${this.dialect.arrival} DESC LIMIT ?) e
       LEFT JOIN jobs j ON j.event_id = e.id
       GROUP BY e.id, e.type, e.entity_id, e.timestamp, e.received_at, e.status, e.duplicates, e.arrival
       ORDER BY e.received_at DESC, e.arrival DESC`,
      [filter.limit],
    );
    return rows.map((r) => {
      const jobs = { total: num(r.total), done: num(r.done), dead: num(r.dead), pending: num(r.pending), shadow: num(r.shadow) };
      return {
        id: String(r.id),
        type: String(r.type),
        entityId: String(r.entity_id),
        timestamp: String(r.timestamp),
        receivedAt: num(r.received_at),
        duplicates: num(r.duplicates),
        status: summaryStatus(r.status as EventStatus, jobs),
        jobs,
      };
    });
  }

  /** The queue's gauges. Only the statuses that stay few are counted (on the jobs' status index), never the done history. */
  async counts(): Promise<QueueCounts> {
    const by = Object.fromEntries(
      (await this.sql.rows(`SELECT status, count(*) AS n FROM jobs WHERE status IN ('pending', 'running', 'dead', 'shadow') GROUP BY status`)).map((r) => [
        String(r.status),
        num(r.n),
      ]),
    ) as Record<string, number>;
    const [events] = await this.sql.rows(
      `SELECT sum(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS waiting, sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
         min(CASE WHEN status = 'new' THEN received_at END) AS oldest
       FROM events WHERE status IN ('new', 'failed')`,
    );
    return {
      eventsToDispatch: num(events?.waiting),
      failedEvents: num(events?.failed),
      oldestPendingRunAt: (await this.nextRunAt()) ?? null,
      oldestNewReceivedAt: time(events?.oldest),
      pending: by.pending ?? 0,
      running: by.running ?? 0,
      dead: by.dead ?? 0,
      shadow: by.shadow ?? 0,
    };
  }

  /**
   * Puts an event's dead jobs back in the queue (they resume at the failed action) and, when the
   * event is `failed`, hands it back to the matcher, in one transaction.
   */
  async replayEvent(eventId: string, now: number): Promise<ReplayResult> {
    const [jobs, events] = await this.sql.atomically([
      { sql: `${this.requeueDead} AND event_id = ?`, params: [now, now, eventId] },
      { sql: `${this.rematchFailed} AND ${this.dialect.eventWithId('', '?')}`, params: [now, eventId] },
    ]);
    return { jobs: jobs!.changes, rematch: events!.changes === 1 };
  }

  async replayFailed(now: number): Promise<number> {
    return this.sql.change(this.rematchFailed, [now]);
  }

  async replayJob(jobId: number, now: number): Promise<boolean> {
    return (await this.sql.change(`${this.requeueDead} AND id = ?`, [now, now, jobId])) === 1;
  }

  async replayDead(now: number): Promise<number> {
    return this.sql.change(this.requeueDead, [now, now]);
  }

  /**
   * A dead job back in the queue with its actions rendered again, resuming at the action that
   * failed; its history records `rerendered`. Both writes hold only while the job is still dead
   * at the same action, so a concurrent replay makes this one a no-op.
   */
  async rerenderJob(jobId: number, actions: ActionIntent[], note: string, now: number): Promise<boolean> {
    const [job] = await this.sql.rows("SELECT next_action FROM jobs WHERE id = ? AND status = 'dead'", [jobId]);
    if (!job) return false;
    const at = num(job.next_action);
    const [, updated] = await this.sql.atomically([
      {
        sql: `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome, error, result)
              SELECT id, next_action, CAST(? AS TEXT), CAST(? AS BIGINT), 0, 'rerendered', CAST(? AS TEXT), NULL FROM jobs WHERE id = ? AND status = 'dead' AND next_action = ?`,
        params: [actions[at]?.type ?? 'none', now, note, jobId, at],
      },
      {
        sql: `UPDATE jobs SET actions = ?, status = 'pending', attempts = 0, last_error = NULL, turn_at = NULL, run_at = ?, updated_at = ?, ${this.dialect.release}
              WHERE id = ? AND status = 'dead' AND next_action = ?`,
        params: [JSON.stringify(actions), now, now, jobId, at],
      },
    ]);
    return updated!.changes === 1;
  }

  /**
   * Deletes up to `batch` resolved events received before `cutoff` — matched, every job done,
   * none finished since — with their jobs and attempts, and entity times,
   * page snapshots and flow counts older than the cutoff. With `dryRun`, counts what would go.
   */
  async prune(cutoff: number, batch: number, dryRun = false): Promise<PruneResult> {
    if (dryRun) {
      const [row] = await this.sql.rows(
        `SELECT count(*) AS events, coalesce(sum((SELECT count(*) FROM jobs j WHERE j.event_id = e.id)), 0) AS jobs FROM events e WHERE ${PRUNABLE}`,
        [cutoff, cutoff],
      );
      return { events: num(row?.events), jobs: num(row?.jobs) };
    }
    const chosen = (key: string) => `SELECT ${key} FROM events e WHERE ${PRUNABLE} ORDER BY e.received_at, e.id LIMIT ? ${this.dialect.skipLocked}`;
    const params = [cutoff, cutoff, batch];
    // Deleting the chosen events' jobs first leaves the same events chosen: they stay prunable and first.
    const deleteJobs = this.dialect.jobsCascade ? [] : [{ sql: `DELETE FROM jobs WHERE event_id IN (${chosen('e.id')})`, params }];
    const [jobs, ...deleted] = await this.sql.atomically([
      { sql: `SELECT count(*) AS n FROM jobs WHERE event_id IN (${chosen('e.id')})`, params },
      ...deleteJobs,
      { sql: `DELETE FROM events WHERE ${this.dialect.eventKey} IN (${chosen(`e.${this.dialect.eventKey}`)})`, params },
      { sql: 'DELETE FROM entity_latest WHERE timestamp < ?', params: [new Date(cutoff).toISOString()] },
      { sql: PRUNE_SNAPSHOTS, params: [new Date(cutoff).toISOString()] },
      ...flow.pruneFlow(cutoff),
    ]);
    const events = deleted[deleteJobs.length]!;
    const result = { events: events.changes, jobs: num(jobs!.rows[0]?.n) };
    if (result.events > 0) await this.reclaimSpace();
    return result;
  }

  /** After rows were deleted: give freed space back, where the database does not by itself. */
  protected async reclaimSpace(): Promise<void> {}

  /** Dead jobs back to pending (`?`: run_at, updated_at), their attempts counted afresh. */
  private get requeueDead(): string {
    return `UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?, ${this.dialect.release} WHERE status = 'dead'`;
  }

  /** Failed events back to the matcher (`?`: when). */
  private get rematchFailed(): string {
    return `UPDATE events SET status = 'new', next_dispatch_at = ?, ${this.dialect.release}, dispatch_attempts = 0 WHERE status = 'failed'`;
  }
}

const COUNT_DONE = "sum(CASE WHEN j.status = 'done' THEN 1 ELSE 0 END)";
const COUNT_DEAD = "sum(CASE WHEN j.status = 'dead' THEN 1 ELSE 0 END)";
const COUNT_PENDING = "sum(CASE WHEN j.status IN ('pending', 'running') THEN 1 ELSE 0 END)";
const COUNT_SHADOW = "sum(CASE WHEN j.status = 'shadow' THEN 1 ELSE 0 END)";

/*
 * Whether an event has a dead, or an unfinished, job. Job statuses are a closed set, written here
 * as NOT IN so that the database finds the event's few jobs by event id rather than walking every
 * job of a status (which, during an outage, may be 100,000 dead ones) for each listed event.
 */
const DEAD_JOB = "EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND j.status NOT IN ('pending', 'running', 'done', 'shadow'))";
const UNFINISHED_JOB = "EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND j.status NOT IN ('done', 'shadow'))";

/**
 * Which events each listed status is (see summaryStatus): a condition on the event, and for the
 * statuses that only some jobs make, those jobs' events to start from (few, on the jobs' status
 * index) rather than every event.
 */
const LISTED: Record<EventListStatus, { from?: string; where: string }> = {
  new: { where: "e.status = 'new'" },
  failed: { where: "e.status = 'failed'" },
  dead: { from: "(SELECT DISTINCT event_id FROM jobs WHERE status = 'dead')", where: "e.status <> 'failed'" },
  pending: { from: "(SELECT DISTINCT event_id FROM jobs WHERE status IN ('pending', 'running'))", where: `e.status = 'dispatched' AND NOT ${DEAD_JOB}` },
  processed: { where: `e.status = 'dispatched' AND NOT ${UNFINISHED_JOB}` },
};

/**
 * A resolved event older than the cutoff (`?` twice): matched, every job done, none finished since.
 */
const PRUNABLE = `e.status = 'dispatched' AND e.received_at < ?
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND (j.status NOT IN ('done', 'shadow') OR j.updated_at >= ?))`;
