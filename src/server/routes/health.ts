import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/types.js';
import { version } from '../../util/paths.js';

export interface HealthOptions {
  store: Store;
  startedAt: number;
  /** Extra sections from other parts (rules, queue); each may mark the service degraded. */
  sections?: () => Promise<Record<string, unknown> & { degraded?: string[] }>;
}

/** `GET /health`: `ok`, `degraded` or `error`; 503 only for `error` (the store is unusable). */
export const healthRoute: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  app.get('/health', async (_req, reply) => {
    let store: Awaited<ReturnType<Store['health']>> | { ok: false; kind: string; error: string };
    try {
      store = await opts.store.health();
    } catch (err) {
      store = { ok: false, kind: opts.store.kind, error: (err as Error).message };
    }
    const extra = opts.sections ? await opts.sections() : {};
    const { degraded = [], ...sections } = extra;
    const status = !store.ok ? 'error' : degraded.length > 0 ? 'degraded' : 'ok';
    return reply.code(status === 'error' ? 503 : 200).send({
      status,
      ...(degraded.length > 0 ? { reasons: degraded } : {}),
      version,
      uptimeSeconds: Math.round((Date.now() - opts.startedAt) / 1000),
      store,
      ...sections,
    });
  });
};
