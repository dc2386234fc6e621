import { describe, expect, it } from 'vitest';
import { startServer } from '../../support/child.js';
import { useChildService } from '../../support/child-service.js';
import { PG_URL } from '../../support/pg.js';
import { replicaConfig } from '../../support/replicas.js';
import { SECRET, UNPACED } from '../../support/server.js';

const { fakes, setup } = useChildService();
const DATABASE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const SOURCE = '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1';

/** The rule's interval: ticks fall on its multiples. */
const EVERY_MS = 2000;
const RULE = `id: open-tasks
on: schedule
schedule: { every: ${EVERY_MS / 1000}s, query: { database: ${DATABASE}, filter: { property: Status, status: { equals: Done } } } }
actions:
  - slack: { channel: "#standup", text: "{{ schedule.tick }} {{ $count(pages) }}" }
`;

function addPages(): void {
  for (let i = 0; i < 3; i++) fakes.notion.addPage(`00000000-0000-4000-8000-00000000000${i}`);
  fakes.notion.databases.set(DATABASE, { object: 'database', id: DATABASE, data_sources: [{ id: SOURCE, name: 'Tasks' }] });
}

/** The ticks the messages were sent for, in order. */
const ticks = () => fakes.slack.messages.map((m) => Date.parse(m.text!.split(' ')[0]!));

describe('schedules run each tick once', () => {
  it('a restart that missed ticks runs the latest missed tick once, then goes on', { timeout: 90_000 }, async () => {
    addPages();
    const { config, env } = setup({ 'open.yaml': RULE });
    const first = await startServer(config, env);
    await fakes.slack.untilMessages(2, 30_000);
    // Stopped, not killed: a kill mid-message would resend that one message (Slack's window, see Limits).
    expect(await first.kill()).toMatchObject({ code: 0 });
    const before = ticks();
    // Ticks pass while nothing runs.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const restartedAt = Date.now();
    const again = await startServer(config, env);
    // Its schedules started before it said it was listening.
    const readyAt = Date.now();
    await fakes.slack.untilMessages(before.length + 2, 30_000);
    expect(await again.kill()).toMatchObject({ code: 0 });
    const all = ticks();
    expect(new Set(all).size).toBe(all.length); // no tick twice
    // By tick time, not arrival: the caught-up tick and the next one may be sent side by side.
    const after = all.slice(before.length).sort((a, b) => a - b);
    const caughtUp = after[0]!;
    // The missed tick, run at start: one from before the restart — unless a tick fell while the
    // server was starting (a slow machine), which is then the latest missed one.
    const tickWhileStarting = Math.floor(readyAt / EVERY_MS) * EVERY_MS > restartedAt;
    expect(caughtUp).toBeLessThanOrEqual(tickWhileStarting ? readyAt : restartedAt);
    expect(caughtUp - Math.max(...before)).toBeGreaterThanOrEqual(2 * EVERY_MS); // …only the latest of those missed
    expect(after.slice(1).every((t) => t >= restartedAt)).toBe(true);
    expect(fakes.slack.messages.every((m) => m.text!.endsWith(' 3'))).toBe(true); // the query's pages
    const query = fakes.notion.http.requests.find((r) => r.path === `/v1/data_sources/${SOURCE}/query`);
    expect(query?.body).toMatchObject({ filter: { property: 'Status', status: { equals: 'Done' } }, page_size: 100 });
  });

  it.skipIf(!PG_URL)('two replicas on PostgreSQL: each tick once', { timeout: 90_000 }, async () => {
    addPages();
    const { config } = await replicaConfig(
      { 'open.yaml': RULE },
      { slack: { apiUrl: fakes.slack.url }, notion: { baseUrl: fakes.notion.url }, delivery: { limits: UNPACED } },
    );
    const env = { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: fakes.slack.token, NOTION_TOKEN: fakes.notion.token };
    const replicas = [
      await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r0' }),
      await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r1' }),
    ];
    await fakes.slack.untilMessages(4, 30_000);
    for (const r of replicas) expect(await r.kill()).toMatchObject({ code: 0 });
    const all = ticks();
    expect(new Set(all).size).toBe(all.length);
    expect(all.every((t) => t % 2000 === 0)).toBe(true);
  });
});
