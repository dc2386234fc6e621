/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The known names closest to `name`: those within a third of its length in edits, plus those
 * that share its prefix (so `page.update` suggests `page.updated` and `page.properties_updated`).
 */
export function suggest(name: string, known: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.ceil(name.length / 3));
  // Names sharing the stem come first (page.update → page.updated, page.properties_updated), then
  // the merely close ones by edit distance.
  const scored = known
    .map((k) => ({ k, d: editDistance(name, k), stem: sharesStem(name, k) }))
    .filter(({ d, stem }) => d <= limit || stem)
    .sort((x, y) => Number(y.stem) - Number(x.stem) || x.d - y.d || x.k.localeCompare(y.k));
  return scored.slice(0, max).map((s) => s.k);
}

function sharesStem(name: string, known: string): boolean {
  const dot = name.indexOf('.');
  if (dot < 0) return false;
  const [ns, verb] = [name.slice(0, dot), name.slice(dot + 1)];
  const kdot = known.indexOf('.');
  if (known.slice(0, kdot) !== ns || verb.length < 3) return false;
  const kverb = known.slice(kdot + 1);
  return kverb.includes(verb.slice(0, Math.max(3, verb.length - 1)));
}

/** `a, b or c` */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
