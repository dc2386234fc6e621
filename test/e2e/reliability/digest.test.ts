import { describe, expect, it } from 'vitest';
import { startServer } from '../../support/child.js';
import { useChildService } from '../../support/child-service.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { PG_URL } from '../../support/pg.js';
import { replicaConfig } from '../../support/replicas.js';
import { SECRET, UNPACED } from '../../support/server.js';

const { fakes, setup } = useChildService();

const rule = (wait: string) => `id: bulk
on: page.properties_updated
digest: { key: "{{ event.data.parent.id }}", wait: ${wait}, max: 1000 }
actions:
  - slack: { channel: "#ship", text: "{{ $count(items) }}: {{ $join(items.event.entity.id, ',') }}" }
`;
const pageEvent = (i: number) =>
  eventFrom('page.properties_updated.json', { entity: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'page' } });

/** The pages named by the digest messages, and how often each. */
function listed(texts: string[]): { pages: Set<string>; total: number } {
  const all = texts.flatMap((t) => t.split(': ')[1]!.split(','));
  return { pages: new Set(all), total: all.length };
}

describe('a digest survives a crash and is shared by replicas', () => {
  it('SIGKILL with a group half full: after restart one message lists all 200 pages, each once', { timeout: 90_000 }, async () => {
    // A wait longer than the restart takes, so that the group is still open when the server is back.
    const { config, env } = setup({ 'bulk.yaml': rule('15s') });
    const first = await startServer(config, env);
    for (let i = 0; i < 100; i++) expect((await postEvent(`${first.url}/webhook`, pageEvent(i), SECRET)).status).toBe(200);
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(fakes.slack.messages).toHaveLength(0); // the group was still waiting

    const again = await startServer(config, env);
    for (let i = 100; i < 200; i++) expect((await postEvent(`${again.url}/webhook`, pageEvent(i), SECRET)).status).toBe(200);
    await fakes.slack.untilMessages(1, 60_000);
    const { pages, total } = listed(fakes.slack.messages.map((m) => m.text!));
    expect(fakes.slack.messages).toHaveLength(1);
    expect(fakes.slack.messages[0]!.text).toMatch(/^200: /);
    expect(total).toBe(200);
    expect(pages.size).toBe(200);
    expect(await again.kill()).toMatchObject({ code: 0 });
    expect(fakes.slack.messages).toHaveLength(1);
  });

  it.skipIf(!PG_URL)('two replicas on PostgreSQL, the bulk edit sent to both: one group, all 200 pages once', { timeout: 90_000 }, async () => {
    const { config } = await replicaConfig(
      { 'bulk.yaml': rule('5s') },
      { slack: { apiUrl: fakes.slack.url }, delivery: { limits: UNPACED, backoff: { baseMs: 50, maxMs: 200 } } },
    );
    const env = { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: fakes.slack.token };
    const replicas = [
      await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r0' }),
      await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r1' }),
    ];
    await Promise.all(Array.from({ length: 200 }, (_, i) => postEvent(`${replicas[i % 2]!.url}/webhook`, pageEvent(i), SECRET)));
    await fakes.slack.untilMessages(1, 60_000);
    const { pages, total } = listed(fakes.slack.messages.map((m) => m.text!));
    expect(fakes.slack.messages).toHaveLength(1);
    expect(total).toBe(200);
    expect(pages.size).toBe(200);
    for (const r of replicas) expect(await r.kill()).toMatchObject({ code: 0 });
  });
});
