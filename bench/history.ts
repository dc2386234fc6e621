/**
 * `npm run bench:history -- [--events N,N…] [--quick] [--cli PATH] [--prefill-cache DIR] [--ordered-ids]`: does
 * ingest stay flat as the store fills? For each N (default 0, 1,000,000), a SQLite store is
 * prefilled with N processed events in the store's own row shape (random ids, each with one done
 * job and its attempt), written in bulk straight into the file; then notion-rules serves it with
 * 10 candidate rules, driven as scenario 1 of `npm run bench`, and what an operator opens is timed
 * on it. Figures are printed against the empty store of the same run, with the machine's CPU, and
 * written to bench/results/history-<date>.json.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { flag, option } from './args.js';
import { randomUUID } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { eventStream } from './events.js';
import { load, type LoadResult } from './load.js';
import { start } from './processes.js';

const quick = flag('quick');
const DURATION = quick ? 3 : 10;
const WARMUP_S = quick ? 1 : 2;
const CONNECTIONS = 50;
const SECRET = 'bench-secret';
const ADMIN = 'bench-admin-token-0123456789';
/** What an operator opens during an incident, each read several times after the load; median ms. */
const OPERATOR_READS: Record<string, string> = {
  '/health': '/health',
  '/metrics': '/metrics',
  'events, newest 50': '/admin/events?limit=50',
  'events, processed': '/admin/events?limit=50&status=processed',
  'events, dead': '/admin/events?limit=50&status=dead',
  'console overview, 1 h': '/console',
  'console overview, 24 h': '/console?window=24h',
  'console rules': '/console/rules',
};
/** The console overview's target (#24): a page view costs milliseconds however much is stored. */
const OVERVIEW_TARGET_MS = 50;

/**
 * The server's own view of ingest latency (`notion_rules_ingest_duration_seconds`: request read to
 * answer): the bucket that holds the 50th and the 99th percentile, in ms. Beside the load
 * generator's figures it tells time spent in the server from time spent around it.
 */
