import { describe, expect, it } from 'vitest';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, serviceOnFakes } from '../../support/server.js';

const fakes = useFakes();

const service = (rules: Record<string, string>) => serviceOnFakes(fakes, rules, { log: { level: 'warn' } });

const pageEvent = (page: string, timestamp = new Date().toISOString()) =>
  eventFrom('page.properties_updated.json', { timestamp, entity: { id: page, type: 'page' } });
const pageId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe('throttle', () => {
  it('10 events for one page inside the window run the actions once; the others are recorded as throttled; another page runs', async () => {
    const { svc, watch } = await service({
      'once.yaml':
        'id: once\non: page.properties_updated\nthrottle: { per: 10m }\nactions:\n  - slack: { channel: "#ship", text: "{{ event.entity.id }} changed" }\n',
    });
    const start = Date.now() - 20 * 60_000; // event times: the window runs on them
    const sent = [];
    for (let i = 0; i < 10; i++) {
      const ev = pageEvent(pageId(1), new Date(start + i * 1000).toISOString());
      sent.push(String(ev.id));
      await postEvent(svc.webhook, ev, SECRET);
    }
    await postEvent(svc.webhook, pageEvent(pageId(2)), SECRET);
    await watch.until(() => watch.outcomes.length === 11 && watch.count('done') === 2);
    expect(fakes.slack.messages.map((m) => m.text).sort()).toEqual([`${pageId(1)} changed`, `${pageId(2)} changed`]);
    expect(watch.outcomes.filter((o) => o.outcome === 'throttled')).toHaveLength(9);
    const reports = await Promise.all(sent.map(async (id) => (await svc.store.getEvent(id))?.report as Array<{ reason?: string; key?: string }>));
    expect(reports.filter((r) => r[0]?.reason === 'throttled' && r[0].key === pageId(1))).toHaveLength(9);
    // A page event past the window runs again.
    await postEvent(svc.webhook, pageEvent(pageId(1), new Date(start + 11 * 60_000).toISOString()), SECRET);
    await watch.until(() => watch.count('done') === 3);
    expect(fakes.slack.messages).toHaveLength(3);
  });
});

describe('digest', () => {
  const digestRule = (max: number) =>
    `id: bulk
on: page.properties_updated
digest: { key: "{{ event.data.parent.id }}", wait: 2s, max: ${max} }
actions:
  - slack: { channel: "#ship", text: "{{ $count(items) }} pages changed: {{ $join(items.event.entity.id, ',') }}" }
`;

  it('200 events of one bulk edit produce one message listing all 200, about `wait` after the first', async () => {
    const { svc, watch } = await service({ 'bulk.yaml': digestRule(1000) });
    const first = Date.now();
    for (let i = 0; i < 200; i++) await postEvent(svc.webhook, pageEvent(pageId(i)), SECRET);
    await watch.until(() => watch.count('done') === 1);
    const tookMs = Date.now() - first;
    expect(fakes.slack.messages).toHaveLength(1);
    const [head, list] = fakes.slack.messages[0]!.text!.split(': ');
    expect(head).toBe('200 pages changed');
    expect(new Set(list!.split(','))).toEqual(new Set(Array.from({ length: 200 }, (_, i) => pageId(i))));
    expect(tookMs).toBeGreaterThanOrEqual(2000); // it waited for the rest of the burst
    expect(watch.outcomes.filter((o) => o.outcome === 'digested')).toHaveLength(200);
    expect(await svc.store.nextDigestAt()).toBeUndefined(); // nothing left open
  });

  it('with max 100, 200 events produce two messages of 100, each page once', async () => {
    const { svc, watch } = await service({ 'bulk.yaml': digestRule(100) });
    for (let i = 0; i < 200; i++) await postEvent(svc.webhook, pageEvent(pageId(i)), SECRET);
    await watch.until(() => watch.count('done') === 2);
    expect(fakes.slack.messages.map((m) => m.text!.split(': ')[0])).toEqual(['100 pages changed', '100 pages changed']);
    const all = fakes.slack.messages.flatMap((m) => m.text!.split(': ')[1]!.split(','));
    expect(new Set(all).size).toBe(200);
    expect(all).toHaveLength(200);
  });
});

describe('active hours', () => {
  it("a match outside the rule's window is held, durably, until the window opens; inside it runs at once", async () => {
    const hour = (new Date().getUTCHours() + 12) % 24; // a window half a day away
    const hh = String(hour).padStart(2, '0');
    const { svc, watch } = await service({
      'quiet.yaml': `id: quiet\non: page.created\nactive: { hours: "${hh}:00-${hh}:30" }\nactions:\n  - slack: { channel: "#ship", text: quiet }\n`,
      'loud.yaml': 'id: loud\non: page.created\nactions:\n  - slack: { channel: "#ship", text: loud }\n',
    });
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(fakes.slack.messages.map((m) => m.text)).toEqual(['loud']);
    const held = (await svc.store.getJobs(String(ev.id))).find((j) => j.ruleId === 'quiet')!;
    expect(held.status).toBe('pending');
    const opens = new Date(held.runAt);
    expect([opens.getUTCHours(), opens.getUTCMinutes(), opens.getUTCSeconds()]).toEqual([hour, 0, 0]);
    expect(held.runAt - Date.now()).toBeGreaterThan(11 * 3_600_000);
  });
});
