import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { migrations } from '../../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

/** A store file as the release at schema `version` left it. */
function storeAt(path: string, version: number): Database.Database {
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of migrations.filter((m) => m.version <= version)) {
    old.exec(m.sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
  }
  return old;
}

describe('an existing SQLite store', () => {
  it('written by the release before "events keep only the body" opens, and its events read as before', async () => {
    const path = join(tempDir(), 'store.db');
    const body = eventFrom('page.created.json', {});
    const event = normalize(body);
    // A version-2 store, as that release wrote it: the normalized event in its own column.
    const old = storeAt(path, 2);
    const { raw: _raw, ...rest } = event;
    old
      .prepare('INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, event, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.id, event.type, event.entity.id, event.entity.type, event.timestamp, Date.now(), JSON.stringify(rest), JSON.stringify(body));
    const dispatched = normalize(eventFrom('page.created.json', {}));
    const report = [{ rule: 'r', matched: false, reason: 'condition_false', values: { 'event.type': 'page.created' } }];
    old
      .prepare(
        "INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, event, raw, status, rules_version, report) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, 'dispatched', 'v1', ?)",
      )
      .run(
        dispatched.id,
        dispatched.type,
        dispatched.entity.id,
        dispatched.entity.type,
        dispatched.timestamp,
        Date.now(),
        JSON.stringify(dispatched.raw),
        JSON.stringify(report),
      );
    old.close();

    const store = SqliteStore.open(path);
    expect((await store.health()).schemaVersion).toBe(migrations.at(-1)!.version);
    expect((await store.getEvent(event.id))?.event).toEqual(event);
    const [claimed] = await store.claimEvents(10, Date.now(), 60_000);
    expect(claimed?.event).toEqual(event);
    // A report written by the old release still reads; a new one goes to its own table.
    expect(await store.getEvent(dispatched.id)).toMatchObject({ status: 'dispatched', rulesVersion: 'v1', report });
    await store.completeDispatch([{ eventId: event.id, entityId: event.entity.id, timestamp: event.timestamp, rulesVersion: 'v2', report: [], jobs: [] }]);
    expect(await store.getEvent(event.id)).toMatchObject({ status: 'dispatched', rulesVersion: 'v2', report: [] });
    await store.close();
  });
});

describe('a SQLite store written before event ids went into generations', () => {
  it('opens with its events, jobs and attempts; an old id is still a duplicate; retention still takes jobs and attempts along', async () => {
    const path = join(tempDir(), 'store.db');
    const old = storeAt(path, 9);
    const long = Date.parse('2026-10-01T00:00:00.000Z');
    const bodies = Array.from({ length: 3 }, () => eventFrom('page.created.json', { timestamp: '2026-10-01T00:00:00.000Z' }));
    for (const body of bodies) {
      const e = normalize(body);
      old
        .prepare(
          "INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, status, rules_version, report) VALUES (?, ?, ?, ?, ?, ?, ?, 'dispatched', 'v1', '[]')",
        )
        .run(e.id, e.type, e.entity.id, e.entity.type, e.timestamp, long, JSON.stringify(body));
    }
    const job = old.prepare("INSERT INTO jobs (id, event_id, rule_id, actions, status, run_at, created_at, updated_at) VALUES (?, ?, 'r', '[]', ?, 0, ?, ?)");
    job.run(7, bodies[0]!.id, 'done', long, long);
    job.run(8, bodies[1]!.id, 'dead', long, long);
    job.run(9, bodies[2]!.id, 'done', long, long);
    old.prepare("INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome) VALUES (?, 0, 'log', 0, 1, 'ok')").run(7);
    old.prepare("INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome) VALUES (?, 0, 'log', 0, 1, 'failed')").run(8);
    // A job id once given and pruned since: never given again.
    old.prepare("UPDATE sqlite_sequence SET seq = 20 WHERE name = 'jobs'").run();
    old.close();

    const store = SqliteStore.open(path, { server: true });
    expect((await store.health()).schemaVersion).toBe(migrations.at(-1)!.version);
    expect(await store.getEvent(String(bodies[1]!.id))).toMatchObject({ status: 'dispatched', rulesVersion: 'v1' });
    expect(await store.insertEvent(normalize(bodies[1]!), JSON.stringify(bodies[1]))).toEqual({ duplicate: true });
    expect((await store.getEvent(String(bodies[1]!.id)))?.duplicates).toBe(1);
    expect((await store.listJobs('dead', 10)).map((j) => j.id)).toEqual([8]);
    expect(await store.getAttempts(8)).toMatchObject([{ outcome: 'failed' }]);
    expect((await store.listEvents({ status: 'dead', limit: 10 })).map((e) => e.id)).toEqual([bodies[1]!.id]);

    const fresh = normalize(eventFrom('page.created.json', {}));
    expect(await store.insertEvent(fresh, JSON.stringify(fresh.raw))).toEqual({ duplicate: false });
    await store.claimEvents(10, Date.now(), 60_000);
    const [created] = await store.completeDispatch([
      { eventId: fresh.id, entityId: fresh.entity.id, timestamp: fresh.timestamp, rulesVersion: 'v2', report: [], jobs: [{ ruleId: 'r', actions: [] }] },
    ]);
    expect(created!.id).toBeGreaterThan(20);

    // The two resolved old events go with their jobs and attempts; the one with a dead job stays.
    expect(await store.prune(Date.parse('2026-11-01T00:00:00.000Z'), 100)).toEqual({ events: 2, jobs: 2 });
    expect(await store.getJobs(String(bodies[0]!.id))).toEqual([]);
    expect(await store.getAttempts(7)).toEqual([]);
    expect(await store.getEvent(String(bodies[1]!.id))).toBeDefined();
    await store.close();
  });
});
