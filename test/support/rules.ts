import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildRuleSet, type RuleSet } from '../../src/engine/rule-set.js';
import { tempDir } from './tmp.js';

/** Writes `files` (relative path → YAML text) into a fresh rules folder. */
export function rulesDir(files: Record<string, string>, dir = tempDir('nr-rules-')): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export function ruleSetOf(files: Record<string, string>, evalTimeoutMs = 100): RuleSet {
  const built = buildRuleSet(rulesDir(files), { evalTimeoutMs });
  if (!built.ok) throw new Error(built.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  return built.ruleSet;
}
