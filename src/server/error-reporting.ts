import type { Logger } from 'pino';
import type { DeliveryHooks } from '../delivery/hooks.js';
import type { OpsQueries } from '../store/ports.js';
import { version } from '../util/paths.js';

export interface ErrorReporter {
  /** Dead letters, rule failures and the loops' unexpected errors. */
  hooks: DeliveryHooks;
  /** A request that failed with a 5xx (a bug, or the store down). */
  requestFailed(err: Error, route: string): void;
  /** Sends what is queued, within `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

type Tags = Record<string, string | number>;

/**
 * Reports errors to Sentry when sentry.dsn (SENTRY_DSN) is set; @sentry/node is loaded only then.
 * Every report is tagged with the event type and rule id where there is one; ids, types and error
 * messages are sent, never event, page or action content.
 */
export async function startSentry(options: { dsn: string; environment?: string; store: OpsQueries; log: Logger }): Promise<ErrorReporter> {
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn: options.dsn,
    release: `notion-rules@${version}`,
    ...(options.environment ? { environment: options.environment } : {}),
    // Errors only: no tracing, and nothing of requests (headers hold tokens and signatures,
    // bodies hold Notion content), cookies or users attached to reports.
    tracesSampleRate: 0,
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
    // Leave fetch error messages as they are: delivery logs and dead letters quote them.
    enhanceFetchErrorMessages: 'report-only',
  });
  const { store, log } = options;
  const capture = (err: unknown, tags: Tags, fingerprint?: string[]) => {
    Sentry.captureException(err, { tags, ...(fingerprint ? { fingerprint } : {}) });
  };
  log.info({ environment: options.environment ?? null }, 'error reporting to Sentry is on');

  return {
    hooks: {
      onRuleFailed(event, ruleId, reason, error) {
        const err = new Error(`rule ${ruleId}: ${reason.replace('_', ' ')}: ${error}`);
        err.name = 'RuleFailed';
        // One issue per rule and kind of failure, whatever the event.
        capture(err, { eventType: event.type, ruleId, reason, eventId: event.id }, ['rule-failed', ruleId, reason]);
      },
      onDeadLetter(job, actionIndex, error) {
        const actionType = job.actions[actionIndex]?.type ?? 'unknown';
        // The job knows its event's id; its type is one read away (dead letters are rare).
        store
          .getEvent(job.eventId)
          .catch(() => undefined)
          .then((stored) => {
            const err = new Error(`dead letter: rule ${job.ruleId}, action ${actionIndex + 1} (${actionType}): ${job.lastError ?? error.message}`);
            err.name = 'DeadLetter';
            err.stack = `${err.name}: ${err.message}\n${error.stack?.split('\n').slice(1).join('\n') ?? ''}`;
            capture(err, { eventType: stored?.event.type ?? 'unknown', ruleId: job.ruleId, actionType, eventId: job.eventId, jobId: job.id }, [
              'dead-letter',
              job.ruleId,
              actionType,
              (error as { code?: string }).code ?? error.name,
            ]);
          });
      },
      onUnexpectedError(err, where, ids) {
        capture(err, {
          where,
          ...(ids?.eventId ? { eventId: ids.eventId } : {}),
          ...(ids?.ruleId ? { ruleId: ids.ruleId } : {}),
          ...(ids?.jobId !== undefined ? { jobId: ids.jobId } : {}),
        });
      },
    },
    requestFailed(err, route) {
      capture(err, { where: 'http', route });
    },
    async close(timeoutMs) {
      await Sentry.close(timeoutMs);
    },
  };
}
