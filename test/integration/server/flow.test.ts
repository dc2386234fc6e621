import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { barChart, sparkline } from '../../../src/server/console/charts.js';
import { FlowFrame, sum, WINDOWS } from '../../../src/server/console/flow-frame.js';
import { FlowRecorder } from '../../../src/server/flow-recorder.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import type { FlowCount } from '../../../src/store/types.js';
import { tempDir } from '../../support/tmp.js';

const open = () => SqliteStore.open(join(tempDir(), 'store.db'));
const at = (iso: string) => Date.parse(iso);
const minute = (iso: string) => Math.floor(at(iso) / 60_000);

describe('the flow recorder', () => {
  it('adds what it counted to the store per minute: events, rule outcomes (throttled and digested as held), outcomes per destination, lag', async () => {
    const store = await open();
    let now = at('2026-11-30T12:00:10Z');
    const flow = new FlowRecorder({ store, log: pino({ level: 'silent' }), now: () => now });
    const hooks = flow.hooks();
    flow.received();
    flow.received();
    flow.duplicate();
    flow.rejected('invalid_signature');
    hooks.onRuleOutcome!('ship', 'matched');
    hooks.onRuleOutcome!('ship', 'throttled');
    hooks.onRuleOutcome!('digest', 'digested');
    hooks.onRuleOutcome!('broken', 'condition_error');
    hooks.onRuleOutcome!('quiet', 'condition_false'); // not a flow
    hooks.onAction!('slack', 'slack:#ship', 'delivered', 5);
    hooks.onAction!('slack', 'slack:#ship', 'rate_limited', 5);
    now += 60_000;
    flow.received(); // the next minute
    await flow.flush();
    const rows = await store.readFlow(
      ['events.received', 'events.duplicate', 'events.rejected', 'rules.held', 'rule.held', 'rule.failed', 'actions.rate_limited', 'lag.jobs'],
      0,
      Number.MAX_SAFE_INTEGER,
    );
    const m = minute('2026-11-30T12:00:00Z');
    expect(sorted(rows)).toEqual(
      sorted([
        { series: 'events.received', item: '', minute: m, value: 2 },
        { series: 'events.received', item: '', minute: m + 1, value: 1 },
        { series: 'events.duplicate', item: '', minute: m, value: 1 },
        { series: 'events.rejected', item: 'invalid_signature', minute: m, value: 1 },
        { series: 'rules.held', item: '', minute: m, value: 2 },
        { series: 'rule.held', item: 'ship', minute: m, value: 1 },
        { series: 'rule.held', item: 'digest', minute: m, value: 1 },
        { series: 'rule.failed', item: 'broken', minute: m, value: 1 },
        { series: 'actions.rate_limited', item: 'slack:#ship', minute: m, value: 1 },
        { series: 'lag.jobs', item: '', minute: m + 1, value: 0 },
      ]),
    );
    await store.close();
  });

  it('keeps its counts while the store cannot be written, and writes them with the next flush', async () => {
    const store = await open();
    let down = true;
    const flaky = {
      counts: () => store.counts(),
      addFlow: (counts: readonly FlowCount[]) => (down ? Promise.reject(new Error('database is locked')) : store.addFlow(counts)),
    };
    const now = at('2026-11-30T12:00:10Z');
    const flow = new FlowRecorder({ store: flaky, log: pino({ level: 'silent' }), now: () => now });
    for (let i = 0; i < 3; i++) flow.received();
    await flow.flush();
    flow.received();
    down = false;
    await flow.flush();
    expect(await store.readFlow(['events.received'], 0, Number.MAX_SAFE_INTEGER)).toEqual([
      { series: 'events.received', item: '', minute: minute('2026-11-30T12:00:00Z'), value: 4 },
    ]);
    await store.close();
  });
});

