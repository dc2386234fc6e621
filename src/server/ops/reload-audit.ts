import type { Logger } from 'pino';
import { formatProblem } from '../../config/errors.js';
import type { ReloadStatus } from '../../engine/coordinator.js';
import type { RuleSet } from '../../engine/rule-set.js';
import type { RulesAudit } from '../../store/ports.js';

/** Meta key: the rules (id → content hash) the audit log last recorded, shared by replicas. */
export const AUDITED_RULES_KEY = 'audit_rules';

/**
 * Records a load of the rules folder in the audit log: which rules were added, removed or changed
 * (by content hash) since the last recorded load — so a restart with new rules (a new image) is
 * recorded too, and a replica loading what another already recorded adds nothing — or, for a load
 * that failed, why (the running rules stay). Never throws: an audit write that fails is logged.
 */
export async function auditReload(store: RulesAudit, status: ReloadStatus, ruleSet: RuleSet, log: Logger): Promise<void> {
  try {
    const at = status.at.getTime();
    if (!status.ok) {
      const problems = status.problems.slice(0, 20).map(formatProblem);
      await store.recordAudit({
        at,
        action: 'reload',
        source: status.trigger,
        detail: { ok: false, version: status.version, activeVersion: ruleSet.version, problems },
      });
      return;
    }
    const before = JSON.parse((await store.getMeta(AUDITED_RULES_KEY)) ?? 'null') as Record<string, string> | null;
    const now = Object.fromEntries(ruleSet.all.map((r) => [r.id, r.hash]));
    const added = Object.keys(now).filter((id) => !before || !(id in before));
    const removed = before ? Object.keys(before).filter((id) => !(id in now)) : [];
    const changed = before ? Object.keys(now).filter((id) => id in before && before[id] !== now[id]) : [];
    if (before && added.length + removed.length + changed.length === 0) return;
    await store.recordAudit({
      at,
      action: 'reload',
      source: status.trigger,
      detail: {
        ok: true,
        version: ruleSet.version,
        ...listed('added', added),
        ...listed('removed', removed),
        ...listed('changed', changed),
        hashes: pick(now, [...added, ...changed].slice(0, LISTED)),
      },
    });
    await store.setMeta(AUDITED_RULES_KEY, JSON.stringify(now));
  } catch (err) {
    log.warn({ err }, 'could not record the rules load in the audit log');
  }
}

/** Ids listed per kind of change, at most; a larger change records its count too. */
const LISTED = 200;

function listed(kind: string, ids: string[]): Record<string, unknown> {
  return ids.length > LISTED ? { [kind]: ids.slice(0, LISTED), [`${kind}Count`]: ids.length } : { [kind]: ids };
}

function pick(hashes: Record<string, string>, ids: string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, hashes[id]!]));
}
