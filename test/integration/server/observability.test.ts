import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sign } from '../../../src/receiver/sign.js';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom, repoRoot } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { parseProm, value } from '../../support/prom.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-0123456789abcdef';
let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
});
afterEach(() => slack.stop());

async function service(adminToken: string | null = ADMIN, level = 'warn') {
  const dir = tempDir();
  const watch = new JobWatch();
  const rules = rulesDir(
    {
      'ship.yaml':
        'id: ship\non: page.created\nwhen: event.data.parent.type = "data_source"\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
      'broken.yaml': 'id: broken\non: page.created\nwhen: $error("bad condition")\nactions:\n  - log: { message: never }\n',
      'dead.yaml': 'id: nowhere\non: page.deleted\nactions:\n  - slack: { channel: "#gone", text: "x" }\n',
    },
    join(dir, 'rules'),
  );
  const svc = await startTestService(
    testConfig(
      {
        rules: { dir: rules },
        slack: { token: slack.token, apiUrl: slack.url },
        security: adminToken ? { adminToken } : {},
        delivery: { backoff: { baseMs: 10, maxMs: 50 } },
        log: { level },
      },
      dir,
    ),
    { hooks: watch },
  );
  slack.knownChannels = new Set(['#ship']);
  return { svc, watch };
}

