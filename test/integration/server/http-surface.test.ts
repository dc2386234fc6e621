import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-0123456789abcdef';

describe('rate limit of the webhook route (server.rateLimit)', () => {
  it('answers 429 with Retry-After under a burst; after the sender retries, every event is stored once', async () => {
    const svc = await startTestService(testConfig({ server: { rateLimit: { max: 20, timeWindowMs: 1000 } }, log: { level: 'warn' } }));
    const events = Array.from({ length: 60 }, () => eventFrom('page.created.json'));
    const first = await Promise.all(events.map((e) => postEvent(svc.webhook, e, SECRET)));
    const limited = first.filter((r) => r.status === 429);
    expect(first.filter((r) => r.status === 200)).toHaveLength(20);
    expect(limited).toHaveLength(40);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited[0]!.body).toMatchObject({ error: 'rate_limited' });

    // The sender (Notion) retries the refused ones after Retry-After.
    let pending = events.filter((_, i) => first[i]!.status === 429);
    while (pending.length > 0) {
      const wait = Number((await postEvent(svc.webhook, pending[0]!, SECRET)).headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, wait * 1000));
      const answers = await Promise.all(pending.map((e) => postEvent(svc.webhook, e, SECRET)));
      pending = pending.filter((_, i) => answers[i]!.status !== 200);
    }
    expect(await svc.store.countEvents()).toBe(60);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/notion_rules_events_rejected_total\{reason="rate_limited"\} \d+/);
  });
});

describe('User-Agent check of the webhook route (security.userAgent)', () => {
  it('is off by default; when set, a request whose User-Agent does not match is 403 and nothing is stored', async () => {
    const open = await startTestService(testConfig({ log: { level: 'error' } }));
    expect((await postEvent(open.webhook, eventFrom('page.created.json'), SECRET, { 'user-agent': 'curl/8.5.0' })).status).toBe(200);

    const svc = await startTestService(testConfig({ security: { userAgent: '^notion' }, log: { level: 'warn' } }));
    const refused = await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET, { 'user-agent': 'curl/8.5.0' });
    expect(refused).toMatchObject({ status: 403, body: { error: 'invalid_user_agent' } });
    const none = await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET, { 'user-agent': '' });
    expect(none.status).toBe(403);
    expect(await svc.store.countEvents()).toBe(0);
    const ok = await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET, { 'user-agent': 'Notion-Webhooks/1.0' });
    expect(ok.status).toBe(200);
    expect(await svc.store.countEvents()).toBe(1);

    // One warning line for the burst of refusals, with the User-Agent that was refused.
    const warnings = svc.logs.filter((l) => String(l.msg).includes('User-Agent does not match'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ userAgent: 'curl/8.5.0', pattern: '^notion' });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/notion_rules_events_rejected_total\{reason="user_agent"\} 2/);
  });
});

describe('/health degraded by recent action outcomes', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = new FakeSlack();
    await slack.start();
  });
  afterEach(() => slack.stop());

  it('turns degraded while Slack fails and back to ok after it recovers, with the rate in the body', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' }, join(dir, 'rules'));
    const svc = await startTestService(
      testConfig(
        {
          rules: { dir: rules },
          slack: { token: slack.token, apiUrl: slack.url },
          security: { adminToken: ADMIN },
          delivery: { maxAttempts: 50, backoff: { baseMs: 10, maxMs: 40 } },
          log: { level: 'error' },
        },
        dir,
      ),
      { hooks: watch },
    );
    const health = async () =>
      (await (await fetch(`${svc.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
        status: string;
        reasons?: string[];
        actions: { recent: number; successRate: number };
      };
    expect((await health()).status).toBe('ok');

    slack.http.failAll(FakeSlack.serverError(503));
    for (let i = 0; i < 10; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.actions.filter((a) => a.outcome === 'retried').length >= 25);
    const bad = await health();
    expect(bad.status).toBe('degraded');
    expect(bad.reasons![0]).toMatch(/action success rate .* is under health.minSuccessRate \(95 %\)/);
    expect(bad.actions.successRate).toBeLessThan(0.95);

    slack.http.recover();
    for (let i = 0; i < 110; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 120);
    const good = await health();
    expect(good).toMatchObject({ status: 'ok', actions: { recent: 100, successRate: 1 } });
  });
});

describe('server.adminPort', () => {
  it('serves /admin and /metrics on the admin port only; the public port has the webhook and /health', async () => {
    const svc = await startTestService(testConfig({ server: { adminPort: 0 }, security: { adminToken: ADMIN } }));
    expect(svc.adminUrl).toBeDefined();
    const auth = { authorization: `Bearer ${ADMIN}` };
    expect((await fetch(`${svc.url}/admin/rules`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET)).status).toBe(200);

    expect((await fetch(`${svc.adminUrl}/admin/rules`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${svc.adminUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${svc.adminUrl}/health`)).status).toBe(200);
    expect((await fetch(`${svc.adminUrl}/webhook`, { method: 'POST' })).status).toBe(404);
  });
});
