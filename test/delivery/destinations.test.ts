import { describe, expect, it } from 'vitest';
import { Destinations, destinationOf, limitsOf, perSecond } from '../../src/delivery/destinations.js';

const limits = { notion: { rate: 3, burst: 9 }, slackChannel: { rate: 1, burst: 4 }, http: { 'https://hooks.example.com': { rate: 10, burst: 10 } } };

describe('destinations: pace and pauses', () => {
  it('names where an action calls: Notion (one token), a Slack channel, an http origin; none for log and search', () => {
    expect(destinationOf({ type: 'notion.comment', params: {} })).toBe('notion');
    expect(destinationOf({ type: 'slack', params: { channel: '#ship' } })).toBe('slack:#ship');
    expect(destinationOf({ type: 'http', params: { url: 'https://hooks.example.com/a?b=1' } })).toBe('http:https://hooks.example.com');
    expect(destinationOf({ type: 'log', params: {} })).toBeUndefined();
  });

  it('lets a burst go at once, then gives each later call its own turn at the rate', () => {
    const d = new Destinations(limits);
    const now = 1_000_000;
    const turns = Array.from({ length: 8 }, (_, job) => d.turn('slack:#ship', job, 0, now));
    expect(turns).toEqual([0, 0, 0, 0, now + 1000, now + 2000, now + 3000, now + 4000]);
    // A job keeps its turn: asked again then, it goes; other channels have their own pace.
    expect(d.turn('slack:#ship', 4, 0, now + 1000)).toBe(0);
    expect(d.turn('slack:#other', 9, 0, now)).toBe(0);
    expect(d.turn('log', 10, 0, now)).toBe(0); // not paced
  });

  it('a 429 pauses every call to that destination until Retry-After, then the pace resumes', () => {
    const d = new Destinations(limits);
    const now = 2_000_000;
    expect(d.pause('notion', 30_000, 'rate_limited', now)).toBe(now + 30_000);
    expect(d.turn('notion', 1, 0, now + 10)).toBe(now + 30_000);
    expect(d.turn('notion', 2, 0, now + 20)).toBe(now + 30_000 + 333.3333333333333);
    expect(d.turn('slack:#ship', 3, 0, now)).toBe(0); // other destinations go on
    expect(d.snapshot(now)).toContainEqual(expect.objectContaining({ destination: 'notion', pausedUntil: new Date(now + 30_000).toISOString(), reason: 'rate_limited', limited: 1 }));
  });

  it('reads rates as calls a second, N/s or N/min', () => {
    expect([perSecond(3), perSecond('3/s'), perSecond('60/min')]).toEqual([3, 3, 1]);
    expect(limitsOf({ notion: { rate: '3/s', burst: 9 }, slack: { perChannel: '1/s', burst: 4 }, http: { 'https://hooks.example.com/x': '10/s' } })).toEqual({
      notion: { rate: 3, burst: 9 },
      slackChannel: { rate: 1, burst: 4 },
      http: { 'https://hooks.example.com': { rate: 10, burst: 10 } },
    });
  });

  it('after 3 real failures in a row the breaker opens: no call for a backoff period, then one probe; success closes it', () => {
    const d = new Destinations(limits, { baseMs: 1000, maxMs: 8000 });
    const now = 3_000_000;
    for (let i = 0; i < 3; i++) d.failed('slack:#ship', 'slack: HTTP 500', now);
    expect(d.turn('slack:#ship', 1, 0, now + 10)).toBe(now + 1000); // open
    expect(d.turn('slack:#ship', 2, 0, now + 1000)).toBe(0); // the probe
    expect(d.turn('slack:#ship', 3, 0, now + 1001)).toBe(now + 1000 + 1000); // the others wait for it
    d.failed('slack:#ship', 'slack: HTTP 500', now + 1100); // the probe failed: twice as long
    expect(d.turn('slack:#ship', 3, 0, now + 1200)).toBe(now + 1100 + 2000);
    expect(d.snapshot(now + 1200)).toContainEqual(expect.objectContaining({ destination: 'slack:#ship', failing: expect.objectContaining({ failures: 4, error: 'slack: HTTP 500' }) }));
    expect(d.turn('notion', 4, 0, now + 1200)).toBe(0); // other destinations flow
    expect(d.turn('slack:#ship', 5, 0, now + 3100)).toBe(0); // the next probe
    d.succeeded('slack:#ship');
    expect(d.turn('slack:#ship', 6, 0, now + 3101)).toBe(0);
    expect(d.snapshot(now + 3101).find((x) => x.destination === 'slack:#ship')!.failing).toBeNull();
  });
});
