import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIMIT_S, LIMITS, NOTION, PAGES, pageId, SCALE, SLACK } from '../../support/bulk-edit.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

/** The bulk edit of issue #17, in one process: see test/support/bulk-edit.ts. */
const fakes = useFakes();

describe("a bulk edit at the destinations' pace", () => {
  it(
    `200 pages set to Done: one Slack message and one comment each, exactly once, 0 dead, within 1.25 × what the limits allow, < 5 % answered 429`,
    { timeout: (LIMIT_S * 2 + 60) * 1000 },
    async () => {
      fakes.slack.limitPerChannel(SLACK.rate, SLACK.burst);
      fakes.notion.limit(NOTION.rate, NOTION.burst);
      for (let i = 0; i < PAGES; i++)
        fakes.notion.addPage(
          pageId(i),
          (p) => ((p.properties as Record<string, { title?: Array<{ plain_text: string }> }>).Name!.title = [{ plain_text: `Task ${i}` }]),
        );
      const dir = tempDir();
      const watch = new JobWatch();
      const rules = {
        'done.yaml': [
          'id: announce-done',
          'on: page.properties_updated',
          'fetch: page',
          'when: page.props.Status = "Done"',
          'actions:',
          '  - slack: { channel: "#done", text: "{{ page.props.Name }} is done" }',
          '  - notion.comment: { text: "Announced in #done" }',
          '',
        ].join('\n'),
      };
      const svc = await startTestService(
        testConfig(
          {
            rules: { dir: rulesDir(rules, join(dir, 'rules')) },
            slack: { token: fakes.slack.token, apiUrl: fakes.slack.url },
            notion: { token: fakes.notion.token, baseUrl: fakes.notion.url },
            delivery: { limits: LIMITS },
            log: { level: 'warn' },
          },
          dir,
        ),
        { hooks: watch },
      );
      const events = Array.from({ length: PAGES }, (_, i) => eventFrom('page.properties_updated.json', { entity: { id: pageId(i), type: 'page' } }));
      const started = performance.now();
      for (let i = 0; i < events.length; i += 20) await Promise.all(events.slice(i, i + 20).map((e) => postEvent(svc.webhook, e, SECRET)));
      await watch.until(() => watch.count('done') + watch.count('dead') === PAGES, (LIMIT_S * 2 + 30) * 1000);
      const seconds = (performance.now() - started) / 1000;

      expect(watch.count('dead')).toBe(0);
      const texts = fakes.slack.messages.map((m) => m.text);
      expect(texts).toHaveLength(PAGES);
      expect(new Set(texts).size).toBe(PAGES);
      expect(fakes.notion.comments).toHaveLength(PAGES);
      expect(new Set(fakes.notion.comments.map((c) => c.page_id)).size).toBe(PAGES);
      const calls = fakes.slack.attempts + fakes.notion.http.requests.length;
      const limited = fakes.slack.limited + fakes.notion.limited;
      console.log(
        `bulk edit (scale ${SCALE}): ${PAGES} pages drained in ${seconds.toFixed(1)} s; the limits allow ${LIMIT_S.toFixed(1)} s (${(seconds / LIMIT_S).toFixed(2)} ×); ${limited} of ${calls} calls answered 429 (Slack ${fakes.slack.limited}/${fakes.slack.attempts}, Notion ${fakes.notion.limited}/${fakes.notion.http.requests.length})`,
      );
      expect(limited / calls).toBeLessThan(0.05);
      expect(seconds).toBeLessThan(1.25 * LIMIT_S);
    },
  );
});
