import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeNotion } from '../../fakes/notion.js';
import { FakeSlack } from '../../fakes/slack.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { runCli, writeConfig } from '../../support/child.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const ADMIN = 'admin-token-flow-0123456789ab';
const fakes = useFakes(PAGE);

async function service(rules: Record<string, string>, delivery: Record<string, unknown> = {}) {
  const dir = tempDir();
  const watch = new JobWatch();
  const svc = await startTestService(
    testConfig(
      {
        rules: { dir: rulesDir(rules, join(dir, 'rules')) },
        slack: { token: fakes.slack.token, apiUrl: fakes.slack.url },
        notion: { token: fakes.notion.token, baseUrl: fakes.notion.url },
        delivery: { concurrency: 8, backoff: { baseMs: 20, maxMs: 100 }, ...delivery },
        security: { adminToken: ADMIN },
        log: { level: 'warn' },
      },
      dir,
    ),
    { hooks: watch },
  );
  return { svc, watch, dir };
}

const ship = { 'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' };

describe('destination-aware delivery: pace, and 429 as flow control', () => {
  it('a burst to one Slack channel goes out at the pace the channel allows: each message once, almost no 429', async () => {
    fakes.slack.limitPerChannel(5, 2); // the fake enforces 5 a second, 2 at once
    const { svc, watch } = await service(ship, { limits: { slack: { perChannel: '5/s', burst: 2 } } });
    const events = Array.from({ length: 30 }, () => eventFrom('page.created.json'));
    const started = performance.now();
    await Promise.all(events.map((e) => postEvent(svc.webhook, e, SECRET)));
    await watch.until(() => watch.count('done') === 30, 30_000);
    const seconds = (performance.now() - started) / 1000;
    expect(new Set(fakes.slack.messages.map((m) => m.text)).size).toBe(30);
    expect(fakes.slack.messages).toHaveLength(30);
    expect(watch.count('dead')).toBe(0);
    expect(fakes.slack.limited / fakes.slack.attempts).toBeLessThan(0.05);
    // The limit allows 28 more after the first 2 at 5 a second: 5.6 s; drained within 1.25 × that.
    expect(seconds).toBeLessThan(1.25 * 5.6 + 1);
  });

  it('a 429 spends no attempt and never dead-letters, even with maxAttempts 1; the channel pauses for every job', async () => {
    const { svc, watch } = await service(ship, { maxAttempts: 1 });
    fakes.slack.http.failNext(1, FakeSlack.rateLimited(1));
    const events = Array.from({ length: 5 }, () => eventFrom('page.created.json'));
    for (const e of events) await postEvent(svc.webhook, e, SECRET);
    await watch.until(() => watch.count('done') === 5, 30_000);
    expect(watch.count('dead')).toBe(0);
    expect(new Set(fakes.slack.messages.map((m) => m.text)).size).toBe(5);
    const limited = fakes.slack.http.requests.find((r) => r.status === 429)!;
    // Nothing was sent to Slack during the second it asked for (calls already on the wire with the
    // 429 arrive within moments of it).
    const during = fakes.slack.http.requests.filter((r) => r.at > limited.at + 100 && r.at < limited.at + 1000);
    expect(during).toEqual([]);
    const jobs = (await Promise.all(events.map((e) => svc.store.getJobs(String(e.id))))).flat();
    expect(jobs.every((j) => j.status === 'done' && j.attempts === 0)).toBe(true);
  });

  it(
    'a Retry-After: 30 from Notion stops every Notion call (reads and comments) for 30 s, then the queue drains; Slack jobs keep flowing',
    { timeout: 120_000 },
    async () => {
      const rules = {
        'comment.yaml': 'id: comment\non: page.created\nactions:\n  - notion.comment: { text: "seen {{ event.id }}" }\n',
        'read.yaml':
          'id: read\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - log: { message: "read {{ event.id }}" }\n',
        ...ship,
      };
      const { svc, watch, dir } = await service(rules, { limits: { slack: { perChannel: '50/s', burst: 10 } } });
      fakes.notion.http.failNext(1, FakeNotion.rateLimited(30));
      const events = Array.from({ length: 6 }, () => eventFrom('page.created.json', { entity: { id: PAGE, type: 'page' } }));
      for (const e of events) await postEvent(svc.webhook, e, SECRET);
      await fakes.notion.http.until(() => fakes.notion.http.requests.some((r) => r.status === 429));
      // Events whose rule reads the page, sent during the pause: matched after it.
      for (let i = 0; i < 2; i++) await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { entity: { id: PAGE, type: 'page' } }), SECRET);
      const paused = async () =>
        (
          (await (await fetch(`${svc.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
            destinations: { paused: Array<{ destination: string }> };
          }
        ).destinations.paused.map((d) => d.destination);
      await expect.poll(paused, { timeout: 1500, interval: 50 }).toContain('notion');
      await fakes.slack.untilMessages(6, 20_000); // Slack is not held up by Notion's pause
      expect(fakes.notion.comments.length).toBeLessThan(6);
      // The operator's view during the pause: waiting, not failed, no attempt spent.
      const cliConfig = writeConfig(dir, { store: { url: `sqlite:${join(dir, 'store.db')}` } }, 'cli.yaml');
      const listed = await runCli(['events', '--config', cliConfig]);
      expect(listed.stdout).toMatch(
        /pending .*\n +rule comment, action 1 \(notion\.comment\): waiting (until .*: notion asked to slow down .*no attempt spent|for its turn at notion)/,
      );
      expect(listed.stdout).toMatch(/new .*page\.properties_updated.*\n +waiting for Notion's turn/);
      expect(listed.stdout).not.toMatch(/failed|dead/);
      await watch.until(() => watch.count('done') === 14, 90_000);
      const limited = fakes.notion.http.requests.find((r) => r.status === 429)!;
      // Calls already on the wire with the 429 arrive within moments of it; none after, for 30 s.
      const during = fakes.notion.http.requests.filter((r) => r.at > limited.at + 100 && r.at < limited.at + 30_000);
      expect(during).toEqual([]);
      expect(fakes.notion.http.requests.filter((r) => r.at >= limited.at + 30_000).length).toBeGreaterThan(0);
      expect(fakes.notion.comments).toHaveLength(6);
      expect(watch.count('dead')).toBe(0);
      const metrics = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      expect(metrics).toMatch(/^notion_rules_destination_rate_limited_total\{destination="notion"\} 1$/m);
    },
  );

  it('Slack down: one probe per backoff period reaches it, Notion jobs keep running, and after it is back every message arrives once, 0 dead', async () => {
    const rules = {
      'comment.yaml': 'id: comment\non: page.created\nactions:\n  - notion.comment: { text: "seen {{ event.id }}" }\n',
      ...ship,
    };
    const { svc, watch } = await service(rules, { backoff: { baseMs: 200, maxMs: 800 }, maxAttempts: 100 });
    fakes.slack.http.failAll(FakeSlack.serverError(500));
    const events = Array.from({ length: 10 }, () => eventFrom('page.created.json', { entity: { id: PAGE, type: 'page' } }));
    for (const e of events) await postEvent(svc.webhook, e, SECRET);
    await fakes.notion.http.until(() => fakes.notion.comments.length === 10); // Notion's jobs are not held up
    const outageStarted = Date.now();
    const failing = async () =>
      ((await (await fetch(`${svc.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { reasons?: string[] }).reasons ?? [];
    await expect
      .poll(failing, { timeout: 5000 })
      .toContainEqual(expect.stringMatching(/^slack is failing \(\d+ failures in a row: slack: HTTP 500\); one probe call at /));
    // Keep Slack down for 4 s more: with the breaker, a probe per period (200, 400, 800, 800 ms…).
    const before = fakes.slack.attempts;
    await new Promise((r) => setTimeout(r, 4000)); // the length of the outage, not a wait for an event
    const duringOutage = fakes.slack.attempts - before;
    expect(duringOutage).toBeLessThanOrEqual(8); // ~4000 / 800 + the ramp; one per job per backoff would be ~10 × 6
    fakes.slack.http.recover();
    await watch.until(() => watch.count('done') === 20, 30_000);
    expect(watch.count('dead')).toBe(0);
    expect(new Set(fakes.slack.messages.map((m) => m.text)).size).toBe(10);
    expect(fakes.slack.messages).toHaveLength(10);
    expect(Date.now() - outageStarted).toBeGreaterThan(4000);
  });
});
