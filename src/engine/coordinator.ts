import type { Problem } from '../config/errors.js';
import type { LoadOptions } from './load.js';
import { OffThreadParser } from './parse-off-thread.js';
import { buildRuleSet, buildRuleSetAsync, type RuleSet } from './rule-set.js';
import { folderFingerprint, testProblems } from './test-gate.js';

export interface ReloadStatus {
  at: Date;
  ok: boolean;
  trigger: string;
  /** The folder's content hash at this attempt (the active version is `current.version`). */
  version: string;
  durationMs: number;
  problems: Problem[];
  /** The rules were valid but their tests failed (rules.testOnReload): the folder's fingerprint then. */
  testsFailedAt?: string;
}

/**
 * Owns the active rule set. `reload()` loads, validates and compiles the whole folder and swaps
 * only when every step succeeded; a failed reload keeps the running rules and records why.
 * The watcher, SIGHUP and POST /admin/reload all call the same `reload()`; reloads run one at a
 * time, parsing off the event loop, so requests are answered while a large folder loads.
 */
export class RuleCoordinator {
  private active: RuleSet;
  private last: ReloadStatus;
  private readonly parser = new OffThreadParser();
  private queue: Promise<unknown> = Promise.resolve();
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

  /** Loads the folder for the first time; fails with the problems when it is invalid or its tests fail. */
  static async start(dir: string, options: LoadOptions): Promise<{ ok: true; coordinator: RuleCoordinator } | { ok: false; problems: Problem[] }> {
    const started = Date.now();
    const built = buildRuleSet(dir, options);
    if (!built.ok) return { ok: false, problems: built.problems };
    const failing = options.testOnReload ? await testProblems(dir, built.ruleSet) : [];
    if (failing.length > 0) return { ok: false, problems: failing };
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

  /** The limits the folder is read with (for the content-hash poll). */
  get loadOptions(): LoadOptions {
    return this.options;
  }

  reload(trigger: string): Promise<ReloadStatus> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the parser's worker thread. */
  close(): Promise<void> {
    return this.parser.close();
  }

  private async reloadNow(trigger: string): Promise<ReloadStatus> {
    const started = Date.now();
    const built = await buildRuleSetAsync(this.dir, this.options, this.parser).catch((err: unknown) => ({
      ok: false as const,
      version: this.active.version,
      problems: [{ file: this.dir, message: `internal error while reloading: ${(err as Error).message}` }],
    }));
    // Valid rules must also pass the folder's tests before they are used.
    const fingerprint = built.ok && this.options.testOnReload ? folderFingerprint(this.dir) : undefined;
    const failing =
      built.ok && this.options.testOnReload ? await testProblems(this.dir, built.ruleSet).catch((err: unknown) => [testCrash(this.dir, err)]) : [];
    const ok = built.ok && failing.length === 0;
    if (ok) this.active = built.ruleSet;
    this.last = {
      at: new Date(),
      ok,
      trigger,
      version: built.ok ? built.ruleSet.version : built.version,
      durationMs: Date.now() - started,
      problems: built.ok ? failing : built.problems,
      ...(built.ok && !ok ? { testsFailedAt: fingerprint! } : {}),
    };
    for (const fn of this.listeners) fn(this.last, this.active);
    return this.last;
  }

  onReload(fn: (status: ReloadStatus, ruleSet: RuleSet) => void): void {
    this.listeners.push(fn);
  }
}

function testCrash(dir: string, err: unknown): Problem {
  return { file: dir, message: `internal error while running the rule tests: ${(err as Error).message}` };
}
