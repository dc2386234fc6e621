import { describe, expect, it } from 'vitest';
import { Pump } from '../../../src/delivery/pump.js';

/** A pump whose passes the test releases one by one. */
function gatedPump() {
  const passes: Array<() => void> = [];
  let started = 0;
  const errors: unknown[] = [];
  const pump = new Pump(
    () =>
      new Promise<void>((resolve) => {
        started++;
        passes.push(resolve);
      }),
    60_000,
    (err) => errors.push(err),
  );
  const nextPass = async () => {
    while (passes.length === 0) await new Promise((r) => setImmediate(r));
    passes.shift()!();
  };
  return { pump, nextPass, started: () => started, errors };
}

describe('pump: one pass at a time, woken by events or a timer', () => {
  it('wakes during a pass make one more pass, not one each', async () => {
    const { pump, nextPass, started } = gatedPump();
    pump.start();
    expect(started()).toBe(1);
    for (let i = 0; i < 5; i++) pump.wake(); // during the first pass
    await nextPass(); // the first pass ends: one more runs for all five wakes
    await nextPass();
    await pump.stop(1000);
    expect(started()).toBe(2);
  });

  it('a scheduled pass comes when asked; a later request does not push back a sooner one', async () => {
    const { pump, nextPass, started } = gatedPump();
    pump.start();
    await nextPass();
    pump.schedule(20);
    pump.schedule(60_000); // later: the pass in 20 ms stays
    await nextPass(); // arrives only if the 20 ms timer fired
    expect(started()).toBe(2);
    await pump.stop(1000);
  });

  it('a failing pass is reported and the pump goes on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const pump = new Pump(
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
      60_000,
      (err) => errors.push(err),
    );
    pump.start();
    await new Promise((r) => setImmediate(r));
    pump.wake();
    await new Promise((r) => setImmediate(r));
    await pump.stop(1000);
    expect(errors).toMatchObject([{ message: 'boom' }]);
    expect(calls).toBe(2);
  });

  it('after stop, neither wakes nor timers start a pass', async () => {
    const { pump, nextPass, started } = gatedPump();
    pump.start();
    await nextPass();
    await pump.stop(1000);
    pump.wake();
    pump.schedule(0);
    await new Promise((r) => setTimeout(r, 10)); // a timer of 0 ms would have fired by now
    expect(started()).toBe(1);
  });
});
