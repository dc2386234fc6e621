/**
 * What notion-rules last saw of a page: its title and plain property values (as `page.props`),
 * as of an event's timestamp. Kept per page to give rules `before` and `changes`.
 */
export interface PageSnapshot {
  title: string;
  props: Record<string, unknown>;
  /** The timestamp of the event whose page read it came from. */
  seenAt: string;
}

/** A page's latest snapshot and the one it replaced (so an event matched again sees the same `before`). */
export interface SnapshotRecord {
  current: PageSnapshot;
  previous: PageSnapshot | null;
}

/**
 * The page as it was before an event at `timestamp`: the latest snapshot when the event is newer;
 * the one before it when the snapshot is the event's own (the event is matched again); null when
 * the page was never seen, or when the event is older than what was seen (delivered out of
 * order: what changed in it cannot be told).
 */
export function snapshotBefore(record: SnapshotRecord | undefined, timestamp: string): PageSnapshot | null {
  if (!record) return null;
  if (timestamp > record.current.seenAt) return record.current;
  if (timestamp === record.current.seenAt) return record.previous;
  return null;
}

/** For each property whose value differs between two snapshots' props: its value before and after. */
export function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = before[name] ?? null;
    const to = after[name] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[name] = { from, to };
  }
  return changes;
}
