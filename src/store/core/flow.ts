import { FLOW_SERIES, type FlowCount, type FlowSeries } from '../types.js';
import type { Row, SqlExecutor, Statement } from './sql.js';

/*
 * The flow of the service per minute — events received, rule matches and failures, action
 * outcomes per destination, lag — as counts kept beside the data, so the console's charts and
 * sparklines read a few hundred rows however many events are stored. Every replica adds its own
 * counts to the same rows; lag rows keep the largest value any replica saw in that minute.
 */

/** Series whose value is a level (the largest seen in the minute), not a count. */
export const isLevel = (series: FlowSeries): boolean => series.startsWith('lag.');

/** Two values of one series for the same minute or bucket as one: counts add up, a level keeps the largest. */
export const combine = (series: FlowSeries, a: number, b: number): number => (isLevel(series) ? Math.max(a, b) : a + b);

/** The table (`withoutRowid`: SQLite's clustered key). */
export function flowTable(withoutRowid: boolean): string {
  return `
    CREATE TABLE flow_minutes (
      series TEXT NOT NULL,
      item TEXT NOT NULL,
      minute BIGINT NOT NULL,
      value BIGINT NOT NULL,
      PRIMARY KEY (series, minute, item)
    )${withoutRowid ? ' WITHOUT ROWID' : ''};
  `;
}

const ADD = `INSERT INTO flow_minutes (series, item, minute, value) VALUES (?, ?, ?, ?)
  ON CONFLICT (series, minute, item) DO UPDATE SET value = flow_minutes.value + excluded.value`;
const MAX = `INSERT INTO flow_minutes (series, item, minute, value) VALUES (?, ?, ?, ?)
  ON CONFLICT (series, minute, item) DO UPDATE SET value = CASE WHEN excluded.value > flow_minutes.value THEN excluded.value ELSE flow_minutes.value END`;

/** Adds counts (and levels) in one transaction. */
export async function addFlow(sql: SqlExecutor, counts: readonly FlowCount[]): Promise<void> {
  if (counts.length === 0) return;
  await sql.atomically(counts.map((c) => ({ sql: isLevel(c.series) ? MAX : ADD, params: [c.series, c.item, c.minute, Math.round(c.value)] })));
}

/**
 * The rows of `series` from minute `from` to minute `to`, both included. With `bucketMinutes` > 1
 * they are combined per bucket in the query — counts summed, levels their largest (isLevel) —
 * each row then holds its bucket's first minute: the console's 24-hour charts read 96 buckets per
 * item instead of 1,440 minutes.
 */
export async function readFlow(sql: SqlExecutor, series: readonly FlowSeries[], from: number, to: number, bucketMinutes = 1): Promise<FlowCount[]> {
  if (series.length === 0) return [];
  if (!Number.isSafeInteger(bucketMinutes) || bucketMinutes < 1) throw new RangeError(`bucketMinutes must be a whole number ≥ 1, not ${bucketMinutes}`);
  const where = `WHERE series IN (${series.map(() => '?').join(', ')}) AND minute >= ? AND minute <= ?`;
  // The bucket width is written into the query as an integer: bound, SQLite would divide as a real.
  // Both the sum and the largest come back; isLevel picks, so that rule lives in one place.
  const text =
    bucketMinutes === 1
      ? `SELECT series, item, minute AS first_minute, value AS total, value AS largest FROM flow_minutes ${where}`
      : `SELECT series, item, (minute / ${bucketMinutes}) * ${bucketMinutes} AS first_minute, sum(value) AS total, max(value) AS largest
         FROM flow_minutes ${where} GROUP BY series, item, minute / ${bucketMinutes}`;
  const rows = await sql.rows(text, [...series, from, to]);
  return rows.map((r: Row) => {
    const s = r.series as FlowSeries;
    return { series: s, item: String(r.item), minute: Number(r.first_minute), value: Number(isLevel(s) ? r.largest : r.total) };
  });
}

/** Deletes every series' rows older than `cutoff` (ms), series by series on the key (the series are a closed list). */
export function pruneFlow(cutoff: number): Statement[] {
  const minute = Math.floor(cutoff / 60_000);
  return FLOW_SERIES.map((series) => ({ sql: 'DELETE FROM flow_minutes WHERE series = ? AND minute < ?', params: [series, minute] }));
}
