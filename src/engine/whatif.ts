import type { NotionEvent } from '../model/event.js';
import { evaluateEvent } from './evaluate.js';
import type { RuleSet } from './rule-set.js';
import type { CompiledRule, FactSource, RuleOutcome } from './types.js';

/*
 * What a candidate rule folder would have done with events that already happened, against the
 * rules running now: per rule, the events it newly matches, no longer matches, or renders
 * different actions for. Only rules that differ (by content hash) are evaluated: an unchanged rule
 * gives the same outcome on the same event and facts. Each event is evaluated at its own time
 * (`now` is its timestamp), so the answer does not depend on when it is asked.
 */

export type Change = 'newlyMatch' | 'noLongerMatch' | 'differentActions' | 'newErrors';

export interface Example {
  eventId: string;
  type: string;
  change: Change;
  /** What the running rules and the candidate did with the event, in one line each. */
  before: string;
  after: string;
}

export interface RuleDiff {
  rule: string;
  /** `added`: only in the candidate; `removed`: only in the running rules; `changed`: in both, different. */
  status: 'added' | 'removed' | 'changed';
  /** Events of a type it listens to (in either version). */
  events: number;
  newlyMatch: number;
  noLongerMatch: number;
  differentActions: number;
  /** The candidate fails (condition, template, fetch) where the running rule did not. */
  newErrors: number;
  /** Events it could not be evaluated for (a fact of the past that is not kept). */
  unknown: number;
  examples: Example[];
}

export interface WhatIfReport {
  events: number;
  rules: RuleDiff[];
  /** Rules the same in both (not evaluated). */
  unchanged: number;
}

export interface WhatIfOptions {
  /** Facts for one event (each event gets its own source; its cache is the event's). */
  facts: (event: NotionEvent) => FactSource;
  /** Examples kept per rule and change. */
  examples: number;
}

export class WhatIf {
  private readonly diffs = new Map<string, RuleDiff>();
  private readonly ids: ReadonlySet<string>;
  private count = 0;

  constructor(
    private readonly running: RuleSet,
    private readonly candidate: RuleSet,
    private readonly o: WhatIfOptions,
  ) {
    const before = hashes(running);
    const after = hashes(candidate);
    for (const [id, hash] of after) {
      if (before.get(id) !== hash) this.diffs.set(id, emptyDiff(id, before.has(id) ? 'changed' : 'added'));
    }
    for (const id of before.keys()) if (!after.has(id)) this.diffs.set(id, emptyDiff(id, 'removed'));
    this.ids = new Set(this.diffs.keys());
  }

  /** Evaluates one past event with both versions of the differing rules. */
  async add(event: NotionEvent): Promise<void> {
    this.count++;
    if (this.ids.size === 0) return;
    const facts = this.o.facts(event);
    const options = { facts, now: new Date(event.timestamp), only: (r: CompiledRule) => this.ids.has(r.id) };
    const [before, after] = [await evaluateEvent(this.running, event, options), await evaluateEvent(this.candidate, event, options)];
    const seen = new Set([...before.map((o) => o.rule), ...after.map((o) => o.rule)]);
    for (const id of seen)
      this.compare(
        this.diffs.get(id)!,
        event,
        before.find((o) => o.rule === id),
        after.find((o) => o.rule === id),
      );
  }

  report(): WhatIfReport {
    const rules = [...this.diffs.values()].sort((a, b) => a.rule.localeCompare(b.rule));
    return { events: this.count, rules, unchanged: new Set(this.candidate.all.map((r) => r.id)).size - rules.filter((r) => r.status !== 'removed').length };
  }

  private compare(diff: RuleDiff, event: NotionEvent, before: RuleOutcome | undefined, after: RuleOutcome | undefined): void {
    diff.events++;
    if (isUnknown(before) || isUnknown(after)) {
      diff.unknown++;
      return;
    }
    const was = summary(before);
    const now = summary(after);
    let change: Change | undefined;
    if (!was.matched && now.matched) change = 'newlyMatch';
    else if (was.matched && !now.matched) change = now.error && !was.error ? 'newErrors' : 'noLongerMatch';
    else if (was.matched && now.matched && was.line !== now.line) change = 'differentActions';
    else if (!was.error && now.error) change = 'newErrors';
    if (!change) return;
    diff[change]++;
    if (diff.examples.filter((e) => e.change === change).length < this.o.examples)
      diff.examples.push({ eventId: event.id, type: event.type, change, before: was.line, after: now.line });
  }
}

function hashes(ruleSet: RuleSet): Map<string, string> {
  // Only enabled rules run; a rule disabled in one version is absent from it.
  return new Map(ruleSet.rules.map((r) => [r.id, `${r.hash}:${r.mode}`]));
}

function emptyDiff(rule: string, status: RuleDiff['status']): RuleDiff {
  return { rule, status, events: 0, newlyMatch: 0, noLongerMatch: 0, differentActions: 0, newErrors: 0, unknown: 0, examples: [] };
}

function isUnknown(o: RuleOutcome | undefined): boolean {
  return o !== undefined && !o.matched && o.reason === 'fetch_error' && o.error.includes(UNKNOWN_MARK);
}

/** In a fact source's error: a fact of a past event that is not kept (no snapshot as of it, no --fetch); its rules are `unknown` for it. */
export const UNKNOWN_MARK = '[not kept for past events]';

/** An outcome as one comparable line: the actions it would run (type and parameters), or why none. */
function summary(o: RuleOutcome | undefined): { matched: boolean; error: boolean; line: string } {
  if (!o) return { matched: false, error: false, line: 'does not listen to this event type' };
  if (o.matched) {
    const what = o.digest
      ? `joins digest "${o.digest.key}"`
      : o.delayed
        ? 'starts its wait'
        : o.actions.map((a) => `${a.type} ${JSON.stringify(a.params)}`).join(' → ') || 'matches (no actions)';
    return { matched: true, error: false, line: o.throttleKey !== undefined ? `${what} (throttle key "${o.throttleKey}")` : what };
  }
  if ('error' in o) return { matched: false, error: true, line: `${o.reason}: ${o.error}` };
  return { matched: false, error: false, line: o.reason === 'condition_false' ? 'condition false' : o.reason.replace(/_/g, ' ') };
}
