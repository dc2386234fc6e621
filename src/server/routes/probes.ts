import type { FastifyPluginAsync } from 'fastify';
import type { StoreStatus } from '../../store/ports.js';

export interface ProbeOptions {
  store: StoreStatus;
  /** True once shutdown began: not ready, so load balancers stop sending before the port closes. */
  stopping: () => boolean;
  /** The active rules' version (rules are loaded before the server listens). */
  rulesVersion: () => string;
}

/**
 * Kubernetes-style probes on the public port, with no details and no token:
 * `GET /livez` — the process answers (a liveness probe restarts it only when it does not);
 * `GET /readyz` — the store is reachable, rules are loaded, and it is not shutting down (a
 * readiness probe takes it out of the Service while not). `/health` stays the detailed view.
 */
export const probeRoutes: FastifyPluginAsync<ProbeOptions> = async (app, opts) => {
  app.get('/livez', async () => ({ status: 'alive' }));
  app.get('/readyz', async (_req, reply) => {
    const reasons: string[] = [];
    if (opts.stopping()) reasons.push('shutting down');
    try {
      const store = await opts.store.health();
      if (!store.ok) reasons.push(`store unavailable${store.error ? `: ${store.error}` : ''}`);
    } catch (err) {
      reasons.push(`store unavailable: ${(err as Error).message}`);
    }
    if (reasons.length > 0) return reply.code(503).send({ status: 'not ready', reasons });
    return { status: 'ready', rulesVersion: opts.rulesVersion() };
  });
};
