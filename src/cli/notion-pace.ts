import { ActionError } from '../actions/errors.js';
import { classifyNotionError } from '../actions/notion-client.js';
import { CliError } from './output.js';

/** Tries of one call that Notion answered 429, 529 or 5xx, before giving up. */
const TRIES = 8;

/**
 * Notion calls of a command (`snapshot`, `whatif --fetch`): one at a time, at least `intervalMs`
 * apart; 429/529/5xx answers and timeouts are waited out (Retry-After when given) and tried again.
 * Progress goes to stderr, so stdout stays data (`--json`).
 */
export class NotionPace {
  private next = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly command: string,
  ) {}

  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await sleep(this.next - Date.now());
      this.next = Date.now() + this.intervalMs;
      try {
        return await fn();
      } catch (err) {
        const e = err instanceof ActionError ? err : classifyNotionError(err, what);
        if (!e.retriable || attempt >= TRIES) throw new CliError(`${this.command}: ${e.message}`);
        const wait = e.retryAfterMs ?? Math.min(30_000, 500 * 2 ** attempt);
        process.stderr.write(`${this.command}: ${e.message}; trying again in ${Math.ceil(wait / 1000)} s\n`);
        this.next = Date.now() + wait;
      }
    }
  }
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
