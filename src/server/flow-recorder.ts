import type { Logger } from 'pino';
import type { DeliveryHooks } from '../delivery/hooks.js';
import { lagsOf } from '../store/core/summary.js';
import type { FlowLog } from '../store/ports.js';
import type { FlowCount, FlowSeries } from '../store/types.js';
import { combine } from '../store/core/flow.js';
import type { RejectReason } from './routes/webhook.js';

/** How often counts go to the store, and lag is sampled. */
const FLUSH_MS = 10_000;
/** Counts kept in memory while the store cannot be written: beyond this many rows the oldest minutes go. */
const MAX_PENDING_ROWS = 50_000;

const RULE_SERIES = {
  matched: 'matched',
  digested: 'held',
  throttled: 'held',
  condition_error: 'failed',
  condition_timeout: 'failed',
  render_error: 'failed',
  fetch_error: 'failed',
} as const;

/**
 * Counts what flows through this process per minute — events in, rule outcomes, action outcomes
 * per destination — and samples the lag, adding them to the store's flow table every few seconds
 * (store/core/flow). The console's charts read that table; /metrics has the same series as
 * counters. Replicas add to the same rows.
 */
export class FlowRecorder {
  private pending = new Map<string, FlowCount>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;
  private stopped = false;

  constructor(
    private readonly o: {
      store: FlowLog;
      log: Logger;
      flushMs?: number;
      now?: () => number;
    },
  ) {}

  received(): void {
    this.add('events.received', '', 1);
  }

  duplicate(): void {
    this.add('events.duplicate', '', 1);
  }

  rejected(reason: RejectReason): void {
    this.add('events.rejected', reason, 1);
  }

  /** Delivery hooks feeding the counts. */
  hooks(): DeliveryHooks {
    return {
      onRuleOutcome: (rule, outcome) => {
        const kind = RULE_SERIES[outcome as keyof typeof RULE_SERIES];
        if (!kind) return;
        this.add(`rules.${kind}`, '', 1);
        this.add(`rule.${kind}`, rule, 1);
      },
      onAction: (_type, destination, outcome) => this.add(`actions.${outcome}`, destination, 1),
    };
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.flush().finally(tick), this.o.flushMs ?? FLUSH_MS);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Samples the lag and writes what was counted since the last flush; a reader calls it first, so
   * a page shows this process's counts up to now. Flushes run one after another.
   */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private add(series: FlowSeries, item: string, n: number): void {
    const minute = Math.floor(this.now() / 60_000);
    const key = `${series}\u0000${item}\u0000${minute}`;
    const row = this.pending.get(key);
    if (row) row.value = combine(series, row.value, n);
    else this.pending.set(key, { series, item, minute, value: n });
  }

  private async write(): Promise<void> {
    try {
      const lag = lagsOf(await this.o.store.counts(), this.now());
      this.add('lag.jobs', '', lag.jobsMs);
      this.add('lag.match', '', lag.matchMs);
    } catch {
      // the store is down: no lag sample this time (/health says so)
    }
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.o.store.addFlow([...batch.values()]);
      if (this.failing) this.o.log.info('flow counts written again');
      this.failing = false;
    } catch (err) {
      // Kept for the next flush (counts counted meanwhile are added to them), within a bound.
      for (const [key, row] of batch) {
        const later = this.pending.get(key);
        if (later) later.value = combine(row.series, later.value, row.value);
        else this.pending.set(key, row);
      }
      if (this.pending.size > MAX_PENDING_ROWS) {
        const oldest = [...this.pending].sort(([, a], [, b]) => a.minute - b.minute).slice(0, this.pending.size - MAX_PENDING_ROWS);
        for (const [key] of oldest) this.pending.delete(key);
      }
      if (!this.failing) this.o.log.warn({ err: (err as Error).message }, 'could not write the flow counts (console charts); kept to try again');
      this.failing = true;
    }
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }
}
