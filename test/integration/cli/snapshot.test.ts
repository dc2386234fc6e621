import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotCommand } from '../../../src/cli/commands/snapshot.js';
import { FakeNotion } from '../../fakes/notion.js';
import { FakeSlack } from '../../fakes/slack.js';
import { writeConfig } from '../../support/child.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const DATABASE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const SOURCE = '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1';
const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
let notion: FakeNotion;
let slack: FakeSlack;

beforeEach(async () => {
  notion = new FakeNotion();
  slack = new FakeSlack();
  await notion.start();
  await slack.start();
});
afterEach(async () => {
  await notion.stop();
  await slack.stop();
});

describe('notion-rules snapshot --database', () => {
  it("seeds every page's snapshot at Notion's pace, waiting out a 429, so the first change after deployment has a before", async () => {
    const lastEdit = new Date(Date.now() - 3_600_000).toISOString();
    const inReview = (page: Record<string, unknown>) => {
      page.last_edited_time = lastEdit;
      (page.properties as { Status: { status: { name: string } } }).Status.status.name = 'In review';
    };
    notion.addPage(PAGE, inReview);
    for (let i = 0; i < 249; i++) notion.addPage(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, inReview);
    notion.databases.set(DATABASE, { object: 'database', id: DATABASE, data_sources: [{ id: SOURCE, name: 'Tasks' }] });
    notion.http.failNext(1, FakeNotion.rateLimited(1)); // the database read waits a second and goes on

    const dir = tempDir();
    const store = `sqlite:${join(dir, 'store.db')}`;
    const file = writeConfig(dir, {
      notion: { token: notion.token, baseUrl: notion.url },
      store: { url: store },
      rules: { dir: join(dir, 'rules') },
      delivery: { limits: { notion: { rate: 3, burst: 3 } } },
    });
    await snapshotCommand({ config: file, database: DATABASE });
    const reads = notion.http.requests.filter((r) => r.path !== '/v1/comments');
    expect(reads.map((r) => `${r.status} ${r.method} ${r.path}`)).toEqual([
      `429 GET /v1/databases/${DATABASE}`,
      `200 GET /v1/databases/${DATABASE}`,
      `200 POST /v1/data_sources/${SOURCE}/query`,
      `200 POST /v1/data_sources/${SOURCE}/query`,
      `200 POST /v1/data_sources/${SOURCE}/query`,
    ]);
    expect(reads[1]!.at - reads[0]!.at).toBeGreaterThanOrEqual(1000); // Retry-After: 1

    // The server, on the same store: the page moves to Done; the rule knows it was In review.
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig(
        {
          store: { url: store },
          rules: {
            dir: rulesDir(
              {
                'done.yaml':
                  'id: done\non: page.properties_updated\nfetch: page\nwhen: changes.Status.from = "In review" and changes.Status.to = "Done"\nactions:\n  - slack: { channel: "#ship", text: "{{ page.title }} is done (was {{ changes.Status.from }})" }\n',
              },
              join(dir, 'rules'),
            ),
          },
          slack: { token: slack.token, apiUrl: slack.url },
          notion: { verificationToken: SECRET, token: notion.token, baseUrl: notion.url },
          log: { level: 'warn' },
        },
        dir,
      ),
      { hooks: watch },
    );
    expect((await svc.store.snapshotOf(PAGE))?.current).toMatchObject({ seenAt: lastEdit, props: { Status: 'In review' } });
    (notion.pages.get(PAGE)!.properties as { Status: { status: { name: string } } }).Status.status.name = 'Done';
    await postEvent(svc.webhook, eventFrom('page.properties_updated.json', { timestamp: new Date().toISOString() }), SECRET);
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages.map((m) => m.text)).toEqual(['Launch plan Q1 is done (was In review)']);
  });
});
