import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';

/**
 * The layers depend one way: cli → server → receiver, matching → engine, delivery → actions →
 * store; config, model, util and errors (the catalog of error codes) are leaves anyone may use.
 * Matching evaluates stored events with the engine and hands the jobs to delivery.
 */
const allowed: Record<string, string[]> = {
  cli: ['server', 'receiver', 'matching', 'engine', 'delivery', 'actions', 'store', 'config', 'model', 'util', 'errors'],
  server: ['receiver', 'matching', 'engine', 'delivery', 'actions', 'store', 'config', 'model', 'util', 'errors'],
  matching: ['engine', 'delivery', 'actions', 'store', 'config', 'model', 'util', 'errors'],
  receiver: ['config', 'model', 'util', 'errors'],
  engine: ['config', 'model', 'util', 'errors'],
  delivery: ['engine', 'actions', 'store', 'config', 'model', 'util', 'errors'],
  actions: ['store', 'config', 'model', 'util', 'errors'],
  store: ['model', 'util', 'errors'],
  config: ['util', 'errors'],
  model: ['errors'],
  util: [],
  errors: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('architecture', () => {
  it('every import in src/ follows the layering', () => {
    const src = join(repoRoot, 'src');
    const violations: string[] = [];
    for (const file of files(src)) {
      const layer = relative(src, file).split('/')[0]!;
      expect(Object.keys(allowed), `${file} is outside the known layers`).toContain(layer);
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)) {
        const target = relative(src, join(file, '..', m[1]!)).split('/')[0]!;
        if (target !== layer && !allowed[layer]!.includes(target)) violations.push(`${relative(repoRoot, file)} imports ${m[1]} (${layer} → ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('outside the composition root, a module uses the store through its port (store/ports.ts), not the whole Store', () => {
    const src = join(repoRoot, 'src');
    /** Where the store is opened and wired: these see all of it. */
    const root = /^(store\/|server\/service\.ts$|server\/app\.ts$|cli\/)/;
    const whole: string[] = [];
    for (const file of files(src)) {
      const rel = relative(src, file);
      if (root.test(rel)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/import type \{([^}]*)\} from '[./]+\/store\/types\.js'/g)) {
        if (m[1]!.split(',').some((name) => name.trim() === 'Store')) whole.push(rel);
      }
    }
    expect(whole).toEqual([]);
  });
});
