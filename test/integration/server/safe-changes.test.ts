import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventFrom } from '../../support/fixtures.js';
import { useFakes } from '../../support/fakes.js';
import { postEvent } from '../../support/http.js';
import { parseProm, value } from '../../support/prom.js';
import { JobWatch, SECRET, serviceOnFakes, startTestService, testConfig, type TestService } from '../../support/server.js';
import { rulesDir } from '../../support/rules.js';
import { tempDir } from '../../support/tmp.js';
import { freshDatabase, PG_URL } from '../../support/pg.js';

const ADMIN = 'admin-token-0123456789abcdef';
const fakes = useFakes();

const admin = (svc: TestService, path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${svc.url}${path}`, {
    ...init,
    ...(init.json !== undefined ? { method: 'POST', body: JSON.stringify(init.json) } : {}),
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
  });

const events = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => eventFrom('page.created.json', { id: `${tag}-${i}`, entity: { id: `page-${tag}-${i}`, type: 'page' } }));

async function send(svc: TestService, list: Array<Record<string, unknown>>, workers = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < list.length) expect((await postEvent(svc.webhook, list[next++]!, SECRET)).status).toBe(200);
    }),
  );
}

describe('shadow mode', () => {
  it('a shadow rule over 1,000 events records 1,000 would-be actions and sends none; the console, events and /metrics show them', async () => {
    const { svc, watch } = await serviceOnFakes(
      fakes,
      {
        'ship.yaml': 'id: ship\nmode: shadow\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "new page {{ event.entity.id }}" }\n',
        'live.yaml': 'id: live\non: page.created\nactions:\n  - log: { message: "seen {{ event.id }}" }\n',
      },
      { security: { adminToken: ADMIN } },
    );
    await send(svc, events(1000, 'sh'));
    await watch.until(() => watch.shadowed.length === 1000 && watch.count('done') === 1000, 120_000);
    expect(fakes.slack.messages).toHaveLength(0);
    expect(watch.actions.filter((a) => a.type === 'slack')).toHaveLength(0);

    const metrics = parseProm(await (await admin(svc, '/metrics')).text());
    expect(value(metrics, 'notion_rules_shadow_actions_total', { rule: 'ship', type: 'slack' })).toBe(1000);
    expect(value(metrics, 'notion_rules_shadow_jobs')).toBe(1000);
    expect(value(metrics, 'notion_rules_queue_depth')).toBe(0);

    // The would-be message, rendered as it would have been sent.
    const detail = (await (await admin(svc, '/admin/events/sh-7')).json()) as {
      jobs: Array<{ ruleId: string; status: string; actions: Array<{ params: { text: string } }> }>;
    };
    const shadow = detail.jobs.find((j) => j.ruleId === 'ship')!;
    expect(shadow.status).toBe('shadow');
    expect(shadow.actions[0]!.params.text).toBe('new page page-sh-7');
    const listed = (await (await admin(svc, '/admin/events?limit=1000')).json()) as { events: Array<{ status: string; jobs: { shadow: number } }> };
    expect(listed.events.filter((e) => e.status === 'processed' && e.jobs.shadow === 1)).toHaveLength(1000);
    const rules = (await (await admin(svc, '/admin/rules')).json()) as { rules: Array<{ id: string; mode: string }> };
    expect(rules.rules.map((r) => [r.id, r.mode])).toEqual([
      ['live', 'live'],
      ['ship', 'shadow'],
    ]);
  }, 180_000);
});

describe('reloads gated by the rule tests', () => {
  it('a reload whose tests fail keeps the old rules, naming the failing test in /health and the console', async () => {
    const dir = tempDir();
    const rulesPath = rulesDir(
      {
        'done.yaml': 'id: done\non: page.created\nactions:\n  - log: { message: "created {{ event.entity.id }}" }\n',
        'tests/done.test.yaml': `name: a new page is logged\nevent: ${JSON.stringify(eventFrom('page.created.json', { id: 't-1' }))}\nexpect:\n  matched: [done]\n  actions:\n    done:\n      - log: { message: "created 1f8e2d3c-4b5a-4697-8877-665544332211" }\n`,
      },
      join(dir, 'rules'),
    );
    const svc = await startTestService(testConfig({ rules: { dir: rulesPath }, security: { adminToken: ADMIN }, log: { level: 'info' } }, dir));
    const version = svc.rules.current.version;

    // The rule now says something else: valid YAML, but its test fails.
    writeFileSync(join(rulesPath, 'done.yaml'), 'id: done\non: page.created\nactions:\n  - log: { message: "made {{ event.entity.id }}" }\n');
    const res = await admin(svc, '/admin/reload', { method: 'POST' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { activeVersion: string; problems: Array<{ file: string; where: string; message: string }> };
    expect(body.activeVersion).toBe(version);
    expect(body.problems).toEqual([
      {
        file: join(rulesPath, 'tests/done.test.yaml'),
        line: 1,
        where: 'a new page is logged',
        message: expect.stringContaining(
          'rule test failed: rule done: log.message: expected "created 1f8e2d3c-4b5a-4697-8877-665544332211", got "made 1f8e2d3c',
        ),
      },
    ]);
    const health = (await (await admin(svc, '/health')).json()) as { rules: { version: string; lastReload: { ok: boolean; problems: string[] } } };
    expect(health.rules.version).toBe(version);
    expect(JSON.stringify(health.rules.lastReload)).toContain('a new page is logged');

    // Still the old rule: an event gets the old message.
    await postEvent(svc.webhook, eventFrom('page.created.json', { id: 'after-failed-reload' }), SECRET);
    const line = await svc.untilLog((l) => l.eventId === 'after-failed-reload' && l.ruleId === 'done');
    expect(line.msg).toBe('created 1f8e2d3c-4b5a-4697-8877-665544332211');

    // The console's rules page names it.
    const login = await fetch(`${svc.url}/console/login`, { method: 'POST', body: new URLSearchParams({ token: ADMIN }), redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${svc.url}/console/rules`, { headers: { cookie } })).text();
    expect(page).toContain('a new page is logged: rule test failed');
  });
});

