import type { NotionEvent } from '../model/event.js';
import type { Attempt, Job } from '../store/types.js';

export type DeliveryOutcome = 'delivered' | 'retried' | 'rate_limited' | 'dead';

export type RuleFailureReason = 'condition_error' | 'condition_timeout' | 'render_error' | 'fetch_error';

/** What delivery reports as it works; metrics, health, error reporting and tests listen. Every hook is optional. */
export interface DeliveryHooks {
  onRuleOutcome?(ruleId: string, outcome: 'matched' | 'digested' | 'delayed' | 'condition_false' | 'throttled' | 'paused' | RuleFailureReason): void;
  /** A shadow rule's job was recorded: these actions would have run. */
  onShadowJob?(ruleId: string, actionTypes: string[]): void;
  /** A rule failed for this event (its condition threw, a template failed, a fetch gave up). */
  onRuleFailed?(event: NotionEvent, ruleId: string, reason: RuleFailureReason, error: string): void;
  onConditionEvaluated?(ruleId: string): void;
  /**
   * An action attempt's outcome, recorded: its type, its destination (`notion`, `slack:<channel>`,
   * `http:<origin>`; the action type for actions that call nobody), and whether it was delivered,
   * retried after a real failure, rate_limited (the destination asked to slow down; no attempt
   * spent) or dead.
   */
  onAction?(type: string, destination: string, outcome: DeliveryOutcome, durationMs: number): void;
  /** An action attempt of `job` was recorded (traces). */
  onAttempt?(job: Job, attempt: Attempt): void;
  /** An event was matched: what each rule that listens to its type did (traces). */
  onMatched?(event: NotionEvent, startedAt: number, endedAt: number, outcomes: ReadonlyArray<{ rule: string; matched: boolean; reason?: string }>): void;
  onJobFinished?(jobId: number, status: 'done' | 'dead'): void;
  /** A job went to dead letters at action `actionIndex`, with the error that put it there. */
  onDeadLetter?(job: Job, actionIndex: number, error: Error): void;
  /** A bug or an outage the loops survived (they retry); `where` names the loop. */
  onUnexpectedError?(err: unknown, where: string, ids?: { eventId?: string; ruleId?: string; jobId?: number }): void;
}

/** Hooks that call each of `list` in turn (metrics, health, tests…). */
export function combineHooks(...list: Array<DeliveryHooks | undefined>): DeliveryHooks {
  const all = list.filter((h): h is DeliveryHooks => h !== undefined);
  return {
    onRuleOutcome: (rule, outcome) => all.forEach((h) => h.onRuleOutcome?.(rule, outcome)),
    onShadowJob: (rule, types) => all.forEach((h) => h.onShadowJob?.(rule, types)),
    // Per event and per attempt, for traces only: absent unless some hook wants them.
    ...(all.some((h) => h.onAttempt) ? { onAttempt: (job: Job, attempt: Attempt) => all.forEach((h) => h.onAttempt?.(job, attempt)) } : {}),
    ...(all.some((h) => h.onMatched)
      ? {
          onMatched: (...args: Parameters<NonNullable<DeliveryHooks['onMatched']>>) => all.forEach((h) => h.onMatched?.(...args)),
        }
      : {}),
    onRuleFailed: (event, rule, reason, error) => all.forEach((h) => h.onRuleFailed?.(event, rule, reason, error)),
    onConditionEvaluated: (rule) => all.forEach((h) => h.onConditionEvaluated?.(rule)),
    onAction: (type, destination, outcome, ms) => all.forEach((h) => h.onAction?.(type, destination, outcome, ms)),
    onJobFinished: (id, status) => all.forEach((h) => h.onJobFinished?.(id, status)),
    onDeadLetter: (job, index, error) => all.forEach((h) => h.onDeadLetter?.(job, index, error)),
    onUnexpectedError: (err, where, ids) => all.forEach((h) => h.onUnexpectedError?.(err, where, ids)),
  };
}
