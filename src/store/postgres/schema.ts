import type { Migration } from '../core/migrations.js';
import { SNAPSHOTS_TABLE } from '../core/snapshots.js';
import { ruleControlTables } from '../core/rule-control.js';
import { timingTables } from '../core/timing.js';
import { flowTable } from '../core/flow.js';

/**
 * The PostgreSQL schema, append-only like SQLite's: the same tables, plus lease owners so several
 * replicas can share the queues, and a tsvector search index instead of FTS5.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, jobs, attempts, meta, search',
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        event TEXT NOT NULL,
        raw TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        duplicates INTEGER NOT NULL DEFAULT 0,
        dispatch_attempts INTEGER NOT NULL DEFAULT 0,
        next_dispatch_at BIGINT NOT NULL DEFAULT 0,
        lease_until BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        rules_version TEXT,
        report TEXT,
        error TEXT
      );
      CREATE INDEX events_to_dispatch ON events (received_at) WHERE status = 'new';
      CREATE INDEX events_received ON events (received_at DESC);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE jobs (
        id BIGSERIAL PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        actions TEXT NOT NULL,
        next_action INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at BIGINT NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (event_id, rule_id)
      );
      CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'pending';
      CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 'running';
      CREATE INDEX jobs_event ON jobs (event_id);
      CREATE TABLE attempts (
        id BIGSERIAL PRIMARY KEY,
        job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        action_index INTEGER NOT NULL,
        action_type TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        result TEXT,
        replica TEXT
      );
      CREATE INDEX attempts_job ON attempts (job_id);
      CREATE TABLE entity_latest (entity_id TEXT PRIMARY KEY, timestamp TEXT NOT NULL);
      CREATE TABLE search_index (
        doc_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        url TEXT NOT NULL,
        fields TEXT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || body)) STORED
      );
      CREATE INDEX search_index_tsv ON search_index USING GIN (tsv);
    `,
  },
  {
    version: 2,
    name: 'destination pace shared by replicas',
    sql: `
      CREATE TABLE destination_pace (
        destination TEXT PRIMARY KEY,
        tat DOUBLE PRECISION NOT NULL,
        paused_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        touched DOUBLE PRECISION NOT NULL DEFAULT 0
      );
      ALTER TABLE jobs ADD COLUMN turn_at BIGINT;
      ALTER TABLE events ADD COLUMN turn_at BIGINT;
    `,
  },
  {
    version: 3,
    name: 'events keep only the body as received',
    // As in SQLite: the event is normalized from `raw` when read, so both stores read their
    // history the same way after a change to normalize.
    sql: `ALTER TABLE events DROP COLUMN event;`,
  },
  {
    version: 4,
    name: 'page snapshots',
    sql: SNAPSHOTS_TABLE,
  },
  {
    version: 5,
    name: 'throttle windows and digest groups',
    sql: timingTables('BIGSERIAL PRIMARY KEY'),
  },
  {
    version: 6,
    name: 'paused rules and the audit log',
    sql: ruleControlTables('BIGSERIAL PRIMARY KEY'),
  },
  {
    version: 7,
    name: 'the few dead, shadow and failed rows found without a scan',
    // The queue's gauges (every /health and /metrics scrape) and the console's dead letters read
    // these statuses only: on partial indexes they cost the same however much history is kept.
    sql: `
      CREATE INDEX jobs_dead ON jobs (updated_at) WHERE status = 'dead';
      CREATE INDEX jobs_shadow ON jobs (event_id) WHERE status = 'shadow';
      CREATE INDEX events_failed ON events (received_at) WHERE status = 'failed';
    `,
  },
  {
    version: 8,
    name: 'the flow per minute',
    // Counts per minute for the console's charts (store/core/flow): a chart reads these, never the events.
    sql: flowTable(false),
  },
];