async function serverIngestPercentiles(url: string): Promise<{ p50: string; p99: string }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = [...text.matchAll(/^notion_rules_ingest_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  const at = (q: number) => {
    const hit = buckets.find(([, n]) => n >= q * total);
    return hit ? (hit[0] === '+Inf' ? '> 1000' : `≤ ${Number(hit[0]) * 1000}`) : '?';
  };
  return { p50: at(0.5), p99: at(0.99) };
}

async function operatorReads(url: string): Promise<Record<string, number>> {
  const login = await fetch(`${url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN, next: '/console' }).toString(),
  });
  const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  const out: Record<string, number> = {};
  for (const [name, path] of Object.entries(OPERATOR_READS)) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const began = performance.now();
      const res = await fetch(`${url}${path}`, { redirect: 'manual', headers: { authorization: `Bearer ${ADMIN}`, cookie } });
      await res.arrayBuffer();
      if (!res.ok && res.status !== 503) throw new Error(`${path}: HTTP ${res.status}`);
      times.push(performance.now() - began);
    }
    out[name] = Math.round(times.sort((a, b) => a - b)[2]! * 10) / 10;
  }
  return out;
}
const root = fileURLToPath(new URL('../../', import.meta.url)); // dist-bench/bench → repo
// `--cli PATH`: another build of notion-rules (a checkout of an earlier commit), for before/after runs.
const cli = option('cli') ?? join(root, 'dist/cli/main.js');
const sizes = option('events')?.split(',').map(Number) ?? (quick ? [0, 100_000] : [0, 1_000_000]);
const work = mkdtempSync(join(tmpdir(), 'nr-history-'));
// `--prefill-cache DIR`: keep each prefilled store there and copy it for the next run (alternating
// runs of two builds then start from the same file; a build with another schema gets its own).
const prefillCache = option('prefill-cache');
// `--ordered-ids`: the load sends ids that sort in sending order (a diagnostic of the id index).
const orderedIds = flag('ordered-ids');

/** A store file with the schema notion-rules migrates to, holding `n` processed events. */
async function prefilled(dir: string, n: number): Promise<string> {
  const file = join(dir, 'store.db');
  // The schema of the build under test (`--cli`), made by its own store.
  const { SqliteStore } = (await import(join(dirname(cli), '../store/sqlite/store.js'))) as typeof import('../src/store/sqlite/store.js');
  await (await SqliteStore.open(file)).close();
  const db = new Database(file);
  const version = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
  const cached = prefillCache && join(prefillCache, `store-${n}-v${version}.db`);
  if (cached && existsSync(cached)) {
    db.close();
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    copyFileSync(cached, file);
    // On disk before the load starts: the copy's write-back would otherwise compete with the commits' flushes.
    const fd = openSync(file, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    process.stderr.write(`prefilled ${n} events from ${cached}\n`);
    return file;
  }
  db.pragma('cache_size = -1000000'); // the prefill only: random id inserts stay in memory
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // the prefill only: the server opens the file with its own settings
  // A build with id generations (SQLite migration 10) numbers rows into them as its store does.
  const generations = (db.pragma('table_info(events)') as Array<{ name: string }>).some((c) => c.name === 'gen');
  const perGeneration = generations
    ? ((await import(join(dirname(cli), '../store/sqlite/id-filters.js'))) as typeof import('../src/store/sqlite/id-filters.js')).GENERATIONS.perGeneration
    : 0;
  const insertEvent = db.prepare(
    `INSERT INTO events (${generations ? 'gen, ' : ''}id, type, entity_id, entity_type, timestamp, received_at, raw, status, duplicates, dispatch_attempts, next_dispatch_at, lease_until, rules_version, report)
     VALUES (${generations ? '?, ' : ''}?, 'page.properties_updated', ?, 'page', ?, ?, ?, 'dispatched', 0, 1, 0, 0, 'prefill', ?)`,
  );
  const insertJob = db.prepare(
    `INSERT INTO jobs (event_id, rule_id, actions, next_action, status, attempts, run_at, lease_until, created_at, updated_at) VALUES (?, 'prefill', ?, 1, 'done', 0, ?, 0, ?, ?)`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (job_id, action_index, action_type, started_at, duration_ms, outcome) VALUES (?, 0, 'log', ?, 1, 'ok')`,
  );
  const insertEntity = db.prepare('INSERT OR REPLACE INTO entity_latest (entity_id, timestamp) VALUES (?, ?)');
  const sample = eventStream(SECRET, { duplicateShare: 0 });
  // Notion's ids are random UUIDs: the id index takes new ones at random places, as in production.
  const pages = Array.from({ length: 50_000 }, () => randomUUID());
  const report = JSON.stringify([{ rule: 'prefill', matched: true, actions: 1 }]);
  const actions = JSON.stringify([{ type: 'log', params: { message: 'prefilled' } }]);
  const start = Date.now() - 30 * 86_400_000; // a month of history, older than what the bench sends
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const body = JSON.parse(sample.next().body) as Record<string, unknown>;
      const id = randomUUID();
      const page = pages[i % pages.length]!;
      const at = start + Math.floor((i / n) * 29 * 86_400_000);
      const timestamp = new Date(at).toISOString();
      const raw = JSON.stringify({ ...body, id, timestamp, entity: { id: page, type: 'page' } });
      if (generations) insertEvent.run(Math.floor((i + 1) / perGeneration), id, page, timestamp, at, raw, report);
      else insertEvent.run(id, page, timestamp, at, raw, report);
      insertEntity.run(page, timestamp);
      const job = insertJob.run(id, actions, at, at, at).lastInsertRowid;
      insertAttempt.run(job, at);
    }
  });
  const began = Date.now();
  for (let i = 0; i < n; i += 50_000) batch(i, Math.min(n, i + 50_000));
  if (n > 0) prefillFlow(db, start);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  if (cached) {
    mkdirSync(prefillCache, { recursive: true });
    copyFileSync(file, `${cached}.part`);
    renameSync(`${cached}.part`, cached);
  }
  process.stderr.write(`prefilled ${n} events in ${((Date.now() - began) / 1000).toFixed(1)} s (${Math.round(statSync(file).size / 1e6)} MB)\n`);
  return file;
}

