import type { Problem } from '../config/errors.js';
import { loadRules, loadRulesAsync, type LoadOptions, type LoadResult } from './load.js';
import type { OffThreadParser } from './parse-off-thread.js';
import { TypeIndex } from './type-index.js';
import type { CompiledRule } from './types.js';

/** An immutable, compiled rules folder: what one event is evaluated against from start to end. */
export interface RuleSet {
  version: string;
  rules: readonly CompiledRule[];
  /** Every rule including disabled ones. */
  all: readonly CompiledRule[];
  index: TypeIndex;
  files: readonly string[];
  loadedAt: Date;
  /** Some enabled rule may read `event.stale`: processed events must then be recorded per entity. */
  readsStale: boolean;
  /** The enabled rules by id. */
  byId: ReadonlyMap<string, CompiledRule>;
  /** The enabled rules with `after` (their waits may be restarted or cancelled by other events). */
  waiting: readonly CompiledRule[];
}

export type BuildResult = { ok: true; ruleSet: RuleSet } | { ok: false; problems: Problem[]; version: string };

/** Loads, validates and compiles a folder; never a partial rule set. */
export function buildRuleSet(dir: string, options: LoadOptions): BuildResult {
  return fromLoad(loadRules(dir, options));
}

/** `buildRuleSet` for a running server: parsing off the event loop (see loadRulesAsync). */
export async function buildRuleSetAsync(dir: string, options: LoadOptions, parser: OffThreadParser): Promise<BuildResult> {
  return fromLoad(await loadRulesAsync(dir, options, parser));
}

function fromLoad(loaded: LoadResult): BuildResult {
  if (loaded.problems.length > 0) return { ok: false, problems: loaded.problems, version: loaded.version };
  return {
    ok: true,
    ruleSet: {
      version: loaded.version,
      rules: loaded.rules,
      all: loaded.all,
      // Scheduled rules run on their ticks, never on an event's type.
      index: new TypeIndex(loaded.rules.filter((r) => !r.schedule)),
      files: loaded.files,
      loadedAt: new Date(),
      readsStale: loaded.rules.some((r) => r.readsStale),
      byId: new Map(loaded.rules.map((r) => [r.id, r])),
      waiting: loaded.rules.filter((r) => r.after),
    },
  };
}
