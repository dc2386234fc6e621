import type { Logger } from 'pino';
import type { SearchIndex } from '../store/ports.js';

export interface ActionContext {
  /** The event's id, for logs and idempotency keys. */
  eventId: string;
  ruleId: string;
  /** The action's place in its rule: with the event and rule, it names one delivery. */
  actionIndex: number;
  /**
   * An earlier try of this very action failed, perhaps after the far end did the work (a timeout,
   * a 5xx): an action that can look before it acts again does so.
   */
  retry: boolean;
  /** When the job was created: nothing it did can be older. */
  since: number;
  log: Logger;
  store: SearchIndex;
}

/** Runs one action. Throws ActionError (retriable or not); resolves with a small record of what it did. */
export type ActionExecutor = (params: Record<string, unknown>, ctx: ActionContext) => Promise<Record<string, unknown> | undefined>;
