/**
 * `npm run bench:slack-client`: what a `chat.postMessage` costs the caller's CPU with
 * `@slack/web-api` (configured as notion-rules configures it: no retries of its own, rate limits
 * rejected), once with axios's own HTTP adapter and once with the transport the Slack action gives
 * it (src/actions/slack-transport), and with two minimal clients written for this comparison (Node's `fetch`, and
 * `node:http` with a keep-alive agent; a JSON body and the same answer handling: `ok: false` is an
 * error, 429 is a rate-limit signal with Retry-After).
 * All post the same messages to the same fake Slack, in its own process, 8 calls at a time;
 * CPU is this process's user + system time per call. The clients alternate in rounds.
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { WebClient } from '@slack/web-api';
import { slackTransport } from '../src/actions/slack-transport.js';
import { flag } from './args.js';
import { start } from './processes.js';

const quick = flag('quick');
const CALLS = quick ? 1_000 : 5_000;
const ROUNDS = quick ? 2 : 4;
const IN_FLIGHT = 8;
const root = fileURLToPath(new URL('../../', import.meta.url)); // dist-bench/bench → repo

type Post = (channel: string, text: string) => Promise<unknown>;

/** The minimal client: what the comparison asks of a replacement, and no more. */
function minimalClient(apiUrl: string, token: string): Post {
  return async (channel, text) => {
    const res = await fetch(`${apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel, text }),
    });
    if (res.status === 429) throw Object.assign(new Error('ratelimited'), { retryAfterS: Number(res.headers.get('retry-after') ?? 1) });
    const body = (await res.json()) as { ok: boolean; error?: string };
    if (!body.ok) throw new Error(body.error ?? 'unknown_error');
    return body;
  };
}

/** The least a client can do: one keep-alive `node:http` request, the answer parsed. */
function httpClient(apiUrl: string, token: string): Post {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const url = new URL(`${apiUrl}chat.postMessage`);
  return (channel, text) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ channel, text });
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 429) return reject(Object.assign(new Error('ratelimited'), { retryAfterS: Number(res.headers['retry-after'] ?? 1) }));
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ok: boolean; error?: string };
            if (parsed.ok) resolve(parsed);
            else reject(new Error(parsed.error ?? 'unknown_error'));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

function webApiClient(apiUrl: string, token: string, lean = false): Post {
  const client = new WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    ...(lean ? { adapter: slackTransport() } : {}),
  });
  return (channel, text) => client.chat.postMessage({ channel, text });
}

/** CPU µs per call and calls per second of wall time, `CALLS` calls `IN_FLIGHT` at a time. */
async function measure(post: Post): Promise<{ cpuUsPerCall: number; perSecond: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CALLS) await post('#bench', `message ${next++}`);
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuUsPerCall: (used.user + used.system) / CALLS, perSecond: CALLS / ((performance.now() - began) / 1000) };
}

const slack = await start([join(root, 'dist-bench/bench/slack-server.js'), String(Number.MAX_SAFE_INTEGER)]);
try {
  const [apiUrl, token] = slack.url.split(' ') as [string, string];
  const clients: Record<string, Post> = {
    '@slack/web-api': webApiClient(apiUrl, token),
    '@slack/web-api, our transport': webApiClient(apiUrl, token, true),
    'minimal: fetch': minimalClient(apiUrl, token),
    'minimal: node:http keep-alive': httpClient(apiUrl, token),
  };
  for (const post of Object.values(clients)) await measure(post); // warm-up: both JIT-compiled before the clock
  const results: Record<string, Array<{ cpuUsPerCall: number; perSecond: number }>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, post] of Object.entries(clients)) (results[name] ??= []).push(await measure(post));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = Object.entries(results).map(([client, rs]) => ({
    client,
    'CPU µs per call (median)': Math.round(median(rs.map((r) => r.cpuUsPerCall))),
    'calls/s (median)': Math.round(median(rs.map((r) => r.perSecond))),
  }));
  console.table(rows);
  const [web, ours, ...minimal] = rows.map((r) => r['CPU µs per call (median)']) as [number, number, ...number[]];
  const least = Math.min(...minimal);
  console.log(
    `\n@slack/web-api: ${web} µs of CPU per call with axios's adapter, ${ours} µs with our transport; ` +
      `the least of the minimal clients: ${least} µs (${(ours / least).toFixed(1)} ×)`,
  );
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}; ${CALLS} calls × ${ROUNDS} rounds, ${IN_FLIGHT} in flight`,
  );
} finally {
  await slack.stop();
}
