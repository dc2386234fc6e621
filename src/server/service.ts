import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createNotionClient } from '../actions/notion-client.js';
import { createActions } from '../actions/registry.js';
import type { Config } from '../config/types.js';
import type { Problem } from '../config/errors.js';
import { Dispatcher } from '../delivery/dispatcher.js';
import { notionFacts } from '../delivery/facts.js';
import type { DeliveryHooks } from '../delivery/hooks.js';
import { JobRunner } from '../delivery/runner.js';
import { RuleCoordinator } from '../engine/coordinator.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

export interface ServiceOptions {
  log?: Logger;
  handshakeOnly?: boolean;
  hooks?: DeliveryHooks;
}

/** The rules folder is invalid at start: there is no previous rule set to keep running. */
export class RulesInvalidError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`the rules folder is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}

export interface Service {
  app: FastifyInstance;
  store: Store;
  rules: RuleCoordinator;
  dispatcher: Dispatcher;
  runner: JobRunner;
  log: Logger;
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  /** Stop accepting, finish in-flight requests (bounded by server.shutdownTimeoutMs), close the store. */
  stop(): Promise<void>;
}

/** Opens the store, builds the HTTP app and listens. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.log ?? createLogger(config.log.level);
  const started = RuleCoordinator.start(config.rules.dir, {
    evalTimeoutMs: config.rules.evalTimeoutMs,
    extraEventTypes: config.rules.extraEventTypes,
  });
  if (!started.ok) throw new RulesInvalidError(started.problems);
  const rules = started.coordinator;
  const store = await openStore(config.store.url);
  const notion = createNotionClient(config, log);
  const delivery = { backoff: config.delivery.backoff, maxAttempts: config.delivery.maxAttempts, log, store, ...(options.hooks ? { hooks: options.hooks } : {}) };
  const runner = new JobRunner({ ...delivery, actions: createActions(config, notion, log), concurrency: config.delivery.concurrency });
  const dispatcher = new Dispatcher({
    ...delivery,
    rules,
    facts: () => notionFacts(notion),
    batch: Math.max(16, config.delivery.concurrency * 4),
    onJobs: () => runner.wake(),
  });
  let app: FastifyInstance;
  try {
    // One process owns the SQLite store: leases left by a crashed run are void.
    await store.releaseLeases();
    app = await buildApp({ config, store, log, handshakeOnly: options.handshakeOnly ?? false, onStored: () => dispatcher.wake() });
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await store.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!options.handshakeOnly) {
    dispatcher.start();
    runner.start();
  }
  log.info(
    {
      url,
      store: store.kind,
      rules: rules.current.rules.length,
      rulesVersion: rules.current.version,
      handshakeOnly: options.handshakeOnly ?? false,
      unsigned: config.security.allowUnsigned,
    },
    'notion-rules listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: no longer accepting requests');
      const budget = config.server.shutdownTimeoutMs;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, budget).unref());
      await Promise.race([app.close(), timeout]);
      // Events already stored are matched at the next start; running actions get the same budget.
      await dispatcher.stop(budget);
      await runner.stop(budget);
      await store.close();
      log.info('stopped');
    })());
  return { app, store, rules, dispatcher, runner, log, url, stop };
}
