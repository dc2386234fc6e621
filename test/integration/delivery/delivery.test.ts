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
  notion.addPage(PAGE);
});
afterEach(async () => {
  await slack.stop();
  await notion.stop();
});

async function service(rules: Record<string, string>, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const watch = new JobWatch();
  const config = testConfig(
    {
      rules: { dir: rulesDir(rules, join(dir, 'rules')) },
      slack: { token: slack.token, apiUrl: slack.url, timeoutMs: 500 },
      notion: { verificationToken: SECRET, token: notion.token, baseUrl: notion.url, timeoutMs: 500 },
      delivery: { concurrency: 8, maxAttempts: 5, backoff: { baseMs: 20, maxMs: 100 } },
      log: { level: 'warn' },
      ...extra,
    },
    dir,
  );
  const svc = await startTestService(config, { hooks: watch });
  return { svc, watch };
}

const slackRule = 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "new page {{ event.entity.id }}" }\n';

describe('delivery with the real Slack and Notion clients against fakes', () => {
  it('a Slack 429 with Retry-After: 1 is delivered after at least one second, once', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule });
    slack.http.failNext(1, FakeSlack.rateLimited(1));
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages).toHaveLength(1);
    const [limited, delivered] = slack.http.requests;
    expect(limited!.status).toBe(429);
    expect(delivered!.at - limited!.at).toBeGreaterThanOrEqual(1000);
    expect(slack.attempts).toBe(2); // the client did not retry on its own
  });

  it('a comment Notion stored but answered too late is found before trying again: one comment', async () => {
    const { svc, watch } = await service({ 'a.yaml': 'id: c\non: page.created\nactions:\n  - notion.comment: { text: "Seen by the triage bot" }\n' });
    notion.http.failNext(1, { kind: 'late', ms: 1500 }); // stored at once, answered after our 500 ms timeout
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(notion.comments).toEqual([expect.objectContaining({ page_id: PAGE, text: 'Seen by the triage bot' })]);
    const [job] = await svc.store.getJobs(String(ev.id));
    const attempts = await svc.store.getAttempts(job!.id);
    expect(attempts.map((a) => a.outcome)).toEqual(['retry', 'ok']);
    expect(attempts[0]!.error).toMatch(/timed out/);
    expect(attempts[1]!.result).toEqual({ comment_id: notion.comments[0]!.id, found: true });
    const posts = () => notion.http.requests.filter((r) => r.method === 'POST' && r.path === '/v1/comments');
    await notion.http.until(() => posts().length >= 1); // the late answer, recorded when sent
    expect(posts()).toHaveLength(1);
  });

  it('slack then notion.comment, the comment failing twice: one message, one comment', async () => {
    const { svc, watch } = await service({
      'a.yaml': 'id: both\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "hello" }\n  - notion.comment: { text: "Announced in #ship" }\n',
    });
    notion.http.failNext(2, FakeNotion.serverError());
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages).toHaveLength(1);
    expect(notion.comments).toEqual([expect.objectContaining({ page_id: PAGE, text: 'Announced in #ship' })]);
    const [job] = await svc.store.getJobs(String(ev.id));
    const attempts = await svc.store.getAttempts(job!.id);
    expect(attempts.map((a) => `${a.actionType}:${a.outcome}`)).toEqual(['slack:ok', 'notion.comment:retry', 'notion.comment:retry', 'notion.comment:ok']);
    expect(attempts[1]!.error).toMatch(/500 internal_server_error/);
  });

  it('channel_not_found is dead at once with the error visible; replayed after the fix, delivered once', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule.replace('#ship', '#nowhere') });
    slack.knownChannels = new Set(['#ship']);
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('dead') === 1);
    expect(slack.attempts).toBe(1); // not retried
    const dead = await svc.store.listEvents({ status: 'dead', limit: 10 });
    expect(dead.map((e) => e.id)).toEqual([ev.id]);
    const [job] = await svc.store.getJobs(String(ev.id));
    expect(job).toMatchObject({ status: 'dead', nextAction: 0, lastError: 'slack: channel_not_found' });

    slack.knownChannels.add('#nowhere');
    expect(await svc.store.replayEvent(String(ev.id), Date.now())).toEqual({ jobs: 1, rematch: false });
    svc.runner.wake();
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages.map((m) => m.channel)).toEqual(['#nowhere']);
  });

  it('1,000 events through one rule produce exactly 1,000 Slack messages', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule });
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const events = Array.from({ length: 100 }, () => eventFrom('page.created.json', { entity: { id: `p-${ids.length}-${Math.random()}`, type: 'page' } }));
      ids.push(...events.map((e) => String(e.id)));
      const res = await Promise.all(events.map((e) => postEvent(svc.webhook, e, SECRET)));
      expect(res.every((r) => r.status === 200)).toBe(true);
    }
    await watch.until(() => watch.count('done') === 1000, 60_000);
    expect(slack.messages).toHaveLength(1000);
    expect(new Set(slack.messages.map((m) => m.text)).size).toBe(1000);
    expect(await svc.store.counts()).toMatchObject({ pending: 0, running: 0, dead: 0 });
    expect(await svc.store.listJobs('done', 2000)).toHaveLength(1000);
  });

  it('fetches the page once per event however many rules ask, and fails those rules on a 404', async () => {
    const rules: Record<string, string> = {};
    for (let i = 0; i < 5; i++)
      rules[`r${i}.yaml`] = `id: r${i}\non: page.created\nfetch: page\nwhen: page.title = "Launch plan Q1"\nactions:\n  - log: { message: x }\n`;
    const { svc, watch } = await service(rules);
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 5);
    expect(notion.http.requests.filter((r) => r.method === 'GET' && r.path === `/v1/pages/${PAGE}`)).toHaveLength(1);

    const missing = eventFrom('page.created.json', { entity: { id: 'deadbeef-0000-4000-8000-000000000000', type: 'page' } });
    await postEvent(svc.webhook, missing, SECRET);
    await expect.poll(async () => (await svc.store.getEvent(String(missing.id)))?.status).toBe('failed');
    const stored = await svc.store.getEvent(String(missing.id));
    expect(stored!.report).toContainEqual({
      rule: 'r0',
      matched: false,
      reason: 'fetch_error',
      retriable: false,
      error: expect.stringMatching(/fetch page: GET page: 404 object_not_found: Could not find page/),
    });
    expect(await svc.store.getJobs(String(missing.id))).toEqual([]);
  });

  it('the search index finds a page by a word of its content after page.created, not after page.deleted', async () => {
    const { svc, watch } = await service({
      'index.yaml':
        'id: index\non: page.created\nfetch: [page, content]\nactions:\n  - search.index: { title: "{{ page.title }}", text: "{{ content }}", url: "{{ page.url }}" }\n---\nid: unindex\non: page.deleted\nactions:\n  - search.delete: {}\n',
    });
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    const hits = await svc.store.search('workspaces', 10);
    expect(hits).toEqual([{ id: PAGE, title: 'Launch plan Q1', url: expect.stringContaining('notion.so'), snippet: expect.stringContaining('[workspaces]') }]);
    expect(await svc.store.search('welc', 10)).toHaveLength(1); // prefix of "welcome"

    await postEvent(svc.webhook, eventFrom('page.deleted.json'), SECRET);
    await watch.until(() => watch.count('done') === 2);
    expect(await svc.store.search('workspaces', 10)).toEqual([]);
  });

  it('notion.update turns plain values into the property JSON of their types', async () => {
    const { svc, watch } = await service({
      'a.yaml':
        'id: upd\non: page.created\nactions:\n  - notion.update:\n      properties:\n        Status: Done\n        Tags: [a, b]\n        Estimate: "{{ 2 + 3 }}"\n        Approved: false\n        Due: "2026-12-24"\n        Summary: hello\n',
    });
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(notion.updates).toEqual([
      {
        page_id: PAGE,
        body: {
          properties: {
            Status: { status: { name: 'Done' } },
            Tags: { multi_select: [{ name: 'a' }, { name: 'b' }] },
            Estimate: { number: 5 },
            Approved: { checkbox: false },
            Due: { date: { start: '2026-12-24' } },
            Summary: { rich_text: [{ text: { content: 'hello' } }] },
          },
        },
      },
    ]);
  });

  it('retries while Slack answers 500, then delivers once, with backoff between attempts', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule });
    slack.http.failNext(3, FakeSlack.serverError(503));
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages).toHaveLength(1);
    expect(slack.attempts).toBe(4);
  });

  it('a Slack call that hangs past slack.timeoutMs is retried, not stuck', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule });
    slack.http.failNext(1, { kind: 'hang' });
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(watch.actions.map((a) => a.outcome)).toEqual(['retried', 'delivered']);
  });

  it('gives up after delivery.maxAttempts and says so', async () => {
    const { svc, watch } = await service({ 'a.yaml': slackRule });
    slack.http.failAll(FakeSlack.serverError(502));
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('dead') === 1);
    expect(slack.attempts).toBe(5);
    const [job] = await svc.store.getJobs(String(ev.id));
    expect(job!.lastError).toBe('slack: HTTP 502 (gave up after 5 attempts)');
  });
});
