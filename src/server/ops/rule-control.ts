import type { OpsQueries } from '../../store/ports.js';
import type { RulePause } from '../../store/types.js';
import { durationMs } from '../../util/duration.js';
import { orList, suggest } from '../../util/suggest.js';

/*
 * Pause, resume and their audit, the same from the admin API, the console and the CLI: the rule
 * must exist in the rules the caller knows, a pause may end at a time or after a duration, and
 * each change is recorded with its source.
 */

export type ControlStore = Pick<OpsQueries, 'pauseRule' | 'resumeRule' | 'pausedRules'>;

/** A request the caller can fix: an unknown rule, an `until` in the past or unreadable. */
export class RuleControlError extends Error {
  constructor(
    readonly code: 'unknown_rule' | 'invalid_until',
    message: string,
  ) {
    super(message);
  }
}

/** `until` as given: an ISO time, or a duration from now (`2h`, `30m`); it must be in the future. */
export function parseUntil(value: string, now: number): number {
  let at: number;
  try {
    at = /^[0-9.]+(ms|s|m|h|d)$/.test(value) ? now + durationMs(value) : Date.parse(value);
  } catch {
    at = NaN;
  }
  if (!Number.isFinite(at)) throw new RuleControlError('invalid_until', `until "${value}" is neither an ISO time nor a duration such as 2h or 30m`);
  if (at <= now) throw new RuleControlError('invalid_until', `until ${new Date(at).toISOString()} is not in the future`);
  return at;
}

/** Refuses an id that no rule has (a typo would pause nothing), suggesting close ones. */
export function checkRuleId(id: string, known: readonly string[]): void {
  if (known.includes(id)) return;
  const close = suggest(id, known);
  throw new RuleControlError(
    'unknown_rule',
    `no rule "${id}" in the active rules${close.length ? ` (did you mean ${orList(close.map((k) => `"${k}"`))}?)` : ''}`,
  );
}

export async function pause(
  store: ControlStore,
  known: readonly string[],
  id: string,
  opts: { until?: string; reason?: string; source: string },
  now = Date.now(),
): Promise<RulePause> {
  checkRuleId(id, known);
  const until = opts.until ? parseUntil(opts.until, now) : undefined;
  await store.pauseRule(id, { source: opts.source, ...(until ? { until } : {}), ...(opts.reason ? { reason: opts.reason } : {}) }, now);
  return { ruleId: id, until: until ?? null, pausedAt: now, source: opts.source, reason: opts.reason ?? null };
}

/** Resumes a paused rule; false when it was not paused. A rule gone from the folder may still be resumed. */
export function resume(store: ControlStore, id: string, source: string, now = Date.now()): Promise<boolean> {
  return store.resumeRule(id, source, now);
}
