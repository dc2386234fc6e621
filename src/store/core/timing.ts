import type { Statement } from './sql.js';

/*
 * Throttle windows and digest groups (rules' `throttle` and `digest`), the same SQL on every
 * database. Times are milliseconds; throttle windows run on event timestamps, digests on the clock.
 */

/** The tables, with `ID` the database's auto-increment primary key. */
export function timingTables(id: string): string {
  return `
    CREATE TABLE rule_windows (
      rule_id TEXT NOT NULL,
      key TEXT NOT NULL,
      until BIGINT NOT NULL,
      event_id TEXT NOT NULL,
      PRIMARY KEY (rule_id, key)
    );
    CREATE TABLE digests (
      rule_id TEXT NOT NULL,
      key TEXT NOT NULL,
      opened_at BIGINT NOT NULL,
      due_at BIGINT NOT NULL,
      count INTEGER NOT NULL,
      max INTEGER NOT NULL,
      wait_ms BIGINT NOT NULL,
      lease_until BIGINT NOT NULL DEFAULT 0,
      claim TEXT,
      PRIMARY KEY (rule_id, key)
    );
    CREATE INDEX digests_due ON digests (due_at);
    CREATE TABLE digest_items (
      id ${id},
      rule_id TEXT NOT NULL,
      key TEXT NOT NULL,
      event_id TEXT NOT NULL,
      item TEXT NOT NULL,
      added_at BIGINT NOT NULL,
      counted INTEGER NOT NULL DEFAULT 0,
      UNIQUE (rule_id, event_id)
    );
    CREATE INDEX digest_items_group ON digest_items (rule_id, key, id);
    CREATE TABLE delays (
      rule_id TEXT NOT NULL,
      key TEXT NOT NULL,
      event_id TEXT NOT NULL,
      due_at BIGINT NOT NULL,
      lease_until BIGINT NOT NULL DEFAULT 0,
      claim TEXT,
      PRIMARY KEY (rule_id, key)
    );
    CREATE INDEX delays_due ON delays (due_at);
  `;
}

/**
 * Opens a window for (rule, key) from `at` to `until` unless one is open at `at`; the event that
 * opened a window may claim it again (it is matched again after a crash). One row changed: run.
 */
export function claimWindow(ruleId: string, key: string, eventId: string, at: number, until: number): Statement {
  return {
    sql: `INSERT INTO rule_windows (rule_id, key, until, event_id) VALUES (?, ?, ?, ?)
      ON CONFLICT (rule_id, key) DO UPDATE SET
        until = CASE WHEN rule_windows.event_id = excluded.event_id THEN rule_windows.until ELSE excluded.until END,
        event_id = excluded.event_id
      WHERE rule_windows.until <= ? OR rule_windows.event_id = excluded.event_id`,
    params: [ruleId, key, until, eventId, at],
  };
}

export interface DigestEntry {
  ruleId: string;
  key: string;
  eventId: string;
  item: Record<string, unknown>;
  waitMs: number;
  max: number;
}

/**
 * Adds an event to its group, once however often it is matched: the item is inserted unless there,
 * and counted into the group (opened now, due `waitMs` later, or at once when it reaches `max`)
 * only while uncounted.
 */
export function addToDigest(e: DigestEntry, now: number): Statement[] {
  const dueAt = e.max <= 1 ? now : now + e.waitMs;
  return [
    {
      sql: 'INSERT INTO digest_items (rule_id, key, event_id, item, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule_id, event_id) DO NOTHING',
      params: [e.ruleId, e.key, e.eventId, JSON.stringify(e.item), now],
    },
    {
      sql: `INSERT INTO digests (rule_id, key, opened_at, due_at, count, max, wait_ms)
        SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), 1, CAST(? AS INTEGER), CAST(? AS BIGINT)
        WHERE EXISTS (SELECT 1 FROM digest_items WHERE rule_id = ? AND event_id = ? AND counted = 0)
        ON CONFLICT (rule_id, key) DO UPDATE SET count = digests.count + 1,
          due_at = CASE WHEN digests.count + 1 >= digests.max AND excluded.opened_at < digests.due_at THEN excluded.opened_at ELSE digests.due_at END`,
      params: [e.ruleId, e.key, now, dueAt, e.max, e.waitMs, e.ruleId, e.eventId],
    },
    { sql: 'UPDATE digest_items SET counted = 1 WHERE rule_id = ? AND event_id = ?', params: [e.ruleId, e.eventId] },
  ];
}

