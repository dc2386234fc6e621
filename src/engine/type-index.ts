import { globToRegExp } from './event-types.js';
import type { CompiledRule } from './types.js';

/**
 * From event type to the rules that listen to it: exact types in a map, globs grouped by their
 * namespace (`page.*` under `page`, `*` under ''). Finding the candidates of an event costs the
 * rules that can match it, not the size of the folder.
 */
export class TypeIndex {
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly globs = new Map<string, Array<{ re: RegExp; rule: CompiledRule }>>();
  private readonly cache = new Map<string, readonly CompiledRule[]>();

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      for (const pattern of new Set(rule.on)) {
        if (!pattern.includes('*')) {
          push(this.exact, pattern, rule);
          continue;
        }
        const ns = pattern === '*' || pattern.startsWith('*') ? '' : pattern.split('.')[0]!;
        push(this.globs, ns, { re: globToRegExp(pattern), rule });
      }
    }
  }

  /** The rules listening to `type`, each once, in folder order. */
  candidates(type: string): readonly CompiledRule[] {
    const hit = this.cache.get(type);
    if (hit) return hit;
    const found = new Set<CompiledRule>(this.exact.get(type) ?? []);
    const ns = type.split('.')[0]!;
    for (const group of [this.globs.get(ns), ns ? this.globs.get('') : undefined]) {
      for (const g of group ?? []) if (g.re.test(type)) found.add(g.rule);
    }
    const list = [...found].sort((a, b) => a.order - b.order);
    // Types are few (Notion's catalogue); a flood of made-up ones must not grow memory without end.
    if (this.cache.size < 1000) this.cache.set(type, list);
    return list;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
