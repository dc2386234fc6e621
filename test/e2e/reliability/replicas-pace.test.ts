import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../support/child.js';
import { LIMIT_S, LIMITS, NOTION, PAGES, pageId, SCALE, SLACK } from '../../support/bulk-edit.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { PG_URL } from '../../support/pg.js';
import { replicaConfig } from '../../support/replicas.js';
import { SECRET } from '../../support/server.js';

/**
 * The bulk edit of issue #17 (see test/support/bulk-edit.ts) sent to two replicas of one
 * PostgreSQL database: the destinations' pace is kept in the database, so the two together stay
 * within one limit.
 */
const fakes = useFakes();

describe.skipIf(!PG_URL)("two replicas on PostgreSQL share the destinations' limits", () => {
  it(
    'the bulk edit sent to both: every message and comment once, 0 dead, < 5 % answered 429, within 1.25 × the one limit',
    { timeout: (LIMIT_S * 2 + 90) * 1000 },
    async () => {
      fakes.slack.limitPerChannel(SLACK.rate, SLACK.burst);
      fakes.notion.limit(NOTION.rate, NOTION.burst);
      for (let i = 0; i < PAGES; i++) fakes.notion.addPage(pageId(i));
      const { config, db } = await replicaConfig(
        {
          'done.yaml':
            'id: announce-done\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - slack: { channel: "#done", text: "{{ event.entity.id }} is done" }\n  - notion.comment: { text: "Announced in #done" }\n',
        },
        { slack: { apiUrl: fakes.slack.url }, notion: { baseUrl: fakes.notion.url }, delivery: { limits: LIMITS } },
      );
      const env = { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: fakes.slack.token, NOTION_TOKEN: fakes.notion.token };
      const replicas: ServerProcess[] = [
        await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r0' }),
        await startServer(config, { ...env, NOTION_RULES_REPLICA_ID: 'r1' }),
      ];

      const events = Array.from({ length: PAGES }, (_, i) => eventFrom('page.properties_updated.json', { entity: { id: pageId(i), type: 'page' } }));
      const started = performance.now();
      for (let i = 0; i < events.length; i += 20)
        await Promise.all(events.slice(i, i + 20).map((e, j) => postEvent(`${replicas[(i + j) % 2]!.url}/webhook`, e, SECRET)));
      await fakes.slack.untilMessages(PAGES, (LIMIT_S * 2 + 30) * 1000);
      await fakes.notion.http.until(() => fakes.notion.comments.length >= PAGES, 60_000);
      const seconds = (performance.now() - started) / 1000;

      const client = new pg.Client({ connectionString: db });
      await client.connect();
      // The last comment reached Notion a moment before its job's outcome is committed.
      const jobStates = async () => (await client.query('SELECT status, count(*)::int AS n FROM jobs GROUP BY status')).rows;
      await expect.poll(jobStates, { timeout: 15_000 }).toEqual([{ status: 'done', n: PAGES }]);
      const byReplica = (await client.query("SELECT replica, count(*)::int AS n FROM attempts WHERE outcome = 'ok' GROUP BY replica ORDER BY replica"))
        .rows as Array<{ replica: string; n: number }>;
      await client.end();
      for (const r of replicas) await r.kill();

      expect(new Set(fakes.slack.messages.map((m) => m.text)).size).toBe(PAGES);
      expect(fakes.slack.messages).toHaveLength(PAGES);
      expect(fakes.notion.comments).toHaveLength(PAGES);
      // Both replicas did part of the work: the limit was shared, not one replica doing it all.
      expect(byReplica.map((r) => r.replica)).toEqual(['r0', 'r1']);
      const calls = fakes.slack.attempts + fakes.notion.http.requests.length;
      const limited = fakes.slack.limited + fakes.notion.limited;
      console.log(
        `two replicas, bulk edit (scale ${SCALE}): drained in ${seconds.toFixed(1)} s; one limit allows ${LIMIT_S.toFixed(1)} s (${(seconds / LIMIT_S).toFixed(2)} ×); ${limited} of ${calls} calls answered 429 (Slack ${fakes.slack.limited}/${fakes.slack.attempts}, Notion ${fakes.notion.limited}/${fakes.notion.http.requests.length}); actions by replica ${JSON.stringify(byReplica)}`,
      );
      expect(limited / calls).toBeLessThan(0.05);
      expect(seconds).toBeLessThan(1.25 * LIMIT_S);
    },
  );
});
