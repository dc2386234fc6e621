import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

/** A small tmpfs of our own: a real disk that fills up and can be made read-only. Needs root. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mounted: string[] = [];
afterEach(() => {
  for (const d of mounted.splice(0)) execFileSync('umount', ['-l', d], { stdio: 'ignore' });
});
const canMount = (() => {
  const probe = tempDir('nr-mount-probe-');
  const ok = mountTmpfs(probe, '64k');
  if (ok) execFileSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

const canChattr = (() => {
  const probe = join(tempDir('nr-chattr-probe-'), 'f');
  closeSync(openSync(probe, 'w'));
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

describe.skipIf(!canMount)('store faults on a real (tmpfs) disk', () => {
  it('disk full: 503 (never 200 for an event it did not keep), then recovery when space returns', async () => {
    const dir = tempDir();
    const disk = join(dir, 'disk');
    mkdirSync(disk);
    expect(mountTmpfs(disk, '8m')).toBe(true);
    mounted.push(disk);
    const svc = await startTestService(testConfig({ store: { url: `sqlite:${join(disk, 'store.db')}` }, log: { level: 'fatal' } }, dir));
    const filler = fill(disk);

    const acked: string[] = [];
    const refused: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 60; i++) {
      const ev = eventFrom('page.created.json', { pad: 'x'.repeat(4000) });
      const res = await postEvent(svc.webhook, ev, SECRET);
      expect([200, 503]).toContain(res.status);
      if (res.status === 200) acked.push(String(ev.id));
      else refused.push(ev);
    }
    expect(refused.length).toBeGreaterThan(0);
    expect((await fetch(`${svc.url}/health`)).status).toBe(503);

    rmSync(filler);
    for (const ev of refused) expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(200); // Notion's retry
    for (const id of [...acked, ...refused.map((e) => String(e.id))]) expect(await svc.store.getEvent(id)).toBeDefined();
    expect(await svc.store.countEvents()).toBe(60);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it.skipIf(!canChattr)('files made immutable (read-only even for root): 503, then recovery', async () => {
    // A read-only remount is refused while SQLite holds the file open; chattr +i on the WAL is the
    // same fault for a running process: every write to it fails.
    const dir = tempDir();
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }, dir));
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET)).status).toBe(200);
    const wal = join(dir, 'store.db-wal');
    execFileSync('chattr', ['+i', wal]);
    try {
      const ev = eventFrom('page.created.json');
      expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(503);
      expect((await fetch(`${svc.url}/health`)).status).toBe(503);
      execFileSync('chattr', ['-i', wal]);
      expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(200);
      expect(await svc.store.getEvent(String(ev.id))).toBeDefined();
      expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    } finally {
      execFileSync('chattr', ['-i', wal]);
    }
  });

  it.skipIf(!canChattr)(
    'an action that succeeded while its record cannot be written: the job waits, then goes on once writable, nothing sent twice, no restart',
    async () => {
      const slack = new FakeSlack();
      await slack.start();
      try {
        const dir = tempDir();
        const watch = new JobWatch();
        const rules = rulesDir(
          {
            'two.yaml':
              'id: two\non: page.created\nactions:\n  - slack: { channel: "#one", text: "{{ event.id }}" }\n  - slack: { channel: "#two", text: "{{ event.id }}" }\n',
          },
          join(dir, 'rules'),
        );
        const svc = await startTestService(
          testConfig({ rules: { dir: rules }, slack: { token: slack.token, apiUrl: slack.url }, log: { level: 'info' } }, dir),
          { hooks: watch },
        );
        slack.http.failNext(1, { kind: 'slow', ms: 500 }); // the first message is answered late...
        const ev = eventFrom('page.created.json');
        expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(200);
        await slack.http.until(() => slack.http.arrived >= 1);
        const wal = join(dir, 'store.db-wal');
        execFileSync('chattr', ['+i', wal]); // ...by when the store cannot be written
        try {
          await expect.poll(() => svc.logs.some((l) => String(l.msg).startsWith('cannot record the action')), { timeout: 10_000 }).toBe(true);
          expect(slack.messages).toHaveLength(1);
        } finally {
          execFileSync('chattr', ['-i', wal]);
        }
        await watch.until(() => watch.count('done') === 1);
        expect(slack.messages.map((m) => m.channel)).toEqual(['#one', '#two']);
        const [job] = await svc.store.getJobs(String(ev.id));
        expect(job).toMatchObject({ status: 'done', nextAction: 2 });
        expect((await svc.store.getAttempts(job!.id)).map((a) => [a.actionIndex, a.outcome])).toEqual([
          [0, 'ok'],
          [1, 'ok'],
        ]);
      } finally {
        await slack.stop();
      }
    },
  );
});
