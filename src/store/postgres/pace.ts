import type { PaceLedger } from '../types.js';
import type { Connection } from './connection.js';

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

/** Destinations' pace kept in the `destination_pace` table, one row per destination, for every replica. */
export function sharedPace(db: Connection): PaceLedger {
  return {
    take: async (dest, intervalMs, toleranceMs, now) => {
      const [row] = await db.query(TAKE_TURN, [dest, intervalMs, toleranceMs]);
      return now + Number(row!.delay);
    },
    pause: async (dest, until, resumeAfterMs, now) => {
      await db.query(PAUSE, [dest, Math.max(0, until - now), resumeAfterMs]);
    },
  };
}
