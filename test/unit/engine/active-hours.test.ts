import { describe, expect, it } from 'vitest';
import { compileActive, openAt } from '../../../src/engine/active-hours.js';

const at = (iso: string) => Date.parse(iso);

describe('active hours (quiet hours)', () => {
  const office = compileActive({ days: ['MON-FRI'], hours: '09:00-18:00', timezone: 'Europe/Berlin' });

  it('runs now inside the window; otherwise when it next opens, in its time zone', () => {
    expect(openAt(office, at('2026-12-02T09:30:00Z'))).toBe(at('2026-12-02T09:30:00Z')); // Wednesday 10:30 in Berlin
    expect(openAt(office, at('2026-12-02T18:00:00Z'))).toBe(at('2026-12-03T08:00:00Z')); // Wednesday 19:00 → Thursday 9:00
    expect(openAt(office, at('2026-12-05T12:00:00Z'))).toBe(at('2026-12-07T08:00:00Z')); // Saturday → Monday 9:00
    expect(openAt(office, at('2026-07-04T12:00:00Z'))).toBe(at('2026-07-06T07:00:00Z')); // summer time: 9:00 is 7:00 UTC
  });

  it('a window past midnight, and whole days', () => {
    const night = compileActive({ hours: '22:00-06:00' });
    expect(openAt(night, at('2026-12-02T23:30:00Z'))).toBe(at('2026-12-02T23:30:00Z'));
    expect(openAt(night, at('2026-12-03T05:59:00Z'))).toBe(at('2026-12-03T05:59:00Z'));
    expect(openAt(night, at('2026-12-03T07:00:00Z'))).toBe(at('2026-12-03T22:00:00Z'));
    const weekend = compileActive({ days: ['SAT', 'SUN'] });
    expect(openAt(weekend, at('2026-12-05T15:00:00Z'))).toBe(at('2026-12-05T15:00:00Z'));
    expect(openAt(weekend, at('2026-12-04T15:00:00Z'))).toBe(at('2026-12-05T00:00:00Z'));
  });

  it('refuses an unknown time zone or weekday with a message', () => {
    expect(() => compileActive({ timezone: 'Mars/Olympus' })).toThrow('unknown time zone "Mars/Olympus"');
  });
});
