import type { Logger } from 'pino';
import { withDefaults } from '../actions/registry.js';
import type { RuleCoordinator } from '../engine/coordinator.js';
import { evaluateEvent } from '../engine/evaluate.js';
import type { FactSource } from '../engine/types.js';
import { Background, drainClaimed } from './background.js';
import { jobTerms } from './matcher.js';
import type { DelayQueue } from '../store/ports.js';
import type { PendingDelay } from '../store/types.js';

const POLL_MS = 1000;
const BATCH = 20;
/** A recheck that could not read Notion (or was its turn) is tried again at least this much later. */
const RETRY_MS = 30_000;

export interface DelayRunnerOptions {
  store: DelayQueue;
  rules: RuleCoordinator;
  /** Fresh Notion reads for a recheck. */
  facts: () => FactSource;
  log: Logger;
  leaseMs: number;
  onJobs: () => void;
  /** A shadow rule's job was stored (metrics). */
  onShadowJob?: (ruleId: string, actionTypes: string[]) => void;
}

/**
 * Rules with `after`: when an entity's wait is over, its rule's condition is checked again on the
 * event that started (or last restarted) the wait, with fresh fetches. It still holds: the actions
 * are rendered now and stored as the job, in one transaction with the wait's end. It does not: the
 * wait ends, nothing runs. Waits live in the store, taken under a lease, so a restart or a second
 * replica checks each once.
 */
export class DelayRunner extends Background {
  constructor(private readonly o: DelayRunnerOptions) {
    super('delay runner', POLL_MS, o.log);
  }

  protected async pass(): Promise<void> {
    await drainClaimed(
      (claim) => this.o.store.claimDelays(claim, Date.now(), this.o.leaseMs, BATCH),
      (d, claim) => this.recheck(d, claim),
      this.o.onJobs,
    );
    this.planAt(await this.o.store.nextDelayAt());
  }

  private async recheck(d: PendingDelay, claim: string): Promise<boolean> {
    const ids = { ruleId: d.ruleId, eventId: d.eventId };
    const ruleSet = this.o.rules.current;
    const rule = ruleSet.byId.get(d.ruleId);
    const stored = rule?.after ? await this.o.store.getEvent(d.eventId) : undefined;
    if (!rule?.after || !stored) {
      this.o.log.warn(ids, rule?.after ? 'wait ended: its event is gone' : 'wait ended: its rule is gone or no longer waits');
      await this.o.store.dropDelay(d.ruleId, d.key, claim);
      return false;
    }
    const [outcome] = await evaluateEvent(ruleSet, stored.event, { facts: this.o.facts(), only: (r) => r.id === rule.id, recheck: true });
    if (outcome?.matched) {
      const now = Date.now();
      const terms = jobTerms(ruleSet, rule.id, now);
      const actions = withDefaults(outcome.actions, stored.event);
      const ok = await this.o.store.completeDelay({ ...d, claim, actions, now, ...terms });
      if (ok && terms.shadow)
        this.o.onShadowJob?.(
          rule.id,
          actions.map((a) => a.type),
        );
      if (!ok) this.o.log.info(ids, 'wait restarted while it was checked; it goes on');
      else this.o.log.info(ids, 'wait over and the condition still holds: the actions run');
      return ok;
    }
    if (outcome && outcome.reason === 'fetch_error' && outcome.retriable) {
      const at = Math.max(Date.now() + RETRY_MS, outcome.waitUntil ?? 0);
      this.o.log.warn({ ...ids, err: outcome.error }, 'wait over, but Notion could not be read; checking again later');
      await this.o.store.postponeDelay(d.ruleId, d.key, claim, at);
      return false;
    }
    if (outcome && 'error' in outcome)
      this.o.log.warn({ ...ids, reason: outcome.reason, err: outcome.error }, 'wait over, and the rule failed on its recheck: nothing runs');
    else this.o.log.info(ids, 'wait over and the condition no longer holds: nothing runs');
    await this.o.store.dropDelay(d.ruleId, d.key, claim);
    return false;
  }
}
