import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Pump } from '../delivery/pump.js';

/**
 * A stage that works on its own time beside the matcher (digest groups, waits, schedule ticks):
 * a pass at least every `pollMs`, sooner when woken or when the pass plans one, one pass at a
 * time; an error is logged and the next pass tries again.
 */
export abstract class Background {
  private readonly pump: Pump;

  constructor(what: string, pollMs: number, log: Logger) {
    this.pump = new Pump(
      () => this.pass(),
      pollMs,
      (err) => log.error({ err }, `${what} failed; retrying`),
    );
  }

  start(): void {
    this.pump.start();
  }

  /** Something may be due sooner than planned. */
  wake(): void {
    this.pump.wake();
  }

  stop(timeoutMs: number): Promise<void> {
    return this.pump.stop(timeoutMs);
  }

  protected abstract pass(): Promise<void>;

  /** The next pass at `at` (if sooner than the poll). */
  protected planAt(at: number | undefined): void {
    if (at !== undefined) this.pump.schedule(Math.max(0, at - Date.now()));
  }
}

/**
 * Takes due work under fresh claims until none is left, handling each item; `stored` is called
 * once a batch when an item made a job.
 */
export async function drainClaimed<T>(
  claim: (token: string) => Promise<T[]>,
  handle: (item: T, token: string) => Promise<boolean>,
  stored: () => void,
): Promise<void> {
  for (;;) {
    const token = randomUUID();
    const due = await claim(token);
    if (due.length === 0) return;
    let any = false;
    for (const item of due) any = (await handle(item, token)) || any;
    if (any) stored();
  }
}
