/**
 * `npm run bench`: notion-rules against a bare Fastify route, in one run, as ratios.
 * Everything runs on 127.0.0.1 and stops by itself. `--quick` runs each scenario briefly.
 * `--core` runs scenarios 1–3 and 7 only (ingest, rule scale, end to end, memory), `--ingest`
 * the reference and scenario 1 alone, `--e2e` scenario 3 alone, `--memory` scenario 7 alone,
 * `--ordered-ids` sends ids that sort in sending order to scenarios 1–2 (a diagnostic of the id
 * index's cost: Notion's ids are random), and
 * `--cli PATH` measures another build's CLI: alternating `--core` runs of two builds compare a
 * change's cost.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { flag, option } from './args.js';
import { eventStream } from './events.js';
import { load, loadTimed, type LoadResult } from './load.js';
import { start } from './processes.js';
import { cliCpuMs } from './cli-startup.js';
import { pageId } from './limited-fakes-ids.js';
import { sign } from '../src/receiver/sign.js';

const quick = flag('quick');
const DURATION = quick ? 2 : 10;
const CONNECTIONS = 50;
const E2E_EVENTS = quick ? 1000 : 5000;
/** Events delivered before the end-to-end clock starts (JIT warm-up), not counted. */
const E2E_WARMUP = quick ? 200 : 1000;
/** Seconds of unmeasured load before each throughput run (autocannon's warm-up). */
const WARMUP_S = quick ? 1 : 2;
const RELOADS = quick ? 5 : 20;
/** Pages of the bulk edit (scenario 5), delivered at the documented limits: about 1 s each. */
const BULK_PAGES = quick ? 40 : 200;
const SECRET = 'bench-secret';
const ADMIN = 'bench-admin-token-0123456789';
const root = fileURLToPath(new URL('../../', import.meta.url)); // dist-bench/bench → repo
const cli = option('cli') ?? join(root, 'dist/cli/main.js');
const coreOnly = flag('core');
const work = mkdtempSync(join(tmpdir(), 'nr-bench-'));
/** A PostgreSQL server for the replica scenario: --pg URL, or the test suite's server. */
const PG = option('pg') ?? process.env.NOTION_RULES_BENCH_PG ?? process.env.NOTION_RULES_TEST_PG;

