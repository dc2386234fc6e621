import type { Logger } from 'pino';
import type { Store } from '../store/types.js';

export interface ActionContext {
  /** The event's id, for logs and idempotency keys. */
  eventId: string;
  ruleId: string;
  /** The action's place in its rule: with the event and rule, it names one delivery. */
  actionIndex: number;
  log: Logger;
  store: Store;
}

/** Runs one action. Throws ActionError (retriable or not); resolves with a small record of what it did. */
export type ActionExecutor = (params: Record<string, unknown>, ctx: ActionContext) => Promise<Record<string, unknown> | undefined>;
