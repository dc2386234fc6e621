import type { PageSnapshot, SnapshotRecord } from '../../model/snapshot.js';
import type { SnapshotWrite } from '../types.js';
import type { Row } from './sql.js';

/*
 * Page snapshots (rules' `before` and `changes`), the same SQL on every database: one row per
 * page, its latest snapshot and the one it replaced. Times are event timestamps (ISO text).
 */

export const SNAPSHOTS_TABLE = `CREATE TABLE page_snapshots (
  page_id TEXT PRIMARY KEY,
  seen_at TEXT NOT NULL,
  title TEXT NOT NULL,
  props TEXT NOT NULL,
  prev_seen_at TEXT,
  prev_title TEXT,
  prev_props TEXT
)`;

/**
 * Records a snapshot (`?`: page, seen at, title, props as JSON) when it is newer than the page's
 * latest; the latest becomes the previous. An older one (an event delivered out of order) changes nothing.
 */
export const RECORD_SNAPSHOT = `INSERT INTO page_snapshots (page_id, seen_at, title, props) VALUES (?, ?, ?, ?)
  ON CONFLICT (page_id) DO UPDATE SET prev_seen_at = page_snapshots.seen_at, prev_title = page_snapshots.title, prev_props = page_snapshots.props,
    seen_at = excluded.seen_at, title = excluded.title, props = excluded.props
  WHERE excluded.seen_at > page_snapshots.seen_at`;

export const READ_SNAPSHOT = 'SELECT seen_at, title, props, prev_seen_at, prev_title, prev_props FROM page_snapshots WHERE page_id = ?';

/** Snapshots older than the retention cutoff (`?`: ISO time) go with the events. */
export const PRUNE_SNAPSHOTS = 'DELETE FROM page_snapshots WHERE seen_at < ?';

export function snapshotParams(s: SnapshotWrite): unknown[] {
  return [s.pageId, s.seenAt, s.title, JSON.stringify(s.props)];
}

export function snapshotFromRow(row: Row): SnapshotRecord {
  const current: PageSnapshot = { seenAt: String(row.seen_at), title: String(row.title), props: JSON.parse(String(row.props)) as Record<string, unknown> };
  const previous: PageSnapshot | null =
    row.prev_seen_at === null || row.prev_seen_at === undefined
      ? null
      : { seenAt: String(row.prev_seen_at), title: String(row.prev_title ?? ''), props: JSON.parse(String(row.prev_props ?? '{}')) as Record<string, unknown> };
  return { current, previous };
}
