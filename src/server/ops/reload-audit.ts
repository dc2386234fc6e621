import type { Logger } from 'pino';
import { formatProblem } from '../../config/errors.js';
import type { ReloadStatus } from '../../engine/coordinator.js';
import type { RuleSet } from '../../engine/rule-set.js';
import type { RulesAudit } from '../../store/ports.js';
import { turnIfDue } from '../../util/turn.js';

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
    // One line per rule, `id hash`; a large folder is handled in slices, so requests keep being answered.
    const stored = await store.getMeta(AUDITED_RULES_KEY);
    const before = stored === undefined ? null : await parseHashes(stored);
    const now = new Map<string, string>();
    const lines: string[] = [];
    for (const r of ruleSet.all) {
      now.set(r.id, r.hash);
      lines.push(`${r.id} ${r.hash}`);
      await turnIfDue();
    }
    const added: string[] = [];
    const changed: string[] = [];
    for (const [id, hash] of now) {
      const was = before?.get(id);
      if (was === undefined) added.push(id);
      else if (was !== hash) changed.push(id);
      await turnIfDue();
    }
    const removed = before ? [...before.keys()].filter((id) => !now.has(id)) : [];
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
        hashes: Object.fromEntries([...added, ...changed].slice(0, LISTED).map((id) => [id, now.get(id)!])),
      },
    });
    await store.setMeta(AUDITED_RULES_KEY, lines.join('\n'));
  } catch (err) {
    log.warn({ err }, 'could not record the rules load in the audit log');
  }
}

/** Ids listed per kind of change, at most; a larger change records its count too. */
const LISTED = 200;

function listed(kind: string, ids: string[]): Record<string, unknown> {
  return ids.length > LISTED ? { [kind]: ids.slice(0, LISTED), [`${kind}Count`]: ids.length } : { [kind]: ids };
}

/** The recorded `id hash` lines as a map (an older JSON record is read too). */
async function parseHashes(text: string): Promise<Map<string, string>> {
  if (text.startsWith('{')) return new Map(Object.entries(JSON.parse(text) as Record<string, string>));
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) map.set(line.slice(0, space), line.slice(space + 1));
    await turnIfDue();
  }
  return map;
}
