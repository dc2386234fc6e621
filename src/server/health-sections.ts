import type { RuleCoordinator } from '../engine/coordinator.js';
import type { Destinations } from '../delivery/destinations.js';
import { lagsOf } from '../store/core/summary.js';
import type { OpsQueries } from '../store/ports.js';
import type { ActionHealth } from './action-health.js';
import { reloadView } from './routes/admin.js';

/**
 * What /health adds to the store's state: the rules (and a failed reload), the queues, and recent
 * action outcomes — with the reasons, if any, to call the service degraded.
 */
export function healthSections(rules: RuleCoordinator, store: OpsQueries, actions: ActionHealth, maxLagMs: number, destinations?: Destinations) {
  return async () => {
    const degraded: string[] = [];
    const last = rules.lastReload;
    if (!last.ok) {
      degraded.push(
        `the last rules reload failed (${last.problems.length} problem${last.problems.length === 1 ? '' : 's'}); version ${rules.current.version} is running`,
      );
    }
    let queue: Record<string, number> | { error: string };
    try {
      const c = await store.counts();
      const lag = lagsOf(c, Date.now());
      queue = {
        depth: c.pending + c.running,
        awaitingMatch: c.eventsToDispatch,
        dead: c.dead,
        failedEvents: c.failedEvents,
        jobLagMs: lag.jobsMs,
        matchLagMs: lag.matchMs,
      };
      if (lag.jobsMs > maxLagMs)
        degraded.push(
          `the oldest due job has waited ${seconds(lag.jobsMs)} (health.maxLagMs: ${seconds(maxLagMs)}); ${c.pending} job${c.pending === 1 ? '' : 's'} pending`,
        );
      if (lag.matchMs > maxLagMs)
        degraded.push(
          `the oldest event not yet matched arrived ${seconds(lag.matchMs)} ago (health.maxLagMs: ${seconds(maxLagMs)}); ${c.eventsToDispatch} awaiting a match`,
        );
    } catch (err) {
      queue = { error: (err as Error).message };
    }
    const recent = actions.report();
    degraded.push(...recent.degraded);
    // A paused destination is flow control, not a fault: shown, not `degraded`. A failing one is.
    const all = destinations?.snapshot() ?? [];
    const paused = all
      .filter((d) => d.pausedUntil !== null)
      .map(({ destination, pausedUntil, reason, queued }) => ({ destination, pausedUntil, reason, queued }));
    const failing = (destinations?.failingServices() ?? []).map(({ service, ...f }) => ({ destination: service, ...f }));
    for (const f of failing)
      degraded.push(`${f.destination} is failing (${f.failures} failures in a row: ${f.error}); one probe call at ${f.nextTryAt}, its other calls wait`);
    return {
      degraded,
      rules: { version: rules.current.version, count: rules.current.rules.length, lastReload: reloadView(rules) },
      queue,
      actions: recent.section,
      destinations: { paused, failing },
    };
  };
}

function seconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
