/** Wrong tokens allowed from one address before it has to wait. */
const FREE_FAILURES = 3;
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 5 * 60_000;
/** An address is forgotten this long after its last failure. */
const FORGET_AFTER_MS = 15 * 60_000;
/** Addresses remembered at most (the oldest are forgotten first). */
const MAX_CLIENTS = 10_000;

/**
 * Console login throttling per client address: after a few wrong tokens, each further try must
 * wait, twice as long each time (1 s, 2 s, 4 s … up to 5 minutes). A right token clears it.
 */
export class LoginThrottle {
  private readonly clients = new Map<string, { failures: number; until: number; last: number }>();

  /** How long `client` must still wait before its next try (0: it may try now). */
  waitMs(client: string, now = Date.now()): number {
    const c = this.clients.get(client);
    if (!c) return 0;
    if (now - c.last > FORGET_AFTER_MS) {
      this.clients.delete(client);
      return 0;
    }
    return Math.max(0, c.until - now);
  }

  /** Records a wrong token; returns how many in a row. */
  failed(client: string, now = Date.now()): number {
    const c = this.clients.get(client) ?? { failures: 0, until: 0, last: now };
    c.failures++;
    c.last = now;
    c.until = c.failures < FREE_FAILURES ? 0 : now + Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (c.failures - FREE_FAILURES));
    this.clients.delete(client); // re-inserted last: the map stays ordered by last failure
    this.clients.set(client, c);
    if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
    return c.failures;
  }

  succeeded(client: string): void {
    this.clients.delete(client);
  }
}
