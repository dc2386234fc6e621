import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { startServer, type ServerProcess } from '../../support/child.js';
import { eventFrom, repoRoot } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { PG_URL } from '../../support/pg.js';
import { replicaConfig } from '../../support/replicas.js';
import { SECRET, UNPACED } from '../../support/server.js';
import { mkdirSync, writeFileSync } from 'node:fs';

let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
});
afterEach(() => slack.stop());

const SHIP = { 'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' };

describe.skipIf(!PG_URL)('several replicas on one PostgreSQL database', () => {
  it.each([2, 3])('%i replicas, round-robin, a tenth sent to two at once, one SIGKILLed: stored once, delivered once', { timeout: 120_000 }, async (n) => {
    const { config, db } = await replicaConfig(SHIP, {
      slack: { apiUrl: slack.url, timeoutMs: 2000 },
      delivery: { concurrency: 8, maxAttempts: 50, leaseMs: 2000, backoff: { baseMs: 50, maxMs: 500 }, limits: UNPACED },
      security: { adminToken: 'admin-token-replicas-0123456789' },
    });
    const replicas: ServerProcess[] = [];
    for (let i = 0; i < n; i++)
      replicas.push(await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token, NOTION_RULES_REPLICA_ID: `r${i}` }));
    const health = (await (await fetch(`${replicas[1]!.url}/health`, { headers: { authorization: 'Bearer admin-token-replicas-0123456789' } })).json()) as {
      store: { kind: string; replica: string };
    };
    expect(health.store).toMatchObject({ kind: 'postgres', replica: 'r1' });

    const alive = new Set(replicas.map((_, i) => i));
    let turn = 0;
    const pick = () => {
      const ids = [...alive];
      return replicas[ids[turn++ % ids.length]!]!;
    };
    const send = async (ev: Record<string, unknown>, twice: boolean): Promise<void> => {
      for (;;) {
        const targets = twice && alive.size > 1 ? [pick(), pick()] : [pick()];
        const answers = await Promise.all(targets.map((r) => postEvent(`${r.url}/webhook`, ev, SECRET).catch(() => undefined)));
        if (answers.some((a) => a?.status === 200)) return;
      }
    };
    const events = Array.from({ length: 2000 }, () => eventFrom('page.created.json'));
    let next = 0;
    let doubled = 0;
    const victim = replicas[0]!;
    const workers = Array.from({ length: 16 }, async () => {
      while (next < events.length) {
        const i = next++;
        if (i === 800) {
          victim.proc.kill('SIGKILL'); // mid-run: some of its jobs and claimed events are in flight
          alive.delete(0);
        }
        const twice = i % 10 === 0;
        if (twice) doubled++;
        await send(events[i]!, twice);
      }
    });
    await Promise.all(workers);
    await slack.http.until(() => new Set(slack.messages.map((m) => m.text)).size === events.length, 90_000);
    for (const r of replicas.slice(1)) await r.kill();

    const client = new pg.Client({ connectionString: db });
    await client.connect();
    const stored = Number((await client.query('SELECT count(*) AS n FROM events')).rows[0].n);
    const dupDeliveries = Number((await client.query('SELECT coalesce(sum(duplicates), 0) AS n FROM events')).rows[0].n);
    const jobs = (await client.query('SELECT status, count(*)::int AS n FROM jobs GROUP BY status')).rows;
    await client.end();
    expect(stored).toBe(events.length);
    expect(jobs).toEqual([{ status: 'done', n: events.length }]);

    const perEvent = new Map<string, number>();
    for (const m of slack.messages) perEvent.set(m.text!, (perEvent.get(m.text!) ?? 0) + 1);
    const twice = [...perEvent.values()].filter((c) => c > 1).length;
    expect([...perEvent.values()].every((c) => c <= 2)).toBe(true);
    const figures = {
      replicas: n,
      events: events.length,
      sentToTwoReplicas: doubled,
      duplicateDeliveriesAbsorbed: dupDeliveries,
      stored,
      slackMessages: slack.messages.length,
      distinct: perEvent.size,
      deliveredTwiceInTheDocumentedWindow: twice,
      killed: 1,
    };
    mkdirSync(join(repoRoot, 'test/artifacts'), { recursive: true });
    writeFileSync(join(repoRoot, `test/artifacts/replicas-${n}.json`), `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`replicas-${n}: ${JSON.stringify(figures)}\n`);
  });

  it("a killed replica's running jobs are taken over within 15 s with the default lease", { timeout: 60_000 }, async () => {
    const { config } = await replicaConfig(SHIP, {
      slack: { apiUrl: slack.url, timeoutMs: 5000 },
      delivery: { concurrency: 8, limits: UNPACED }, // leaseMs: the default
    });
    const victim = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token, NOTION_RULES_REPLICA_ID: 'victim' });
    const survivor = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token, NOTION_RULES_REPLICA_ID: 'survivor' });
    slack.http.failAll({ kind: 'slow', ms: 3000 }); // the victim's jobs are mid-call when it dies
    const events = Array.from({ length: 20 }, () => eventFrom('page.created.json'));
    for (const ev of events) expect((await postEvent(`${victim.url}/webhook`, ev, SECRET)).status).toBe(200);
    await slack.http.until(() => slack.http.arrived >= 8);
    victim.proc.kill('SIGKILL');
    const killedAt = performance.now();
    slack.http.recover();
    await slack.http.until(() => new Set(slack.messages.map((m) => m.text)).size === events.length, 30_000);
    const tookMs = performance.now() - killedAt;
    expect(tookMs, `every event delivered ${Math.round(tookMs)} ms after the kill`).toBeLessThan(15_000);
    await survivor.kill();
  });
});
