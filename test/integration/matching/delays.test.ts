import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeNotion } from '../../fakes/notion.js';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
let slack: FakeSlack;
let notion: FakeNotion;

beforeEach(async () => {
  slack = new FakeSlack();
  notion = new FakeNotion();
  await slack.start();
  await notion.start();
  notion.addPage(PAGE, (p) => ((p.properties as { Status: { status: { name: string } } }).Status.status.name = 'In review'));
});
afterEach(async () => {
  await slack.stop();
  await notion.stop();
});

const RULE = `id: stuck-in-review
on: page.properties_updated
fetch: page
when: page.props.Status = "In review"
after: { delay: 2s, cancelOn: [page.deleted] }
actions:
  - slack: { channel: "#reviews", text: "{{ page.title }} is still in review" }
`;

async function service(rule = RULE) {
  const dir = tempDir();
  const watch = new JobWatch();
  const config = testConfig(
    {
      rules: { dir: rulesDir({ 'stuck.yaml': rule }, join(dir, 'rules')) },
      slack: { token: slack.token, apiUrl: slack.url },
      notion: { verificationToken: SECRET, token: notion.token, baseUrl: notion.url },
      log: { level: 'info' },
    },
    dir,
  );
  return { svc: await startTestService(config, { hooks: watch }), watch };
}

const setStatus = (name: string) => ((notion.pages.get(PAGE)!.properties as { Status: { status: { name: string } } }).Status.status.name = name);
const now = () => new Date().toISOString();

describe('after: the condition checked again when the wait is over', () => {
  it('fires when the condition still holds, with the page read again', async () => {
    const { svc, watch } = await service();
    const sent = Date.now();
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.outcome === 'delayed'));
    expect(slack.messages).toHaveLength(0);
    await watch.until(() => watch.count('done') === 1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(2000);
    expect(slack.messages.map((m) => m.text)).toEqual(['Launch plan Q1 is still in review']);
    const pageReads = notion.http.requests.filter((r) => r.path === `/v1/pages/${PAGE}`);
    expect(pageReads.length).toBeGreaterThanOrEqual(2); // at the match, and again at the recheck
    expect(await svc.store.nextDelayAt()).toBeUndefined();
  });

  it('does not fire when the condition changed meanwhile', async () => {
    const { svc, watch } = await service();
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: now() }), SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.outcome === 'delayed'));
    setStatus('Done');
    await svc.untilLog((l) => l.msg === 'wait over and the condition no longer holds: nothing runs');
    expect(slack.messages).toHaveLength(0);
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
    expect(slack.messages).toHaveLength(0);
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
    expect(slack.messages).toHaveLength(1);
  });
});