describe('pause, resume and the audit log', () => {
  it('a paused rule creates no jobs, across a restart, until resumed; every operation is in the audit log', async () => {
    const dir = tempDir();
    const config = testConfig(
      {
        rules: {
          dir: rulesDir(
            {
              'a.yaml':
                'id: noisy\non: page.created\nactions:\n  - log: { message: noisy }\n---\nid: quiet\non: page.created\nactions:\n  - log: { message: quiet }\n',
              // No Slack token is configured: its job goes to dead letters, to be replayed.
              'doomed.yaml': 'id: doomed\non: page.deleted\nactions:\n  - slack: { channel: "#x", text: gone }\n',
            },
            join(dir, 'rules'),
          ),
        },
        security: { adminToken: ADMIN },
        log: { level: 'info' },
      },
      dir,
    );
    const watch = new JobWatch();
    let svc = await startTestService(config, { hooks: watch });
    const bad = await admin(svc, '/admin/rules/noisey/pause', { json: {} });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({ error: 'unknown_rule', detail: 'no rule "noisey" in the active rules (did you mean "noisy"?)' });
    expect((await admin(svc, '/admin/rules/noisy/pause', { json: { until: 'yesterday' } })).status).toBe(400);
    const paused = await admin(svc, '/admin/rules/noisy/pause', { json: { reason: 'floods the log' } });
    expect(await paused.json()).toMatchObject({ rule: 'noisy', paused: { until: null, source: 'admin-api', reason: 'floods the log' } });

    await send(svc, events(20, 'p1'), 4);
    await watch.until(() => watch.count('done') === 20);
    const jobsOf = async (svc: TestService, tag: string, n: number) =>
      (await Promise.all(Array.from({ length: n }, (_, i) => svc.store.getJobs(`${tag}-${i}`)))).flat().map((j) => j.ruleId);
    expect(new Set(await jobsOf(svc, 'p1', 20))).toEqual(new Set(['quiet']));
    expect(watch.outcomes.filter((o) => o.rule === 'noisy').map((o) => o.outcome)).toEqual(Array(20).fill('paused'));

    // A restart on the same store: still paused.
    await svc.stop();
    const watch2 = new JobWatch();
    svc = await startTestService(config, { hooks: watch2 });
    const rules = (await (await admin(svc, '/admin/rules')).json()) as { rules: Array<{ id: string; paused: unknown }> };
    expect(rules.rules.find((r) => r.id === 'noisy')!.paused).toMatchObject({ until: null, source: 'admin-api' });
    await send(svc, events(10, 'p2'), 4);
    await watch2.until(() => watch2.count('done') === 10);
    expect(new Set(await jobsOf(svc, 'p2', 10))).toEqual(new Set(['quiet']));

    expect(await (await admin(svc, '/admin/rules/noisy/resume', { method: 'POST' })).json()).toEqual({ rule: 'noisy', resumed: true });
    await send(svc, events(10, 'p3'), 4);
    await watch2.until(() => watch2.count('done') === 30);
    expect((await jobsOf(svc, 'p3', 10)).filter((r) => r === 'noisy')).toHaveLength(10);

    // A replay, then the log: newest first, each with its source.
    await postEvent(svc.webhook, eventFrom('page.deleted.json', { id: 'doomed-1' }), SECRET);
    await watch2.until(() => watch2.count('dead') === 1);
    expect(await (await admin(svc, '/admin/events/doomed-1/replay', { method: 'POST' })).json()).toEqual({ replayed: 1, rematch: false });
    writeFileSync(join(config.rules.dir, 'b.yaml'), 'id: extra\non: page.deleted\nactions:\n  - log: { message: gone }\n');
    expect((await admin(svc, '/admin/reload', { method: 'POST' })).status).toBe(200);
    const { entries } = (await (await admin(svc, '/admin/audit')).json()) as {
      entries: Array<{ action: string; ruleId: string | null; source: string; detail: Record<string, unknown> }>;
    };
    expect(entries.map((e) => [e.action, e.ruleId, e.source])).toEqual([
      ['reload', null, 'admin'],
      ['replay', null, 'admin-api'],
      ['resume', 'noisy', 'admin-api'],
      ['pause', 'noisy', 'admin-api'],
      ['reload', null, 'start'],
    ]);
    expect(entries[0]!.detail).toMatchObject({ ok: true, added: ['extra'], removed: [], changed: [] });
    expect(entries[1]!.detail).toEqual({ event: 'doomed-1', jobs: 1, rematch: false });
    expect(entries[4]!.detail).toMatchObject({ ok: true, added: ['noisy', 'quiet', 'doomed'] }); // the first start; the restart changed nothing
  }, 120_000);
});

