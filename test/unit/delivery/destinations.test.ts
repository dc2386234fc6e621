import { describe, expect, it } from 'vitest';
import { callersOf, Destinations, destinationOf, limitsOf, perSecond } from '../../../src/delivery/destinations.js';

const limits = { notion: { rate: 3, burst: 9 }, slackChannel: { rate: 1, burst: 4 }, http: { 'https://hooks.example.com': { rate: 10, burst: 10 } } };
const job = (id: number) => `job:${id}:0`;

describe('destinations: pace and pauses', () => {
  it('names where an action calls: Notion (one token), a Slack channel, an http origin; none for log and search', () => {
    expect(destinationOf({ type: 'notion.comment', params: {} })).toBe('notion');
    expect(destinationOf({ type: 'slack', params: { channel: '#ship' } })).toBe('slack:#ship');
    expect(destinationOf({ type: 'http', params: { url: 'https://hooks.example.com/a?b=1' } })).toBe('http:https://hooks.example.com');
    expect(destinationOf({ type: 'log', params: {} })).toBeUndefined();
  });

  it('lets a burst go at once, then gives each later call its own turn at the rate', async () => {
    const d = new Destinations(limits);
    const now = 1_000_000;
    const turns: number[] = [];
    for (let i = 0; i < 8; i++) turns.push(await d.turn('slack:#ship', job(i), now));
    // A burst of 2 (the channel allows 4: 2 are left for calls that bunch up on the way), then
    // one a second at 97 % of the rate (a margin for jitter): every 1031 ms.
    const I = 1000 / 0.97;
    expect(turns).toEqual([0, 0, ...[1, 2, 3, 4, 5, 6].map((k) => Math.ceil(now + k * I))]);
    expect(d.snapshot(now).find((x) => x.destination === 'slack:#ship')!.queued).toBe(6);
    // A caller keeps its turn: asked again then, it goes; other channels have their own pace.
    expect(await d.turn('slack:#ship', job(2), now + 1031)).toBe(0);
    expect(d.snapshot(now).find((x) => x.destination === 'slack:#ship')!.queued).toBe(5);
    expect(await d.turn('slack:#other', job(9), now)).toBe(0);
    expect(await d.turn('log', job(10), now)).toBe(0); // not paced
  });

  it('a 429 pauses every call to that destination until Retry-After, then the pace resumes, slower, and recovers with successes', async () => {
    const d = new Destinations(limits);
    const now = 2_000_000;
    expect(await d.pause('notion', 30_000, 'rate_limited', now)).toBe(now + 30_000);
    const first = await d.turn('notion', job(1), now + 10);
    expect(first).toBeGreaterThanOrEqual(now + 30_000);
    // A slower pace after a 429 (0.8 of the rate, with the 97 % margin), one at a time.
    expect(await d.turn('notion', job(2), now + 20)).toBeCloseTo(first + 1000 / (3 * 0.97 * 0.8), -1);
    expect(await d.turn('slack:#ship', job(3), now)).toBe(0); // other destinations go on
    expect(d.snapshot(now)).toContainEqual(
      expect.objectContaining({ destination: 'notion', pausedUntil: new Date(now + 30_000).toISOString(), reason: 'rate_limited', limited: 1, speed: 0.8 }),
    );
    for (let i = 0; i < 4; i++) d.succeeded('notion');
    expect(d.snapshot(now).find((x) => x.destination === 'notion')!.speed).toBe(1);
  });

  it('reads rates as calls a second, N/s or N/min', () => {
    expect([perSecond(3), perSecond('3/s'), perSecond('60/min')]).toEqual([3, 3, 1]);
    expect(limitsOf({ notion: { rate: '3/s', burst: 9 }, slack: { perChannel: '1/s', burst: 4 }, http: { 'https://hooks.example.com/x': '10/s' } })).toEqual({
      notion: { rate: 3, burst: 9 },
      slackChannel: { rate: 1, burst: 4 },
      http: { 'https://hooks.example.com': { rate: 10, burst: 10 } },
    });
  });

  it("after 3 real failures in a row the service's breaker opens: no call for a backoff period, then one probe; success closes it and wakes the callers that waited", async () => {
    const woken: string[][] = [];
    const d = new Destinations(limits, { baseMs: 1000, maxMs: 8000 }, undefined, (keys) => woken.push(keys));
    const now = 3_000_000;
    for (let i = 0; i < 3; i++) d.failed('slack:#ship', 'slack: HTTP 500', job(100 + i), now);
    expect(await d.turn('slack:#ship', job(1), now + 10)).toBe(now + 1000); // open
    expect(await d.turn('slack:#other', job(7), now + 10)).toBe(now + 1000); // Slack as a whole is down
    expect(await d.turn('slack:#ship', job(2), now + 1000)).toBe(0); // the probe
    expect(await d.turn('slack:#ship', job(3), now + 1001)).toBe(now + 1000 + 1000); // the others wait for it
    d.failed('slack:#ship', 'slack: HTTP 500', job(2), now + 1100); // the probe failed: twice as long
    expect(await d.turn('slack:#ship', job(3), now + 1200)).toBe(now + 1100 + 2000);
    expect(d.failingServices(now + 1200)).toEqual([{ service: 'slack', failures: 4, nextTryAt: new Date(now + 3100).toISOString(), error: 'slack: HTTP 500' }]);
    expect(await d.turn('notion', job(4), now + 1200)).toBe(0); // other services flow
    expect(await d.turn('slack:#ship', job(5), now + 3100)).toBe(0); // the next probe
    d.succeeded('slack:#ship');
    // The jobs that failed and those that waited are told to go now.
    expect(woken).toHaveLength(1);
    expect([...woken[0]!].sort()).toEqual([job(100), job(101), job(102), job(1), job(7), job(2), job(3)].sort());
    expect(await d.turn('slack:#ship', job(6), now + 3101)).toBe(0);
    expect(d.failingServices(now + 3101)).toEqual([]);
  });

  it('names the jobs and events behind waiting calls', () => {
    expect(callersOf(['job:12:0', 'job:12:1', 'job:3:0', 'event:evt-a:b:page'])).toEqual({ jobs: [12, 3], events: ['evt-a:b'] });
  });
});
