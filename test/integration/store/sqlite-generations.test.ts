import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

// Two events to a generation, two generations to a filter: 60 events fill 30 generations.
const generations = { perGeneration: 2, generationsPerFilter: 2 };

describe('SQLite event ids in generations', () => {
  it('a repeated delivery is a duplicate however many generations back the first one came, also after a restart', async () => {
    const path = join(tempDir(), 'store.db');
    const bodies = Array.from({ length: 60 }, () => eventFrom('page.created.json', {}));
    const first = SqliteStore.open(path, { server: true, generations });
    for (const b of bodies) expect(await first.insertEvent(normalize(b), JSON.stringify(b))).toEqual({ duplicate: false });
    // Each again, oldest first, in one burst (one group commit).
    const again = await Promise.all(bodies.map((b) => first.insertEvent(normalize(b), JSON.stringify(b))));
    expect(again.every((r) => r.duplicate)).toBe(true);
    await first.close();
    // The closed groups' filters are saved: the next start reads them instead of every id.
    const file = new Database(path, { readonly: true });
    expect((file.prepare('SELECT count(*) AS n FROM id_filters').get() as { n: number }).n).toBeGreaterThanOrEqual(14);
    file.close();

    // The server fills its filters from the file; a CLI process reads by id without them.
    for (const server of [true, false]) {
      const store = SqliteStore.open(path, { server, generations });
      for (const b of bodies) expect((await store.getEvent(String(b.id)))?.duplicates).toBe(server ? 1 : 2);
      if (server) for (const b of bodies) expect(await store.insertEvent(normalize(b), JSON.stringify(b))).toEqual({ duplicate: true });
      expect(await store.countEvents()).toBe(60);
      await store.close();
    }
  });

  it('a saved filter stays whole: after the newest events are gone, new ids do not go into its generations', async () => {
    const path = join(tempDir(), 'store.db');
    const old = Array.from({ length: 12 }, () => eventFrom('page.created.json', {}));
    const store = SqliteStore.open(path, { server: true, generations });
    for (const b of old) await store.insertEvent(normalize(b), JSON.stringify(b));
    await store.close();
    // Rows 6–12 deleted (as retention would if the clock had stepped back): the newest generation
    // left is in a group whose filter was saved when it closed.
    const file = new Database(path);
    file.prepare('DELETE FROM events WHERE rowid > 5').run();
    file.close();

    const fresh = Array.from({ length: 2 }, () => eventFrom('page.created.json', {}));
    const reopened = SqliteStore.open(path, { server: true, generations });
    for (const b of fresh) expect(await reopened.insertEvent(normalize(b), JSON.stringify(b))).toEqual({ duplicate: false });
    await reopened.close();
    const third = SqliteStore.open(path, { server: true, generations });
    for (const b of [...old.slice(0, 5), ...fresh]) expect(await third.insertEvent(normalize(b), JSON.stringify(b))).toEqual({ duplicate: true });
    await third.close();
  });
});