describe.skipIf(!PG_URL)('pause with two replicas (PostgreSQL)', () => {
  it('a rule paused on one replica creates no jobs on the other, and resumes from either', async () => {
    const db = await freshDatabase();
    const start = async () => {
      const dir = tempDir();
      const rules = rulesDir(
        {
          'a.yaml':
            'id: noisy\non: page.created\nactions:\n  - log: { message: noisy }\n---\nid: quiet\non: page.created\nactions:\n  - log: { message: quiet }\n',
        },
        join(dir, 'rules'),
      );
      const watch = new JobWatch();
      const svc = await startTestService(
        testConfig({ store: { url: db }, rules: { dir: rules }, security: { adminToken: ADMIN }, log: { level: 'info' } }, dir),
        {
          hooks: watch,
        },
      );
      return { svc, watch };
    };
    const a = await start();
    const b = await start();
    expect((await admin(a.svc, '/admin/rules/noisy/pause', { json: { until: '1h' } })).status).toBe(200);
    const ruleIds = async (tag: string, n: number) =>
      (await Promise.all(Array.from({ length: n }, (_, i) => b.svc.store.getJobs(`${tag}-${i}`)))).flat().map((j) => j.ruleId);

    // Both replicas take events: none makes a job for the paused rule.
    await Promise.all([send(a.svc, events(15, 'ra'), 3), send(b.svc, events(15, 'rb'), 3)]);
    await expect.poll(async () => (await ruleIds('ra', 15)).length + (await ruleIds('rb', 15)).length, { timeout: 30_000 }).toBe(30);
    expect(new Set([...(await ruleIds('ra', 15)), ...(await ruleIds('rb', 15))])).toEqual(new Set(['quiet']));
    const listed = (await (await admin(b.svc, '/admin/rules')).json()) as { rules: Array<{ id: string; paused: { source: string } | null }> };
    expect(listed.rules.find((r) => r.id === 'noisy')!.paused).toMatchObject({ source: 'admin-api' });

    // Resumed on the other replica: both make its jobs again.
    expect(await (await admin(b.svc, '/admin/rules/noisy/resume', { method: 'POST' })).json()).toEqual({ rule: 'noisy', resumed: true });
    await Promise.all([send(a.svc, events(5, 'sa'), 2), send(b.svc, events(5, 'sb'), 2)]);
    await expect.poll(async () => (await ruleIds('sa', 5)).length + (await ruleIds('sb', 5)).length, { timeout: 30_000 }).toBe(20);
    expect([...(await ruleIds('sa', 5)), ...(await ruleIds('sb', 5))].filter((r) => r === 'noisy')).toHaveLength(10);
  }, 120_000);
});

