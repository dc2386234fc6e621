import type { Migration } from '../core/migrations.js';
import { SNAPSHOTS_TABLE } from '../core/snapshots.js';
import { ruleControlTables } from '../core/rule-control.js';
import { timingTables } from '../core/timing.js';
import { flowTable } from '../core/flow.js';

/** SQLite's schema (see Migration): FTS5 for search. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events and meta',
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        event TEXT NOT NULL,
        raw TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        duplicates INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX events_status_received ON events (status, received_at);
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'dispatch, jobs, attempts, search',
    sql: `
      ALTER TABLE events ADD COLUMN dispatch_attempts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN next_dispatch_at INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN rules_version TEXT;
      ALTER TABLE events ADD COLUMN report TEXT;
      ALTER TABLE events ADD COLUMN error TEXT;
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        actions TEXT NOT NULL,
        next_action INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (event_id, rule_id)
      );
      CREATE INDEX jobs_due ON jobs (status, run_at);
      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        action_index INTEGER NOT NULL,
        action_type TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        result TEXT
      );
      CREATE INDEX attempts_job ON attempts (job_id);
      CREATE TABLE entity_latest (
        entity_id TEXT PRIMARY KEY,
        timestamp TEXT NOT NULL
      );
      CREATE VIRTUAL TABLE search_index USING fts5 (doc_id UNINDEXED, title, body, url UNINDEXED, fields UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
    `,
  },
  {
    version: 3,
    name: 'events keep only the body as received',
    // The normalized event is derived from `raw` when read (model/normalize): half the bytes
    // written per event. Dropping the column rewrites the table once, at the first start.
    sql: `ALTER TABLE events DROP COLUMN event;`,
  },
  {
    version: 4,
    name: 'turns reserved at a destination',
    // A job or event waiting for its turn at a destination's pace keeps the turn it was given, so
    // the replica or process that picks it up does not take another.
    sql: `ALTER TABLE jobs ADD COLUMN turn_at INTEGER; ALTER TABLE events ADD COLUMN turn_at INTEGER;`,
  },
  {
    version: 5,
    name: 'page snapshots',
    // What was last seen of each page (and what it replaced), for rules' `before` and `changes`.
    sql: SNAPSHOTS_TABLE,
  },
  {
    version: 6,
    name: 'throttle windows and digest groups',
    sql: timingTables('INTEGER PRIMARY KEY'),
  },
  {
    version: 7,
    name: 'paused rules and the audit log',
    sql: ruleControlTables('INTEGER PRIMARY KEY'),
  },
  {
    version: 8,
    name: 'events newest first',
    // The console's and the CLI's event lists read the newest events first: on this index a page
    // costs the same with 10 or 10 million stored (it is built once, at the first start).
    sql: 'CREATE INDEX events_received ON events (received_at);',
  },
  {
    version: 9,
    name: 'the flow per minute',
    // Counts per minute for the console's charts (store/core/flow): a chart reads these, never the events.
    sql: flowTable(true),
  },
];
