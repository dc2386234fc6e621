import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startServer, writeConfig } from '../../support/child.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET } from '../../support/server.js';
import { scale } from '../../support/soak.js';
import { tempDir } from '../../support/tmp.js';

const RULES = 16;
const RATE = 300; // events per second
const SECONDS = scale(5, 60);
const PAUSES = scale(15, 180);
const PAUSE_MS = 250;

describe('a paused process (GC, a busy machine, SIGSTOP) loses no rule', () => {
  it(
    `${PAUSES} SIGSTOP/SIGCONT pauses of ${PAUSE_MS} ms at ${RATE} events/s with ${RULES} always-true rules off the fast path: every action delivered`,
    { timeout: scale(120_000, 900_000) },
    async () => {
      const dir = tempDir();
      const rulesDir = join(dir, 'rules');
      mkdirSync(rulesDir);
      // Function calls keep these conditions off the fast path: JSONata evaluates every one.
      for (let i = 0; i < RULES; i++) {
        writeFileSync(
          join(rulesDir, `r${i}.yaml`),
          `id: r${i}\non: page.created\nwhen: $count(event.authors) >= 0 and $string(event.id) != "" and $length(event.type) > ${i % 3}\nactions:\n  - log: { level: debug, message: "{{ event.id }}" }\n`,
        );
      }
      const db = join(dir, 'store.db');
      const config = writeConfig(dir, {
        server: { host: '127.0.0.1', port: 0 },
        store: { url: `sqlite:${db}` },
        rules: { dir: rulesDir, watch: false },
        log: { level: 'info' },
      });
      const server = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET });

      const total = RATE * SECONDS;
      const events = Array.from({ length: total }, () => eventFrom('page.created.json'));
      const started = performance.now();
      let next = 0;
      const senders = Array.from({ length: 24 }, async () => {
        while (next < events.length) {
          const i = next++;
          const due = started + (i * 1000) / RATE; // paced at RATE, not a wait for anything
          if (due > performance.now()) await delay(due - performance.now());
          for (;;) {
            const res = await postEvent(`${server.url}/webhook`, events[i]!, SECRET).catch(() => undefined);
            if (res?.status === 200) break;
          }
        }
      });
      const pauses = (async () => {
        for (let p = 0; p < PAUSES; p++) {
          await delay((SECONDS * 1000) / PAUSES - PAUSE_MS);
          server.proc.kill('SIGSTOP');
          await delay(PAUSE_MS);
          server.proc.kill('SIGCONT');
        }
      })();
      await Promise.all([...senders, pauses]);

      // Every event matched by all 16 rules, every job done: nothing dropped as a "timeout".
      const read = new Database(db, { readonly: true, fileMustExist: true });
      try {
        await expect
          .poll(() => (read.prepare("SELECT count(*) AS n FROM jobs WHERE status = 'done'").get() as { n: number }).n, {
            timeout: scale(90_000, 600_000),
            interval: 500,
          })
          .toBe(total * RULES);
        expect(read.prepare('SELECT status, count(*) AS n FROM events GROUP BY status').all()).toEqual([{ status: 'dispatched', n: total }]);
        const reports = read.prepare('SELECT report FROM events').all() as Array<{ report: string }>;
        const notMatched = reports.flatMap((r) => (JSON.parse(r.report) as Array<{ matched: boolean; reason?: string }>).filter((o) => !o.matched));
        expect(notMatched).toEqual([]);
      } finally {
        read.close();
      }
      expect((await server.kill('SIGTERM')).code).toBe(0);
    },
  );
});
