import type { Logger } from 'pino';
import type { OpsQueries } from '../store/ports.js';
import type { PruneResult } from '../store/types.js';
import { Pump } from './pump.js';

export interface RetentionOptions {
  store: Pick<OpsQueries, 'prune'>;
  log: Logger;
  /** store.retention.days: resolved events older than this go; 0 keeps everything. */
  days: number;
  /** Events deleted per transaction (small: writers wait for none longer than a moment). */
  batch: number;
  intervalMs: number;
  onPruned?: (result: PruneResult) => void;
}

const DAY_MS = 24 * 60 * 60_000;

/** The time before which resolved events may go, for `days` of retention. */
export function retentionCutoff(days: number, now = Date.now()): number {
  return now - days * DAY_MS;
}

/**
 * Deletes resolved events past store.retention.days, with their jobs and attempts, every
 * `intervalMs`, in small batches with a turn for the event loop between them: never on the path
 * of a request or a job. New, failed and dead events stay until they are resolved.
 */
export class Retention {
  private readonly pump: Pump;

  constructor(private readonly o: RetentionOptions) {
    this.pump = new Pump(
      () => this.pass(),
      o.intervalMs,
      (err) => o.log.warn({ err: String(err) }, 'pruning old events failed; trying again later'),
    );
  }

  start(): void {
    if (this.o.days > 0) this.pump.start();
  }

  stop(timeoutMs: number): Promise<void> {
    return this.pump.stop(timeoutMs);
  }

  private async pass(): Promise<void> {
    const cutoff = retentionCutoff(this.o.days);
    const total = { events: 0, jobs: 0 };
    for (;;) {
      const r = await this.o.store.prune(cutoff, this.o.batch);
      total.events += r.events;
      total.jobs += r.jobs;
      if (r.events > 0) this.o.onPruned?.(r);
      if (r.events < this.o.batch) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (total.events > 0) this.o.log.info({ ...total, olderThan: new Date(cutoff).toISOString() }, 'pruned resolved events past store.retention.days');
  }
}