describe('rules.shadowDir', () => {
  it("a second folder's rules run in shadow beside the live ones, reloaded with them; an id in both is refused", async () => {
    const dir = tempDir();
    const live = rulesDir({ 'live.yaml': 'id: live\non: page.created\nactions:\n  - log: { message: "live {{ event.id }}" }\n' }, join(dir, 'rules'));
    const shadow = rulesDir(
      { 'next.yaml': 'id: next\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "next {{ event.id }}" }\n' },
      join(dir, 'shadow'),
    );
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig(
        {
          rules: { dir: live, shadowDir: shadow, watch: true, pollIntervalMs: 300 },
          slack: { token: fakes.slack.token, apiUrl: fakes.slack.url },
          security: { adminToken: ADMIN },
          log: { level: 'info' },
        },
        dir,
      ),
      { hooks: watch },
    );
    await send(svc, events(20, 'sd'), 4);
    await watch.until(() => watch.shadowed.length === 20 && watch.count('done') === 20);
    expect(fakes.slack.messages).toHaveLength(0);
    const rules = (await (await admin(svc, '/admin/rules')).json()) as { rules: Array<{ id: string; mode: string; file: string }> };
    expect(rules.rules.map((r) => [r.id, r.mode])).toEqual([
      ['live', 'live'],
      ['next', 'shadow'],
    ]);

    // An id already live: the reload keeps the running rules and names both places.
    const reloaded = new Promise<{ ok: boolean; problems: Array<{ message: string }> }>((resolve) => svc.rules.onReload((s) => resolve(s)));
    writeFileSync(join(shadow, 'twin.yaml'), 'id: live\non: page.created\nactions:\n  - log: { message: twin }\n');
    const status = await reloaded;
    expect(status.ok).toBe(false);
    expect(status.problems.map((p) => p.message)).toEqual([`also the id of ${join(live, 'live.yaml')}:1 in rules.dir; give the shadow rule its own id`]);
    expect(svc.rules.current.rules.map((r) => r.id)).toEqual(['live', 'next']);
  });
});

describe('shadow digests', () => {
  it("a shadow digest rule's group job is recorded as shadow and counted in the metrics, and nothing is sent", async () => {
    const { svc, watch } = await serviceOnFakes(
      fakes,
      {
        'bulk.yaml':
          'id: bulk\nmode: shadow\non: page.created\ndigest: { key: "all", wait: 1h, max: 5 }\nactions:\n  - slack: { channel: "#ship", text: "{{ count }} new pages" }\n',
      },
      { security: { adminToken: ADMIN } },
    );
    await send(svc, events(5, 'dg'), 1);
    await watch.until(() => watch.shadowed.some((s) => s.rule === 'bulk'));
    expect(watch.shadowed).toEqual([{ rule: 'bulk', types: ['slack'] }]);
    const metrics = parseProm(await (await admin(svc, '/metrics')).text());
    expect(value(metrics, 'notion_rules_shadow_actions_total', { rule: 'bulk', type: 'slack' })).toBe(1);
    expect(fakes.slack.messages).toHaveLength(0);
  });
});
