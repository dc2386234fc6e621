import { readSchema } from '../util/paths.js';
import { suggest } from '../util/suggest.js';

interface Catalogue {
  notion: string[];
  namespaces: string[];
  seed: string[];
}

const catalogue = readSchema<Catalogue>('event-types.json');

/** Notion's and the seed document's event types, plus `rules.extraEventTypes`. */
export class EventTypes {
  readonly known: readonly string[];
  private readonly namespaces: Set<string>;

  constructor(extra: readonly string[] = []) {
    this.known = [...catalogue.notion, ...catalogue.seed, ...extra.filter((t) => !t.includes('*'))];
    this.namespaces = new Set([
      ...catalogue.namespaces,
      ...this.known.map((t) => t.split('.')[0]!),
      ...extra.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -2)),
    ]);
  }

  /** Whether a rule's `on` entry can ever match: a known type, or a glob over a known namespace. */
  isKnown(pattern: string): boolean {
    if (pattern === '*') return true;
    if (pattern.includes('*')) {
      const re = globToRegExp(pattern);
      return this.known.some((t) => re.test(t)) || this.namespaces.has(pattern.split('.')[0]!);
    }
    return this.known.includes(pattern) || catalogue.namespaces.includes(pattern.split('.')[0]!);
  }

  suggest(pattern: string): string[] {
    return suggest(pattern, this.known);
  }
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
