import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSentry } from '../../fakes/sentry.js';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

let slack: FakeSlack;
let sentry: FakeSentry;
beforeEach(async () => {
  slack = new FakeSlack();
  slack.knownChannels = new Set(['#general']);
  sentry = new FakeSentry();
  await Promise.all([slack.start(), sentry.start()]);
});
afterEach(() => Promise.all([slack.stop(), sentry.stop()]));

describe('error reporting to Sentry (sentry.dsn / SENTRY_DSN)', () => {
  it('reports a dead letter and a failing condition, tagged with event type and rule id, and sends no secrets or content', async () => {
    const dir = tempDir();
    const rules = rulesDir(
      {
        'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#nowhere", text: "{{ event.id }}" }\n',
        'broken.yaml': 'id: broken\non: page.created\nwhen: $error("the Status property is gone")\nactions:\n  - log: { message: never }\n',
      },
      join(dir, 'rules'),
    );
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig(
        { rules: { dir: rules }, slack: { token: slack.token, apiUrl: slack.url }, sentry: { dsn: sentry.dsn, environment: 'test' }, log: { level: 'error' } },
        dir,
      ),
      { hooks: watch },
    );
    const event = eventFrom('page.created.json', { workspace_name: 'Confidential workspace name' });
    expect((await postEvent(svc.webhook, event, SECRET)).status).toBe(200);
    await watch.until(() => watch.count('dead') === 1);
    await sentry.untilEvents(2);

    const dead = sentry.events.find((e) => e.tags?.ruleId === 'ship')!;
    expect(dead.tags).toMatchObject({ eventType: 'page.created', ruleId: 'ship', actionType: 'slack', eventId: event.id });
    expect(dead.exception!.values[0]).toMatchObject({ type: 'DeadLetter', value: expect.stringContaining('slack: channel_not_found') });
    expect(dead).toMatchObject({ environment: 'test', release: expect.stringMatching(/^notion-rules@/) });

    const failed = sentry.events.find((e) => e.tags?.ruleId === 'broken')!;
    expect(failed.tags).toMatchObject({ eventType: 'page.created', ruleId: 'broken', reason: 'condition_error' });
    expect(failed.exception!.values[0]!.value).toContain('the Status property is gone');
    expect(failed.fingerprint).toEqual(['rule-failed', 'broken', 'condition_error']);

    const sent = JSON.stringify(sentry.http.requests.map((r) => r.body));
    for (const secret of [SECRET, slack.token, 'Confidential workspace name']) expect(sent).not.toContain(secret);
  });
});
