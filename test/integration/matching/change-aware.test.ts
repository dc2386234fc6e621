import { describe, expect, it } from 'vitest';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, serviceOnFakes } from '../../support/server.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const AUTHOR = 'c0ffee00-1111-4222-8333-444455556666';
const fakes = useFakes(PAGE);

const service = (rules: Record<string, string>) =>
  serviceOnFakes(fakes, rules, { delivery: { concurrency: 4, maxAttempts: 5, backoff: { baseMs: 20, maxMs: 100 } }, log: { level: 'warn' } });

/** Sets the fake page's Status, as a person would in Notion. */
function setStatus(name: string): void {
  const page = fakes.notion.pages.get(PAGE) as { properties: { Status: { status: { name: string } } } };
  page.properties.Status.status.name = name;
}

const at = (minute: number) => `2026-11-20T14:${String(minute).padStart(2, '0')}:00.000Z`;

describe('rules that know what changed (before and changes)', () => {
  const rule = `id: review-done
on: page.properties_updated
fetch: page
when: changes.Status.from = "In review" and changes.Status.to = "Done"
actions:
  - slack: { channel: "#ship", text: "{{ page.title }}: {{ changes.Status.from }} → {{ changes.Status.to }} (was {{ before.title }})" }
`;

  it('In review then Done fires the from → to rule once; an older event delivered afterwards does not', async () => {
    const { svc, watch } = await service({ 'review-done.yaml': rule });
    const send = async (timestamp: string) => {
      const seen = watch.outcomes.length;
      await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp }), SECRET);
      await watch.until(() => watch.outcomes.length > seen);
      return watch.outcomes.at(-1)!.outcome;
    };

    const early = new Date(Date.now() - 60_000).toISOString();
    setStatus('In review');
    const first = new Date().toISOString();
    expect(await send(first)).toBe('condition_false'); // never seen before: nothing is known to have changed
    setStatus('Done');
    const second = new Date(Math.max(Date.now(), Date.parse(first) + 1)).toISOString(); // after the first event's page read
    expect(await send(second)).toBe('matched');
    await watch.until(() => watch.count('done') === 1);
    expect(fakes.slack.messages.map((m) => m.text)).toEqual(['Launch plan Q1: In review → Done (was Launch plan Q1)']);

    // Delivered late: an event from before both. Its page read shows Done, but what it changed cannot be told.
    expect(await send(early)).toBe('condition_false');
    const snapshot = await svc.store.snapshotOf(PAGE);
    expect(snapshot?.current).toMatchObject({ seenAt: second, props: { Status: 'Done' } }); // the late event did not overwrite it
    expect(snapshot?.previous).toMatchObject({ seenAt: first, props: { Status: 'In review' } });
    expect(fakes.slack.messages).toHaveLength(1);
  });

  it('two events about one page arriving together fire the rule once, whichever is matched first', async () => {
    const { svc, watch } = await service({ 'review-done.yaml': rule });
    setStatus('Done');
    // Seen as In review at minute 10 (seeded, as `notion-rules snapshot` does).
    await svc.store.recordSnapshots([{ pageId: PAGE, seenAt: at(10), title: 'Launch plan Q1', props: { Status: 'In review' } }]);
    await Promise.all([21, 20].map((m) => postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: at(m) }), SECRET)));
    await watch.until(() => watch.outcomes.length === 2);
    await watch.until(() => watch.count('done') === 1);
    expect(watch.outcomes.filter((o) => o.outcome === 'matched')).toHaveLength(1);
    expect(fakes.slack.messages).toHaveLength(1);
    expect((await svc.store.snapshotOf(PAGE))?.current.seenAt).toBe(at(21));
  });
});

describe('rules that know what was said (fetch: comment, reply: true)', () => {
  it('a comment containing URGENT gets exactly one reply in its own discussion; one without it gets none', async () => {
    const { svc, watch } = await service({
      'urgent.yaml': `id: urgent-reply
on: comment.created
fetch: comment
when: $contains($uppercase(comment.text), "URGENT")
actions:
  - notion.comment: { reply: true, text: "On it, {{ comment.author.id }}: paging the on-call engineer." }
`,
    });
    const urgent = fakes.notion.addComment(PAGE, 'This is urgent: the build is down', undefined, AUTHOR);
    const other = fakes.notion.addComment(PAGE, 'Nice work on the spec', undefined, AUTHOR);
    for (const c of [urgent, other]) {
      await postEvent(
        svc.webhook,
        eventFrom('comment.created.json', { entity: { id: c.id, type: 'comment' }, data: { page_id: PAGE, parent: { id: PAGE, type: 'page' } } }),
        SECRET,
      );
    }
    await watch.until(() => watch.outcomes.length === 2 && watch.count('done') === 1);
    const replies = fakes.notion.comments.filter((c) => c.text.startsWith('On it'));
    expect(replies).toEqual([
      expect.objectContaining({ discussion_id: urgent.discussion_id, page_id: PAGE, text: `On it, ${AUTHOR}: paging the on-call engineer.` }),
    ]);
    expect(fakes.notion.comments.filter((c) => c.discussion_id === other.discussion_id)).toHaveLength(1);
  });
});

describe('rules that know who did it (fetch: authors, slack user_email)', () => {
  it('a Slack message names the author and reaches them by email; the user and the email are looked up once', async () => {
    fakes.notion.addPerson(AUTHOR, 'Ada Lovelace', 'ada@example.com');
    fakes.slack.users.set('ada@example.com', 'U0ADA');
    const { svc, watch } = await service({
      'tell-author.yaml': `id: tell-author
on: page.properties_updated
fetch: [page, authors]
actions:
  - slack: { channel: "#ship", text: "{{ authors[0].name }} set {{ page.title }} to {{ page.props.Status }}" }
  - slack: { user_email: "{{ authors[0].email }}", text: "You set {{ page.title }} to {{ page.props.Status }}" }
`,
    });
    for (const minute of [1, 2]) await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: at(minute) }), SECRET);
    await watch.until(() => watch.count('done') === 2);
    expect(fakes.slack.messages.filter((m) => m.channel === '#ship').map((m) => m.text)).toEqual([
      'Ada Lovelace set Launch plan Q1 to Done',
      'Ada Lovelace set Launch plan Q1 to Done',
    ]);
    expect(fakes.slack.messages.filter((m) => m.channel === 'U0ADA')).toHaveLength(2);
    expect(fakes.notion.http.requests.filter((r) => r.path === `/v1/users/${AUTHOR}`)).toHaveLength(1);
    expect(fakes.slack.calls('users.lookupByEmail')).toBe(1);
  });

  it('an email no Slack user has is a dead job with the reason, not a retry loop', async () => {
    fakes.notion.addPerson(AUTHOR, 'Ada Lovelace', 'ada@example.com');
    const { svc, watch } = await service({
      'dm.yaml': 'id: dm\non: page.properties_updated\nfetch: authors\nactions:\n  - slack: { user_email: "{{ authors[0].email }}", text: "hi" }\n',
    });
    const ev = eventFrom('page.properties_updated.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('dead') === 1);
    const [job] = await svc.store.getJobs(String(ev.id));
    expect(job?.lastError).toMatch(/no Slack user has the email ada@example.com/);
    expect(fakes.slack.calls('users.lookupByEmail')).toBe(1);
  });
});
