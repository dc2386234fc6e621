import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { migrations as pgMigrations } from '../../../src/store/postgres/schema.js';
import { PostgresStore } from '../../../src/store/postgres/store.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { ENTITY_RECORD_KEY, type Store } from '../../../src/store/types.js';
import { eventFrom } from '../../support/fixtures.js';
import { freshDatabase, PG_URL } from '../../support/pg.js';
import { tempDir } from '../../support/tmp.js';

const factories: Array<[string, () => Promise<Store>, boolean]> = [
  ['sqlite', async () => SqliteStore.open(join(tempDir(), 'store.db')), true],
  // As the server opens it: commits fsynced on the thread pool, checkpoints in a worker.
  ['sqlite (server)', async () => SqliteStore.open(join(tempDir(), 'store.db'), { server: true }), true],
  // Two events to a generation: every contract below holds with ids spread over many generations and filters.
  [
    'sqlite (small generations)',
    async () => SqliteStore.open(join(tempDir(), 'store.db'), { server: true, generations: { perGeneration: 2, generationsPerFilter: 2 } }),
    true,
  ],
  ['postgres', async () => PostgresStore.open(await freshDatabase()), Boolean(PG_URL)],
];

const ev = (overrides: Record<string, unknown> = {}) => {
  const raw = eventFrom('page.created.json', overrides);
  return { event: normalize(raw), raw: JSON.stringify(raw) };
};
const intent = (text: string) => [{ type: 'log', params: { message: text } }];

