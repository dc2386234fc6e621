import type { Fact, Fetch } from './types.js';

type Add = (path: (string | number)[], message: string) => void;

/**
 * What a rule loads for each event: its `fetch`, and the page's snapshot when its condition or an
 * action reads `before` or `changes` (a store read, only for those rules). Reports, at load time,
 * the rules that would silently never do what they say: `changes` without the page to compare,
 * a thread reply on events that have no comment.
 */
export function factsOf(
  raw: { fetch?: Fetch | 'none' | Fetch[]; actions: Array<Record<string, unknown>> },
  on: string[],
  /** The source of the condition and of every action template. */
  sources: string[],
  add: Add,
): Fact[] {
  const fetch: Fact[] = raw.fetch === undefined || raw.fetch === 'none' ? [] : Array.isArray(raw.fetch) ? [...raw.fetch] : [raw.fetch];
  if (sources.some((src) => /\bchanges\b/.test(src)) && !fetch.includes('page')) {
    add(raw.fetch === undefined ? [] : ['fetch'], '`changes` compares the page with what was seen of it before: add `fetch: page`');
  }
  if (sources.some((src) => /\b(before|changes)\b/.test(src))) fetch.push('before');
  raw.actions.forEach((item, i) => {
    const reply = (item['notion.comment'] as { reply?: unknown } | undefined)?.reply;
    const others = on.filter((t) => !/^comment\.(\*|[a-z_]+)$/.test(t));
    if ((reply === true || reply === 'true') && others.length > 0) {
      add(['actions', i, 'notion.comment', 'reply'], `answers the comment of a comment.* event, but the rule also listens to ${others.join(', ')}`);
    }
  });
  return fetch;
}
