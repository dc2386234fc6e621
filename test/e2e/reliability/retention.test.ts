import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { runCli, writeConfig } from '../../support/child.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { scale } from '../../support/soak.js';
import { tempDir } from '../../support/tmp.js';

let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  slack.knownChannels = new Set(['#ship']);
  await slack.start();
});
afterEach(() => slack.stop());

const RULES = {
  'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
  // Dead at once (channel_not_found) and failed (no Notion token): never pruned.
  'dead.yaml': 'id: dead\non: comment.created\nactions:\n  - slack: { channel: "#nowhere", text: x }\n',
  'failed.yaml': 'id: failed\non: page.deleted\nfetch: page\nactions:\n  - log: { message: x }\n',
};

describe('retention (store.retention)', () => {
  it(
    'with a short setting, the store stops growing while events keep coming; nothing new, failed or dead is pruned',
    { timeout: scale(120_000, 900_000) },
    async () => {
      const dir = tempDir();
      const watch = new JobWatch();
      const retentionSeconds = 2;
      const svc = await startTestService(
        testConfig(
          {
            rules: { dir: rulesDir(RULES, join(dir, 'rules')) },
            slack: { token: slack.token, apiUrl: slack.url },
            store: { retention: { days: retentionSeconds / 86_400, batch: 200, intervalMs: 200 } },
            log: { level: 'warn' },
          },
          dir,
        ),
        { hooks: watch },
      );
      const dead = eventFrom('comment.created.json');
      const failed = eventFrom('page.deleted.json');
      await postEvent(svc.webhook, dead, SECRET);
      await postEvent(svc.webhook, failed, SECRET);

      const rounds = scale(10, 100);
      const perRound = 300;
      const sizes: number[] = [];
      const started = performance.now();
      for (let round = 0; round < rounds; round++) {
        // A round a second (paced, so the window of retained events is the same on any machine).
        const due = started + round * 1000;
        if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
        const events = Array.from({ length: perRound }, () => eventFrom('page.created.json', { pad: 'x'.repeat(2000) }));
        for (let i = 0; i < events.length; i += 30) await Promise.all(events.slice(i, i + 30).map((e) => postEvent(svc.webhook, e, SECRET)));
        await watch.until(() => watch.count('done') === (round + 1) * perRound, 60_000);
        sizes.push(await svc.store.sizeBytes());
      }
      const sent = rounds * perRound;
      // Each round takes about a second: events older than the retention are gone.
      await expect.poll(() => svc.store.countEvents(), { timeout: 10_000 }).toBeLessThan(sent / 2);
      const settled = Math.max(...sizes.slice(3, 5));
      console.log(`retention: store size by round ${sizes.map((x) => Math.round(x / 1024)).join(', ')} KiB`);
      expect(sizes.at(-1)!, `sizes by round: ${sizes.map((s) => Math.round(s / 1024)).join(', ')} KiB`).toBeLessThanOrEqual(settled * 1.5);
      expect((await svc.store.getEvent(String(dead.id)))?.status).toBe('dispatched');
      expect(await svc.store.listJobs('dead', 10)).toHaveLength(1);
      expect((await svc.store.getEvent(String(failed.id)))?.status).toBe('failed');
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(Number(/^notion_rules_pruned_events_total (\d+)/m.exec(metrics)![1])).toBeGreaterThan(sent / 2);
      expect(Number(/^notion_rules_store_bytes (\d+)/m.exec(metrics)![1])).toBeGreaterThan(0);
    },
  );

  it('`prune --dry-run` counts, `prune` deletes: only resolved events', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig(
        {
          rules: { dir: rulesDir(RULES, join(dir, 'rules')) },
          slack: { token: slack.token, apiUrl: slack.url },
          store: { retention: { days: 0 } },
          log: { level: 'warn' },
        },
        dir,
      ),
      { hooks: watch },
    );
    for (let i = 0; i < 5; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await postEvent(svc.webhook, eventFrom('comment.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 5 && watch.count('dead') === 1);
    await svc.stop();
    const config = writeConfig(dir, { store: { url: `sqlite:${join(dir, 'store.db')}` }, rules: { dir: join(dir, 'rules') } }, 'cli.yaml');
    expect((await runCli(['prune', '--dry-run', '--days', '0.000001', '--config', config])).stdout).toMatch(
      /^would delete 5 resolved event\(s\) received before .* \(0\.000001 days\), with 5 job\(s\) and their attempts\n$/,
    );
    expect((await runCli(['prune', '--days', '0.000001', '--config', config])).stdout).toMatch(
      /^deleted 5 resolved event\(s\) .*, with 5 job\(s\) and their attempts; store size \d+ KiB\n$/,
    );
    expect((await runCli(['prune', '--dry-run', '--days', '0.000001', '--config', config])).stdout).toMatch(/^would delete 0 /);
    expect((await runCli(['events', '--config', config])).stdout.trim().split('\n')).toHaveLength(2); // the dead one and its error line
  });
});