/** Due groups nobody is flushing, taken by `claim` until `leaseUntil` (`?`: claim, lease, now, now, limit). */
export function claimDigests(skipLocked: string): string {
  return `UPDATE digests SET claim = ?, lease_until = ? WHERE (rule_id, key) IN (
      SELECT rule_id, key FROM digests WHERE due_at <= ? AND lease_until <= ? ORDER BY due_at LIMIT ? ${skipLocked})
    RETURNING rule_id, key, count, max, wait_ms, opened_at`;
}

/** The first `max` counted items of a group, oldest first (`?`: rule, key, max). */
export const DIGEST_ITEMS = 'SELECT id, event_id, item FROM digest_items WHERE rule_id = ? AND key = ? AND counted = 1 ORDER BY id LIMIT ?';

export const NEXT_DIGEST = 'SELECT min(due_at) AS t FROM digests WHERE claim IS NULL';

export interface DigestFlush {
  ruleId: string;
  key: string;
  claim: string;
  /** The job: its event (the group's first), its rendered actions. */
  eventId: string;
  actions: unknown[];
  /** The last item taken, and how many. */
  lastItemId: number;
  taken: number;
  now: number;
  /** The job is held until then (the rule's active hours); default now. */
  runAt?: number;
  /** A shadow rule's: recorded, never run. */
  shadow?: boolean;
}

/**
 * A flushed group, in one transaction and only while the claim is ours: its job (once per group:
 * keyed by its first event and the rule), its items gone, the group gone or — when items came
 * while it was flushed — open again for them.
 */
export function completeDigest(f: DigestFlush): Statement[] {
  const ours = 'EXISTS (SELECT 1 FROM digests WHERE rule_id = ? AND key = ? AND claim = ?)';
  const mine = [f.ruleId, f.key, f.claim];
  return [
    {
      sql: `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, run_at, created_at, updated_at)
        SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), 0, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT) WHERE ${ours}
        ON CONFLICT (event_id, rule_id) DO NOTHING`,
      params: [f.eventId, f.ruleId, JSON.stringify(f.actions), f.shadow ? 'shadow' : 'pending', f.runAt ?? f.now, f.now, f.now, ...mine],
    },
    { sql: `DELETE FROM digest_items WHERE rule_id = ? AND key = ? AND counted = 1 AND id <= ? AND ${ours}`, params: [f.ruleId, f.key, f.lastItemId, ...mine] },
    {
      sql: `UPDATE digests SET count = count - ?, claim = NULL, lease_until = 0, opened_at = ?,
          due_at = CASE WHEN count - ? >= max THEN ? ELSE ? + wait_ms END
        WHERE rule_id = ? AND key = ? AND claim = ?`,
      params: [f.taken, f.now, f.taken, f.now, f.now, ...mine],
    },
    { sql: 'DELETE FROM digests WHERE rule_id = ? AND key = ? AND count <= 0 AND claim IS NULL', params: [f.ruleId, f.key] },
  ];
}

/** A group whose rule is gone or no longer a digest: dropped with its items, while the claim is ours. */
export function dropDigest(ruleId: string, key: string, claim: string): Statement[] {
  return [
    {
      sql: 'DELETE FROM digest_items WHERE rule_id = ? AND key = ? AND EXISTS (SELECT 1 FROM digests WHERE rule_id = ? AND key = ? AND claim = ?)',
      params: [ruleId, key, ruleId, key, claim],
    },
    { sql: 'DELETE FROM digests WHERE rule_id = ? AND key = ? AND claim = ?', params: [ruleId, key, claim] },
  ];
}

