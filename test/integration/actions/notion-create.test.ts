import { beforeEach, describe, expect, it } from 'vitest';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, serviceOnFakes } from '../../support/server.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const DATABASE = '77777777-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const SOURCE = '88888888-7182-493a-a4b5-c6d7e8f9a0b1';
const fakes = useFakes(PAGE);
beforeEach(() => {
  fakes.notion.databases.set(DATABASE, { object: 'database', id: DATABASE, data_sources: [{ id: SOURCE, name: 'Follow-ups' }] });
});

const rule = `id: follow-up
on: page.properties_updated
fetch: page
when: page.props.Status = "Done"
actions:
  - notion.create:
      parent: ${DATABASE} # SPEC's name for database_id
      title: "Follow up: {{ page.title }}"
      properties: { Status: Not started, Tags: [follow-up], Estimate: 2 }
      content: "From {{ page.url }}\\nCheck the metrics a week after launch."
  - notion.append: { text: "Follow-up created." } # SPEC's name for content
`;

const service = () =>
  serviceOnFakes(
    fakes,
    { 'follow-up.yaml': rule },
    { notion: { timeoutMs: 500 }, delivery: { concurrency: 4, maxAttempts: 5, backoff: { baseMs: 20, maxMs: 100 } }, log: { level: 'warn' } },
  );

describe('notion.create and notion.append', () => {
  it('create a page in a database, typed from its data source, and append to the event page', async () => {
    const { svc, watch } = await service();
    const ev = eventFrom('page.properties_updated.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(fakes.notion.created).toHaveLength(1);
    const body = fakes.notion.created[0]!.body as {
      parent: unknown;
      properties: Record<string, unknown>;
      children: Array<{ paragraph: { rich_text: Array<{ text: { content: string } }> } }>;
    };
    expect(body.parent).toEqual({ type: 'data_source_id', data_source_id: SOURCE });
    expect(body.properties).toEqual({
      Name: { title: [{ text: { content: 'Follow up: Launch plan Q1' } }] },
      Status: { status: { name: 'Not started' } },
      Tags: { multi_select: [{ name: 'follow-up' }] },
      Estimate: { number: 2 },
    });
    expect(body.children.map((b) => b.paragraph.rich_text[0]!.text.content)).toEqual([
      'From https://www.notion.so/Launch-plan-Q1-1f8e2d3c4b5a46978877665544332211',
      'Check the metrics a week after launch.',
    ]);
    expect(fakes.notion.appended).toEqual([{ page_id: PAGE, children: [expect.objectContaining({ type: 'paragraph' })] }]);
    const [job] = await svc.store.getJobs(String(ev.id));
    expect((await svc.store.getAttempts(job!.id)).map((a) => a.result)).toEqual([{ page_id: fakes.notion.created[0]!.id }, { page_id: PAGE, blocks: 1 }]);
  });

  it('a create that times out after Notion stored the page is found, not created twice; the same for an append', async () => {
    fakes.notion.http.failNextWhere((r) => r.method === 'POST' && r.path === '/v1/pages', { kind: 'late', ms: 1500 }); // stored, answered after our 500 ms
    fakes.notion.http.failNextWhere((r) => r.method === 'PATCH' && r.path.endsWith('/children'), { kind: 'late', ms: 1500 });
    const { svc, watch } = await service();
    const ev = eventFrom('page.properties_updated.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    const creates = () => fakes.notion.http.requests.filter((r) => r.method === 'POST' && r.path === '/v1/pages');
    const appends = () => fakes.notion.http.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/children'));
    await fakes.notion.http.until(() => creates().length >= 1 && appends().length >= 1); // the late answers, recorded when sent
    expect(fakes.notion.created).toHaveLength(1);
    expect(creates()).toHaveLength(1);
    expect(fakes.notion.appended).toHaveLength(1);
    expect(appends()).toHaveLength(1);
    const [job] = await svc.store.getJobs(String(ev.id));
    const attempts = await svc.store.getAttempts(job!.id);
    expect(attempts.map((a) => `${a.actionType}:${a.outcome}`)).toEqual(['notion.create:retry', 'notion.create:ok', 'notion.append:retry', 'notion.append:ok']);
    expect(attempts[1]!.result).toEqual({ page_id: fakes.notion.created[0]!.id, found: true });
    expect(attempts[3]!.result).toEqual({ page_id: PAGE, blocks: 1, found: true });
  });
});
