import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

describe('event.stale and timestamps from the future', () => {
  it('one signed event dated years ahead does not make the later events of its entity stale', async () => {
    const dir = tempDir();
    const rules = rulesDir({ 'fresh.yaml': 'id: fresh\non: page.*\nwhen: $not(event.stale)\nactions:\n  - log: { message: fresh }\n' }, join(dir, 'rules'));
    const svc = await startTestService(testConfig({ rules: { dir: rules }, log: { level: 'warn' } }, dir));
    const entity = { id: 'page-from-the-future', type: 'page' };
    const matched = async (ev: Record<string, unknown>) => {
      expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(200);
      await expect.poll(async () => (await svc.store.getEvent(String(ev.id)))?.status).toBe('dispatched');
      return ((await svc.store.getEvent(String(ev.id)))!.report as Array<{ rule: string; matched: boolean }>).find((r) => r.rule === 'fresh')?.matched;
    };
    const future = eventFrom('page.created.json', { entity, timestamp: '2999-01-01T00:00:00.000Z' });
    expect(await matched(future)).toBe(true);
    const stored = await svc.store.getEvent(String(future.id));
    expect(Date.parse(stored!.event.timestamp)).toBeLessThanOrEqual(Date.now());
    expect(await matched(eventFrom('page.properties_updated.json', { entity, timestamp: new Date(Date.now() + 1000).toISOString() }))).toBe(true);
  });
});
