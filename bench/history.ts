/**
 * `npm run bench:history -- [--events N,N…] [--quick]`: does ingest stay flat as the store fills?
 * For each N (default 0, 1,000,000), a SQLite store is prefilled with N processed events in the
 * store's own row shape (each with one done job and its attempt), written in bulk straight into the
 * file; then notion-rules serves it with 10 candidate rules, driven as scenario 1 of `npm run bench`.
 * Figures are printed against the empty store of the same run, with the machine's CPU.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { eventStream } from './events.js';
import { load, type LoadResult } from './load.js';
import { start } from './processes.js';

const quick = process.argv.includes('--quick');
const DURATION = quick ? 3 : 10;
const WARMUP_S = quick ? 1 : 2;
const CONNECTIONS = 50;
const SECRET = 'bench-secret';
const root = fileURLToPath(new URL('../../', import.meta.url)); // dist-bench/bench → repo
const cli = join(root, 'dist/cli/main.js');
const arg = process.argv.indexOf('--events');
const sizes = arg > 0 ? process.argv[arg + 1]!.split(',').map(Number) : quick ? [0, 100_000] : [0, 1_000_000];
const work = mkdtempSync(join(tmpdir(), 'nr-history-'));

/** A store file with the schema notion-rules migrates to, holding `n` processed events. */
async function prefilled(dir: string, n: number): Promise<string> {
  const file = join(dir, 'store.db');
  const { SqliteStore } = (await import(join(root, 'dist/store/sqlite/store.js'))) as typeof import('../src/store/sqlite/store.js');
  await (await SqliteStore.open(file)).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // the prefill only: the server opens the file with its own settings
  const insertEvent = db.prepare(
    `INSERT INTO events (id, type, entity_id, entity_type, timestamp, received_at, raw, status, duplicates, dispatch_attempts, next_dispatch_at, lease_until, rules_version, report)
     VALUES (?, 'page.properties_updated', ?, 'page', ?, ?, ?, 'dispatched', 0, 1, 0, 0, 'prefill', ?)`,
  );
  const insertJob = db.prepare(
    `INSERT INTO jobs (event_id, rule_id, actions, next_action, status, attempts, run_at, lease_until, created_at, updated_at) VALUES (?, 'prefill', ?, 1, 'done', 0, ?, 0, ?, ?)`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome) VALUES (?, 0, 'log', ?, 1, 'ok')`,
  );
  const sample = eventStream(SECRET, { duplicateShare: 0 });
  const report = JSON.stringify([{ rule: 'prefill', matched: true, actions: 1 }]);
  const actions = JSON.stringify([{ type: 'log', params: { message: 'prefilled' } }]);
  const start = Date.now() - 30 * 86_400_000; // a month of history, older than what the bench sends
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const body = JSON.parse(sample.next().body) as Record<string, unknown>;
      const id = `prefill-${i}`;
      const at = start + Math.floor((i / n) * 29 * 86_400_000);
      const raw = JSON.stringify({ ...body, id, timestamp: new Date(at).toISOString(), entity: { id: `page-${i % 50_000}`, type: 'page' } });
      insertEvent.run(id, `page-${i % 50_000}`, new Date(at).toISOString(), at, raw, report);
      const job = insertJob.run(id, actions, at, at, at).lastInsertRowid;
      insertAttempt.run(job, at);
    }
  });
  const began = Date.now();
  for (let i = 0; i < n; i += 50_000) batch(i, Math.min(n, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  process.stderr.write(`prefilled ${n} events in ${((Date.now() - began) / 1000).toFixed(1)} s (${Math.round(statSync(file).size / 1e6)} MB)\n`);
  return file;
}

async function run(n: number): Promise<LoadResult & { n: number }> {
  const dir = join(work, `n${n}`);
  mkdirSync(join(dir, 'rules'), { recursive: true });
  for (let i = 0; i < 10; i++)
    writeFileSync(
      join(dir, 'rules', `match-${i}.yaml`),
      `id: match-${i}\non: page.*\nwhen: event.data.parent.type = "data_source" and event.authors[0].type = "bot-${i}"\nactions:\n  - log: { level: debug, message: "{{ event.id }}" }\n`,
    );
  const store = await prefilled(dir, n);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      store: { url: `sqlite:${store}` },
      rules: { dir: join(dir, 'rules'), watch: false },
      log: { level: 'info' },
    }),
  );
  const server = await start([cli, 'serve', '--config', config], { NOTION_WEBHOOK_SECRET: SECRET });
  try {
    const result = await load(`${server.url}/webhook`, eventStream(SECRET, { duplicateShare: 0.1 }), {
      connections: CONNECTIONS,
      durationS: DURATION,
      warmupS: WARMUP_S,
    });
    return { ...result, n };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Array<LoadResult & { n: number }> = [];
  for (const n of sizes) results.push(await run(n));
  const empty = results[0]!;
  console.table(
    results.map((r) => ({
      'stored events': r.n,
      'req/s': Math.round(r.rps),
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      errors: r.errors + r.non2xx,
      'vs first': `${Math.round((r.rps / empty.rps) * 100)} %`,
      'p99 vs first': `${(r.p99 / Math.max(1, empty.p99)).toFixed(2)} ×`,
    })),
  );
  const last = results.at(-1)!;
  const ok = last.rps / empty.rps >= 0.9 && last.p99 <= 1.2 * Math.max(1, empty.p99);
  console.log(`\ntarget: ingest at ${last.n} stored events ≥ 90 % of ${empty.n}, p99 ≤ 1.2 ×: ${ok ? 'met' : 'MISSED'}`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
