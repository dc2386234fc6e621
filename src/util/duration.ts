const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from a duration (`24h`, `90m`, `30s`, `500ms`, `2d`) or a number of milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`"${value}" is not a duration (24h, 90m, 30s, 500ms)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
