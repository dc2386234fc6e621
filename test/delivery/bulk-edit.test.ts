import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFakes } from '../support/fakes.js';
import { eventFrom } from '../support/fixtures.js';
import { postEvent } from '../support/http.js';
import { rulesDir } from '../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

/**
 * The bulk edit of issue #17: 200 pages set to Done at once in Notion, one rule that fetches the
 * page, posts to one Slack channel and comments on the page, against fakes that enforce the
 * documented limits (Notion 3 requests/s per token with bursts, Slack 1 message/s per channel).
 * The limits are sped up by NOTION_RULES_PACE_SCALE (default 5: Slack 5/s, Notion 15/s) so the
 * suite stays short; NOTION_RULES_PACE_SCALE=1 runs it at the documented rates (about 200 s).
 */
const SCALE = Number(process.env.NOTION_RULES_PACE_SCALE ?? 5);
const PAGES = 200;
const SLACK = { rate: 1 * SCALE, burst: 4 };
const NOTION = { rate: 3 * SCALE, burst: 9 };
/** What the destinations allow: one channel at its rate after its burst (Notion's 400 calls need less). */
const LIMIT_S = Math.max((PAGES - SLACK.burst) / SLACK.rate, (2 * PAGES - NOTION.burst) / NOTION.rate);
const fakes = useFakes();

const pageId = (i: number) => `1f8e2d3c-4b5a-4697-8877-${String(i).padStart(12, '0')}`;

describe('a bulk edit at the destinations\' pace', () => {
  it(`200 pages set to Done: one Slack message and one comment each, exactly once, 0 dead, within 1.25 × what the limits allow, < 5 % answered 429`, { timeout: (LIMIT_S * 2 + 60) * 1000 }, async () => {
    fakes.slack.limitPerChannel(SLACK.rate, SLACK.burst);
    fakes.notion.limit(NOTION.rate, NOTION.burst);
    for (let i = 0; i < PAGES; i++) fakes.notion.addPage(pageId(i), (p) => ((p.properties as Record<string, { title?: Array<{ plain_text: string }> }>).Name!.title = [{ plain_text: `Task ${i}` }]));
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
          // The defaults (notion 3/s burst 9, slack 1/s burst 4), sped up like the fakes.
          delivery: { limits: { notion: { rate: NOTION.rate, burst: NOTION.burst }, slack: { perChannel: SLACK.rate, burst: SLACK.burst } } },
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
    console.log(`bulk edit (scale ${SCALE}): ${PAGES} pages drained in ${seconds.toFixed(1)} s; the limits allow ${LIMIT_S.toFixed(1)} s (${(seconds / LIMIT_S).toFixed(2)} ×); ${limited} of ${calls} calls answered 429 (Slack ${fakes.slack.limited}/${fakes.slack.attempts}, Notion ${fakes.notion.limited}/${fakes.notion.http.requests.length})`);
    expect(limited / calls).toBeLessThan(0.05);
    expect(seconds).toBeLessThan(1.25 * LIMIT_S);
  });
});