/** A fresh database on the PostgreSQL server, for one run; dropped by `drop`. */
async function pgDatabase(server: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `nr_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function rulesFolder(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

/** 10 rules that every page event reaches (type match + a JSONata condition, false in the end). */
function tenCandidates(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) {
    files[`match-${i}.yaml`] =
      `id: match-${i}\non: ${i % 2 ? 'page.*' : '[page.created, page.properties_updated, page.content_updated]'}\nwhen: event.data.parent.type = "data_source" and event.authors[0].type = "bot-${i}"\nactions:\n  - log: { level: debug, message: "{{ event.id }}" }\n`;
  }
  return files;
}

function thousandRules(): Record<string, string> {
  const files = tenCandidates();
  const others = [
    'database.created',
    'database.deleted',
    'data_source.moved',
    'comment.deleted',
    'page.locked',
    'view.*',
    'block.*',
    'file_upload.*',
    'database.*',
  ];
  for (let i = 0; i < 990; i++) {
    files[`other-${String(i).padStart(4, '0')}.yaml`] =
      `id: other-${i}\non: ${others[i % others.length]}\nwhen: event.data.x = ${i}\nactions:\n  - log: { message: "{{ event.id }} ${i}" }\n`;
  }
  return files;
}

function configFor(name: string, rulesDir: string, extra: Record<string, unknown> = {}): string {
  const dir = join(work, `${name}-data`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      store: { url: `sqlite:${join(dir, 'store.db')}` },
      rules: { dir: rulesDir, watch: false },
      security: { adminToken: ADMIN },
      log: { level: 'info' }, // quiet per event; the bench reads the "listening" line
      ...extra,
    }),
  );
  return file;
}

async function notionRules(name: string, rulesDir: string, extra: Record<string, unknown> = {}) {
  return start([cli, 'serve', '--config', configFor(name, rulesDir, extra)], { NOTION_WEBHOOK_SECRET: SECRET });
}

const stream = () => eventStream(SECRET, { duplicateShare: 0.1, orderedIds: flag('ordered-ids') });
const rows: Array<Record<string, string | number>> = [];
const fmt = (r: LoadResult, bare?: LoadResult) => ({
  'req/s': Math.round(r.rps),
  'p50 ms': r.p50,
  'p99 ms': r.p99,
  errors: r.errors + r.non2xx,
  'vs bare': bare ? `${Math.round((r.rps / bare.rps) * 100)} %` : '100 %',
});

/**
 * Scenario 5: BULK_PAGES pages set to Done at once; one rule fetches the page, posts to one Slack
 * channel and comments on the page, with the default limits, against fakes that enforce the
 * documented ones (bench/limited-fakes.ts). Drain time is compared with what the limits allow:
 * one channel at 1 message/s after a burst of 4 (Notion's 2 calls a page at 3/s need less).
 */
async function bulkEdit(): Promise<{ seconds: number; limitS: number; messages: number; comments: number; calls: number; limited: number }> {
  const fakes = await start([join(root, 'dist-bench/bench/limited-fakes.js'), String(BULK_PAGES)]);
  const [slackUrl, slackToken, notionUrl, notionToken] = fakes.url.split(' ') as [string, string, string, string];
  let last: number[] = [0, 0, 0, 0, 0, 0, 0];
  let onProgress: (() => void) | undefined;
  createInterface({ input: fakes.proc.stdout! }).on('line', (l) => {
    if (!l.startsWith('progress ')) return;
    last = l.split(' ').slice(1).map(Number);
    onProgress?.();
  });
  const rules = rulesFolder('bulk', {
    'done.yaml':
      'id: announce-done\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - slack: { channel: "#done", text: "{{ page.props.Name }} is done ({{ event.entity.id }})" }\n  - notion.comment: { text: "Announced in #done" }\n',
  });
  const nr = await notionRules('bulk', rules, { slack: { token: slackToken, apiUrl: slackUrl }, notion: { token: notionToken, baseUrl: notionUrl } });
  const limitS = Math.max((BULK_PAGES - 4) / 1, (2 * BULK_PAGES - 9) / 3);
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, (limitS * 3 + 60) * 1000);
    onProgress = () => {
      if (last[0]! >= BULK_PAGES && last[1]! >= BULK_PAGES) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  const started = Date.now();
  for (let i = 0; i < BULK_PAGES; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, BULK_PAGES - i) }, async (_, j) => {
        const body = JSON.stringify({
          id: randomUUID(),
          timestamp: new Date().toISOString(),
          workspace_id: '7a3e1c52-4f0b-4d8e-9b6a-1f2c3d4e5f60',
          subscription_id: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
          integration_id: '2c3d4e5f-6071-4829-93a4-b5c6d7e8f9a0',
          type: 'page.properties_updated',
          authors: [{ id: 'c0ffee00-1111-4222-8333-444455556666', type: 'person' }],
          attempt_number: 1,
          api_version: '2025-09-03',
          entity: { id: pageId(i + j), type: 'page' },
          data: { parent: { id: '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1', type: 'data_source' }, updated_properties: ['%3AUPp'] },
        });
        await fetch(`${nr.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-notion-signature': sign(SECRET, body) }, body });
      }),
    );
  }
  await done;
  const seconds = ((last[6] || Date.now()) - started) / 1000;
  await nr.stop();
  await fakes.stop();
  const [messages, comments, slackCalls, slack429, notionCalls, notion429] = last as [number, number, number, number, number, number];
  return { seconds, limitS, messages, comments, calls: slackCalls + notionCalls, limited: slack429 + notion429 };
}

const SHIP_RULE = 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n';
const UNPACED = { perChannel: 100_000, burst: 100_000 };
/** Events of the memory scenario (7). */
const MEMORY_EVENTS = quick ? 10_000 : 100_000;

