import { beforeEach, describe, expect, it } from 'vitest';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, serviceOnFakes } from '../../support/server.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const fakes = useFakes();
beforeEach(() => {
  fakes.notion.addPage(PAGE, (p) => ((p.properties as { Status: { status: { name: string } } }).Status.status.name = 'In review'));
});

const RULE = `id: stuck-in-review
on: page.properties_updated
fetch: page
when: page.props.Status = "In review"
after: { delay: 2s, cancelOn: [page.deleted] }
actions:
  - slack: { channel: "#reviews", text: "{{ page.title }} is still in review" }
`;

const service = (rule = RULE) => serviceOnFakes(fakes, { 'stuck.yaml': rule });

const setStatus = (name: string) => ((fakes.notion.pages.get(PAGE)!.properties as { Status: { status: { name: string } } }).Status.status.name = name);
const now = () => new Date().toISOString();

describe('after: the condition checked again when the wait is over', () => {
  it('fires when the condition still holds, with the page read again', async () => {
    const { svc, watch } = await service();
    const sent = Date.now();
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.outcome === 'delayed'));
    expect(fakes.slack.messages).toHaveLength(0);
    await watch.until(() => watch.count('done') === 1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(2000);
    expect(fakes.slack.messages.map((m) => m.text)).toEqual(['Launch plan Q1 is still in review']);
    const pageReads = fakes.notion.http.requests.filter((r) => r.path === `/v1/pages/${PAGE}`);
    expect(pageReads.length).toBeGreaterThanOrEqual(2); // at the match, and again at the recheck
    expect(await svc.store.nextDelayAt()).toBeUndefined();
  });

  it('does not fire when the condition changed meanwhile', async () => {
    const { svc, watch } = await service();
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.outcome === 'delayed'));
    setStatus('Done');
    await svc.untilLog((l) => l.msg === 'wait over and the condition no longer holds: nothing runs');
    expect(fakes.slack.messages).toHaveLength(0);
    expect(watch.finished).toEqual([]);
    expect(await svc.store.nextDelayAt()).toBeUndefined();
  });

  it('a cancelOn event ends the wait; a second match while waiting does not start another', async () => {
    const { svc, watch } = await service();
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await watch.until(() => watch.outcomes.filter((o) => o.outcome === 'delayed').length === 2);
    expect(await svc.store.nextDelayAt()).toBeDefined();
    await postEvent(svc.webhook, eventFrom('page.deleted.json', { timestamp: now(), entity: { id: PAGE, type: 'page' } }), SECRET);
    await svc.untilLog((l) => l.msg === 'wait cancelled' && l.ruleId === 'stuck-in-review');
    expect(await svc.store.nextDelayAt()).toBeUndefined();
    expect(fakes.slack.messages).toHaveLength(0);
  });

  it('a restartOn event starts the wait again from itself: the actions run once, for it', async () => {
    const { svc, watch } = await service(RULE.replace('cancelOn: [page.deleted]', 'restartOn: [page.properties_updated]'));
    const first = eventFrom('page.properties_updated.json', { timestamp: now() });
    await postEvent(svc.webhook, first, SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.outcome === 'delayed'));
    const second = eventFrom('page.properties_updated.json', { timestamp: now() });
    await postEvent(svc.webhook, second, SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(await svc.store.getJobs(String(first.id))).toEqual([]);
    expect(await svc.store.getJobs(String(second.id))).toHaveLength(1);
    expect(fakes.slack.messages).toHaveLength(1);
  });
});