/** A group that could not be flushed now (its actions failed to render): tried again at `at`. */
export function postponeDigest(ruleId: string, key: string, claim: string, at: number): Statement {
  return { sql: 'UPDATE digests SET claim = NULL, lease_until = 0, due_at = ? WHERE rule_id = ? AND key = ? AND claim = ?', params: [at, ruleId, key, claim] };
}

/**
 * A rule's wait (`after`) for `key` (the event's entity): until `dueAt`, then its condition is
 * checked again on `eventId`. With `restart`, a pending wait starts again from this event (and a
 * recheck in flight is void); without, a pending wait goes on.
 */
export function scheduleDelay(ruleId: string, key: string, eventId: string, dueAt: number, restart: boolean): Statement {
  return {
    sql: `INSERT INTO delays (rule_id, key, event_id, due_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (rule_id, key) DO ${restart ? 'UPDATE SET event_id = excluded.event_id, due_at = excluded.due_at, claim = NULL, lease_until = 0' : 'NOTHING'}`,
    params: [ruleId, key, eventId, dueAt],
  };
}

/** A pending wait started again from another event (restartOn); none pending: nothing. */
export function restartDelay(ruleId: string, key: string, eventId: string, dueAt: number): Statement {
  return {
    sql: 'UPDATE delays SET event_id = ?, due_at = ?, claim = NULL, lease_until = 0 WHERE rule_id = ? AND key = ?',
    params: [eventId, dueAt, ruleId, key],
  };
}

export function cancelDelay(ruleId: string, key: string): Statement {
  return { sql: 'DELETE FROM delays WHERE rule_id = ? AND key = ?', params: [ruleId, key] };
}

/** Due waits nobody is checking, taken by `claim` (`?`: claim, lease, now, now, limit). */
export function claimDelays(skipLocked: string): string {
  return `UPDATE delays SET claim = ?, lease_until = ? WHERE (rule_id, key) IN (
      SELECT rule_id, key FROM delays WHERE due_at <= ? AND lease_until <= ? ORDER BY due_at LIMIT ? ${skipLocked})
    RETURNING rule_id, key, event_id, due_at`;
}

export const NEXT_DELAY = 'SELECT min(due_at) AS t FROM delays WHERE claim IS NULL';

/** A wait whose condition still held, to be ended with its job. */
export interface DelayCompletion {
  ruleId: string;
  key: string;
  claim: string;
  eventId: string;
  actions: unknown[];
  now: number;
  /** Held until then (the rule's active hours); default now. */
  runAt?: number;
  /** A shadow rule's job: recorded, never run. */
  shadow?: boolean;
}

/** A wait whose condition still held: its job, in one transaction with the wait's end, while the claim is ours. */
export function completeDelay(d: DelayCompletion): Statement[] {
  return [
    {
      sql: `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, run_at, created_at, updated_at)
        SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), 0, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
        WHERE EXISTS (SELECT 1 FROM delays WHERE rule_id = ? AND key = ? AND claim = ?)
        ON CONFLICT (event_id, rule_id) DO NOTHING`,
      params: [d.eventId, d.ruleId, JSON.stringify(d.actions), d.shadow ? 'shadow' : 'pending', d.runAt ?? d.now, d.now, d.now, d.ruleId, d.key, d.claim],
    },
    { sql: 'DELETE FROM delays WHERE rule_id = ? AND key = ? AND claim = ?', params: [d.ruleId, d.key, d.claim] },
  ];
}

/** A wait ended without a job (its condition no longer holds, its rule is gone), while the claim is ours. */
export function dropDelay(ruleId: string, key: string, claim: string): Statement {
  return { sql: 'DELETE FROM delays WHERE rule_id = ? AND key = ? AND claim = ?', params: [ruleId, key, claim] };
}

/** A recheck that could not run now (Notion unreachable): tried again at `at`. */
export function postponeDelay(ruleId: string, key: string, claim: string, at: number): Statement {
  return { sql: 'UPDATE delays SET claim = NULL, lease_until = 0, due_at = ? WHERE rule_id = ? AND key = ? AND claim = ?', params: [at, ruleId, key, claim] };
}