/** The fake Slack in its own process, reporting when its message count reaches each threshold. */
async function fakeSlack(thresholds: number[]) {
  const proc = await start([join(root, 'dist-bench/bench/slack-server.js'), ...thresholds.map(String)]);
  const [url, token] = proc.url.split(' ') as [string, string];
  const reports: number[][] = []; // [count, distinct, at ms] as the fake reports them
  let onReport: (() => void) | undefined;
  createInterface({ input: proc.proc.stdout! }).on('line', (l) => {
    if (!l.startsWith('delivered ')) return;
    reports.push(l.split(' ').slice(1).map(Number));
    onReport?.();
  });
  return {
    url,
    token,
    /** The fake's first report of at least `n` messages (zeros after `timeoutMs`). */
    deliveredAtLeast: (n: number, timeoutMs = 120_000) =>
      new Promise<number[]>((resolve) => {
        const timer = setTimeout(() => resolve([0, 0, 0]), timeoutMs);
        const check = () => {
          const hit = reports.find((r) => r[0]! >= n);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          }
        };
        onReport = check;
        check();
      }),
    last: () => (reports.at(-1) ?? [0, 0]) as [number, number],
    stop: () => proc.stop(),
  };
}

/**
 * Scenario 7: MEMORY_EVENTS page events into 1,000 rules (one of them the Slack rule in place of
 * an `other-` rule, so 11 candidates per event), at the shipped defaults but Slack's pace (the
 * fake has none); the server's peak RSS once every message is delivered.
 */
async function memoryAfterMany(): Promise<{ sent: LoadResult; delivered: number; distinct: number; peakRssMb: number; heapMb: HeapSeen }> {
  const slack = await fakeSlack([MEMORY_EVENTS]);
  const nr = await notionRules('memory', rulesFolder('memory', { ...thousandRules(), 'other-0000.yaml': SHIP_RULE }), {
    slack: { token: slack.token, apiUrl: slack.url },
    delivery: { limits: { slack: UNPACED } },
  });
  const events = eventStream(SECRET, { duplicateShare: 0, types: ['page.created'] });
  const heap = heapSampler(nr.url);
  const { result: sent } = await loadTimed(`${nr.url}/webhook`, events, { connections: CONNECTIONS, amount: MEMORY_EVENTS });
  await slack.deliveredAtLeast(MEMORY_EVENTS, 600_000);
  await new Promise((r) => setTimeout(r, 500)); // a late duplicate is still counted by the fake
  const [delivered, distinct] = slack.last();
  const peakRssMb = nr.peakRssMb();
  const heapMb = await heap.stop();
  await nr.stop();
  await slack.stop();
  return { sent, delivered, distinct, peakRssMb, heapMb };
}

/**
 * Reads the server's V8 heap from /metrics once a second: where the peak RSS comes from (the
 * heap V8 holds, and how much of it was in use, from just after a collection to just before one).
 */
interface HeapSeen {
  totalMax: number;
  usedMin: number;
  usedMax: number;
  samples: number;
}

function heapSampler(url: string): { stop(): Promise<HeapSeen> } {
  const mb = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  const seen: HeapSeen = { totalMax: 0, usedMin: Infinity, usedMax: 0, samples: 0 };
  const sample = async () => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } }).catch(() => undefined);
    if (!res?.ok) return;
    const text = await res.text();
    const total = mb(text, 'nodejs_heap_size_total_bytes');
    const used = mb(text, 'nodejs_heap_size_used_bytes');
    if (!Number.isFinite(total) || !Number.isFinite(used)) return;
    seen.samples++;
    seen.totalMax = Math.max(seen.totalMax, Math.round(total));
    seen.usedMin = Math.min(seen.usedMin, Math.round(used));
    seen.usedMax = Math.max(seen.usedMax, Math.round(used));
  };
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => (pending = pending.then(sample)), 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await pending;
      return seen;
    },
  };
}

const heapWords = (h: HeapSeen) => `V8 heap at most ${h.totalMax} MB, ${h.usedMin}–${h.usedMax} MB of it in use (${h.samples} samples)`;

