import autocannon from 'autocannon';
import type { EventStream } from './events.js';

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  durationS: number;
}

/** Drives `url` with signed events from `stream` on 127.0.0.1, bounded by time or count, after an optional warm-up. */
export async function load(
  url: string,
  stream: EventStream,
  opts: { connections: number; durationS?: number; amount?: number; warmupS?: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
    // Unmeasured load first: both servers reach the same JIT-compiled state before the clock starts.
    ...(opts.warmupS ? { warmup: { connections: opts.connections, duration: opts.warmupS } } : {}),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (req: autocannon.Request) => {
          const e = stream.next();
          return { ...req, method: 'POST', path: '/webhook', body: e.body, headers: { 'content-type': 'application/json', 'x-notion-signature': e.signature } };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    durationS: result.duration,
  };
}

/** `amount` events, generated and signed before the clock starts; says when the first went out. */
export async function loadTimed(
  url: string,
  stream: EventStream,
  opts: { connections: number; amount: number },
): Promise<{ result: LoadResult; startedAt: number }> {
  const ready = Array.from({ length: opts.amount }, () => stream.next());
  let i = 0;
  const replay: EventStream = { next: () => ready[i++]! };
  const startedAt = Date.now();
  return { result: await load(url, replay, { connections: opts.connections, durationS: 600, amount: opts.amount }), startedAt };
}
