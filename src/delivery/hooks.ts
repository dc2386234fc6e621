/** What delivery reports as it works; metrics and tests listen. Every hook is optional. */
export interface DeliveryHooks {
  onRuleOutcome?(ruleId: string, outcome: 'matched' | 'condition_false' | 'condition_error' | 'fetch_error' | 'render_error'): void;
  onConditionEvaluated?(ruleId: string): void;
  onAction?(type: string, outcome: 'ok' | 'retry' | 'dead', durationMs: number): void;
  onJobFinished?(jobId: number, status: 'done' | 'dead'): void;
}
