import type { RuleCoordinator } from '../engine/coordinator.js';
import type { Store } from '../store/types.js';
import type { ActionHealth } from './action-health.js';
import { reloadView } from './routes/admin.js';

/**
 * What /health adds to the store's state: the rules (and a failed reload), the queues, and recent
 * action outcomes — with the reasons, if any, to call the service degraded.
 */
export function healthSections(rules: RuleCoordinator, store: Store, actions: ActionHealth) {
  return async () => {
    const degraded: string[] = [];
    const last = rules.lastReload;
    if (!last.ok) {
      degraded.push(`the last rules reload failed (${last.problems.length} problem${last.problems.length === 1 ? '' : 's'}); version ${rules.current.version} is running`);
    }
    let queue: Record<string, number> | { error: string };
    try {
      const c = await store.counts();
      queue = { depth: c.pending + c.running, awaitingMatch: c.eventsToDispatch, dead: c.dead, failedEvents: c.failedEvents };
    } catch (err) {
      queue = { error: (err as Error).message };
    }
    const recent = actions.report();
    degraded.push(...recent.degraded);
    return { degraded, rules: { version: rules.current.version, count: rules.current.rules.length, lastReload: reloadView(rules) }, queue, actions: recent.section };
  };
}
