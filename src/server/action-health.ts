/**
 * Recent action outcomes, for /health: `degraded` when the success rate of the last actions falls
 * under health.minSuccessRate, or when a job went to dead letters, or a rule failed for an event,
 * within the window.
 */
export class ActionHealth {
  private readonly outcomes: boolean[] = [];
  private lastDeadAt = 0;
  private lastRuleFailureAt = 0;

  constructor(
    private readonly minSuccessRate: number,
    private readonly size = 100,
    private readonly minSamples = 20,
    private readonly deadWindowMs = 5 * 60_000,
  ) {}

  record(ok: boolean): void {
    this.outcomes.push(ok);
    if (this.outcomes.length > this.size) this.outcomes.shift();
  }

  deadLetter(at = Date.now()): void {
    this.lastDeadAt = at;
  }

  /** A rule failed for an event (fetch, condition or template): the event is `failed`. */
  ruleFailed(at = Date.now()): void {
    this.lastRuleFailureAt = at;
  }

  /** The body section, and the reasons to call the service degraded (empty when fine). */
  report(now = Date.now()): { section: { recent: number; successRate: number | null; lastDeadLetterAt: string | null }; degraded: string[] } {
    const recent = this.outcomes.length;
    const ok = this.outcomes.filter(Boolean).length;
    const successRate = recent === 0 ? null : ok / recent;
    const degraded: string[] = [];
    if (successRate !== null && recent >= this.minSamples && successRate < this.minSuccessRate) {
      degraded.push(
        `action success rate ${(successRate * 100).toFixed(1)} % over the last ${recent} attempts is under health.minSuccessRate (${this.minSuccessRate * 100} %)`,
      );
    }
    if (this.lastDeadAt > 0 && now - this.lastDeadAt < this.deadWindowMs) {
      degraded.push('a job went to dead letters in the last 5 minutes (see /admin/dead)');
    }
    if (this.lastRuleFailureAt > 0 && now - this.lastRuleFailureAt < this.deadWindowMs) {
      degraded.push('a rule failed for an event in the last 5 minutes (notion-rules events --status failed; replay them with notion-rules replay --failed)');
    }
    return {
      section: {
        recent,
        successRate: successRate === null ? null : Math.round(successRate * 1000) / 1000,
        lastDeadLetterAt: this.lastDeadAt ? new Date(this.lastDeadAt).toISOString() : null,
      },
      degraded,
    };
  }
}
