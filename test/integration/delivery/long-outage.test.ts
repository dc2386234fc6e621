import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

/**
 * Slack down (HTTP 500) for 10 minutes (NOTION_RULES_OUTAGE_MS to change it), with events
 * arriving throughout, under the default retry settings (backoff 1 s doubling, maxAge 24 h,
 * maxAttempts 100). Only the breaker's probes reach Slack; Notion's jobs keep running; after Slack
 * is back every message arrives once and nothing is dead.
 */
const OUTAGE_MS = Number(process.env.NOTION_RULES_OUTAGE_MS ?? 600_000);
const EVENTS = 30;
const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const fakes = useFakes(PAGE);

/** Probes the breaker allows in `ms`: waits of 1 s doubling, at most a minute apart (see destinations.ts). */
function probesIn(ms: number): number {
  let n = 0;
  for (let t = 0, wait = 1000; t <= ms; t += wait, wait = Math.min(wait * 2, 60_000)) n++;
  return n;
}

describe('a 10-minute Slack outage', () => {
  it('only the probes reach Slack, Notion jobs keep running, and after it every message arrives once, 0 dead', { timeout: OUTAGE_MS + 180_000 }, async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = {
      'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
      'comment.yaml': 'id: comment\non: page.created\nactions:\n  - notion.comment: { text: "seen {{ event.id }}" }\n',
    };
    const svc = await startTestService(
      testConfig(
        {
          rules: { dir: rulesDir(rules, join(dir, 'rules')) },
          slack: { token: fakes.slack.token, apiUrl: fakes.slack.url },
          notion: { token: fakes.notion.token, baseUrl: fakes.notion.url },
          delivery: { limits: null }, // the default limits: Slack 1/s per channel, Notion 3/s
          log: { level: 'warn' },
        },
        dir,
      ),
      { hooks: watch },
    );
    fakes.slack.http.failAll(FakeSlack.serverError(500));
    const down = Date.now();
    // Events arrive throughout the outage; Notion comments them as they come.
    for (let i = 0; i < EVENTS; i++) {
      await postEvent(svc.webhook, eventFrom('page.created.json', { entity: { id: PAGE, type: 'page' } }), SECRET);
      await fakes.notion.http.until(() => fakes.notion.comments.length === i + 1, 30_000);
      await new Promise((r) => setTimeout(r, OUTAGE_MS / EVENTS)); // events spread over the outage
    }
    const outageMs = Date.now() - down;
    const duringOutage = fakes.slack.attempts;
    fakes.slack.http.recover();
    const up = Date.now();

    await watch.until(() => watch.count('done') === 2 * EVENTS, 120_000);
    const drainedS = (Date.now() - up) / 1000;
    console.log(
      `Slack down ${(outageMs / 1000).toFixed(0)} s: ${duringOutage} calls reached it (the breaker allows ${probesIn(outageMs)} probes + 3 failures that open it); ${EVENTS} messages delivered ${drainedS.toFixed(1)} s after it came back`,
    );
    expect(watch.count('dead')).toBe(0);
    expect(fakes.slack.messages).toHaveLength(EVENTS);
    expect(new Set(fakes.slack.messages.map((m) => m.text)).size).toBe(EVENTS);
    expect(fakes.notion.comments).toHaveLength(EVENTS);
    // One call per backoff period (after the 3 failures that open the breaker), not one per job.
    expect(duringOutage).toBeLessThanOrEqual(3 + probesIn(outageMs) + 1);
    // The breaker probes at least once a minute, so the queue drains soon after Slack is back.
    expect(drainedS).toBeLessThan(60 + EVENTS / 1 + 30);
  });
});
