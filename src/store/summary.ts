import type { EventListStatus, EventStatus } from './types.js';

/** What became of an event, from its own status and its jobs' counts (both stores list it so). */
export function summaryStatus(status: EventStatus, jobs: { dead: number; pending: number }): EventListStatus {
  if (status === 'new') return 'new';
  if (status === 'failed') return 'failed';
  if (jobs.dead > 0) return 'dead';
  return jobs.pending > 0 ? 'pending' : 'processed';
}
