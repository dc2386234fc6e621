import { describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { runCli, startServer } from '../../support/child.js';
import { useChildService } from '../../support/child-service.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET } from '../../support/server.js';

const { fakes, setup } = useChildService();

describe('crash safety of delivery (child process, SIGKILL)', () => {
  it('jobs pending at a SIGKILL are all delivered exactly once after restart', async () => {
    const { config, env } = setup({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' });
    const server = await startServer(config, env);
    fakes.slack.http.failAll(FakeSlack.serverError(500));
    const events = Array.from({ length: 50 }, () => eventFrom('page.created.json'));
    const answers = await Promise.all(events.map((e) => postEvent(`${server.url}/webhook`, e, SECRET)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Some jobs tried and failed; the breaker holds the rest back: all 50 are pending in the store.
    await fakes.slack.http.until(() => fakes.slack.attempts >= 6);
    server.proc.kill('SIGKILL');
    await server.exited;
    expect(fakes.slack.messages).toHaveLength(0);

    fakes.slack.http.recover();
    const again = await startServer(config, env);
    await fakes.slack.untilMessages(50);
    const res = await runCli(['events', '--status', 'processed', '--json', '--config', config], env);
    const processed = JSON.parse(res.stdout) as unknown[];
    expect(processed).toHaveLength(50);
    expect(fakes.slack.messages.map((m) => m.text).sort()).toEqual(events.map((e) => String(e.id)).sort());
    expect(await again.kill()).toMatchObject({ code: 0 });
    expect(fakes.slack.messages).toHaveLength(50); // nothing more arrived while shutting down
  });
});
