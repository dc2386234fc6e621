import { describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/actions/errors.js';
import type { ActionExecutor } from '../../../src/actions/types.js';
import { Destinations } from '../../../src/delivery/destinations.js';
import { JobRunner } from '../../../src/delivery/runner.js';
import { createLogger } from '../../../src/server/logger.js';
import { MemoryJobQueue, noSearch } from '../../support/memory-job-queue.js';
import { JobWatch } from '../../support/server.js';

const unpaced = { notion: { rate: 1e6, burst: 1e6 }, slackChannel: { rate: 1e6, burst: 1e6 }, http: {} };

/** A runner over an in-memory queue, with the given executors by action type. */
function runner(actions: Record<string, ActionExecutor>, options: { maxAttempts?: number; limits?: typeof unpaced } = {}) {
  const queue = new MemoryJobQueue();
  const watch = new JobWatch();
  const r = new JobRunner({
    store: queue,
    search: noSearch,
    actions: new Map(Object.entries(actions)),
    log: createLogger('silent'),
    concurrency: 4,
    maxAttempts: options.maxAttempts ?? 5,
    maxAgeMs: 86_400_000,
    destinations: new Destinations(options.limits ?? unpaced, { baseMs: 1, maxMs: 5 }),
    leaseMs: 10_000,
    backoff: { baseMs: 1, maxMs: 5 },
    hooks: watch,
  });
  r.start();
  return { queue, watch, runner: r };
}

/** An executor that fails with `errors` in turn, then succeeds; it counts its calls. */
function flaky(errors: ActionError[]): ActionExecutor & { calls: number } {
  const exec = Object.assign(
    async () => {
      exec.calls++;
      const e = errors.shift();
      if (e) throw e;
      return { ok: true };
    },
    { calls: 0 },
  );
  return exec;
}

describe('the job runner (over an in-memory queue)', () => {
  it("runs a job's actions in order and resumes a retried job at the action that failed", async () => {
    const first = flaky([]);
    const second = flaky([new ActionError('5xx', { retriable: true })]);
    const { queue, watch, runner: r } = runner({ log: first, http: second });
    const id = queue.add([
      { type: 'log', params: {} },
      { type: 'http', params: { url: 'https://hooks.example.com/a' } },
    ]);
    await watch.until(() => watch.count('done') === 1);
    await r.stop(1000);
    expect([first.calls, second.calls]).toEqual([1, 2]); // the first action did not run again
    expect(queue.attempts.map((a) => [a.actionIndex, a.outcome])).toEqual([
      [0, 'ok'],
      [1, 'retry'],
      [1, 'ok'],
    ]);
    expect(queue.jobs.get(id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('a final error dead-letters at once; running out of attempts does too', async () => {
    const final = flaky([new ActionError('channel_not_found', { retriable: false })]);
    const failing = flaky(Array.from({ length: 10 }, () => new ActionError('5xx', { retriable: true })));
    const { queue, watch, runner: r } = runner({ slack: final, http: failing }, { maxAttempts: 3 });
    const a = queue.add([{ type: 'slack', params: { channel: '#x' } }]);
    const b = queue.add([{ type: 'http', params: { url: 'https://hooks.example.com/a' } }]);
    await watch.until(() => watch.count('dead') === 2);
    await r.stop(1000);
    expect(queue.jobs.get(a)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'channel_not_found' });
    expect(queue.jobs.get(b)).toMatchObject({ status: 'dead', attempts: 3, lastError: '5xx (gave up after 3 attempts)' });
    expect(failing.calls).toBe(3);
  });

  it('a 429 spends no attempt, however many come, and the job is delivered', async () => {
    const limited = flaky(Array.from({ length: 4 }, () => new ActionError('429', { retriable: true, flowControl: true, retryAfterMs: 1 })));
    const { queue, watch, runner: r } = runner({ slack: limited }, { maxAttempts: 1 });
    const id = queue.add([{ type: 'slack', params: { channel: '#x' } }]);
    await watch.until(() => watch.count('done') === 1);
    await r.stop(1000);
    expect(queue.jobs.get(id)).toMatchObject({ status: 'done', attempts: 0 });
    expect(limited.calls).toBe(5);
  });

  it('a job whose turn at the destination is later waits in the queue with its turn reserved, spending nothing', async () => {
    const send = flaky([]);
    const slow = { ...unpaced, slackChannel: { rate: 5, burst: 1 } };
    const { queue, watch, runner: r } = runner({ slack: send }, { limits: slow });
    const ids = [1, 2, 3].map(() => queue.add([{ type: 'slack', params: { channel: '#x' } }]));
    await watch.until(() => watch.count('done') === 3);
    await r.stop(1000);
    expect(ids.map((id) => queue.jobs.get(id)!.attempts)).toEqual([0, 0, 0]);
    expect(send.calls).toBe(3);
    expect(queue.attempts.every((a) => a.outcome === 'ok')).toBe(true); // waiting is not an attempt
    // The later turns were over 100 ms away: it waited in the queue, its turn kept with it.
    expect(queue.deferred.length).toBeGreaterThan(0);
    expect(queue.deferred.every((d) => d.turnAt === d.runAt)).toBe(true);
  });
});
