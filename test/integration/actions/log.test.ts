import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

describe('log action', () => {
  it('writes one line with the event and rule ids; fields from event data cannot forge them, the level or the message', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rule =
      'id: audit\non: page.created\nactions:\n  - log:\n      message: "page {{ event.entity.id }}"\n      fields: { eventId: "{{ event.data.forged }}", level: 60, msg: "{{ event.data.forged }}", ruleId: other, owner: ada }\n';
    const svc = await startTestService(testConfig({ rules: { dir: rulesDir({ 'a.yaml': rule }, join(dir, 'rules')) }, log: { level: 'info' } }, dir), {
      hooks: watch,
    });
    const ev = eventFrom('page.created.json', { data: { forged: 'evt-someone-else' } });
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    const lines = svc.logs.filter((l) => l.action === 'log');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: expect.stringMatching(/^page /),
      eventId: ev.id,
      ruleId: 'audit',
      owner: 'ada',
      'field.eventId': 'evt-someone-else',
      'field.level': 60,
      'field.msg': 'evt-someone-else',
      'field.ruleId': 'other',
    });
  });
});
