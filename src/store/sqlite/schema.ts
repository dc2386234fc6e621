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
  {
    version: 10,
    name: 'event ids by generation',
    // A new id goes into the newest generation's part of the id index (rows numbered in arrival
    // order, 65,536 to a generation), not at a random place of one index over all history: the
    // cost of an insert stays that of an empty store (docs/performance.md, "Id generations"). The
    // store finds an id in older generations through its filters (sqlite/id-filters), saved in
    // id_filters as each group of generations closes. Jobs keep
    // their event's id but no foreign key to it (SQLite's needs a unique index on the id alone);
    // retention deletes an event's jobs itself. Rebuilds both tables once, at the first start.
    sql: `
      CREATE TABLE events_next (
        gen INTEGER NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        raw TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        duplicates INTEGER NOT NULL DEFAULT 0,
        dispatch_attempts INTEGER NOT NULL DEFAULT 0,
        next_dispatch_at INTEGER NOT NULL DEFAULT 0,
        lease_until INTEGER NOT NULL DEFAULT 0,
        rules_version TEXT,
        report TEXT,
        error TEXT,
        turn_at INTEGER
      );
      INSERT INTO events_next (rowid, gen, id, type, entity_id, entity_type, timestamp, received_at, raw, status, duplicates,
          dispatch_attempts, next_dispatch_at, lease_until, rules_version, report, error, turn_at)
        SELECT rowid, rowid >> 16, id, type, entity_id, entity_type, timestamp, received_at, raw, status, duplicates,
          dispatch_attempts, next_dispatch_at, lease_until, rules_version, report, error, turn_at
        FROM events ORDER BY rowid;
      CREATE TABLE jobs_next (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
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
        turn_at INTEGER,
        UNIQUE (event_id, rule_id)
      );
      INSERT INTO jobs_next (id, event_id, rule_id, actions, next_action, status, attempts, run_at, lease_until, last_error, created_at, updated_at, turn_at)
        SELECT id, event_id, rule_id, actions, next_action, status, attempts, run_at, lease_until, last_error, created_at, updated_at, turn_at
        FROM jobs ORDER BY id;
      DELETE FROM sqlite_sequence WHERE name = 'jobs_next';
      UPDATE sqlite_sequence SET name = 'jobs_next' WHERE name = 'jobs';
      DROP TABLE jobs;
      DROP TABLE events;
      ALTER TABLE events_next RENAME TO events;
      ALTER TABLE jobs_next RENAME TO jobs;
      CREATE UNIQUE INDEX events_id ON events (gen, id);
      CREATE INDEX events_status_received ON events (status, received_at);
      CREATE INDEX events_received ON events (received_at);
      CREATE INDEX jobs_due ON jobs (status, run_at);
      CREATE TABLE id_filters (grp INTEGER PRIMARY KEY, layout TEXT NOT NULL, bits BLOB NOT NULL);
      CREATE VIEW event_gens AS
        WITH RECURSIVE g (gen) AS (SELECT min(gen) FROM events UNION ALL SELECT gen + 1 FROM g WHERE gen < (SELECT max(gen) FROM events))
        SELECT gen FROM g WHERE gen IS NOT NULL;
    `,
    foreignKeysOff: true,
  },
];
