import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
});
afterEach(() => slack.stop());

describe('a Slack outage: 500s, then 429 with Retry-After, then hanging, then recovery', () => {
  it('delivers every action once after recovery, with bounded attempts (no hot retry loop)', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' }, join(dir, 'rules'));
    const svc = await startTestService(
      testConfig(
        {
          rules: { dir: rules },
          slack: { token: slack.token, apiUrl: slack.url, timeoutMs: 300 },
          delivery: { concurrency: 8, maxAttempts: 50, backoff: { baseMs: 50, maxMs: 400 } },
          log: { level: 'error' },
        },
        dir,
      ),
      { hooks: watch },
    );
    const jobs = 20;
    slack.http.failAll(FakeSlack.serverError(500));
    for (let i = 0; i < jobs; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    // The first calls fail, the breaker opens, and probes follow one per backoff period.
    await slack.http.until(() => slack.http.arrived >= 12);
    slack.http.failAll(FakeSlack.rateLimited(1));
    const rateLimitedFrom = slack.http.arrived;
    await slack.http.until(() => slack.http.arrived >= rateLimitedFrom + 2);
    slack.http.failAll({ kind: 'hang' });
    const hangFrom = slack.http.arrived;
    await slack.http.until(() => slack.http.arrived >= hangFrom + 2);
    slack.http.recover();

    await watch.until(() => watch.count('done') === jobs, 60_000);
    expect(slack.messages).toHaveLength(jobs);
    expect(new Set(slack.messages.map((m) => m.text)).size).toBe(jobs);
    // Each job retried with back-off: a hot loop would make hundreds of attempts in this time.
    expect(slack.http.arrived).toBeLessThanOrEqual(jobs * 12);
    // Retry-After: 1 was honoured: no job called again within a second of its 429.
    const byJob = new Map<string, number[]>();
    for (const r of slack.http.requests) {
      const text = String((r.body as { text?: string }).text);
      byJob.set(text, [...(byJob.get(text) ?? []), r.at]);
    }
    for (const r of slack.http.requests.filter((x) => x.status === 429)) {
      const times = byJob.get(String((r.body as { text?: string }).text))!;
      const next = times.find((t) => t > r.at);
      if (next !== undefined) expect(next - r.at).toBeGreaterThanOrEqual(1000);
    }
    expect(watch.count('dead')).toBe(0);
  });
});
