/** What delivery reports as it works; metrics and tests listen. Every hook is optional. */
export interface DeliveryHooks {
  onRuleOutcome?(ruleId: string, outcome: 'matched' | 'condition_false' | 'condition_error' | 'fetch_error' | 'render_error'): void;
  onConditionEvaluated?(ruleId: string): void;
  onAction?(type: string, outcome: 'ok' | 'retry' | 'dead', durationMs: number): void;
  onJobFinished?(jobId: number, status: 'done' | 'dead'): void;
}

/** Hooks that call each of `list` in turn (metrics, health, tests…). */
export function combineHooks(...list: Array<DeliveryHooks | undefined>): DeliveryHooks {
  const all = list.filter((h): h is DeliveryHooks => h !== undefined);
  return {
    onRuleOutcome: (rule, outcome) => all.forEach((h) => h.onRuleOutcome?.(rule, outcome)),
    onConditionEvaluated: (rule) => all.forEach((h) => h.onConditionEvaluated?.(rule)),
    onAction: (type, outcome, ms) => all.forEach((h) => h.onAction?.(type, outcome, ms)),
    onJobFinished: (id, status) => all.forEach((h) => h.onJobFinished?.(id, status)),
  };
}
