import type { OpsQueries } from '../../store/ports.js';
import type { Attempt, Job, StoredEvent } from '../../store/types.js';

/** One event as operators see it: the event, what the rules made of it, each job with every attempt. */
export interface EventDetail {
  stored: StoredEvent;
  /** `history`: every attempt of the job (its `attempts` counts the failed ones). */
  jobs: Array<Job & { history: Attempt[] }>;
}

/** The read model behind the admin API's and the console's event views. */
export async function eventDetail(store: Pick<OpsQueries, 'getEvent' | 'getJobs' | 'getAttempts'>, id: string): Promise<EventDetail | undefined> {
  const stored = await store.getEvent(id);
  if (!stored) return undefined;
  const jobs = await Promise.all((await store.getJobs(stored.event.id)).map(async (j) => ({ ...j, history: await store.getAttempts(j.id) })));
  return { stored, jobs };
}