/** Scenario 3: end to end into a fake Slack (in its own process), at the shipped delivery defaults. */
async function endToEnd() {
  const slackE2e = await fakeSlack([E2E_WARMUP, E2E_WARMUP + E2E_EVENTS]);
  const nrE2e = await notionRules('e2e', rulesFolder('e2e', { 'ship.yaml': SHIP_RULE }), {
    slack: { token: slackE2e.token, apiUrl: slackE2e.url },
    // The fake Slack has no limit: this measures the pipeline, not Slack's 1 message/s per channel.
    // Everything else (delivery.concurrency among it) is as shipped.
    delivery: { limits: { slack: UNPACED } },
  });
  const e2eStream = eventStream(SECRET, { duplicateShare: 0, types: ['page.created'] });
  // Warm-up: a running server has compiled its paths; a cold one spends its first seconds in the JIT.
  await loadTimed(`${nrE2e.url}/webhook`, e2eStream, { connections: CONNECTIONS, amount: E2E_WARMUP });
  await slackE2e.deliveredAtLeast(E2E_WARMUP);
  const cpuBefore = nrE2e.cpuMs();
  const e2e = await loadTimed(`${nrE2e.url}/webhook`, e2eStream, { connections: CONNECTIONS, amount: E2E_EVENTS });
  const sent = e2e.result;
  const lastMs = (await slackE2e.deliveredAtLeast(E2E_WARMUP + E2E_EVENTS))[2]!;
  // The server's CPU per delivered action (receive, store, match, deliver): steadier than actions/s
  // on a shared machine, where the load generator and the fake take turns on the same two cores.
  const cpuPerAction = (nrE2e.cpuMs() - cpuBefore) / E2E_EVENTS;
  await new Promise((r) => setTimeout(r, 500)); // a late duplicate is still counted by the fake
  const [count, distinct] = slackE2e.last();
  const rssE2e = nrE2e.peakRssMb();
  await nrE2e.stop();
  await slackE2e.stop();
  const delivered = count! - E2E_WARMUP;
  const unique = distinct! - E2E_WARMUP;
  const e2eSeconds = (lastMs - e2e.startedAt) / 1000;
  const row = {
    scenario: `3 end to end: ${E2E_EVENTS} events → Slack`,
    'req/s': Math.round(sent.rps),
    'p50 ms': sent.p50,
    'p99 ms': sent.p99,
    errors: sent.errors + sent.non2xx,
    'actions/s': Math.round(delivered / e2eSeconds),
    'server CPU ms/action': Number(cpuPerAction.toFixed(3)),
    delivered: `${delivered} (${unique} distinct)`,
    'peak RSS MB': rssE2e,
  };
  return { row, delivered, unique, e2eSeconds, rssE2e, cpuPerAction };
}