describe('GET /metrics', () => {
  it('counts a known sequence of events, rejections, matches, errors, actions and reloads', async () => {
    const { svc, watch } = await service();
    const created = [eventFrom('page.created.json'), eventFrom('page.created.json'), eventFrom('page.created.json')];
    for (const ev of created) await postEvent(svc.webhook, ev, SECRET);
    await postEvent(svc.webhook, created[0], SECRET); // duplicate
    await postEvent(svc.webhook, eventFrom('page.deleted.json'), SECRET); // → dead
    await postEvent(svc.webhook, JSON.stringify(eventFrom('page.created.json')), null, { 'x-notion-signature': sign('wrong', 'x') });
    await postEvent(svc.webhook, '{"id":', SECRET);
    await watch.until(() => watch.count('done') === 3 && watch.count('dead') === 1);
    await svc.rules.reload('test');

    const res = await fetch(`${svc.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const m = parseProm(await res.text());
    expect(value(m, 'notion_rules_events_received_total', { type: 'page.created' })).toBe(3);
    expect(value(m, 'notion_rules_events_received_total', { type: 'page.deleted' })).toBe(1);
    expect(value(m, 'notion_rules_events_duplicate_total')).toBe(1);
    expect(value(m, 'notion_rules_events_rejected_total', { reason: 'invalid_signature' })).toBe(1);
    expect(value(m, 'notion_rules_events_rejected_total', { reason: 'invalid_event' })).toBe(1);
    expect(value(m, 'notion_rules_rule_matches_total', { rule: 'ship' })).toBe(3);
    expect(value(m, 'notion_rules_condition_errors_total', { rule: 'broken' })).toBe(3);
    expect(value(m, 'notion_rules_actions_total', { type: 'slack', outcome: 'ok' })).toBe(3);
    expect(value(m, 'notion_rules_actions_total', { type: 'slack', outcome: 'dead' })).toBe(1);
    expect(value(m, 'notion_rules_action_duration_seconds_count', { type: 'slack' })).toBe(4);
    // The console overview's per-destination outcomes, for Grafana.
    expect(value(m, 'notion_rules_destination_actions_total', { destination: 'slack:#ship', outcome: 'delivered' })).toBe(3);
    expect(value(m, 'notion_rules_destination_actions_total', { destination: 'slack:#gone', outcome: 'dead' })).toBe(1);
    expect(value(m, 'notion_rules_dead_jobs')).toBe(1);
    expect(value(m, 'notion_rules_queue_depth')).toBe(0);
    expect(value(m, 'notion_rules_rules_reloads_total', { result: 'success', trigger: 'test' })).toBe(1);
    expect(value(m, 'notion_rules_rules_last_reload_successful')).toBe(1);
    expect(value(m, 'notion_rules_rules_active')).toBe(3);
    expect(value(m, 'notion_rules_rules_version_info', { version: svc.rules.current.version })).toBe(1);
    // Node's own metrics under their standard names; the build; ingest latency; series at 0 before their first use.
    expect(value(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(m, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(
      value(m, 'notion_rules_build_info', { version: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version, node: process.versions.node }),
    ).toBe(1);
    expect(value(m, 'notion_rules_ingest_duration_seconds_count')).toBe(4);
    expect(value(m, 'notion_rules_events_rejected_total', { reason: 'rate_limited' })).toBe(0);
    expect(value(m, 'notion_rules_actions_total', { type: 'notion.comment', outcome: 'retry' })).toBe(0);
    expect(m.some((x) => x.name.startsWith('notion_rules_process_'))).toBe(false);
  });
});

describe('admin API', () => {
  it('answers 401 without the bearer token, and is absent when no token is configured', async () => {
    const { svc } = await service();
    for (const [method, path] of [
      ['GET', '/admin/rules'],
      ['POST', '/admin/reload'],
      ['GET', '/admin/events'],
      ['GET', '/admin/dead'],
      ['GET', '/admin/search?q=x'],
      ['POST', '/admin/events/x/replay'],
    ] as const) {
      expect((await fetch(`${svc.url}${path}`, { method })).status).toBe(401);
      expect((await fetch(`${svc.url}${path}`, { method, headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
      expect((await fetch(`${svc.url}${path}`, { method, headers: { authorization: ADMIN } })).status).toBe(401);
    }
    const { svc: open } = await service(null);
    expect((await fetch(`${open.url}/admin/rules`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
  });

  it('shows an event with its matched rules and every attempt; replays a dead one', async () => {
    const { svc, watch } = await service();
    const auth = { authorization: `Bearer ${ADMIN}` };
    const ev = eventFrom('page.deleted.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('dead') === 1);

    const dead = (await (await fetch(`${svc.url}/admin/dead`, { headers: auth })).json()) as { jobs: Array<Record<string, unknown>> };
    expect(dead.jobs).toEqual([expect.objectContaining({ eventId: ev.id, ruleId: 'nowhere', status: 'dead', lastError: 'slack: channel_not_found' })]);
    const listed = (await (await fetch(`${svc.url}/admin/events?status=dead`, { headers: auth })).json()) as { events: Array<{ id: string }> };
    expect(listed.events.map((e) => e.id)).toEqual([ev.id]);
    expect((await fetch(`${svc.url}/admin/events?status=weird`, { headers: auth })).status).toBe(400);

    const detail = (await (await fetch(`${svc.url}/admin/events/${String(ev.id)}`, { headers: auth })).json()) as Record<string, any>;
    expect(detail.event).toMatchObject({ id: ev.id, type: 'page.deleted' });
    expect(detail.rules).toEqual([{ rule: 'nowhere', matched: true, actions: 1 }]);
    expect(detail.jobs[0].attempts).toEqual([expect.objectContaining({ actionType: 'slack', outcome: 'dead', error: 'slack: channel_not_found' })]);
    expect((await fetch(`${svc.url}/admin/events/nope`, { headers: auth })).status).toBe(404);

    slack.knownChannels!.add('#gone');
    const replay = await fetch(`${svc.url}/admin/events/${String(ev.id)}/replay`, { method: 'POST', headers: auth });
    expect(await replay.json()).toEqual({ replayed: 1, rematch: false });
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages.map((m) => m.channel)).toEqual(['#gone']);
  });

  it('searches the index', async () => {
    const { svc } = await service();
    await svc.store.indexDocument({ id: 'p1', title: 'Quarterly roadmap', text: 'Ship the onboarding flow', url: 'https://notion.so/p1', fields: {} });
    const res = await fetch(`${svc.url}/admin/search?q=onboard`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(await res.json()).toEqual({ hits: [{ id: 'p1', title: 'Quarterly roadmap', url: 'https://notion.so/p1', snippet: 'Ship the [onboarding] flow' }] });
  });
});

describe('logs', () => {
  it('never contain tokens, secrets or signatures, even at trace level', async () => {
    const { svc, watch } = await service(ADMIN, 'trace');
    const ev = eventFrom('page.created.json');
    const signature = sign(SECRET, JSON.stringify(ev));
    await postEvent(svc.webhook, ev, SECRET);
    await postEvent(svc.webhook, eventFrom('page.deleted.json'), SECRET);
    await fetch(`${svc.url}/admin/rules`, { headers: { authorization: `Bearer ${ADMIN}` } });
    await fetch(`${svc.url}/admin/rules`, { headers: { authorization: 'Bearer guess-0123456789' } });
    await watch.until(() => watch.count('done') === 1 && watch.count('dead') === 1);
    const text = JSON.stringify(svc.logs);
    expect(svc.logs.length).toBeGreaterThan(10);
    for (const secret of [SECRET, ADMIN, slack.token, signature.slice(7), 'guess-0123456789']) expect(text).not.toContain(secret);
    // Lines about an event carry its id and the rule's.
    expect(svc.logs.filter((l) => l.msg === 'action failed; job is dead (replay it with `notion-rules replay`)')).toEqual([
      expect.objectContaining({ eventId: expect.any(String), ruleId: 'nowhere', jobId: expect.any(Number) }),
    ]);
  });
});
