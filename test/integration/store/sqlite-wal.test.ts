import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

describe('the SQLite store under constant writes', () => {
  it("keeps its WAL file small with the server's checkpoint worker: the writer starts the WAL over", async () => {
    const path = join(tempDir(), 'store.db');
    const store = SqliteStore.open(path, { server: true });
    let largest = 0;
    for (let batch = 0; batch < 240; batch++) {
      const writes = Array.from({ length: 250 }, () => {
        const raw = eventFrom('page.created.json');
        return store.insertEvent(normalize(raw), JSON.stringify(raw));
      });
      await Promise.all(writes);
      largest = Math.max(largest, statSync(`${path}-wal`).size);
      await new Promise((r) => setImmediate(r)); // no idle gap: writes follow each other as under load
    }
    expect(await store.countEvents()).toBe(60_000);
    // Without checkpoints that let the writer restart it, the WAL grows with the writes (~100 MB here).
    expect(largest).toBeLessThan(32 * 1024 * 1024);
    await store.close();
  });
});
