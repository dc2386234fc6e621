import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createNotionClient } from '../actions/notion-client.js';
import { createActions } from '../actions/registry.js';
import type { Config } from '../config/types.js';
import { ConfigError, formatProblem, RulesInvalidError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { existsSync } from 'node:fs';
import { Matcher } from '../matching/matcher.js';
import { notionFacts, SharedReads } from '../matching/facts.js';
import { People } from '../matching/people.js';
import { DigestFlusher } from '../matching/digests.js';
import { DelayRunner } from '../matching/delays.js';
import { Scheduler } from '../matching/schedules.js';
import { combineHooks, type DeliveryHooks } from '../delivery/hooks.js';
import { callersOf, Destinations, limitsOf } from '../delivery/destinations.js';
import { Retention } from '../delivery/retention.js';
import { JobRunner } from '../delivery/runner.js';
import { RuleCoordinator } from '../engine/coordinator.js';
import { EventTypes } from '../engine/event-types.js';
import { loadOptionsOf } from '../engine/load.js';
import { RulesWatcher } from '../engine/watch.js';
import { Metrics } from './metrics.js';
import { FlowRecorder } from './flow-recorder.js';
import { healthSections } from './health-sections.js';
import { openStore } from '../store/open.js';
import type { NotionEvent } from '../model/event.js';
import type { Store } from '../store/types.js';
import { auditReload } from './ops/reload-audit.js';
import { ActionHealth } from './action-health.js';
import { buildApp, verificationTokens, type AppDeps } from './app.js';
import { startSentry, type ErrorReporter } from './error-reporting.js';
import { createLogger } from './logger.js';
import { startTracing, type EventTracer } from './tracing.js';
import { durationMs } from '../util/duration.js';

export interface ServiceOptions {
  log?: Logger;
  handshakeOnly?: boolean;
  hooks?: DeliveryHooks;
}

/** The rules folder is invalid at start: there is no previous rule set to keep running. */
export { RulesInvalidError };

export interface Service {
  app: FastifyInstance;
  store: Store;
  rules: RuleCoordinator;
  metrics: Metrics;
  matcher: Matcher;
  runner: JobRunner;
  log: Logger;
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  /** Where /admin and /metrics are, when server.adminPort splits them off. */
  adminUrl: string | undefined;
  /** Stop accepting, finish in-flight requests (bounded by server.shutdownTimeoutMs), close the store. */
  stop(): Promise<void>;
}

/** Opens the store, builds the HTTP app and listens. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.log ?? createLogger(config.log.level);
  const started = await RuleCoordinator.start(config.rules.dir, {
    ...loadOptionsOf(config.rules),
    ...(config.rules.shadowDir ? { shadowDir: config.rules.shadowDir } : {}),
  });
  if (!started.ok) throw new RulesInvalidError(started.problems);
  const rules = started.coordinator;
  const store = await openStore(config.store.url, { server: true });
  let reporter: ErrorReporter | undefined;
  try {
    if (config.sentry.dsn)
      reporter = await startSentry({ dsn: config.sentry.dsn, ...(config.sentry.environment ? { environment: config.sentry.environment } : {}), store, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  const notion = createNotionClient(config, log);
  // Calls that waited for a destination's breaker go at once when it closes (see Destinations).
  let waitedForBreaker = (_keys: string[]): void => {};
  const destinations = new Destinations(limitsOf(config.delivery.limits), config.delivery.backoff, store.pace, (keys) => waitedForBreaker(keys));
  const metrics = new Metrics(store, destinations);
  const types = new EventTypes(config.rules.extraEventTypes);
  metrics.reloaded(rules.lastReload, rules.current);
  // Verification tokens may come from secret files (${file:…}): read again at every reload, so a
  // rotated Kubernetes or Docker secret is taken up by SIGHUP or POST /admin/reload.
  let tokens = verificationTokens(config);
  const rereadTokens = () => {
    if (!existsSync(config.source)) return;
    try {
      const next = verificationTokens(loadConfig(config.source));
      if (next.join('\n') !== tokens.join('\n')) log.info({ accepted: next.length }, 'verification tokens read again from the configuration');
      tokens = next;
    } catch (err) {
      log.warn(
        { err: err instanceof ConfigError ? err.problems.map(formatProblem).join('; ') : String(err) },
        'could not read the configuration again; the verification tokens stay',
      );
    }
  };
  // Loads are recorded one after another, in order (each compares with the one before).
  let audits = auditReload(store, rules.lastReload, rules.current, log);
  rules.onReload((status, ruleSet) => {
    metrics.reloaded(status, ruleSet);
    if (status.trigger !== 'watch' && status.trigger !== 'poll') rereadTokens();
    audits = audits.then(() => auditReload(store, status, ruleSet, log));
    if (status.ok)
      log.info({ trigger: status.trigger, rulesVersion: ruleSet.version, rules: ruleSet.rules.length, durationMs: status.durationMs }, 'rules reloaded');
    else
      log.error(
        { trigger: status.trigger, problems: status.problems.map(formatProblem), activeVersion: ruleSet.version },
        'rules reload failed; the running rules stay',
      );
  });
  const actionHealth = new ActionHealth(config.health.minSuccessRate);
  const flow = new FlowRecorder({ store, log });
  let tracer: EventTracer | undefined;
  try {
    tracer = await startTracing(log);
  } catch (err) {
    await store.close();
    throw err;
  }
  const hooks = combineHooks(
    metrics.hooks(),
    flow.hooks(),
    {
      // A destination asking to slow down (429) is flow control, not a failed action.
      onAction: (_type, _destination, outcome) => (outcome === 'rate_limited' ? undefined : actionHealth.record(outcome === 'delivered')),
      onJobFinished: (_id, status) => (status === 'dead' ? actionHealth.deadLetter() : undefined),
      onRuleFailed: () => actionHealth.ruleFailed(),
    },
    reporter?.hooks,
    tracer?.hooks,
    options.hooks,
  );
  const delivery = { backoff: config.delivery.backoff, maxAttempts: config.delivery.maxAttempts, leaseMs: config.delivery.leaseMs, log, store, hooks };
  const runner = new JobRunner({
    ...delivery,
    actions: createActions(config, notion, log),
    concurrency: config.delivery.concurrency,
    maxAgeMs: durationMs(config.delivery.maxAge),
    destinations,
    search: store,
  });
  const reads = new SharedReads();
  const people = new People();
  const matcher = new Matcher({
    ...delivery,
    rules,
    facts: (turnAt) => notionFacts(notion, reads, destinations, turnAt, people),
    batch: 128,
    // A store only this process uses sees every write; replicas may briefly run different rules.
    staleTracking: store.sharedByReplicas ? 'always' : 'when-read',
    jobs: runner,
    onDigest: () => digests.wake(),
    onDelay: () => delays.wake(),
  });
  const scheduler = new Scheduler({
    store,
    rules,
    log,
    onTick: () => matcher.wake(),
  });
  // What the delay runner and the digest flusher share: both store jobs after a wait.
  const timing = {
    store,
    rules,
    log,
    leaseMs: config.delivery.leaseMs,
    onJobs: () => runner.wake(),
    onShadowJob: (rule: string, types: string[]) => hooks.onShadowJob?.(rule, types),
  };
  const delays = new DelayRunner({ ...timing, facts: () => notionFacts(notion, undefined, destinations, undefined, people) });
  const digests = new DigestFlusher(timing);
  waitedForBreaker = (keys) => {
    const { jobs, events } = callersOf(keys);
    store.hasten(jobs, events, Date.now()).then(
      () => (runner.wake(), matcher.wake()),
      (err: unknown) => log.warn({ err }, 'could not hasten the calls that waited for a destination; they go at their own time'),
    );
  };
  const retention = new Retention({ store, log, ...config.store.retention, onPruned: (r) => metrics.pruned(r.events) });
  let app: FastifyInstance | undefined;
  let adminApp: FastifyInstance | undefined;
  let stopping: Promise<void> | undefined;
  try {
    // One process owns the SQLite store: leases left by a crashed run are void.
    await store.releaseLeases();
    const deps: AppDeps = {
      config,
      store,
      log,
      handshakeOnly: options.handshakeOnly ?? false,
      onStored: (event, how) => {
        metrics.eventStored(types.isKnown(event.type) ? event.type : 'other');
        flow.received();
        if (how.matched) return;
        if (how.leaseUntil !== undefined) matcher.handOver(event);
        else matcher.wake();
      },
      // Handshake-only mode stores no event and runs no matcher: nothing to lease.
      ...(options.handshakeOnly ? {} : { intake: (event: NotionEvent) => matcher.intake(event) }),
      onDuplicate: () => (metrics.eventDuplicate(), flow.duplicate()),
      ...(tracer ? { onIngested: (seconds: number, event: NotionEvent) => tracer!.webhook(event, Date.now() - seconds * 1000, Date.now()) } : {}),
      onRejected: (reason) => (metrics.eventRejected(reason), flow.rejected(reason)),
      metrics,
      admin: {
        rules,
        onReplay: () => {
          runner.wake();
          matcher.wake();
        },
      },
      ...(reporter ? { onRequestFailed: (err: Error, route: string) => reporter!.requestFailed(err, route) } : {}),
      health: healthSections(rules, store, actionHealth, config.health.maxLagMs, destinations),
      flow: {
        flush: () => flow.flush(),
        destinations: () => destinations.snapshot(),
        thresholds: { maxLagMs: config.health.maxLagMs, minSuccessRate: config.health.minSuccessRate },
      },
      secrets: () => tokens,
      lifecycle: { stopping: () => stopping !== undefined, rulesVersion: () => rules.current.version },
    };
    const split = config.server.adminPort !== undefined;
    app = await buildApp(deps, split ? 'public' : 'all');
    await app.listen({ host: config.server.host, port: config.server.port });
    if (split) {
      adminApp = await buildApp(deps, 'admin');
      await adminApp.listen({ host: config.server.host, port: config.server.adminPort! });
    }
  } catch (err) {
    await adminApp?.close();
    await app?.close();
    await reporter?.close(2000);
    await store.close();
    throw err;
  }
  const url = localUrl(config.server.host, app)!;
  const adminUrl = localUrl(config.server.host, adminApp);
  const watcher = config.rules.watch ? new RulesWatcher(rules, { debounceMs: 150, pollIntervalMs: config.rules.pollIntervalMs, log }) : undefined;
  flow.start();
  if (!options.handshakeOnly) {
    matcher.start();
    runner.start();
    digests.start();
    delays.start();
    scheduler.start();
    retention.start();
    await watcher?.start();
  }
  log.info(
    {
      url,
      ...(adminUrl ? { adminUrl } : {}),
      store: store.kind,
      rules: rules.current.rules.length,
      rulesVersion: rules.current.version,
      handshakeOnly: options.handshakeOnly ?? false,
      unsigned: config.security.allowUnsigned,
    },
    'notion-rules listening',
  );

  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: no longer accepting requests');
      const budget = config.server.shutdownTimeoutMs;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, budget).unref());
      await Promise.race([Promise.all([app.close(), adminApp?.close()]), timeout]);
      await watcher?.stop();
      await rules.close();
      // Events already stored are matched at the next start; running actions get the same budget.
      await retention.stop(budget);
      await scheduler.stop(budget);
      await matcher.stop(budget);
      await digests.stop(budget);
      await delays.stop(budget);
      await runner.stop(budget);
      await flow.stop();
      await reporter?.close(2000); // what is queued for Sentry is sent before the store goes
      await tracer?.shutdown().catch((err: unknown) => log.warn({ err }, 'could not send the last traces'));
      await audits;
      await store.close();
      log.info('stopped');
    })());
  return { app, store, rules, metrics, matcher, runner, log, url, adminUrl, stop };
}

/** `http://host:port` an app actually listens on (port 0 picks one); wildcard hosts as 127.0.0.1. */
function localUrl(configured: string, app: FastifyInstance | undefined): string | undefined {
  const addr = app?.server.address();
  if (!addr || typeof addr !== 'object') return undefined;
  const host = configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
  return `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
}
