import { describe, expect, it } from 'vitest';
import { latestTick, nextTick } from '../../../src/matching/schedules.js';

const at = (iso: string) => Date.parse(iso);

describe('schedule ticks', () => {
  it('every: on multiples of the interval', () => {
    const s = { everyMs: 15 * 60_000, catchUp: true, each: false };
    expect(latestTick(s, at('2026-11-30T09:07:00Z'))).toBe(at('2026-11-30T09:00:00Z'));
    expect(nextTick(s, at('2026-11-30T09:07:00Z'))).toBe(at('2026-11-30T09:15:00Z'));
  });

  it('cron in a time zone, across the change to summer time', () => {
    const s = { cron: '0 9 * * MON', timezone: 'Europe/Berlin', catchUp: true, each: false };
    // Monday 9:00 in Berlin is 8:00 UTC in winter, 7:00 UTC in summer.
    expect(latestTick(s, at('2026-11-30T12:00:00Z'))).toBe(at('2026-11-30T08:00:00Z'));
    expect(latestTick(s, at('2026-11-30T08:00:00Z'))).toBe(at('2026-11-30T08:00:00Z')); // a tick is due at its own time
    expect(nextTick(s, at('2026-03-25T12:00:00Z'))).toBe(at('2026-03-30T07:00:00Z'));
  });
});
