import { mkdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { DeliveryHooks, DeliveryOutcome } from '../../src/delivery/hooks.js';
import { createLogger } from '../../src/server/logger.js';
import { startService, type Service } from '../../src/server/service.js';
import type { LogLine } from './child.js';
import { tempDir } from './tmp.js';
import { rulesDir } from './rules.js';
import type { FakeNotion } from '../fakes/notion.js';
import type { FakeSlack } from '../fakes/slack.js';

export const SECRET = 'test-verification-token-0123456789';

/**
 * delivery.limits that pace nothing: the fakes answer at once, and tests about other things
 * should not wait a second per Slack message. Tests about pacing set their own limits.
 */
export const UNPACED = { notion: { rate: 100_000, burst: 100_000 }, slack: { perChannel: 100_000, burst: 100_000 } };

/** Builds a validated Config from a partial object, with a fresh SQLite file and port 0. */
export function testConfig(overrides: Record<string, unknown> = {}, dir = tempDir()): Config {
  mkdirSync(join(dir, 'rules'), { recursive: true });
  const base: Record<string, unknown> = {
    server: { host: '127.0.0.1', port: 0 },
    notion: { verificationToken: SECRET },
    store: { url: `sqlite:${join(dir, 'store.db')}` },
    rules: { dir: join(dir, 'rules'), watch: false },
    delivery: { limits: UNPACED },
    log: { level: 'debug' },
  };
  const merged = merge(base, overrides);
  return parseConfig(stringify(merged), 'test-config.yaml', { env: {} });
}

/** `b` over `a`, mappings merged key by key; a null in `b` removes the key. */
export function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === null) {
      delete out[k]; // null removes a default of the base test config
      continue;
    }
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface TestService extends Service {
  logs: LogLine[];
  /** The first log line (already written, or to come) that `match`es. */
  untilLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  webhook: string;
}

const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

/** Starts the service in this process on 127.0.0.1:0, capturing its JSON log lines. */
export async function startTestService(config: Config, options: { handshakeOnly?: boolean; hooks?: DeliveryHooks } = {}): Promise<TestService> {
  const logs: LogLine[] = [];
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString().split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as LogLine;
        logs.push(line);
        for (const w of [...waiters]) {
          if (!w.match(line)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
      cb();
    },
  });
  const untilLog = (match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ match, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  const service = await startService(config, { ...options, log: createLogger(config.log.level, sink) });
  running.push(service);
  return Object.assign(service, { logs, untilLog, webhook: `${service.url}${config.server.path}` });
}

/** Delivery hooks that tests can await: jobs finished, by status. */
export class JobWatch implements DeliveryHooks {
  readonly finished: Array<{ jobId: number; status: 'done' | 'dead' }> = [];
  readonly actions: Array<{ type: string; outcome: string }> = [];
  /** Each rule's outcome for each event matched (rules that listen to its type). */
  readonly outcomes: Array<{ rule: string; outcome: string }> = [];
  /** Shadow rules' jobs recorded (their actions not sent). */
  readonly shadowed: Array<{ rule: string; types: string[] }> = [];
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  onJobFinished(jobId: number, status: 'done' | 'dead'): void {
    this.finished.push({ jobId, status });
    this.check();
  }

  onAction(type: string, _destination: string, outcome: DeliveryOutcome): void {
    this.actions.push({ type, outcome });
    this.check();
  }

  onRuleOutcome(rule: string, outcome: string): void {
    this.outcomes.push({ rule, outcome });
    this.check();
  }

  onShadowJob(rule: string, types: string[]): void {
    this.shadowed.push({ rule, types });
    this.check();
  }

  count(status: 'done' | 'dead'): number {
    return this.finished.filter((f) => f.status === status).length;
  }

  until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`JobWatch: not reached in ${timeoutMs} ms: ${JSON.stringify(this.finished.slice(-5))}`)), timeoutMs);
      this.waiters.push({ check, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (!w.check()) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

/**
 * The service in this process against the fakes of `useFakes()`: `rules` in a fresh folder, the
 * real Slack and Notion clients pointed at the fakes; `overrides` merge over that.
 */
export async function serviceOnFakes(
  fakes: { readonly slack: FakeSlack; readonly notion: FakeNotion },
  rules: Record<string, string>,
  overrides: Record<string, unknown> = {},
): Promise<{ svc: TestService; watch: JobWatch; dir: string }> {
  const dir = tempDir();
  const watch = new JobWatch();
  const base = {
    rules: { dir: rulesDir(rules, join(dir, 'rules')) },
    slack: { token: fakes.slack.token, apiUrl: fakes.slack.url, timeoutMs: 2000 },
    notion: { verificationToken: SECRET, token: fakes.notion.token, baseUrl: fakes.notion.url, timeoutMs: 2000 },
    log: { level: 'info' },
  };
  return { svc: await startTestService(testConfig(merge(base, overrides), dir), { hooks: watch }), watch, dir };
}
