import type { Problem } from '../config/errors.js';
import type { LoadOptions } from './load.js';
import { buildRuleSet, type RuleSet } from './rule-set.js';

export interface ReloadStatus {
  at: Date;
  ok: boolean;
  trigger: string;
  /** The folder's content hash at this attempt (the active version is `current.version`). */
  version: string;
  durationMs: number;
  problems: Problem[];
}

/**
 * Owns the active rule set. `reload()` loads, validates and compiles the whole folder and swaps
 * only when every step succeeded; a failed reload keeps the running rules and records why.
 * The watcher, SIGHUP and POST /admin/reload all call the same `reload()`.
 */
export class RuleCoordinator {
  private active: RuleSet;
  private last: ReloadStatus;
  private readonly listeners: Array<(status: ReloadStatus, ruleSet: RuleSet) => void> = [];

  private constructor(
    readonly dir: string,
    private readonly options: LoadOptions,
    initial: RuleSet,
    status: ReloadStatus,
  ) {
    this.active = initial;
    this.last = status;
  }

  /** Loads the folder for the first time; fails with the problems when it is invalid. */
  static start(dir: string, options: LoadOptions): { ok: true; coordinator: RuleCoordinator } | { ok: false; problems: Problem[] } {
    const started = Date.now();
    const built = buildRuleSet(dir, options);
    if (!built.ok) return { ok: false, problems: built.problems };
    const status: ReloadStatus = { at: new Date(), ok: true, trigger: 'start', version: built.ruleSet.version, durationMs: Date.now() - started, problems: [] };
    return { ok: true, coordinator: new RuleCoordinator(dir, options, built.ruleSet, status) };
  }

  /** The rule set new events are evaluated against. Callers keep their reference to the end. */
  get current(): RuleSet {
    return this.active;
  }

  get lastReload(): ReloadStatus {
    return this.last;
  }

  reload(trigger: string): ReloadStatus {
    const started = Date.now();
    const built = buildRuleSet(this.dir, this.options);
    if (built.ok) this.active = built.ruleSet;
    this.last = {
      at: new Date(),
      ok: built.ok,
      trigger,
      version: built.ok ? built.ruleSet.version : built.version,
      durationMs: Date.now() - started,
      problems: built.ok ? [] : built.problems,
    };
    for (const fn of this.listeners) fn(this.last, this.active);
    return this.last;
  }

  onReload(fn: (status: ReloadStatus, ruleSet: RuleSet) => void): void {
    this.listeners.push(fn);
  }
}
