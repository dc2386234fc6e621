import type { FastifyPluginAsync } from 'fastify';
import type { StoreStatus } from '../../store/ports.js';
import { version } from '../../util/paths.js';
import { adminTokenCheck } from '../admin-token.js';

export interface HealthOptions {
  store: StoreStatus;
  startedAt: number;
  /** security.adminToken: a request bearing it gets the details; others get status and counts. */
  adminToken?: string;
  /** Extra sections from other parts (rules, queue); each may mark the service degraded. */
  sections?: () => Promise<Record<string, unknown> & { degraded?: string[] }>;
}

/**
 * `GET /health`: `ok`, `degraded` or `error`; 503 only for `error` (the store is unusable). Anyone
 * sees the status and a few counts; the details (reasons, version, reload problems with their
 * paths, store errors) need the admin token, since /health is often public.
 */
export const healthRoute: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const isAdmin = opts.adminToken ? adminTokenCheck(opts.adminToken) : () => false;
  app.get('/health', async (req, reply) => {
    let store: Awaited<ReturnType<StoreStatus['health']>> | { ok: false; kind: string; error: string };
    try {
      store = await opts.store.health();
    } catch (err) {
      store = { ok: false, kind: opts.store.kind, error: (err as Error).message };
    }
    const extra = opts.sections ? await opts.sections() : {};
    const { degraded = [], ...sections } = extra;
    const status = !store.ok ? 'error' : degraded.length > 0 ? 'degraded' : 'ok';
    const header = req.headers.authorization ?? '';
    if (!isAdmin(header.startsWith('Bearer ') ? header.slice(7) : undefined)) {
      return reply.code(status === 'error' ? 503 : 200).send({ status, ...publicCounts(sections) });
    }
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

/** The counts anyone may see: how many rules run, how much waits, how much is dead. */
function publicCounts(sections: Record<string, unknown>): { counts?: Record<string, number> } {
  const counts: Record<string, number> = {};
  const rules = sections.rules as { count?: unknown } | undefined;
  if (typeof rules?.count === 'number') counts.rules = rules.count;
  const queue = sections.queue as Record<string, unknown> | undefined;
  for (const key of ['depth', 'awaitingMatch', 'dead', 'failedEvents'] as const)
    if (typeof queue?.[key] === 'number') counts[key === 'depth' ? 'queueDepth' : key] = queue[key] as number;
  return Object.keys(counts).length > 0 ? { counts } : {};
}
