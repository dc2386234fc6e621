import { postEvent } from './http.js';

/**
 * Sends events the way Notion does: each until it is answered 200, retrying on connection errors
 * and non-2xx answers. `target()` gives the current URL (it changes across restarts).
 */
export class Sender {
  readonly acked = new Set<string>();
  attempts = 0;
  private stopped = false;

  constructor(
    private readonly target: () => string,
    private readonly secret: string,
  ) {}

  async send(events: Array<Record<string, unknown>>, workers: number): Promise<void> {
    let next = 0;
    const work = async () => {
      while (!this.stopped && next < events.length) {
        const ev = events[next++]!;
        for (;;) {
          if (this.stopped) return;
          this.attempts++;
          const res = await postEvent(this.target(), ev, this.secret).catch(() => undefined);
          if (res?.status === 200) {
            this.acked.add(String(ev.id));
            break;
          }
          await new Promise((r) => setTimeout(r, 20)); // Notion's retry, compressed
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, work));
  }

  stop(): void {
    this.stopped = true;
  }
}
