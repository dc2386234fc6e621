import type { EventListStatus, EventStatus, QueueCounts } from '../types.js';

/** What became of an event, from its own status and its jobs' counts (both stores list it so). */
export function summaryStatus(status: EventStatus, jobs: { dead: number; pending: number }): EventListStatus {
  if (status === 'new') return 'new';
  if (status === 'failed') return 'failed';
  if (jobs.dead > 0) return 'dead';
  return jobs.pending > 0 ? 'pending' : 'processed';
}

/**
 * How far behind the service is, in ms: the oldest due job's wait (a job backing off until later
 * is not late) and the oldest unmatched event's age.
 */
export function lagsOf(c: QueueCounts, now: number): { jobsMs: number; matchMs: number } {
  return {
    jobsMs: c.oldestPendingRunAt === null ? 0 : Math.max(0, now - c.oldestPendingRunAt),
    matchMs: c.oldestNewReceivedAt === null ? 0 : Math.max(0, now - c.oldestNewReceivedAt),
  };
}