describe('a flow frame', () => {
  it('buckets the last 24 hours per 15 minutes: counts summed, lag the largest, the current minute in the last bucket', async () => {
    const store = await open();
    const now = at('2026-11-30T12:07:30Z');
    await store.addFlow([
      { series: 'events.received', item: '', minute: minute('2026-11-30T12:00:00Z'), value: 2 },
      { series: 'events.received', item: '', minute: minute('2026-11-30T12:07:00Z'), value: 3 },
      { series: 'events.received', item: '', minute: minute('2026-11-30T11:59:00Z'), value: 5 },
      { series: 'events.received', item: '', minute: minute('2026-11-29T12:14:00Z'), value: 7 }, // before the first bucket
      { series: 'lag.jobs', item: '', minute: minute('2026-11-30T12:01:00Z'), value: 4000 },
      { series: 'lag.jobs', item: '', minute: minute('2026-11-30T12:02:00Z'), value: 9000 },
      { series: 'actions.delivered', item: 'notion', minute: minute('2026-11-30T12:03:00Z'), value: 4 },
      { series: 'actions.delivered', item: 'slack:#a', minute: minute('2026-11-30T12:03:00Z'), value: 6 },
    ]);
    const frame = await FlowFrame.read(store, ['events.received', 'lag.jobs', 'actions.delivered'], WINDOWS['24h'], now);
    expect(frame.starts).toHaveLength(96);
    expect(new Date(frame.starts.at(-1)!).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(new Date(frame.starts[0]!).toISOString()).toBe('2026-11-29T12:15:00.000Z');
    expect(frame.values('events.received').at(-1)).toBe(5);
    expect(frame.values('events.received').at(-2)).toBe(5);
    expect(sum(frame.values('events.received'))).toBe(10);
    expect(frame.values('lag.jobs').at(-1)).toBe(9000);
    expect(frame.items('actions.delivered')).toEqual(['notion', 'slack:#a']);
    expect(frame.total('actions.delivered').at(-1)).toBe(10);
    expect(frame.values('actions.delivered', 'nowhere')).toEqual(new Array(96).fill(0));
    await store.close();
  });
});

describe('charts', () => {
  const starts = [0, 1, 2].map((i) => at('2026-11-30T12:00:00Z') + i * 60_000);

  it('draw each value, say it in a table, and treat labels as text', () => {
    const chart = barChart({
      id: 'c',
      title: 'Outcomes at http:https://hooks.example',
      starts,
      unit: 'minute',
      yLabel: 'actions',
      series: [
        { label: 'Delivered', tone: 'ok', values: [1, 0, 4] },
        { label: '<b>Dead</b>', tone: 'bad', values: [0, 2, 0] },
      ],
      threshold: { value: 3, label: 'limit 3' },
    }).toString();
    expect(chart.match(/<rect /g)).toHaveLength(3); // one per non-zero value
    expect(chart).toContain('<title id="c-t">Outcomes at http:https://hooks.example</title>');
    expect(chart).toContain('Delivered: 5 in all, at most 4 per minute');
    expect(chart).toContain('&lt;b&gt;Dead&lt;/b&gt;');
    expect(chart).not.toContain('<b>');
    expect(chart).toMatch(/<tr><th scope="row"><time datetime="2026-11-30T12:01:00.000Z">2026-11-30 12:01<\/time><\/th><td>0<\/td><td>2<\/td><\/tr>/);
    expect(chart).toContain('limit 3');
    // Nothing the console's CSP would block.
    expect(chart).not.toMatch(/style=|<script|on[a-z]+=/);
  });

  it('draw a sparkline whose name says its numbers', () => {
    const spark = sparkline('ship: 3 matched', [{ label: 'matched', tone: 'ok', values: [1, 2, 0] }]).toString();
    expect(spark).toContain('role="img" aria-label="ship: 3 matched"');
    expect(spark.match(/<rect /g)).toHaveLength(2);
  });
});

function sorted(rows: FlowCount[]): FlowCount[] {
  return [...rows].sort((a, b) => `${a.series}|${a.item}|${a.minute}`.localeCompare(`${b.series}|${b.item}|${b.minute}`));
}
