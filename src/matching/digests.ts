import type { Logger } from 'pino';
import type { RuleCoordinator } from '../engine/coordinator.js';
import { renderActions } from '../engine/evaluate.js';
import { Background, drainClaimed } from './background.js';
import { jobTerms } from './matcher.js';
import type { DigestQueue } from '../store/ports.js';
import type { DigestGroup } from '../store/types.js';

const POLL_MS = 1000;
/** Groups flushed per pass. */
const BATCH = 20;
/** A group whose actions failed to render is tried again this much later (a fixed rule flushes it). */
const RETRY_RENDER_MS = 60_000;

export interface DigestFlusherOptions {
  store: DigestQueue;
  rules: RuleCoordinator;
  log: Logger;
  /** How long a taken group is ours before another replica may flush it. */
  leaseMs: number;
  /** Jobs were stored: the runner should look. */
  onJobs: () => void;
  /** A shadow rule's job was stored (metrics). */
  onShadowJob?: (ruleId: string, actionTypes: string[]) => void;
}

/**
 * Flushes digest groups when they are due (`wait` after their first match, or at `max` items):
 * each group's items are rendered into its rule's actions once, as one job, in one transaction
 * with the group's end. Groups live in the store, taken under a lease: a crash mid-flush leaves the
 * group to the next pass (here or on another replica), and a group is never flushed twice.
 */
export class DigestFlusher extends Background {
  constructor(private readonly o: DigestFlusherOptions) {
    super('digest flusher', POLL_MS, o.log);
  }

  protected async pass(): Promise<void> {
    await drainClaimed(
      (claim) => this.o.store.claimDigests(claim, Date.now(), this.o.leaseMs, BATCH),
      (g, claim) => this.flush(g, claim),
      this.o.onJobs,
    );
    this.planAt(await this.o.store.nextDigestAt());
  }

  private async flush(group: DigestGroup, claim: string): Promise<boolean> {
    const ids = { ruleId: group.ruleId, digestKey: group.key };
    const rule = this.o.rules.current.byId.get(group.ruleId);
    if (!rule?.digest) {
      this.o.log.warn({ ...ids, items: group.count }, 'digest group dropped: its rule is gone or no longer a digest');
      await this.o.store.dropDigest(group.ruleId, group.key, claim);
      return false;
    }
    const items = await this.o.store.digestItems(group.ruleId, group.key, group.max);
    if (items.length === 0) {
      await this.o.store.dropDigest(group.ruleId, group.key, claim);
      return false;
    }
    const now = Date.now();
    const ctx = { items: items.map((i) => i.item), count: items.length, key: group.key, rule: { id: rule.id }, now: new Date(now).toISOString() };
    const rendered = await renderActions(rule, ctx);
    if ('error' in rendered) {
      this.o.log.error({ ...ids, err: rendered.error }, 'digest actions failed to render; the group waits for a fixed rule');
      await this.o.store.postponeDigest(group.ruleId, group.key, claim, now + RETRY_RENDER_MS);
      return false;
    }
    const terms = jobTerms(this.o.rules.current, rule.id, now);
    const ok = await this.o.store.completeDigest({
      ruleId: group.ruleId,
      key: group.key,
      claim,
      eventId: items[0]!.eventId,
      actions: rendered.actions,
      lastItemId: items[items.length - 1]!.id,
      taken: items.length,
      now,
      ...terms,
    });
    if (ok && terms.shadow)
      this.o.onShadowJob?.(
        rule.id,
        rendered.actions.map((a) => a.type),
      );
    if (!ok) this.o.log.warn(ids, 'digest group taken over by another replica before its job was stored');
    else if (this.o.log.isLevelEnabled('debug')) this.o.log.debug({ ...ids, items: items.length }, 'digest flushed');
    return ok;
  }
}
