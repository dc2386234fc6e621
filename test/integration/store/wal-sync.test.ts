import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalSync } from '../../../src/store/sqlite/wal-sync.js';
import { tempDir } from '../../support/tmp.js';

describe('WalSync', () => {
  it('resolves every caller, the ones that arrive during an fsync with the next one', async () => {
    const db = join(tempDir(), 'store.db');
    writeFileSync(`${db}-wal`, 'frames');
    const sync = WalSync.open(db);
    await expect(Promise.all(Array.from({ length: 20 }, () => sync.sync()))).resolves.toHaveLength(20);
    await sync.close();
    await expect(sync.sync()).rejects.toThrow(/closed/);
  });

  it("reports a failed fsync with the file and the reason, and keeps it for the store's health", async () => {
    // fsync of a character device fails (EINVAL): a stand-in for a disk that lost written pages.
    const db = join(tempDir(), 'store.db');
    symlinkSync('/dev/null', `${db}-wal`);
    const sync = WalSync.open(db);
    await expect(sync.sync()).rejects.toThrow(/fsync of .*store\.db-wal failed: EINVAL/);
    expect(sync.failure?.message).toMatch(/store\.db-wal failed/); // what the store's health reports
    await sync.close();
  });
});
