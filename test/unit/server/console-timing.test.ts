import { describe, expect, it } from 'vitest';
import type { RuleCoordinator } from '../../../src/engine/coordinator.js';
import { rulesPage } from '../../../src/server/console/pages/rules.js';
import { ruleSetOf } from '../../support/rules.js';

const log = '\nactions:\n  - log: { message: hi }\n';

describe("the console's rules page", () => {
  it('shows what each throttle, digest, wait and schedule is doing: open groups, pending waits, the next tick', () => {
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
      now,
    ).toString();
    expect(page).toContain('once per key per 10m');
    expect(page).toContain('digest (30s, max 50): 2 open groups, 37 items, next due');
    expect(page).toContain('after 2d: 3 waiting, next check');
    expect(page).toMatch(/0 9 \* \* MON \(Europe\/Berlin\), next <time datetime="2026-12-07T08:00:00.000Z"/);
  });
});
