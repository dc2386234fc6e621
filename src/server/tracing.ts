import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeliveryHooks } from '../delivery/hooks.js';
import type { NotionEvent } from '../model/event.js';
import { version } from '../util/paths.js';

/*
 * An optional OpenTelemetry trace per event: `webhook` (request to commit), `match` (the rules
 * evaluated), and one span per action attempt, exported over OTLP/HTTP. Enabled by the standard
 * variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
 * OTEL_TRACES_EXPORTER=otlp; OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_* as usual);
 * the SDK is imported only then.
 *
 * The ids come from the event id: every span of an event lands in one trace — even when it is
 * matched by another replica or after a restart — with no context stored or passed along. Spans are
 * recorded after the fact with their real start and end times, so the hot paths only note times.
 */

export interface EventTracer {
  /** The first delivery of an event, committed: from the request's start to the commit. */
  webhook(event: NotionEvent, startedAt: number, endedAt: number): void;
  hooks: DeliveryHooks;
  shutdown(): Promise<void>;
}

/** Whether the OTEL_* variables ask for traces. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim());
  if (exporters.includes('none')) return false;
  return exporters.includes('otlp') || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

const idOf = (what: string, eventId: string, hexChars: number) => createHash('sha256').update(`${what}\u0000${eventId}`).digest('hex').slice(0, hexChars);

/** The SDK, set up for OTLP/HTTP; undefined when no trace is asked for. */
export async function startTracing(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<EventTracer | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [api, sdk, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // The next root span's trace and span id (set just before a span starts; startSpan is synchronous).
  const next: { traceId?: string; spanId?: string } = {};
  const random = new sdk.RandomIdGenerator();
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'notion-rules', 'service.version': version }),
    idGenerator: {
      generateTraceId: () => next.traceId ?? random.generateTraceId(),
      generateSpanId: () => {
        const id = next.spanId ?? random.generateSpanId();
        next.spanId = undefined;
        return id;
      },
    },
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  const tracer = provider.getTracer('notion-rules', version);
  const under = (traceId: string, spanId: string) =>
    api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId, spanId, traceFlags: api.TraceFlags.SAMPLED, isRemote: true });
  const record = (
    name: string,
    ids: { traceId: string; spanId?: string; parent?: string },
    kind: number,
    start: number,
    end: number,
    attributes: Record<string, string | number | boolean | string[]>,
    error?: string,
  ) => {
    next.traceId = ids.traceId;
    next.spanId = ids.spanId;
    const span = tracer.startSpan(name, { kind, startTime: start, attributes }, ids.parent ? under(ids.traceId, ids.parent) : api.ROOT_CONTEXT);
    next.traceId = undefined;
    next.spanId = undefined;
    if (error) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
    span.end(end);
  };
  log.info({ endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'OTLP default' }, 'OpenTelemetry traces on');

  return {
    webhook(event, startedAt, endedAt) {
      record('webhook', { traceId: idOf('trace', event.id, 32), spanId: idOf('webhook', event.id, 16) }, api.SpanKind.SERVER, startedAt, endedAt, {
        'notion.event.id': event.id,
        'notion.event.type': event.type,
        'notion.entity.id': event.entity.id,
        'http.route': 'webhook',
      });
    },
    hooks: {
      onMatched(event, startedAt, endedAt, outcomes) {
        const failed = outcomes.filter((o) => !o.matched && o.reason && /error/.test(o.reason)).map((o) => o.rule);
        record(
          'match',
          { traceId: idOf('trace', event.id, 32), spanId: idOf('match', event.id, 16), parent: idOf('webhook', event.id, 16) },
          api.SpanKind.INTERNAL,
          startedAt,
          endedAt,
          {
            'notion.event.id': event.id,
            'notion.event.type': event.type,
            'notion_rules.rules.matched': outcomes.filter((o) => o.matched).map((o) => o.rule),
            'notion_rules.rules.failed': failed,
          },
          failed.length ? `rules failed: ${failed.join(', ')}` : undefined,
        );
      },
      onAttempt(job, attempt) {
        record(
          `action ${attempt.actionType}`,
          { traceId: idOf('trace', job.eventId, 32), parent: idOf('match', job.eventId, 16) },
          api.SpanKind.CLIENT,
          attempt.startedAt,
          attempt.startedAt + attempt.durationMs,
          {
            'notion.event.id': job.eventId,
            'notion_rules.rule.id': job.ruleId,
            'notion_rules.job.id': job.id,
            'notion_rules.action.index': attempt.actionIndex,
            'notion_rules.action.type': attempt.actionType,
            'notion_rules.action.outcome': attempt.outcome,
          },
          attempt.outcome === 'ok' ? undefined : (attempt.error ?? attempt.outcome),
        );
      },
    },
    shutdown: () => provider.shutdown(),
  };
}