/**
 * A month of the flow per minute beside the events (the console's charts read it): events in,
 * matches of 10 rules, outcomes at three destinations, lag. Skipped for a build without the table.
 */
function prefillFlow(db: Database.Database, from: number): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'flow_minutes'").get()) return;
  const add = db.prepare('INSERT OR REPLACE INTO flow_minutes (series, item, minute, value) VALUES (?, ?, ?, ?)');
  const first = Math.floor(from / 60_000);
  const last = Math.floor(Date.now() / 60_000);
  const rows: Array<[string, string]> = [
    ['events.received', ''],
    ['events.duplicate', ''],
    ['rules.matched', ''],
    ['lag.jobs', ''],
    ['lag.match', ''],
    ...['notion', 'slack:#ops', 'http:https://hooks.example'].map((d): [string, string] => ['actions.delivered', d]),
    ...Array.from({ length: 10 }, (_, i): [string, string] => ['rule.matched', `match-${i}`]),
  ];
  db.transaction(() => {
    for (let m = first; m <= last; m++) for (const [series, item] of rows) add.run(series, item, m, 1 + (m % 17));
  })();
}

type Run = LoadResult & { n: number; server: { p50: string; p99: string }; reads: Record<string, number> };

async function run(n: number): Promise<Run> {
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
      security: { adminToken: ADMIN },
      log: { level: 'info' },
    }),
  );
  const server = await start([cli, 'serve', '--config', config], { NOTION_WEBHOOK_SECRET: SECRET });
  try {
    const result = await load(`${server.url}/webhook`, eventStream(SECRET, { duplicateShare: 0.1, orderedIds }), {
      connections: CONNECTIONS,
      durationS: DURATION,
      warmupS: WARMUP_S,
    });
    const serverSide = await serverIngestPercentiles(server.url);
    return { ...result, n, server: serverSide, reads: await operatorReads(server.url) };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Run[] = [];
  for (const n of sizes) results.push(await run(n));
  const empty = results[0]!;
  console.table(
    results.map((r) => ({
      'stored events': r.n,
      'req/s': Math.round(r.rps),
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'server p50 / p99 ms': `${r.server.p50} / ${r.server.p99}`,
      errors: r.errors + r.non2xx,
      'vs first': `${Math.round((r.rps / empty.rps) * 100)} %`,
      'p99 vs first': `${(r.p99 / Math.max(1, empty.p99)).toFixed(2)} ×`,
    })),
  );
  console.log('\noperator reads after the load, median of 5, ms:');
  console.table(results.map((r) => ({ 'stored events': r.n, ...r.reads })));
  const last = results.at(-1)!;
  const ok = last.rps / empty.rps >= 0.9 && last.p99 <= 1.2 * Math.max(1, empty.p99);
  console.log(`\ntarget: ingest at ${last.n} stored events ≥ 90 % of ${empty.n}, p99 ≤ 1.2 ×: ${ok ? 'met' : 'MISSED'}`);
  const overview = Math.max(last.reads['console overview, 1 h'] ?? Infinity, last.reads['console overview, 24 h'] ?? Infinity);
  console.log(
    `target: console overview at ${last.n} stored events < ${OVERVIEW_TARGET_MS} ms: ${overview < OVERVIEW_TARGET_MS ? 'met' : 'MISSED'} (${overview} ms, median of 5)`,
  );
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; notion-rules: ${cli}`);
  const out = join(root, 'bench/results', `history-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), machine, cli, settings: { durationS: DURATION, connections: CONNECTIONS, orderedIds }, results, met: ok }, null, 2)}\n`,
  );
  console.log(`results: ${out}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
