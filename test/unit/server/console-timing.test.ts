import { describe, expect, it } from 'vitest';
import type { RuleCoordinator } from '../../../src/engine/coordinator.js';
import { eventPage } from '../../../src/server/console/pages/event.js';
import { rulesPage } from '../../../src/server/console/pages/rules.js';
import { FlowFrame, WINDOWS } from '../../../src/server/console/flow-frame.js';
import { normalize } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';
import { ruleSetOf } from '../../support/rules.js';

const log = '\nactions:\n  - log: { message: hi }\n';

describe("the console's rules page", () => {
  it('shows what each throttle, digest, wait and schedule is doing: open groups, pending waits, the next tick', async () => {
    const current = ruleSetOf({
      'a.yaml': `id: once\non: page.created\nthrottle: { per: 10m }${log}`,
      'b.yaml': `id: bulk\non: page.created\ndigest: { wait: 30s, max: 50 }${log}`,
      'c.yaml': `id: stuck\non: page.created\nafter: 48h${log}`,
      'd.yaml': `id: weekly\non: schedule\nschedule: { cron: "0 9 * * MON", timezone: Europe/Berlin }${log}`,
    });
    const rules = {
      current,
      lastReload: { at: new Date(), ok: true, trigger: 'start', version: current.version, durationMs: 1, problems: [] },
    } as unknown as RuleCoordinator;
    const now = Date.parse('2026-11-30T12:00:00Z');
    const page = rulesPage(
      rules,
      'csrf',
      { digests: [{ ruleId: 'bulk', groups: 2, items: 37, nextDueAt: now + 20_000 }], delays: [{ ruleId: 'stuck', waiting: 3, nextDueAt: now + 3_600_000 }] },
      [],
      await FlowFrame.read({ readFlow: async () => [] }, ['rule.matched'], WINDOWS['1h'], now),
      now,
    ).toString();
    expect(page).toContain('once per key per 10m');
    expect(page).toContain('digest (30s, max 50): 2 open groups, 37 items, next due');
    expect(page).toContain('after 2d: 3 waiting, next check');
    expect(page).toMatch(/0 9 \* \* MON \(Europe\/Berlin\), next <time datetime="2026-12-07T08:00:00.000Z"/);
  });

  it("an event's page says which rule was throttled (with its key), collected in a digest, or is waiting", () => {
    const event = normalize(notionFixture('page.properties_updated.json'));
    const report = [
      { rule: 'once', matched: false, reason: 'throttled', key: 'page-1' },
      { rule: 'bulk', matched: true, actions: 0, digest: 'db-1' },
      { rule: 'stuck', matched: true, actions: 0, delayed: true },
    ];
    const page = eventPage({
      stored: { event, status: 'dispatched', receivedAt: 0, duplicates: 0, dispatchAttempts: 1, rulesVersion: 'v', report, error: null },
      jobs: [],
      csrf: 'x',
    }).toString();
    expect(page).toContain('already ran for key <code>page-1</code> in its window');
    expect(page).toContain('in the digest group <code>db-1</code>: its actions run once for the group');
    expect(page).toContain('its condition is checked again when the wait (after) is over');
  });
});
