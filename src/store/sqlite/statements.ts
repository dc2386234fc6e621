import type Database from 'better-sqlite3';
import type { JobStatus } from '../types.js';
import type { EventStatus } from '../types.js';
import { EVENT_COLUMNS } from '../core/rows.js';
import { RECORD_SNAPSHOT } from '../core/snapshots.js';

export interface EventRow {
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

export interface JobRow {
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

/**
 * The statements of the hot paths (intake, matching, the job queue), prepared once: the portable
 * ones (SqlStore) are prepared on first use and cached by their text.
 */
export function prepareStatements(db: Database.Database) {
  return {
    // DO NOTHING and a count of changes, not DO UPDATE … RETURNING: a fifth less per insert.
    // Into the newest generation (see id-filters); older ones were searched before.
    insert: db.prepare<[number, string, string, string, string, string, number, string, number]>(
      `INSERT INTO events (gen, id, type, entity_id, entity_type, timestamp, received_at, raw, lease_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (gen, id) DO NOTHING`,
    ),
    countDuplicate: db.prepare<[number]>('UPDATE events SET duplicates = duplicates + 1 WHERE rowid = ?'),
    insertMatched: db.prepare<[number, string, string, string, string, string, number, string, string]>(
      `INSERT INTO events (gen, id, type, entity_id, entity_type, timestamp, received_at, raw, status, rules_version, report, dispatch_attempts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'dispatched', ?, '[]', 1)
       ON CONFLICT (gen, id) DO NOTHING`,
    ),
    /** An id in one generation: its row number. */
    findId: db.prepare<[number, string], { seq: number }>('SELECT rowid AS seq FROM events WHERE gen = ? AND id = ?'),
    /** The ids of some generations, in index order (a filter filled at start). */
    idsIn: db.prepare<[number, number], { gen: number; id: string }>('SELECT gen, id FROM events WHERE gen >= ? AND gen < ? ORDER BY gen, id'),
    firstGen: db.prepare<[], { gen: number | null }>('SELECT min(gen) AS gen FROM events'),
    lastGen: db.prepare<[], { gen: number | null }>('SELECT max(gen) AS gen FROM events'),
    savedFilters: db.prepare<[], { grp: number; layout: string; bits: Buffer }>('SELECT grp, layout, bits FROM id_filters'),
    saveFilter: db.prepare<[number, string, Buffer]>('INSERT OR REPLACE INTO id_filters (grp, layout, bits) VALUES (?, ?, ?)'),
    dropFilters: db.prepare<[number]>('DELETE FROM id_filters WHERE grp < ?'),
    eventAt: db.prepare<[number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE rowid = ?`),
    claimEvents: db.prepare<[number, number, number, number], EventRow & { seq: number }>(
      `UPDATE events SET lease_until = ? WHERE rowid IN (
         SELECT rowid FROM events WHERE status = 'new' AND next_dispatch_at <= ? AND lease_until <= ?
         ORDER BY received_at, rowid LIMIT ?)
       RETURNING rowid AS seq, ${EVENT_COLUMNS}`,
    ),
    insertJob: db.prepare<[string, string, string, string, number, number, number, number], JobRow>(
      `INSERT INTO jobs (event_id, rule_id, actions, status, lease_until, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_id, rule_id) DO NOTHING RETURNING *`,
    ),
    markDispatched: db.prepare<[string, string, string, number]>(
      `UPDATE events SET status = ?, rules_version = ?, report = ?, error = NULL, lease_until = 0,
         dispatch_attempts = dispatch_attempts + 1 WHERE rowid = ?`,
    ),
    touchEntity: db.prepare<[string, string]>(
      `INSERT INTO entity_latest (entity_id, timestamp) VALUES (?, ?)
       ON CONFLICT (entity_id) DO UPDATE SET timestamp = max(timestamp, excluded.timestamp)`,
    ),
    rebuildEntities: db.prepare<[number, number]>(
      `INSERT INTO entity_latest (entity_id, timestamp)
         SELECT entity_id, max(timestamp) FROM events
         WHERE rowid > ? AND rowid <= ? AND status IN ('dispatched', 'failed') AND entity_id <> '' GROUP BY entity_id
       ON CONFLICT (entity_id) DO UPDATE SET timestamp = max(timestamp, excluded.timestamp)`,
    ),
    recordSnapshot: db.prepare<[string, string, string, string]>(RECORD_SNAPSHOT),
    lastEventRow: db.prepare<[], { n: number | null }>('SELECT max(rowid) AS n FROM events'),
    deferDispatch: db.prepare<[string, number, number, number | null, number]>(
      'UPDATE events SET error = ?, next_dispatch_at = ?, lease_until = 0, dispatch_attempts = dispatch_attempts + ?, turn_at = ? WHERE rowid = ?',
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
    deferJob: db.prepare<[number, number | null, number, number]>(
      "UPDATE jobs SET status = 'pending', run_at = ?, turn_at = ?, lease_until = 0, updated_at = ? WHERE id = ? AND status = 'running'",
    ),
    hastenJob: db.prepare<[number, number, number]>("UPDATE jobs SET run_at = ? WHERE id = ? AND status = 'pending' AND run_at > ?"),
    hastenEvent: db.prepare<[number, number, number]>("UPDATE events SET next_dispatch_at = ? WHERE rowid = ? AND status = 'new' AND next_dispatch_at > ?"),
    releaseJobs: db.prepare("UPDATE jobs SET status = 'pending', lease_until = 0 WHERE status = 'running'"),
    releaseEvents: db.prepare('UPDATE events SET lease_until = 0 WHERE lease_until > 0'),
    searchDelete: db.prepare<[string]>('DELETE FROM search_index WHERE doc_id = ?'),
    searchInsert: db.prepare<[string, string, string, string, string]>('INSERT INTO search_index (doc_id, title, body, url, fields) VALUES (?, ?, ?, ?, ?)'),
    search: db.prepare<[string, number], { doc_id: string; title: string; url: string; snippet: string }>(
      `SELECT doc_id, title, url, snippet(search_index, 2, '[', ']', '…', 12) AS snippet
       FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT ?`,
    ),
  };
}
