/**
 * A user's search as words: every word must appear, the last may be a prefix (the user may still
 * be typing). Each database writes them in its own query syntax; nothing else of the input reaches it.
 */
export function searchWords(query: string): string[] {
  return query.match(/[\p{L}\p{N}_]+/gu) ?? [];
}