describe.each(factories)('the %s store keeps the Store contract', (_name, open, enabled) => {
  it.skipIf(!enabled)('stores an event once; the same id again is a duplicate, also under 50 concurrent inserts', async () => {
    const store = await open();
    const { event, raw } = ev();
    expect(await store.insertEvent(event, raw)).toEqual({ duplicate: false });
    expect(await store.insertEvent(event, raw)).toEqual({ duplicate: true });
    const other = ev();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.insertEvent(other.event, other.raw)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await store.countEvents()).toBe(2);
    expect((await store.getEvent(event.id))?.event).toEqual(event);
    await store.close();
  });

  it.skipIf(!enabled)('gives back the event as the receiver normalized it, also one without a timestamp and a seed envelope', async () => {
    const store = await open();
    const { timestamp: _t, ...untimed } = eventFrom('page.created.json', {});
    const seed = { object: 'event', id: 'seed-1', event_type: 'page.created', data: { object: 'page', id: 'p-1', properties: {} } };
    for (const body of [untimed, seed]) {
      const event = normalize(body, new Date('2026-11-24T08:00:00.123Z'));
      await store.insertEvent(event, JSON.stringify(body));
      expect((await store.getEvent(event.id))?.event).toEqual(event);
    }
    await store.close();
  });

  it.skipIf(!enabled)("keeps each page's latest snapshot and the one it replaced; an older one changes nothing; retention prunes old ones", async () => {
    const store = await open();
    const snap = (seenAt: string, status: string) => ({ pageId: 'page-1', seenAt, title: 'Plan', props: { Status: status, Tags: ['a', 'b'] } });
    expect(await store.snapshotOf('page-1')).toBeUndefined();
    expect(await store.recordSnapshots([snap('2026-11-20T10:00:00.000Z', 'In review')])).toBe(1);
    // Recorded with a match, in the same transaction.
    const a = ev({ timestamp: '2026-11-20T11:00:00.000Z' });
    await store.insertEvent(a.event, a.raw);
    await store.claimEvents(10, Date.now(), 60_000);
    await store.completeDispatch([
      { eventId: a.event.id, timestamp: a.event.timestamp, snapshot: snap('2026-11-20T11:00:00.000Z', 'Done'), rulesVersion: 'v', report: [], jobs: [] },
    ]);
    expect(await store.recordSnapshots([snap('2026-11-20T09:00:00.000Z', 'Draft')])).toBe(0); // out of order
    expect(await store.snapshotOf('page-1')).toEqual({
      current: { seenAt: '2026-11-20T11:00:00.000Z', title: 'Plan', props: { Status: 'Done', Tags: ['a', 'b'] } },
      previous: { seenAt: '2026-11-20T10:00:00.000Z', title: 'Plan', props: { Status: 'In review', Tags: ['a', 'b'] } },
    });
    await store.recordSnapshots([{ ...snap('2026-11-20T09:00:00.000Z', 'x'), pageId: 'page-2' }]);
    await store.prune(Date.parse('2026-11-20T10:30:00.000Z'), 100);
    expect(await store.snapshotOf('page-2')).toBeUndefined();
    expect((await store.snapshotOf('page-1'))?.current.props.Status).toBe('Done');
    await store.close();
  });

  it.skipIf(!enabled)('throttle windows: one run per key per window; the event that opened a window may claim it again', async () => {
    const store = await open();
    expect(await store.claimWindow('r', 'page-1', 'e1', 1_000, 61_000)).toBe(true);
    expect(await store.claimWindow('r', 'page-1', 'e2', 30_000, 90_000)).toBe(false);
    expect(await store.claimWindow('r', 'page-1', 'e1', 1_000, 61_000)).toBe(true); // e1 matched again after a crash
    expect(await store.claimWindow('r', 'page-2', 'e3', 30_000, 90_000)).toBe(true);
    expect(await store.claimWindow('other', 'page-1', 'e4', 30_000, 90_000)).toBe(true);
    expect(await store.claimWindow('r', 'page-1', 'e5', 61_000, 121_000)).toBe(true); // the window is over
    await store.close();
  });

  it.skipIf(!enabled)('digest groups: each event once, due at wait or max, flushed once under a claim, later items kept', async () => {
    const store = await open();
    const events = [ev(), ev(), ev()];
    for (const e of events) await store.insertEvent(e.event, e.raw);
    const entry = (i: number) => ({ ruleId: 'd', key: 'k', eventId: events[i]!.event.id, item: { n: i }, waitMs: 5_000, max: 2 });
    await store.addToDigest([entry(0)], 1_000);
    await store.addToDigest([entry(0)], 1_500); // matched again: not added twice
    expect(await store.nextDigestAt()).toBe(6_000);
    expect(await store.claimDigests('c0', 2_000, 10_000, 10)).toEqual([]); // not due yet
    await store.addToDigest([entry(1)], 2_000); // max reached: due now
    const [group] = await store.claimDigests('c1', 2_000, 10_000, 10);
    expect(group).toMatchObject({ ruleId: 'd', key: 'k', count: 2, max: 2 });
    expect(await store.claimDigests('c2', 2_000, 10_000, 10)).toEqual([]); // taken
    await store.addToDigest([entry(2)], 2_500); // arrives while the group is flushed
    const items = await store.digestItems('d', 'k', 2);
    expect(items.map((i) => i.item)).toEqual([{ n: 0 }, { n: 1 }]);
    const flush = {
      ruleId: 'd',
      key: 'k',
      eventId: items[0]!.eventId,
      actions: [{ type: 'log', params: { message: 'two' } }],
      lastItemId: items[1]!.id,
      taken: 2,
      now: 3_000,
    };
    expect(await store.completeDigest({ ...flush, claim: 'not-mine' })).toBe(false);
    expect(await store.completeDigest({ ...flush, claim: 'c1' })).toBe(true);
    expect(await store.completeDigest({ ...flush, claim: 'c1' })).toBe(false); // once
    expect((await store.getJobs(events[0]!.event.id)).map((j) => [j.ruleId, j.actions])).toEqual([['d', flush.actions]]);
    // The late item opened the group again, due `wait` after the flush.
    expect(await store.nextDigestAt()).toBe(8_000);
    expect((await store.digestItems('d', 'k', 10)).map((i) => i.item)).toEqual([{ n: 2 }]);
    await store.close();
  });

  it.skipIf(!enabled)('waits (after): one per rule and entity, restarted or cancelled, checked once under a claim', async () => {
    const store = await open();
    const [a, b] = [ev(), ev()];
    for (const e of [a, b]) await store.insertEvent(e.event, e.raw);
    await store.scheduleDelay('w', 'page-1', a.event.id, 5_000, false);
    await store.scheduleDelay('w', 'page-1', b.event.id, 9_000, false); // a pending wait goes on
    expect(await store.nextDelayAt()).toBe(5_000);
    expect(await store.restartDelay('w', 'page-1', b.event.id, 7_000)).toBe(true);
    expect(await store.restartDelay('w', 'page-2', b.event.id, 7_000)).toBe(false); // none pending
    expect(await store.claimDelays('c0', 6_000, 10_000, 10)).toEqual([]);
    expect(await store.claimDelays('c1', 7_000, 10_000, 10)).toEqual([{ ruleId: 'w', key: 'page-1', eventId: b.event.id, dueAt: 7_000 }]);
    expect(await store.claimDelays('c2', 7_000, 10_000, 10)).toEqual([]); // taken
    const done = { ruleId: 'w', key: 'page-1', eventId: b.event.id, actions: [{ type: 'log', params: { message: 'still' } }], now: 7_500 };
    expect(await store.completeDelay({ ...done, claim: 'c2' })).toBe(false);
    expect(await store.completeDelay({ ...done, claim: 'c1' })).toBe(true);
    expect((await store.getJobs(b.event.id)).map((j) => j.ruleId)).toEqual(['w']);
    expect(await store.nextDelayAt()).toBeUndefined();
    await store.scheduleDelay('w', 'page-3', a.event.id, 5_000, false);
    expect(await store.cancelDelay('w', 'page-3')).toBe(true);
    expect(await store.nextDelayAt()).toBeUndefined();
    await store.close();
  });

  it.skipIf(!enabled)('claims new events, writes their jobs once, and tracks the latest time per entity', async () => {
    const store = await open();
    const a = ev({ timestamp: '2026-11-20T10:00:00.000Z' });
    await store.insertEvent(a.event, a.raw);
    const [claimed] = await store.claimEvents(10, Date.now(), 60_000);
    expect(claimed?.event.id).toBe(a.event.id);
    expect(await store.claimEvents(10, Date.now(), 60_000)).toEqual([]); // leased
    const result = {
      eventId: a.event.id,
      entityId: a.event.entity.id,
      timestamp: a.event.timestamp,
      rulesVersion: 'v1',
      report: [{ rule: 'r', matched: true }],
      jobs: [{ ruleId: 'r', actions: intent('x') }],
    };
    expect(await store.completeDispatch([result])).toHaveLength(1);
    expect(await store.completeDispatch([result])).toHaveLength(0);
    expect(await store.getEvent(a.event.id)).toMatchObject({ status: 'dispatched', rulesVersion: 'v1', report: [{ rule: 'r', matched: true }] });
    expect(await store.isStale(a.event.entity.id, '2026-11-20T09:00:00.000Z')).toBe(true);
    expect(await store.isStale(a.event.entity.id, '2026-11-20T11:00:00.000Z')).toBe(false);
    await store.close();
  });

  it.skipIf(!enabled)('rebuilds the latest time per entity from the events dispatched while tracking was off', async () => {
    const store = await open();
    const dispatch = async (timestamp: string, entity: string, tracked: boolean) => {
      const e = ev({ timestamp, entity: { id: entity, type: 'page' } });
      await store.insertEvent(e.event, e.raw);
      await store.claimEvents(10, Date.now(), 60_000);
      await store.completeDispatch([{ eventId: e.event.id, ...(tracked ? { entityId: entity } : {}), timestamp, rulesVersion: 'v', report: [], jobs: [] }]);
    };
    await store.trackEntities(true); // a new store's record is complete: nothing to rebuild
    await dispatch('2026-11-20T10:00:00.000Z', 'page-a', true);
    await store.trackEntities(false);
    await dispatch('2026-11-20T12:00:00.000Z', 'page-a', false);
    await dispatch('2026-11-20T12:00:00.000Z', 'page-b', false);
    const waiting = ev({ timestamp: '2026-11-20T13:00:00.000Z', entity: { id: 'page-c', type: 'page' } });
    await store.insertEvent(waiting.event, waiting.raw); // stored, not dispatched: not "already processed"
    expect(await store.isStale('page-a', '2026-11-20T11:00:00.000Z')).toBe(false); // not recorded yet

    await store.trackEntities(true);
    expect(await store.isStale('page-a', '2026-11-20T11:00:00.000Z')).toBe(true);
    expect(await store.isStale('page-a', '2026-11-20T12:30:00.000Z')).toBe(false);
    expect(await store.isStale('page-b', '2026-11-20T11:00:00.000Z')).toBe(true);
    expect(await store.isStale('page-c', '2026-11-20T12:00:00.000Z')).toBe(false);
    expect(await store.getMeta(ENTITY_RECORD_KEY)).toBe('complete');
    await store.close();
  });

  it.skipIf(!enabled)('stores an event no rule listens to as matched already, its entity recorded when given', async () => {
    const store = await open();
    const a = ev({ timestamp: '2026-11-20T10:00:00.000Z', entity: { id: 'page-m', type: 'page' } });
    expect(await store.insertEvent(a.event, a.raw, { matched: { rulesVersion: 'v7', entityId: 'page-m' } })).toEqual({ duplicate: false });
    expect(await store.getEvent(a.event.id)).toMatchObject({ status: 'dispatched', rulesVersion: 'v7', report: [], dispatchAttempts: 1, duplicates: 0 });
    expect(await store.claimEvents(10, Date.now(), 60_000)).toEqual([]);
    expect(await store.getJobs(a.event.id)).toEqual([]);
    expect(await store.isStale('page-m', '2026-11-20T09:00:00.000Z')).toBe(true);
    expect(await store.insertEvent(a.event, a.raw, { matched: { rulesVersion: 'v8', entityId: 'page-m' } })).toEqual({ duplicate: true });
    expect(await store.getEvent(a.event.id)).toMatchObject({ rulesVersion: 'v7', duplicates: 1 });
    const b = ev({ timestamp: '2026-11-20T11:00:00.000Z', entity: { id: 'page-n', type: 'page' } });
    await store.insertEvent(b.event, b.raw, { matched: { rulesVersion: 'v7' } }); // tracking off: not recorded
    expect(await store.isStale('page-n', '2026-11-20T09:00:00.000Z')).toBe(false);
    await store.close();
  });

  it.skipIf(!enabled)('stores up to lease.max new jobs already claimed, the rest pending for claimJobs', async () => {
    const store = await open();
    const a = ev();
    await store.insertEvent(a.event, a.raw);
    await store.claimEvents(10, Date.now(), 60_000);
    const rules = ['r1', 'r2', 'r3'].map((ruleId) => ({ ruleId, actions: intent(ruleId) }));
    const jobs = await store.completeDispatch([{ eventId: a.event.id, timestamp: a.event.timestamp, rulesVersion: 'v', report: [], jobs: rules }], {
      until: Date.now() + 60_000,
      max: 2,
    });
    expect(jobs.map((j) => [j.ruleId, j.status])).toEqual([
      ['r1', 'running'],
      ['r2', 'running'],
      ['r3', 'pending'],
    ]);
    expect((await store.claimJobs(10, Date.now(), 60_000)).map((j) => j.ruleId)).toEqual(['r3']); // the leased two are ours already
    // A claimed job records its attempts like one from claimJobs.
    expect(
      await store.recordAttempt(
        { jobId: jobs[0]!.id, actionIndex: 0, actionType: 'log', startedAt: Date.now(), durationMs: 1, outcome: 'ok' },
        { nextAction: 1, status: 'done', attempts: 0, runAt: jobs[0]!.runAt, lastError: null },
      ),
    ).toBe(true);
    expect((await store.getJobs(a.event.id)).map((j) => j.status)).toEqual(['done', 'running', 'running']);
    await store.close();
  });

  it.skipIf(!enabled)('runs jobs through attempts: resume point, dead letters, replay, counts and listings', async () => {
    const store = await open();
    const a = ev();
    await store.insertEvent(a.event, a.raw);
    await store.claimEvents(10, Date.now(), 60_000);
    const [job] = await store.completeDispatch([
      {
        eventId: a.event.id,
        entityId: '',
        timestamp: a.event.timestamp,
        rulesVersion: 'v',
        report: [],
        jobs: [{ ruleId: 'r', actions: [...intent('1'), ...intent('2')] }],
      },
    ]);
    const [claimed] = await store.claimJobs(5, Date.now(), 60_000);
    expect(claimed).toMatchObject({ id: job!.id, status: 'running', nextAction: 0 });
    expect(
      await store.recordAttempt(
        { jobId: job!.id, actionIndex: 0, actionType: 'log', startedAt: Date.now(), durationMs: 1, outcome: 'ok' },
        { nextAction: 1, status: 'running', attempts: 0, runAt: 0, lastError: null },
      ),
    ).toBe(true);
    expect(
      await store.recordAttempt(
        { jobId: job!.id, actionIndex: 1, actionType: 'log', startedAt: Date.now(), durationMs: 2, outcome: 'dead', error: 'boom' },
        { nextAction: 1, status: 'dead', attempts: 1, runAt: 0, lastError: 'boom' },
      ),
    ).toBe(true);
    expect((await store.listEvents({ status: 'dead', limit: 10 })).map((e) => e.id)).toEqual([a.event.id]);
    expect(await store.counts()).toMatchObject({ dead: 1, pending: 0, running: 0 });
    expect((await store.getAttempts(job!.id)).map((x) => x.outcome)).toEqual(['ok', 'dead']);
    expect(await store.replayEvent(a.event.id, Date.now())).toEqual({ jobs: 1, rematch: false });
    const [again] = await store.claimJobs(5, Date.now(), 60_000);
    expect(again).toMatchObject({ id: job!.id, nextAction: 1, attempts: 0 }); // resumes at the failed action

    // One job replayed alone: only a dead job, and only once.
    expect(
      await store.recordAttempt(
        { jobId: job!.id, actionIndex: 1, actionType: 'log', startedAt: Date.now(), durationMs: 2, outcome: 'dead', error: 'again' },
        { nextAction: 1, status: 'dead', attempts: 1, runAt: 0, lastError: 'again' },
      ),
    ).toBe(true);
    expect(await store.replayJob(job!.id, Date.now())).toBe(true);
    expect(await store.replayJob(job!.id, Date.now())).toBe(false);
    expect(await store.replayJob(999_999, Date.now())).toBe(false);
    expect(await store.claimJobs(5, Date.now(), 60_000)).toMatchObject([{ id: job!.id, nextAction: 1, attempts: 0 }]);

    // Re-rendered (replay --rerender): new actions, resumed at the failed one, recorded as such.
    expect(
      await store.recordAttempt(
        { jobId: job!.id, actionIndex: 1, actionType: 'log', startedAt: Date.now(), durationMs: 2, outcome: 'dead', error: 'third' },
        { nextAction: 1, status: 'dead', attempts: 1, runAt: 0, lastError: 'third' },
      ),
    ).toBe(true);
    const fixed = [...intent('1'), ...intent('2 fixed')];
    expect(await store.rerenderJob(job!.id, fixed, 're-rendered from rules version v2', Date.now())).toBe(true);
    expect(await store.rerenderJob(job!.id, fixed, 'twice', Date.now())).toBe(false); // no longer dead
    expect(await store.claimJobs(5, Date.now(), 60_000)).toMatchObject([{ id: job!.id, nextAction: 1, attempts: 0, actions: fixed, lastError: null }]);
    expect((await store.getAttempts(job!.id)).at(-1)).toMatchObject({ outcome: 'rerendered', actionIndex: 1, error: 're-rendered from rules version v2' });
    await store.close();
  });

  it.skipIf(!enabled)('lists the newest events of each status, newest first, with their jobs counted', async () => {
    const store = await open();
    const later = () => {
      const t = Date.now();
      while (Date.now() === t); // a distinct received_at for each event, so newest-first is one order
    };
    const [processed, dead, pending, failed, fresh] = [ev(), ev(), ev(), ev(), ev()];
    for (const e of [processed, dead, pending, failed]) {
      await store.insertEvent(e.event, e.raw);
      later();
    }
    await store.claimEvents(10, Date.now(), 60_000);
    const dispatch = (e: typeof processed, rules: string[], failed = false) => ({
      eventId: e.event.id,
      timestamp: e.event.timestamp,
      rulesVersion: 'v',
      report: [],
      failed,
      jobs: rules.map((ruleId) => ({ ruleId, actions: intent(ruleId) })),
    });
    const jobs = await store.completeDispatch([
      dispatch(processed, ['a']),
      dispatch(dead, ['a', 'b']),
      dispatch(pending, ['a', 'b']),
      dispatch(failed, [], true),
    ]);
    await store.insertEvent(fresh.event, fresh.raw);
    const finish = async (jobId: number, status: 'done' | 'dead') => {
      await store.recordAttempt(
        { jobId, actionIndex: 0, actionType: 'log', startedAt: Date.now(), durationMs: 1, outcome: status === 'done' ? 'ok' : 'dead' },
        { nextAction: 1, status, attempts: 1, runAt: 0, lastError: status === 'dead' ? 'boom' : null },
      );
    };
    expect(await store.claimJobs(10, Date.now(), 60_000)).toHaveLength(5);
    const of = (e: typeof processed) => jobs.filter((j) => j.eventId === e.event.id).map((j) => j.id);
    await finish(of(processed)[0]!, 'done');
    await finish(of(dead)[0]!, 'dead');
    await finish(of(dead)[1]!, 'done');
    await finish(of(pending)[0]!, 'done');

    const ids = async (status?: 'new' | 'failed' | 'dead' | 'pending' | 'processed', limit = 10) =>
      (await store.listEvents({ limit, ...(status ? { status } : {}) })).map((e) => e.id);
    expect(await ids()).toEqual([fresh, failed, pending, dead, processed].map((e) => e.event.id));
    expect(await ids(undefined, 2)).toEqual([fresh.event.id, failed.event.id]);
    expect(await ids('new')).toEqual([fresh.event.id]);
    expect(await ids('failed')).toEqual([failed.event.id]);
    expect(await ids('dead')).toEqual([dead.event.id]);
    expect(await ids('pending')).toEqual([pending.event.id]);
    expect(await ids('processed')).toEqual([processed.event.id]);
    const summaries = Object.fromEntries((await store.listEvents({ limit: 10 })).map((e) => [e.id, [e.status, e.jobs]]));
    expect(summaries[dead.event.id]).toEqual(['dead', { total: 2, done: 1, dead: 1, pending: 0, shadow: 0 }]);
    expect(summaries[pending.event.id]).toEqual(['pending', { total: 2, done: 1, dead: 0, pending: 1, shadow: 0 }]);
    expect(summaries[processed.event.id]).toEqual(['processed', { total: 1, done: 1, dead: 0, pending: 0, shadow: 0 }]);
    expect(await store.counts()).toMatchObject({ pending: 0, running: 1, dead: 1, eventsToDispatch: 1, failedEvents: 1 });
    await store.close();
  });

  it.skipIf(!enabled)(
    'keeps an event a rule failed for as failed until replayed; a replay hands it back to the matcher, and no job is written twice',
    async () => {
      const store = await open();
      const a = ev();
      await store.insertEvent(a.event, a.raw);
      await store.claimEvents(10, Date.now(), 60_000);
      expect(await store.counts()).toMatchObject({ oldestNewReceivedAt: expect.any(Number), oldestPendingRunAt: null });
      const report = [
        { rule: 'ok', matched: true, actions: 1 },
        { rule: 'broken', matched: false, reason: 'fetch_error', error: 'no token' },
      ];
      await store.completeDispatch([
        { eventId: a.event.id, timestamp: a.event.timestamp, rulesVersion: 'v', report, failed: true, jobs: [{ ruleId: 'ok', actions: intent('ok') }] },
      ]);
      expect(await store.getEvent(a.event.id)).toMatchObject({ status: 'failed', report });
      expect((await store.listEvents({ status: 'failed', limit: 10 })).map((e) => [e.id, e.status])).toEqual([[a.event.id, 'failed']]);
      expect(await store.listEvents({ status: 'processed', limit: 10 })).toEqual([]);
      expect(await store.counts()).toMatchObject({ failedEvents: 1, eventsToDispatch: 0, oldestNewReceivedAt: null, oldestPendingRunAt: expect.any(Number) });
      expect(await store.claimEvents(10, Date.now(), 60_000)).toEqual([]);

      expect(await store.replayEvent(a.event.id, Date.now())).toEqual({ jobs: 0, rematch: true });
      expect(await store.replayEvent(a.event.id, Date.now())).toEqual({ jobs: 0, rematch: false });
      const [again] = await store.claimEvents(10, Date.now(), 60_000);
      expect(again).toMatchObject({ status: 'new', report }); // the matcher sees which rules failed
      const retried = [
        { rule: 'ok', matched: true, actions: 1 },
        { rule: 'broken', matched: true, actions: 1 },
      ];
      const jobs = await store.completeDispatch([
        {
          eventId: a.event.id,
          timestamp: a.event.timestamp,
          rulesVersion: 'v',
          report: retried,
          failed: false,
          jobs: [
            { ruleId: 'ok', actions: intent('ok') },
            { ruleId: 'broken', actions: intent('b') },
          ],
        },
      ]);
      expect(jobs.map((j) => j.ruleId)).toEqual(['broken']);
      expect(await store.getEvent(a.event.id)).toMatchObject({ status: 'dispatched', report: retried });
      expect(await store.counts()).toMatchObject({ failedEvents: 0 });

      // replayFailed hands back every failed event.
      const b = ev();
      await store.insertEvent(b.event, b.raw);
      await store.claimEvents(10, Date.now(), 60_000);
      await store.completeDispatch([{ eventId: b.event.id, timestamp: b.event.timestamp, rulesVersion: 'v', report, failed: true, jobs: [] }]);
      expect(await store.replayFailed(Date.now())).toBe(1);
      expect(await store.replayFailed(Date.now())).toBe(0);
      expect((await store.claimEvents(10, Date.now(), 60_000)).map((e) => e.event.id)).toEqual([b.event.id]);
      await store.close();
    },
  );

  it.skipIf(!enabled)(
    'prunes resolved events past the cutoff with their jobs and attempts, in batches; new, failed, dead and recently resolved ones stay',
    async () => {
      const store = await open();
      const dispatched = async (jobs: string[], failed = false) => {
        const e = ev();
        await store.insertEvent(e.event, e.raw);
        await store.claimEvents(10, Date.now(), 60_000);
        const made = await store.completeDispatch([
          {
            eventId: e.event.id,
            timestamp: e.event.timestamp,
            rulesVersion: 'v',
            report: [],
            failed,
            jobs: jobs.map((ruleId) => ({ ruleId, actions: intent(ruleId) })),
          },
        ]);
        return { id: e.event.id, jobs: made };
      };
      const finish = async (jobId: number, status: 'done' | 'dead') =>
        store.recordAttempt(
          { jobId, actionIndex: 0, actionType: 'log', startedAt: Date.now(), durationMs: 1, outcome: status === 'done' ? 'ok' : 'dead' },
          { nextAction: status === 'done' ? 1 : 0, status, attempts: 0, runAt: 0, lastError: null },
        );
      const processed = await dispatched(['r']);
      await store.claimJobs(10, Date.now(), 60_000);
      await finish(processed.jobs[0]!.id, 'done');
      const dead = await dispatched(['r']);
      await store.claimJobs(10, Date.now(), 60_000);
      await finish(dead.jobs[0]!.id, 'dead');
      const failed = await dispatched([], true);
      const noJobs = await dispatched([]);
      const waiting = ev();
      await store.insertEvent(waiting.event, waiting.raw);
      const late = await dispatched(['r']);
      const spin = Date.now();
      while (Date.now() <= spin + 1); // the cutoff falls between its arrival and its job's end
      const cutoff = Date.now();
      await store.claimJobs(10, Date.now(), 60_000);
      while (Date.now() <= cutoff); // its job ends after the cutoff
      await finish(late.jobs[0]!.id, 'done');

      expect(await store.prune(cutoff, 0, true)).toEqual({ events: 2, jobs: 1 });
      expect(await store.countEvents()).toBe(6);
      // Oldest first: the processed event (one job), then the one without jobs.
      expect(await store.prune(cutoff, 1)).toEqual({ events: 1, jobs: 1 });
      expect(await store.prune(cutoff, 1)).toEqual({ events: 1, jobs: 0 });
      expect(await store.prune(cutoff, 1)).toEqual({ events: 0, jobs: 0 });
      for (const gone of [processed.id, noJobs.id]) expect(await store.getEvent(gone)).toBeUndefined();
      for (const kept of [dead.id, failed.id, waiting.event.id, late.id]) expect(await store.getEvent(kept)).toBeDefined();
      expect(await store.getJobs(processed.id)).toEqual([]);
      expect(await store.getAttempts(processed.jobs[0]!.id)).toEqual([]);
      expect(await store.sizeBytes()).toBeGreaterThan(0);
      await store.close();
    },
  );

  it.skipIf(!enabled)('defers a running job to a later time with nothing recorded and no attempt spent', async () => {
    const store = await open();
    const a = ev();
    await store.insertEvent(a.event, a.raw);
    await store.claimEvents(10, Date.now(), 60_000);
    await store.completeDispatch([
      { eventId: a.event.id, timestamp: a.event.timestamp, rulesVersion: 'v', report: [], jobs: [{ ruleId: 'r', actions: intent('x') }] },
    ]);
    const [job] = await store.claimJobs(5, Date.now(), 60_000);
    const later = Date.now() + 60_000;
    expect(await store.deferJob(job!.id, later, later)).toBe(true);
    expect(await store.deferJob(job!.id, later, later)).toBe(false); // no longer running: not ours to defer
    expect(await store.claimJobs(5, Date.now(), 60_000)).toEqual([]);
    // Its turn at the destination is kept with it, for whichever replica claims it.
    expect(await store.claimJobs(5, later, 60_000)).toMatchObject([{ id: job!.id, attempts: 0, nextAction: 0, turnAt: later }]);
    expect(await store.getAttempts(job!.id)).toEqual([]);
    // Recording the action's outcome ends the reservation.
    await store.recordAttempt(
      { jobId: job!.id, actionIndex: 0, actionType: 'log', startedAt: later, durationMs: 1, outcome: 'ok' },
      { nextAction: 1, status: 'done', attempts: 0, runAt: later, lastError: null },
    );
    expect((await store.getJobs(a.event.id))[0]!.turnAt).toBeNull();
    await store.close();
  });

  it.skipIf(!enabled)('an event waiting for its turn at Notion keeps it and spends no attempt; hasten makes waiting jobs and events due now', async () => {
    const store = await open();
    const [a, b] = [ev(), ev()];
    await store.insertEvent(a.event, a.raw);
    await store.insertEvent(b.event, b.raw);
    const now = Date.now();
    await store.claimEvents(10, now, 60_000);
    const later = now + 60_000;
    await store.deferDispatch(a.event.id, 'waiting for Notion', later, { turnAt: later });
    await store.deferDispatch(b.event.id, 'Notion unreachable', later);
    const claimed = await store.claimEvents(10, later, 60_000);
    const of = (id: string) => claimed.find((e) => e.event.id === id)!;
    expect([of(a.event.id), of(b.event.id)].map((e) => [e.dispatchAttempts, e.turnAt])).toEqual([
      [0, later],
      [1, null],
    ]);
    await store.completeDispatch([
      { eventId: a.event.id, timestamp: a.event.timestamp, rulesVersion: 'v', report: [], jobs: [{ ruleId: 'r', actions: intent('x') }] },
    ]);
    const [job] = await store.claimJobs(5, Date.now(), 60_000);
    await store.deferJob(job!.id, later);
    await store.deferDispatch(b.event.id, 'Notion paused', later, {});
    await store.hasten([job!.id], [b.event.id], now);
    expect(await store.claimJobs(5, now, 60_000)).toMatchObject([{ id: job!.id }]);
    expect((await store.claimEvents(10, now + 60_001, 60_000)).map((e) => e.event.id)).toEqual([b.event.id]);
    await store.close();
  });

  it.skipIf(!enabled)('indexes, finds by a word or prefix, and deletes documents', async () => {
    const store = await open();
    await store.indexDocument({ id: 'p1', title: 'Launch plan', text: 'Reduce time to first value for new workspaces', url: 'https://n/p1', fields: {} });
    await store.indexDocument({ id: 'p1', title: 'Launch plan v2', text: 'Onboarding checklist', url: 'https://n/p1', fields: {} });
    expect(await store.search('workspaces', 5)).toEqual([]); // replaced, not duplicated
    const hits = await store.search('onboard', 5);
    expect(hits).toEqual([{ id: 'p1', title: 'Launch plan v2', url: 'https://n/p1', snippet: expect.stringContaining('[Onboarding]') }]);
    expect(await store.search('"; DROP TABLE --', 5)).toEqual([]);
    expect(await store.deleteDocument('p1')).toBe(true);
    expect(await store.search('onboarding', 5)).toEqual([]);
    await store.close();
  });

  it.skipIf(!enabled)('reads its history a page at a time in arrival order, from a time or the last N', async () => {
    const store = await open();
    for (let i = 0; i < 7; i++) {
      const { event, raw } = ev({ id: `h-${i}` });
      await store.insertEvent(event, raw);
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.historyEvents(0, cursor, 3);
      ids.push(...page.events.map((e) => e.event.id));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(ids).toEqual(Array.from({ length: 7 }, (_, i) => `h-${i}`));
    expect(pages).toBe(3);
    expect(await store.nthLatestReceivedAt(100)).toBeUndefined();
    const since = (await store.nthLatestReceivedAt(2))!;
    expect((await store.historyEvents(since, null, 100)).events.length).toBeGreaterThanOrEqual(2);
    expect((await store.historyEvents(Date.now() + 60_000, null, 100)).events).toEqual([]);
    await store.close();
  });

  it.skipIf(!enabled)('adds flow counts per minute (replicas add up, lag keeps the largest), reads a range, prunes with retention', async () => {
    const store = await open();
    const m = Math.floor(Date.parse('2026-11-30T12:00:00Z') / 60_000);
    await store.addFlow([
      { series: 'events.received', item: '', minute: m, value: 3 },
      { series: 'rule.matched', item: 'ship', minute: m, value: 2 },
      { series: 'lag.jobs', item: '', minute: m, value: 1500 },
    ]);
    // A second writer (another replica, a later flush) for the same minutes.
    await store.addFlow([
      { series: 'events.received', item: '', minute: m, value: 4 },
      { series: 'events.received', item: '', minute: m + 1, value: 1 },
      { series: 'lag.jobs', item: '', minute: m, value: 900 },
      { series: 'actions.delivered', item: 'slack:#ship', minute: m - 30, value: 5 },
    ]);
    const rows = await store.readFlow(['events.received', 'lag.jobs', 'rule.matched'], m, m + 1);
    expect(rows.sort((a, b) => a.series.localeCompare(b.series) || a.minute - b.minute)).toEqual([
      { series: 'events.received', item: '', minute: m, value: 7 },
      { series: 'events.received', item: '', minute: m + 1, value: 1 },
      { series: 'lag.jobs', item: '', minute: m, value: 1500 },
      { series: 'rule.matched', item: 'ship', minute: m, value: 2 },
    ]);
    expect(await store.readFlow(['actions.delivered'], m - 60, m)).toEqual([{ series: 'actions.delivered', item: 'slack:#ship', minute: m - 30, value: 5 }]);
    await store.prune((m - 10) * 60_000, 100);
    expect(await store.readFlow(['actions.delivered'], m - 60, m)).toEqual([]);
    expect(await store.readFlow(['events.received'], m - 60, m + 60)).toHaveLength(2);
    await store.close();
  });

  it.skipIf(!enabled)("reads the flow per bucket of minutes: counts summed, lag its largest, each at its bucket's first minute", async () => {
    const store = await open();
    const q = 15 * Math.floor(Date.parse('2026-11-30T12:00:00Z') / 60_000 / 15); // a bucket's first minute
    await store.addFlow([
      { series: 'events.received', item: '', minute: q, value: 3 },
      { series: 'events.received', item: '', minute: q + 14, value: 4 },
      { series: 'events.received', item: '', minute: q + 15, value: 1 },
      { series: 'lag.jobs', item: '', minute: q + 2, value: 900 },
      { series: 'lag.jobs', item: '', minute: q + 9, value: 1500 },
      { series: 'rule.matched', item: 'a', minute: q + 1, value: 2 },
      { series: 'rule.matched', item: 'b', minute: q + 1, value: 5 },
      { series: 'rule.matched', item: 'a', minute: q + 7, value: 1 },
    ]);
    const rows = await store.readFlow(['events.received', 'lag.jobs', 'rule.matched'], q, q + 29, 15);
    expect(rows.sort((a, b) => a.series.localeCompare(b.series) || a.item.localeCompare(b.item) || a.minute - b.minute)).toEqual([
      { series: 'events.received', item: '', minute: q, value: 7 },
      { series: 'events.received', item: '', minute: q + 15, value: 1 },
      { series: 'lag.jobs', item: '', minute: q, value: 1500 },
      { series: 'rule.matched', item: 'a', minute: q, value: 3 },
      { series: 'rule.matched', item: 'b', minute: q, value: 5 },
    ]);
    await store.close();
  });

  it.skipIf(!enabled)('pauses and resumes rules, each recorded in the audit log; a pause with an end lapses on its own', async () => {
    const store = await open();
    const now = 1_800_000_000_000;
    await store.pauseRule('a', { source: 'admin-api', reason: 'floods #ops' }, now);
    await store.pauseRule('b', { source: 'cli', until: now + 60_000 }, now + 1);
    expect((await store.pausedRules(now + 2)).map((p) => [p.ruleId, p.until, p.source, p.reason])).toEqual([
      ['a', null, 'admin-api', 'floods #ops'],
      ['b', now + 60_000, 'cli', null],
    ]);
    expect((await store.pausedRules(now + 60_000)).map((p) => p.ruleId)).toEqual(['a']); // b's pause lapsed
    expect(await store.resumeRule('a', 'console', now + 3)).toBe(true);
    expect(await store.resumeRule('a', 'console', now + 4)).toBe(false); // not paused: nothing recorded
    await store.recordAudit({ at: now + 5, action: 'reload', source: 'watch', detail: { ok: true, added: ['c'] } });
    expect((await store.listAudit({ limit: 10 })).map((e) => [e.action, e.ruleId, e.source, e.detail])).toEqual([
      ['reload', null, 'watch', { ok: true, added: ['c'] }],
      ['resume', 'a', 'console', {}],
      ['pause', 'b', 'cli', { until: new Date(now + 60_000).toISOString() }],
      ['pause', 'a', 'admin-api', { reason: 'floods #ops' }],
    ]);
    expect((await store.listAudit({ limit: 10, ruleId: 'c' })).map((e) => e.action)).toEqual(['reload']); // named in a reload's detail
    const [newest] = await store.listAudit({ limit: 1 });
    expect((await store.listAudit({ limit: 10, before: newest!.id })).length).toBe(3);
    await store.close();
  });

  it.skipIf(!enabled)("records a shadow rule's job without running it; it counts apart and does not hold its event back", async () => {
    const store = await open();
    const { event, raw } = ev();
    await store.insertEvent(event, raw);
    await store.claimEvents(10, Date.now(), 60_000);
    const jobs = await store.completeDispatch([
      {
        eventId: event.id,
        timestamp: event.timestamp,
        rulesVersion: 'v',
        report: [],
        jobs: [
          { ruleId: 'live', actions: intent('sent') },
          { ruleId: 'shadow', actions: intent('would be sent'), shadow: true },
        ],
      },
    ]);
    expect(jobs.map((j) => j.ruleId)).toEqual(['live']); // only the live job is handed to the runner
    expect((await store.getJobs(event.id)).map((j) => [j.ruleId, j.status])).toEqual([
      ['live', 'pending'],
      ['shadow', 'shadow'],
    ]);
    expect(await store.nextRunAt()).not.toBeNull();
    expect((await store.claimJobs(10, Date.now() + 1000, 60_000)).map((j) => j.ruleId)).toEqual(['live']); // never the shadow one
    const counts = await store.counts();
    expect([counts.shadow, counts.pending + counts.running]).toEqual([1, 1]);
    const [summary] = await store.listEvents({ limit: 1 });
    expect(summary!.jobs).toMatchObject({ total: 2, shadow: 1, pending: 1 });
    expect(summary!.status).toBe('pending'); // the live job's; the shadow one never holds it back
    await store.close();
  });
});

