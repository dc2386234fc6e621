import type { Problem } from '../config/errors.js';
import { createHash } from 'node:crypto';
import { loadRules, loadRulesAsync, rulesVersion, type LoadOptions, type LoadResult } from './load.js';
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

/** Loads, validates and compiles a folder (and `shadowDir`); never a partial rule set. */
export function buildRuleSet(dir: string, options: LoadOptions): BuildResult {
  const live = loadRules(dir, options);
  return fromLoad(options.shadowDir ? withShadow(live, loadRules(options.shadowDir, options)) : live);
}

/** `buildRuleSet` for a running server: parsing off the event loop (see loadRulesAsync). */
export async function buildRuleSetAsync(dir: string, options: LoadOptions, parser: OffThreadParser): Promise<BuildResult> {
  const live = await loadRulesAsync(dir, options, parser);
  return fromLoad(options.shadowDir ? withShadow(live, await loadRulesAsync(options.shadowDir, options, parser)) : live);
}

/** The version `buildRuleSet` gives the folders, without parsing anything (the watcher's poll). */
export async function ruleSetVersion(dir: string, options: LoadOptions): Promise<string> {
  const live = await rulesVersion(dir, options);
  return options.shadowDir ? combined(live, await rulesVersion(options.shadowDir, options)) : live;
}

/**
 * `rules.shadowDir`: its rules run after the folder's, all in shadow mode (matched, rendered and
 * recorded, never sent), whatever their own `mode`. An id in both folders is a problem: a shadow
 * variant of a live rule needs its own id, so that both are reported apart.
 */
function withShadow(live: LoadResult, shadow: LoadResult): LoadResult {
  const ids = new Map(live.all.map((r) => [r.id, r]));
  const problems = [...live.problems, ...shadow.problems];
  for (const r of shadow.all) {
    const twin = ids.get(r.id);
    if (twin)
      problems.push({
        file: r.file,
        line: r.line,
        where: r.id,
        message: `also the id of ${twin.file}:${twin.line} in rules.dir; give the shadow rule its own id`,
      });
  }
  const offset = live.all.length;
  const shadowed = shadow.all.map((r) => ({ ...r, mode: 'shadow' as const, order: offset + r.order }));
  const all = [...live.all, ...shadowed];
  const ok = problems.length === 0;
  return {
    all,
    rules: ok ? all.filter((r) => r.enabled) : [],
    problems,
    files: [...live.files, ...shadow.files],
    version: combined(live.version, shadow.version),
  };
}

function combined(live: string, shadow: string): string {
  return createHash('sha256').update(`${live}+shadow:${shadow}`).digest('hex').slice(0, 12);
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
