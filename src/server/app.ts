import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerOptions } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { NotionEvent } from '../model/event.js';
import type { InsertOptions, Store } from '../store/types.js';
import type { Metrics } from './metrics.js';
import type { healthSections } from './health-sections.js';
import { adminRoutes, type AdminOptions } from './routes/admin.js';
import { consoleRoutes, type ConsoleFlow } from './routes/console.js';
import { healthRoute } from './routes/health.js';
import { probeRoutes } from './routes/probes.js';
import { metricsRoute } from './routes/metrics.js';
import { webhookRoute, type RejectReason } from './routes/webhook.js';

export interface AppDeps {
  config: Config;
  store: Store;
  log: Logger;
  /** Handshake-only mode: no verification token yet, only the handshake is accepted. */
  handshakeOnly?: boolean;
  onStored?: (event: NotionEvent, how: InsertOptions) => void;
  intake?: (event: NotionEvent) => InsertOptions;
  onDuplicate?: (event: NotionEvent) => void;
  onRejected?: (reason: RejectReason) => void;
  /** A new event committed, `seconds` after its request began (traces). */
  onIngested?: (seconds: number, event: NotionEvent) => void;
  metrics?: Metrics;
  /** Admin API and console wiring; the routes exist only when security.adminToken is set. */
  admin?: Omit<AdminOptions, 'token' | 'store'>;
  /** A request failed with a 5xx: error reporting. */
  onRequestFailed?: (err: Error, route: string) => void;
  health?: ReturnType<typeof healthSections>;
  /** The console overview's live parts (flow counts, destinations, thresholds); the console needs them and `health`. */
  flow?: ConsoleFlow;
  /** The verification tokens accepted now (they change when secret files are read again); default: the config's. */
  secrets?: () => readonly string[];
  /** For /readyz: shutdown began; the rules version loaded. */
  lifecycle?: { stopping: () => boolean; rulesVersion: () => string };
}

/**
 * Which routes an app serves: everything on one port, or — with server.adminPort — the public
 * webhook apart from the operator's /admin, /console and /metrics.
 */
export type Surface = 'all' | 'public' | 'admin';

/** The composition root of the HTTP surface: one plugin per feature. */
export async function buildApp(deps: AppDeps, surface: Surface = 'all'): Promise<FastifyInstance> {
  const { config, store, log } = deps;
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per event is logged by the routes themselves; per-request access lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    trustProxy: config.server.trustProxy,
    ...serverTimeouts(config.server),
  });
  app.server.maxConnections = config.server.maxConnections;
  const startedAt = Date.now();
  if (deps.onRequestFailed) {
    const report = deps.onRequestFailed;
    // Inherited by every route plugin below; 4xx answers are the client's doing, not ours.
    app.addHook('onError', async (req, _reply, err: Error & { statusCode?: number }) => {
      if ((err.statusCode ?? 500) >= 500) report(err, req.routeOptions.url ?? 'unknown');
    });
  }

  const ops = surface !== 'public';
  if (surface !== 'admin')
    await app.register(webhookRoute, {
      path: config.server.path,
      store,
      log,
      secrets: deps.handshakeOnly ? () => [] : (deps.secrets ?? constant(verificationTokens(config))),
      allowUnsigned: !deps.handshakeOnly && config.security.allowUnsigned,
      ...(deps.onStored ? { onStored: deps.onStored } : {}),
      ...(deps.intake ? { intake: deps.intake } : {}),
      ...(deps.onDuplicate ? { onDuplicate: deps.onDuplicate } : {}),
      ...(deps.onRejected ? { onRejected: deps.onRejected } : {}),
      onIngested: (seconds: number, event: NotionEvent) => {
        deps.metrics?.ingested(seconds);
        deps.onIngested?.(seconds, event);
      },
      ...(config.server.rateLimit ? { rateLimit: config.server.rateLimit } : {}),
      ...(config.security.userAgent ? { userAgent: new RegExp(config.security.userAgent, 'i') } : {}),
    });
  await app.register(probeRoutes, {
    store,
    stopping: deps.lifecycle?.stopping ?? (() => false),
    rulesVersion: deps.lifecycle?.rulesVersion ?? (() => ''),
  });
  await app.register(healthRoute, {
    store,
    startedAt,
    ...(config.security.adminToken ? { adminToken: config.security.adminToken } : {}),
    ...(deps.health ? { sections: deps.health } : {}),
  });
  if (ops && deps.metrics) await app.register(metricsRoute, { metrics: deps.metrics });
  if (ops && config.security.adminToken && deps.admin) {
    await app.register(adminRoutes, { ...deps.admin, token: config.security.adminToken, store });
    if (deps.health && deps.flow)
      await app.register(consoleRoutes, { ...deps.admin, token: config.security.adminToken, store, health: deps.health, flow: deps.flow });
  }
  return app;
}

/** Every verification token the config accepts: the current one first, then those being rotated out. */
export function verificationTokens(config: Config): readonly string[] {
  return config.notion.verificationToken ? [config.notion.verificationToken, ...config.notion.previousVerificationTokens] : [];
}

function constant<T>(value: T): () => T {
  return () => value;
}

/**
 * Timeouts that keep slow or idle clients from holding connections: headers and the whole request
 * must arrive in time (408, then the socket is closed), idle sockets are closed, and Node checks
 * every second rather than every 30.
 */
function serverTimeouts(server: Config['server']) {
  const headersTimeout = Math.min(server.headersTimeoutMs, server.requestTimeoutMs);
  return {
    requestTimeout: server.requestTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    connectionTimeout: Math.max(server.requestTimeoutMs, server.keepAliveTimeoutMs) + 1000,
    http: {
      headersTimeout,
      requestTimeout: server.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 2)),
    } as ServerOptions,
  };
}
