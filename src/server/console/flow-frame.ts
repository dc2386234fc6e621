import type { OpsQueries } from '../../store/ports.js';
import type { FlowSeries } from '../../store/types.js';
import { combine } from '../../store/core/flow.js';

/** The windows a chart can show: the last hour per minute, the last 24 hours per 15 minutes. */
export const WINDOWS = {
  '1h': { key: '1h', label: 'Last hour', unit: 'minute', bucketMinutes: 1, buckets: 60 },
  '24h': { key: '24h', label: 'Last 24 hours', unit: '15 minutes', bucketMinutes: 15, buckets: 96 },
} as const;
export type WindowKey = keyof typeof WINDOWS;
export type Window = (typeof WINDOWS)[WindowKey];

/**
 * The flow counts of a window, per bucket: `starts` are the buckets' start times (ms, UTC), the
 * last bucket holds the current minute. Counts are summed over a bucket, levels (lag) are its
 * largest value.
 */
export class FlowFrame {
  private constructor(
    readonly window: Window,
    readonly starts: number[],
    private readonly data: Map<FlowSeries, Map<string, number[]>>,
  ) {}

  static async read(store: Pick<OpsQueries, 'readFlow'>, series: readonly FlowSeries[], window: Window, now: number): Promise<FlowFrame> {
    const nowMinute = Math.floor(now / 60_000);
    const last = Math.floor(nowMinute / window.bucketMinutes) * window.bucketMinutes;
    const first = last - (window.buckets - 1) * window.bucketMinutes;
    const starts = Array.from({ length: window.buckets }, (_, i) => (first + i * window.bucketMinutes) * 60_000);
    const data = new Map<FlowSeries, Map<string, number[]>>();
    for (const row of await store.readFlow(series, first, nowMinute, window.bucketMinutes)) {
      let items = data.get(row.series);
      if (!items) data.set(row.series, (items = new Map()));
      let values = items.get(row.item);
      if (!values) items.set(row.item, (values = new Array<number>(window.buckets).fill(0)));
      const i = Math.floor((row.minute - first) / window.bucketMinutes);
      values[i] = combine(row.series, values[i]!, row.value);
    }
    return new FlowFrame(window, starts, data);
  }

  /** The items a series is broken down by (rule ids, destinations, reasons), sorted. */
  items(series: FlowSeries): string[] {
    return [...(this.data.get(series)?.keys() ?? [])].sort();
  }

  /** One item's values per bucket (zeros when it has none). */
  values(series: FlowSeries, item = ''): number[] {
    return this.data.get(series)?.get(item) ?? this.zeros();
  }

  /** A series over all its items: summed, or for levels the largest. */
  total(series: FlowSeries): number[] {
    const out = this.zeros();
    for (const values of this.data.get(series)?.values() ?? []) values.forEach((v, i) => (out[i] = combine(series, out[i]!, v)));
    return out;
  }

  private zeros(): number[] {
    return new Array<number>(this.window.buckets).fill(0);
  }
}

/** The sum of a list of counts. */
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
