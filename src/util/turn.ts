/** How long synchronous work may hold the event loop, by default, before timers and I/O run. */
const TURN_EVERY_MS = 10;

let lastTurn = performance.now();

/**
 * A promise that gives the event loop a turn (timers, I/O: requests keep being answered), when
 * the loop has not had one for a few milliseconds; otherwise undefined, so that callers can skip
 * the `await`. Long loops call it between their units of work.
 */
export function turnIfDue(everyMs = TURN_EVERY_MS): Promise<void> | undefined {
  if (performance.now() - lastTurn < everyMs) return undefined;
  return new Promise((resolve) =>
    setImmediate(() => {
      lastTurn = performance.now();
      resolve();
    }),
  );
}
