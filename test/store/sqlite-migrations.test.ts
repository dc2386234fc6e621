import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/model/normalize.js';
import { migrations } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { eventFrom } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

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
    old.prepare('INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, event, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.id, event.type, event.entity.id, event.entity.type, event.timestamp, Date.now(), JSON.stringify(rest), JSON.stringify(body));
    old.close();

    const store = SqliteStore.open(path);
    expect((await store.health()).schemaVersion).toBe(migrations.at(-1)!.version);
    expect((await store.getEvent(event.id))?.event).toEqual(event);
    const [claimed] = await store.claimEvents(10, Date.now(), 60_000);
    expect(claimed?.event).toEqual(event);
    await store.close();
  });
});
