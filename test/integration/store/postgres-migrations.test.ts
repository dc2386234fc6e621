import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { migrations } from '../../../src/store/postgres/schema.js';
import { PostgresStore } from '../../../src/store/postgres/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { freshDatabase, PG_URL } from '../../support/pg.js';

describe.skipIf(!PG_URL)('an existing PostgreSQL store', () => {
  it('written by the release that kept the normalized event in its own column opens, and its events read as before', async () => {
    const url = await freshDatabase();
    const body = eventFrom('page.created.json', {});
    const event = normalize(body);
    // A version-1 database, as that release wrote it.
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    await old.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    await old.query(migrations[0]!.sql);
    await old.query('INSERT INTO schema_migrations VALUES (1, $1, $2)', [migrations[0]!.name, new Date().toISOString()]);
    const { raw: _raw, ...rest } = event;
    await old.query('INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, event, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      event.id,
      event.type,
      event.entity.id,
      event.entity.type,
      event.timestamp,
      Date.now(),
      JSON.stringify(rest),
      JSON.stringify(body),
    ]);
    await old.end();

    const store = await PostgresStore.open(url, 'r1');
    expect((await store.health()).schemaVersion).toBe(migrations.at(-1)!.version);
    expect((await store.getEvent(event.id))?.event).toEqual(event);
    const [claimed] = await store.claimEvents(10, Date.now(), 60_000);
    expect(claimed?.event).toEqual(event);
    await store.close();
  });
});
