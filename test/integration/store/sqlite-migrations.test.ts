import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { migrations } from '../../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

describe('an existing SQLite store', () => {
  it('written by the release before "events keep only the body" opens, and its events read as before', async () => {
    const path = join(tempDir(), 'store.db');
    const body = eventFrom('page.created.json', {});
    const event = normalize(body);
    // A version-2 store, as that release wrote it: the normalized event in its own column.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of migrations.filter((m) => m.version <= 2)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    }
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
