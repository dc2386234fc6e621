import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { eventFrom } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

describe('the SQLite store’s files', () => {
  it('are readable by their owner only when the store creates them: folder 0700, database, WAL and shared memory 0600', async () => {
    const dir = join(tempDir(), 'data', 'nested');
    const path = join(dir, 'store.db');
    const store = SqliteStore.open(path, { server: true });
    const raw = eventFrom('page.created.json');
    await store.insertEvent(normalize(raw), JSON.stringify(raw));
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(dir).toString(8)).toBe('700');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file).toString(8), file).toBe('600');
    await store.close();
  });
});
