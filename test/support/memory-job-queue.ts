import type { JobQueue, SearchIndex } from '../../src/store/ports.js';
import type { ActionIntent } from '../../src/model/event.js';
import type { Attempt, Job, JobUpdate } from '../../src/store/types.js';

/**
 * The runner's port (JobQueue) in memory, for unit tests of the runner: jobs claimed in run_at
 * order under leases, attempts recorded with their job's new state. Not a store: no durability.
 */
export class MemoryJobQueue implements JobQueue {
  readonly jobs = new Map<number, Job & { leaseUntil: number }>();
  readonly attempts: Attempt[] = [];
  /** Jobs sent back to wait (their turn, a pause), with the turn they keep. */
  readonly deferred: Array<{ jobId: number; runAt: number; turnAt: number | null }> = [];
  private seq = 0;

  add(actions: ActionIntent[], now = Date.now()): number {
    const id = ++this.seq;
    this.jobs.set(id, {
      id,
      eventId: `evt-${id}`,
      ruleId: 'rule',
      actions,
      nextAction: 0,
      status: 'pending',
      attempts: 0,
      runAt: now,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      turnAt: null,
      leaseUntil: 0,
    });
    return id;
  }

  async claimJobs(limit: number, now: number, leaseMs: number): Promise<Job[]> {
    const due = [...this.jobs.values()]
      .filter((j) => j.status === 'pending' && j.runAt <= now && j.leaseUntil <= now)
      .sort((a, b) => a.runAt - b.runAt || a.id - b.id);
    return due.slice(0, limit).map((j) => {
      Object.assign(j, { status: 'running', leaseUntil: now + leaseMs });
      return { ...j };
    });
  }

  async recordAttempt(attempt: Attempt, update: JobUpdate): Promise<boolean> {
    const job = this.jobs.get(attempt.jobId);
    if (!job || job.status !== 'running') return false;
    this.attempts.push(attempt);
    Object.assign(job, update, { leaseUntil: update.status === 'running' ? job.leaseUntil : 0, turnAt: null, updatedAt: Date.now() });
    return true;
  }

  async deferJob(jobId: number, runAt: number, turnAt: number | null = null): Promise<boolean> {
    const job = this.jobs.get(jobId);
    if (!job || job.status !== 'running') return false;
    this.deferred.push({ jobId, runAt, turnAt });
    Object.assign(job, { status: 'pending', runAt, turnAt, leaseUntil: 0 });
    return true;
  }

  async extendLeases(jobIds: number[], until: number): Promise<void> {
    for (const id of jobIds) {
      const job = this.jobs.get(id);
      if (job?.status === 'running') job.leaseUntil = until;
    }
  }

  async nextRunAt(): Promise<number | undefined> {
    const pending = [...this.jobs.values()].filter((j) => j.status === 'pending').map((j) => j.runAt);
    return pending.length > 0 ? Math.min(...pending) : undefined;
  }
}

/** A search index that keeps nothing (the runner's actions in these tests do not search). */
export const noSearch: SearchIndex = {
  indexDocument: async () => {},
  deleteDocument: async () => false,
  search: async () => [],
};
