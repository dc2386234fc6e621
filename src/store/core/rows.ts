import { normalize } from '../../model/normalize.js';
import type { Attempt, EventStatus, Job, JobStatus, StoredEvent } from '../types.js';

/*
 * Rows to records, one way for every database: SQLite hands back numbers, PostgreSQL's BIGINT
 * columns strings; both hand back JSON as text. Both keep an event as the body received, and
 * normalize it again when read (model/normalize), so a change to `normalize` reads every store's
 * history the same way.
 */

export interface EventRow {
  raw: unknown;
  /** The timestamp as normalized when the event arrived (a missing or far-future one became the arrival time). */
  timestamp: unknown;
  status: unknown;
  received_at: unknown;
  duplicates: unknown;
  dispatch_attempts: unknown;
  rules_version: unknown;
  report: unknown;
  error: unknown;
  turn_at: unknown;
}

export interface JobRow {
  id: unknown;
  event_id: unknown;
  rule_id: unknown;
  actions: unknown;
  next_action: unknown;
  status: unknown;
  attempts: unknown;
  run_at: unknown;
  last_error: unknown;
  created_at: unknown;
  updated_at: unknown;
  turn_at: unknown;
}

export interface AttemptRow {
  job_id: unknown;
  action_index: unknown;
  action_type: unknown;
  started_at: unknown;
  duration_ms: unknown;
  outcome: unknown;
  error: unknown;
  result: unknown;
}

/** The columns an EventRow is read from. */
export const EVENT_COLUMNS = 'id, timestamp, raw, status, received_at, duplicates, dispatch_attempts, rules_version, report, error, turn_at';

export function eventFromRow(row: EventRow): StoredEvent {
  const timestamp = String(row.timestamp);
  return {
    // The timestamp column, not the body's again: it is what the receiver made of it.
    event: { ...normalize(JSON.parse(String(row.raw)), new Date(timestamp)), timestamp },
    status: row.status as EventStatus,
    receivedAt: Number(row.received_at),
    duplicates: Number(row.duplicates),
    dispatchAttempts: Number(row.dispatch_attempts),
    rulesVersion: nullable(row.rules_version, String),
    report: nullable(row.report, (r) => JSON.parse(String(r)) as unknown),
    error: nullable(row.error, String),
    turnAt: nullable(row.turn_at, Number),
  };
}

export function jobFromRow(row: JobRow): Job {
  return {
    id: Number(row.id),
    eventId: String(row.event_id),
    ruleId: String(row.rule_id),
    actions: JSON.parse(String(row.actions)) as Job['actions'],
    nextAction: Number(row.next_action),
    status: row.status as JobStatus,
    attempts: Number(row.attempts),
    runAt: Number(row.run_at),
    lastError: nullable(row.last_error, String),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    turnAt: nullable(row.turn_at, Number),
  };
}

export function attemptFromRow(row: AttemptRow): Attempt {
  return {
    jobId: Number(row.job_id),
    actionIndex: Number(row.action_index),
    actionType: String(row.action_type),
    startedAt: Number(row.started_at),
    durationMs: Number(row.duration_ms),
    outcome: row.outcome as Attempt['outcome'],
    error: nullable(row.error, String),
    result: row.result === null || row.result === undefined ? undefined : (JSON.parse(String(row.result)) as unknown),
  };
}

function nullable<T>(value: unknown, read: (v: unknown) => T): T | null {
  return value === null || value === undefined ? null : read(value);
}
