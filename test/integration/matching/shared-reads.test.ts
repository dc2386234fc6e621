import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedReads } from '../../../src/matching/facts.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const fakes = useFakes(PAGE);

describe('Notion reads shared between events', () => {
  it('a read serves events that happened before it was sent, for a moment after it finished; failures are not shared', async () => {
    const reads = new SharedReads();
    let calls = 0;
    const read = () => Promise.resolve(++calls);
    const now = 5_000_000;
    expect(await reads.get('page:p', now - 100, read, now)).toBe(1);
    expect(await reads.get('page:p', now - 50, read, now + 10)).toBe(1); // happened before the read was sent
    expect(await reads.get('page:p', now + 5, read, now + 20)).toBe(2); // happened after: a read of its own
    expect(await reads.get('page:q', now, read, now + 20)).toBe(3); // another page
    const failing = new SharedReads();
    await expect(failing.get('page:p', 0, () => Promise.reject(new Error('503')), now)).rejects.toThrow('503');
    expect(await failing.get('page:p', 0, read, now + 1)).toBe(4);
  });

  it('a bulk edit of one page (20 events at once, a rule that fetches it) costs one or two page reads, not twenty', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir(
      { 'a.yaml': 'id: done\non: page.properties_updated\nfetch: page\nwhen: page.title = "Launch plan Q1"\nactions:\n  - log: { message: x }\n' },
      join(dir, 'rules'),
    );
    const svc = await startTestService(
      testConfig({ rules: { dir: rules }, notion: { token: fakes.notion.token, baseUrl: fakes.notion.url }, log: { level: 'warn' } }, dir),
      { hooks: watch },
    );
    const at = new Date(Date.now() - 60_000).toISOString();
    const events = Array.from({ length: 20 }, () => eventFrom('page.properties_updated.json', { entity: { id: PAGE, type: 'page' }, timestamp: at }));
    await Promise.all(events.map((e) => postEvent(svc.webhook, e, SECRET)));
    await watch.until(() => watch.count('done') === 20);
    const reads = fakes.notion.http.requests.filter((r) => r.method === 'GET' && r.path === `/v1/pages/${PAGE}`);
    expect(reads.length).toBeLessThanOrEqual(2);
  });
});