async function main(): Promise<void> {
  if (flag('e2e')) {
    // `--e2e`: scenario 3 alone, for comparing two builds (--cli) in alternation.
    const { row, delivered, unique, e2eSeconds, cpuPerAction } = await endToEnd();
    console.table([row]);
    console.log(
      `e2e ${JSON.stringify({ cli, actionsPerSecond: delivered / e2eSeconds, serverCpuMsPerAction: cpuPerAction, exactlyOnce: delivered === E2E_EVENTS && unique === E2E_EVENTS })}`,
    );
    return;
  }
  if (flag('memory')) {
    // `--memory`: scenario 7 alone, for comparing memory settings (NODE_OPTIONS, MALLOC_ARENA_MAX…).
    const memory = await memoryAfterMany();
    console.log(
      `7 memory: ${MEMORY_EVENTS} events, 1,000 rules → Slack: peak RSS ${memory.peakRssMb} MB, ${memory.delivered} delivered (${memory.distinct} distinct), ${Math.round(memory.sent.rps)} req/s; ${heapWords(memory.heapMb)}`,
    );
    return;
  }
  const results: Record<string, unknown> = {};
  process.stderr.write(
    `notion-rules bench${quick ? ' (quick)' : ''}: ${DURATION} s per run after ${WARMUP_S} s of warm-up, ${CONNECTIONS} connections, 10 % duplicates\n`,
  );

  // Scenario 0: CLI start-up, CPU per command (validate and test load rules, --help nothing).
  const cliCpu = {
    help: await cliCpuMs(cli, ['--help'], root, work),
    validate: await cliCpuMs(cli, ['validate', '--rules', 'examples/rules'], root, work),
    test: await cliCpuMs(cli, ['test', '--rules', 'examples/rules'], root, work),
  };
  process.stderr.write(`CLI start-up, CPU ms (median of 5): --help ${cliCpu.help}, validate ${cliCpu.validate}, test ${cliCpu.test}\n`);

  // Reference and scenario 1: ingest.
  const bare = await start([join(root, 'dist-bench/bench/bare-server.js')]);
  const bareRes = await load(`${bare.url}/webhook`, stream(), { connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP_S });
  await bare.stop();
  rows.push({ scenario: 'bare Fastify route', ...fmt(bareRes) });

  const none = rulesFolder('ingest', { 'quiet.yaml': 'id: quiet\non: database.deleted\nactions:\n  - log: { message: x }\n' });
  const nr1 = await notionRules('ingest', none);
  const ingest = await load(`${nr1.url}/webhook`, stream(), { connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP_S });
  await nr1.stop();
  rows.push({ scenario: '1 ingest (verify, dedupe, commit)', ...fmt(ingest, bareRes) });
  if (flag('ingest')) {
    // `--ingest`: the reference and scenario 1 alone, for comparing two builds (--cli) in alternation.
    console.table(rows);
    console.log(`ingest ${JSON.stringify({ cli, ingestVsBare: ingest.rps / bareRes.rps, ingestP99Ms: ingest.p99, bareRps: bareRes.rps })}`);
    return;
  }

  // Scenario 2: rule scale.
  const nr10 = await notionRules('rules10', rulesFolder('rules10', tenCandidates()));
  const r10 = await load(`${nr10.url}/webhook`, stream(), { connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP_S });
  const rss10 = nr10.peakRssMb();
  await nr10.stop();
  rows.push({ scenario: '2a 10 rules, all candidates', ...fmt(r10, bareRes), 'peak RSS MB': rss10 });
  const thousand = rulesFolder('rules1000', thousandRules());
  const nr1000 = await notionRules('rules1000', thousand);
  const r1000 = await load(`${nr1000.url}/webhook`, stream(), { connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP_S });
  const rss1000 = nr1000.peakRssMb();
  await nr1000.stop();
  rows.push({ scenario: '2b 1,000 rules, 10 candidates', ...fmt(r1000, bareRes), 'peak RSS MB': rss1000 });

  const { row: e2eRow, delivered, unique, e2eSeconds, rssE2e, cpuPerAction } = await endToEnd();
  rows.push(e2eRow);

  // Scenario 7: memory after MEMORY_EVENTS events through 1,000 rules, one of them a Slack action.
  const memory = await memoryAfterMany();
  rows.push({
    scenario: `7 memory: ${MEMORY_EVENTS} events, 1,000 rules, → Slack`,
    'req/s': Math.round(memory.sent.rps),
    'p50 ms': memory.sent.p50,
    'p99 ms': memory.sent.p99,
    errors: memory.sent.errors + memory.sent.non2xx,
    delivered: `${memory.delivered} (${memory.distinct} distinct)`,
    'peak RSS MB': memory.peakRssMb,
  });
  process.stderr.write(`scenario 7: ${heapWords(memory.heapMb)}\n`);
  if (coreOnly) {
    console.table(rows);
    const core = {
      cli,
      ingestVsBare: ingest.rps / bareRes.rps,
      rules10VsBare: r10.rps / bareRes.rps,
      rules1000VsBare: r1000.rps / bareRes.rps,
      e2eActionsPerSecond: delivered / e2eSeconds,
      e2eServerCpuMsPerAction: cpuPerAction,
      e2eExactlyOnce: delivered === E2E_EVENTS && unique === E2E_EVENTS,
      memoryPeakRssMb: memory.peakRssMb,
      memoryHeapMb: memory.heapMb,
      memoryExactlyOnce: memory.delivered === MEMORY_EVENTS && memory.distinct === MEMORY_EVENTS,
      cliCpuMs: cliCpu,
    };
    console.log(`core ${JSON.stringify(core)}`);
    return;
  }

  // Scenario 4: reloads of 1,000 rules under ingest load.
  const nrReload = await notionRules('reload', thousand);
  const reloadTimes: number[] = [];
  let reloadFailures = 0;
  const loading = load(`${nrReload.url}/webhook`, stream(), { connections: CONNECTIONS, durationS: DURATION });
  for (let i = 0; i < RELOADS; i++) {
    await new Promise((r) => setTimeout(r, ((DURATION * 1000) / (RELOADS + 1)) * 0.9));
    const res = await fetch(`${nrReload.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as { durationMs: number };
    if (res.status !== 200) reloadFailures++;
    reloadTimes.push(body.durationMs);
  }
  const underReload = await loading;
  await nrReload.stop();
  reloadTimes.sort((a, b) => a - b);
  const reloadP50 = reloadTimes[Math.floor(reloadTimes.length / 2)]!;
  const reloadMax = reloadTimes[reloadTimes.length - 1]!;
  rows.push({
    scenario: `4 ingest during ${RELOADS} reloads of 1,000 rules`,
    ...fmt(underReload, bareRes),
    reload: `p50 ${reloadP50} ms, max ${reloadMax} ms, ${reloadFailures} failed`,
  });

  // Scenario 5: a bulk edit against fakes that enforce the documented limits (issue #17).
  const bulk = await bulkEdit();
  rows.push({
    scenario: `5 bulk edit: ${BULK_PAGES} pages → 1 Slack channel + comments, at the limits`,
    drained: `${bulk.seconds.toFixed(1)} s`,
    'vs limit': `${(bulk.seconds / bulk.limitS).toFixed(2)} × ${bulk.limitS.toFixed(0)} s`,
    '429 answers': `${bulk.limited} of ${bulk.calls} (${((bulk.limited / bulk.calls) * 100).toFixed(1)} %)`,
    delivered: `${bulk.messages} messages, ${bulk.comments} comments`,
  });

  // Scenario 6: ingest on two replicas sharing one PostgreSQL database (the load split between them).
  let pgIngest: LoadResult | undefined;
  if (PG) {
    const database = await pgDatabase(PG);
    try {
      const replicas = [];
      for (let i = 0; i < 2; i++) {
        replicas.push(
          await start([cli, 'serve', '--config', configFor(`pg${i}`, none, { store: { url: database.url } })], {
            NOTION_WEBHOOK_SECRET: SECRET,
            NOTION_RULES_REPLICA_ID: `bench-${i}`,
          }),
        );
      }
      const halves = await Promise.all(
        replicas.map((r) => load(`${r.url}/webhook`, stream(), { connections: CONNECTIONS / 2, durationS: DURATION, warmupS: WARMUP_S })),
      );
      for (const r of replicas) await r.stop();
      pgIngest = {
        requests: halves.reduce((a, h) => a + h.requests, 0),
        rps: halves.reduce((a, h) => a + h.rps, 0),
        p50: Math.max(...halves.map((h) => h.p50)),
        p99: Math.max(...halves.map((h) => h.p99)),
        errors: halves.reduce((a, h) => a + h.errors, 0),
        non2xx: halves.reduce((a, h) => a + h.non2xx, 0),
        durationS: DURATION,
      };
      rows.push({
        scenario: '6 ingest, 2 replicas on PostgreSQL',
        ...fmt(pgIngest, bareRes),
        'vs SQLite ingest': `${Math.round((pgIngest.rps / ingest.rps) * 100)} %`,
      });
    } finally {
      await database.drop();
    }
  } else {
    process.stderr.write('scenario 6 (PostgreSQL replicas) skipped: give --pg postgres://… or set NOTION_RULES_BENCH_PG\n');
  }

  console.table(rows);
  const summary = {
    ingestVsBare: ingest.rps / bareRes.rps,
    ingestP99Ms: ingest.p99,
    rules1000Vs10: r1000.rps / r10.rps,
    e2eActionsPerSecond: delivered / e2eSeconds,
    e2eServerCpuMsPerAction: cpuPerAction,
    e2eDelivered: delivered,
    e2eDistinct: unique,
    e2eExpected: E2E_EVENTS,
    reloadP50Ms: reloadP50,
    reloadMaxMs: reloadMax,
    reloadFailedRequests: underReload.errors + underReload.non2xx,
    peakRssMb: { rules10: rss10, rules1000: rss1000, e2e: rssE2e, afterMany: memory.peakRssMb },
    afterManyHeapMb: memory.heapMb,
    memoryEvents: MEMORY_EVENTS,
    memoryDelivered: memory.delivered,
    memoryDistinct: memory.distinct,
    postgresTwoReplicasRps: pgIngest?.rps ?? null,
    bulkEdit: bulk,
    postgresVsSqliteIngest: pgIngest ? pgIngest.rps / ingest.rps : null,
    cliCpuMs: cliCpu,
  };
  const targets = [
    [
      'ingest ≥ 65 % of the bare JSON route, p99 ≤ 20 ms',
      summary.ingestVsBare >= 0.65 && summary.ingestP99Ms <= 20,
      `${Math.round(summary.ingestVsBare * 100)} %, p99 ${summary.ingestP99Ms} ms`,
    ],
    ['1,000 rules ≥ 80 % of 10 rules', summary.rules1000Vs10 >= 0.8, `${Math.round(summary.rules1000Vs10 * 100)} %`],
    [
      'end to end at the shipped defaults ≥ 2,000 actions/s, exactly N',
      summary.e2eActionsPerSecond >= 2000 && delivered === E2E_EVENTS && unique === E2E_EVENTS,
      `${Math.round(summary.e2eActionsPerSecond)}/s, ${delivered} of ${E2E_EVENTS}`,
    ],
    [
      'reload of 1,000 rules ≤ 1 s, 0 failed requests',
      reloadMax <= 1000 && summary.reloadFailedRequests === 0 && reloadFailures === 0,
      `max ${reloadMax} ms, ${summary.reloadFailedRequests} failed`,
    ],
    [
      `bulk edit drained ≤ 1.25 × the limit, < 5 % 429, each once`,
      bulk.seconds <= 1.25 * bulk.limitS && bulk.limited / bulk.calls < 0.05 && bulk.messages === BULK_PAGES && bulk.comments === BULK_PAGES,
      `${(bulk.seconds / bulk.limitS).toFixed(2)} ×, ${((bulk.limited / bulk.calls) * 100).toFixed(1)} % 429, ${bulk.messages}/${bulk.comments} of ${BULK_PAGES}`,
    ],
    ['peak RSS ≤ 200 MB in scenarios 2–3', Math.max(rss10, rss1000, rssE2e) <= 200, `${Math.max(rss10, rss1000, rssE2e)} MB`],
    [
      `peak RSS ≤ 200 MB after ${MEMORY_EVENTS} events with a Slack action and 1,000 rules, each once`,
      memory.peakRssMb <= 200 && memory.delivered === MEMORY_EVENTS && memory.distinct === MEMORY_EVENTS,
      `${memory.peakRssMb} MB, ${memory.delivered} of ${MEMORY_EVENTS} (${memory.distinct} distinct)`,
    ],
    [
      'CLI --help, validate and test start in < 1 s of CPU',
      Math.max(cliCpu.help, cliCpu.validate, cliCpu.test) < 1000,
      `--help ${cliCpu.help} ms, validate ${cliCpu.validate} ms, test ${cliCpu.test} ms`,
    ],
  ] as const;
  console.log('\ntargets:');
  for (const [name, ok, got] of targets) console.log(`  ${ok ? 'met   ' : 'MISSED'} ${name}: ${got}`);

  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` };
  Object.assign(results, {
    date: new Date().toISOString(),
    quick,
    machine,
    settings: {
      durationS: DURATION,
      warmupS: WARMUP_S,
      connections: CONNECTIONS,
      duplicateShare: 0.1,
      e2eEvents: E2E_EVENTS,
      e2eWarmupEvents: E2E_WARMUP,
      reloads: RELOADS,
    },
    rows,
    summary,
    targets: targets.map(([name, ok, got]) => ({ name, met: ok, got })),
  });
  const out = join(root, 'bench/results', `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\nresults: ${out}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
