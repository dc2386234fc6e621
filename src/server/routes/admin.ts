import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RuleCoordinator } from '../../engine/coordinator.js';
import type { OpsQueries, SearchIndex } from '../../store/ports.js';
import type { EventListStatus, RulePause } from '../../store/types.js';
import { maskedJob } from '../../actions/registry.js';
import { adminTokenCheck } from '../admin-token.js';
import { httpError } from '../../errors/http.js';
import { eventDetail } from '../ops/event-detail.js';
import { pause, resume, RuleControlError } from '../ops/rule-control.js';

export interface AdminOptions {
  token: string;
  store: OpsQueries & SearchIndex;
  rules: RuleCoordinator;
  /** Called after a replay queued jobs. */
  onReplay: () => void;
}

const STATUSES = new Set<EventListStatus>(['new', 'failed', 'pending', 'processed', 'dead']);

/** The admin API under /admin, behind `Authorization: Bearer <security.adminToken>`. */
export const adminRoutes: FastifyPluginAsync<AdminOptions> = async (app, opts) => {
  const isAdmin = adminTokenCheck(opts.token);
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization ?? '';
    if (!isAdmin(header.startsWith('Bearer ') ? header.slice(7) : undefined)) {
      return send(reply.header('www-authenticate', 'Bearer realm="notion-rules"'), httpError('unauthorized'));
    }
  });

  app.get('/admin/rules', async () => {
    const current = opts.rules.current;
    const paused = new Map((await opts.store.pausedRules(Date.now())).map((p) => [p.ruleId, p]));
    return {
      version: current.version,
      count: current.rules.length,
      loadedAt: current.loadedAt.toISOString(),
      lastReload: reloadView(opts.rules),
      rules: current.all.map((r) => ({
        id: r.id,
        description: r.description ?? null,
        enabled: r.enabled,
        mode: r.mode,
        paused: pauseView(paused.get(r.id)),
        hash: r.hash,
        file: r.file,
        line: r.line,
        on: r.on,
        fetch: r.fetch,
        when: r.when?.source ?? null,
        actions: r.actions.map((a) => a.type),
      })),
    };
  });

  app.post<{ Params: { id: string }; Body: { until?: string; reason?: string } | null }>('/admin/rules/:id/pause', async (req, reply) => {
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    try {
      const p = await pause(
        opts.store,
        opts.rules.current.all.map((r) => r.id),
        req.params.id,
        {
          source: 'admin-api',
          ...(typeof body.until === 'string' ? { until: body.until } : {}),
          ...(typeof body.reason === 'string' ? { reason: body.reason.slice(0, 500) } : {}),
        },
      );
      return { rule: p.ruleId, paused: pauseView(p) };
    } catch (err) {
      if (err instanceof RuleControlError) return send(reply, httpError(err.code, err.message));
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/admin/rules/:id/resume', async (req) => {
    return { rule: req.params.id, resumed: await resume(opts.store, req.params.id, 'admin-api') };
  });

  app.get<{ Querystring: { limit?: string; rule?: string; before?: string } }>('/admin/audit', async (req) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit) || 100));
    const entries = await opts.store.listAudit({
      limit,
      ...(req.query.rule ? { ruleId: req.query.rule } : {}),
      ...(Number(req.query.before) > 0 ? { before: Number(req.query.before) } : {}),
    });
    return { entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  });

  app.post('/admin/reload', async (_req, reply) => {
    const status = await opts.rules.reload('admin');
    return reply.code(status.ok ? 200 : 422).send({ activeVersion: opts.rules.current.version, ...reloadView(opts.rules) });
  });

  app.get<{ Querystring: { status?: string; limit?: string } }>('/admin/events', async (req, reply) => {
    const status = req.query.status as EventListStatus | undefined;
    if (status && !STATUSES.has(status)) return send(reply, httpError('invalid_status', `status must be one of ${[...STATUSES].join(', ')}`));
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit) || 100));
    return { events: await opts.store.listEvents({ limit, ...(status ? { status } : {}) }) };
  });

  app.get<{ Params: { id: string } }>('/admin/events/:id', async (req, reply) => {
    const detail = await eventDetail(opts.store, req.params.id);
    if (!detail) return send(reply, httpError('not_found'));
    const { stored, jobs } = detail;
    return {
      event: stored.event,
      status: stored.status,
      receivedAt: new Date(stored.receivedAt).toISOString(),
      duplicates: stored.duplicates,
      rulesVersion: stored.rulesVersion,
      rules: stored.report,
      error: stored.error,
      // Masked as the console shows them: rendered parameters may hold a header or a token.
      // The API's shape since it began: a job's `attempts` is the list of them.
      jobs: jobs.map(({ history, ...j }) => maskedJob({ ...j, attempts: history })),
    };
  });

  app.post<{ Params: { id: string } }>('/admin/events/:id/replay', async (req, reply) => {
    if (!(await opts.store.getEvent(req.params.id))) return send(reply, httpError('not_found'));
    const { jobs, rematch } = await opts.store.replayEvent(req.params.id, Date.now());
    if (jobs > 0 || rematch) {
      await opts.store.recordAudit({ at: Date.now(), action: 'replay', source: 'admin-api', detail: { event: req.params.id, jobs, rematch } });
      opts.onReplay();
    }
    return { replayed: jobs, rematch };
  });

  app.get<{ Querystring: { limit?: string } }>('/admin/dead', async (req) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit) || 100));
    return { jobs: (await opts.store.listJobs('dead', limit)).map(maskedJob) };
  });

  app.get<{ Querystring: { q?: string; limit?: string } }>('/admin/search', async (req, reply) => {
    if (!req.query.q) return send(reply, httpError('missing_query', 'give ?q=words'));
    return { hits: await opts.store.search(req.query.q, Math.min(100, Math.max(1, Number(req.query.limit) || 20))) };
  });
};

export function reloadView(rules: RuleCoordinator) {
  const last = rules.lastReload;
  return {
    at: last.at.toISOString(),
    ok: last.ok,
    trigger: last.trigger,
    version: last.version,
    durationMs: last.durationMs,
    problems: last.problems,
  };
}

function pauseView(p: RulePause | undefined) {
  return p ? { until: p.until ? new Date(p.until).toISOString() : null, since: new Date(p.pausedAt).toISOString(), source: p.source, reason: p.reason } : null;
}

/** An error answer from the catalog (errors/http.ts). */
function send(reply: FastifyReply, e: ReturnType<typeof httpError>): FastifyReply {
  return reply.code(e.status).send(e.body);
}