describe.skipIf(!PG_URL)('PostgreSQL shared by replicas', () => {
  it('two replicas draining one queue never take the same job', async () => {
    const url = await freshDatabase();
    const [r1, r2] = [await PostgresStore.open(url, 'r1'), await PostgresStore.open(url, 'r2')];
    const results = [];
    for (let i = 0; i < 40; i++) {
      const a = ev();
      await r1.insertEvent(a.event, a.raw);
      results.push({
        eventId: a.event.id,
        entityId: '',
        timestamp: a.event.timestamp,
        rulesVersion: 'v',
        report: [],
        jobs: [{ ruleId: 'r', actions: intent('x') }],
      });
    }
    await r1.completeDispatch(results);
    const [a, b] = await Promise.all([r1.claimJobs(25, Date.now(), 60_000), r2.claimJobs(25, Date.now(), 60_000)]);
    const ids = [...a, ...b].map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(40);
    await r1.close();
    await r2.close();
  });

  it("a dead replica's job is taken over after its lease, at the first unfinished action; the old owner is told", async () => {
    const url = await freshDatabase();
    const [dead, alive] = [await PostgresStore.open(url, 'dead'), await PostgresStore.open(url, 'alive')];
    const a = ev();
    await dead.insertEvent(a.event, a.raw);
    await dead.completeDispatch([
      {
        eventId: a.event.id,
        entityId: '',
        timestamp: a.event.timestamp,
        rulesVersion: 'v',
        report: [],
        jobs: [{ ruleId: 'r', actions: [...intent('1'), ...intent('2')] }],
      },
    ]);
    const now = Date.now();
    const [job] = await dead.claimJobs(1, now, 1000);
    await dead.recordAttempt(
      { jobId: job!.id, actionIndex: 0, actionType: 'log', startedAt: now, durationMs: 1, outcome: 'ok' },
      { nextAction: 1, status: 'running', attempts: 0, runAt: now, lastError: null },
    );
    expect(await alive.claimJobs(1, now + 500, 1000)).toEqual([]); // lease still valid
    const [taken] = await alive.claimJobs(1, now + 1500, 60_000); // lease expired
    expect(taken).toMatchObject({ id: job!.id, nextAction: 1 });
    const stale = await dead.recordAttempt(
      { jobId: job!.id, actionIndex: 1, actionType: 'log', startedAt: now, durationMs: 1, outcome: 'ok' },
      { nextAction: 2, status: 'done', attempts: 0, runAt: now, lastError: null },
    );
    expect(stale).toBe(false);
    expect(
      await alive.recordAttempt(
        { jobId: job!.id, actionIndex: 1, actionType: 'log', startedAt: now, durationMs: 1, outcome: 'ok' },
        { nextAction: 2, status: 'done', attempts: 0, runAt: now, lastError: null },
      ),
    ).toBe(true);
    await dead.close();
    await alive.close();
  });

  it('replicas starting at once apply the migrations once', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all([1, 2, 3].map((i) => PostgresStore.open(url, `r${i}`)));
    expect((await stores[0]!.health()).schemaVersion).toBe(pgMigrations.at(-1)!.version);
    for (const s of stores) await s.close();
  });
});
