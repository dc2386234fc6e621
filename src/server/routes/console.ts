import cookie from '@fastify/cookie';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RuleCoordinator } from '../../engine/coordinator.js';
import { StoreUnavailableError } from '../../store/errors.js';
import type { Meta, OpsQueries, SearchIndex } from '../../store/ports.js';
import type { EventListStatus, FlowSeries } from '../../store/types.js';
import type { healthSections } from '../health-sections.js';
import { html, type SafeHtml } from '../console/html.js';
import { layout, type Chrome, type Section, type StatusLine } from '../console/layout.js';
import { deadPage } from '../console/pages/dead.js';
import { eventPage } from '../console/pages/event.js';
import { EVENT_FILTERS, eventsPage } from '../console/pages/events.js';
import { loginPage } from '../console/pages/login.js';
import { rulesPage } from '../console/pages/rules.js';
import { searchPage } from '../console/pages/search.js';
import { LoginThrottle } from '../console/login-throttle.js';
import { ConsoleSessions, SESSION_COOKIE, SESSION_EPOCH_KEY, SESSION_TTL_SECONDS } from '../console/session.js';
import { CONSOLE_CSS } from '../console/style.js';
import { eventDetail } from '../ops/event-detail.js';
import { pause, resume, RuleControlError } from '../ops/rule-control.js';
import { auditPage } from '../console/pages/audit.js';
import { FlowFrame, WINDOWS, type Window } from '../console/flow-frame.js';
import { OVERVIEW_SERIES, overviewPage } from '../console/pages/overview.js';
import type { DestinationState } from '../../delivery/destinations.js';

export interface ConsoleOptions {
  token: string;
  store: OpsQueries & SearchIndex & Meta;
  rules: RuleCoordinator;
  /** The same sections /health reports: the status line of every page. */
  health: ReturnType<typeof healthSections>;
  /** Called after a replay queued jobs. */
  onReplay: () => void;
  /** The overview's live parts: this process's counts, destinations and thresholds. */
  flow: ConsoleFlow;
}

/** What the overview reads besides the store. */
export interface ConsoleFlow {
  /** Writes this process's flow counts, so a page shows them up to now. */
  flush(): Promise<void>;
  /** Each destination's state in this process. */
  destinations(): DestinationState[];
  thresholds: { maxLagMs: number; minSuccessRate: number };
}

type Form = Record<string, string | undefined>;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/**
 * The operator console under /console: server-rendered HTML that reads without JavaScript.
 * Logging in with security.adminToken sets a session cookie (HttpOnly, SameSite=Strict); every
 * form that changes something carries a CSRF token bound to that session.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { store, rules } = opts;
  const sessions = new ConsoleSessions(opts.token);
  const throttle = new LoginThrottle();
  const epoch = async () => Number((await store.getMeta(SESSION_EPOCH_KEY)) ?? 0) || 0;
  const audit = (action: 'replay', detail: Record<string, unknown>) => store.recordAudit({ at: Date.now(), action, source: 'console', detail });
  await app.register(cookie);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const unavailable = err instanceof StoreUnavailableError;
    if (!unavailable && (err.statusCode ?? 500) >= 500) req.log.error({ err }, 'console page failed');
    const status = unavailable ? 503 : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    const message = unavailable
      ? `The store is unavailable: ${err.message}`
      : status < 500
        ? err.message
        : 'Something went wrong; the server log has the details.';
    return page(reply.code(status), { title: 'Error' }, html`<h1>Error</h1><p class="error" role="alert">${message}</p>`);
  });

  app.get('/console/console.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_CSS),
  );

  app.get<{ Querystring: { next?: string } }>('/console/login', async (req, reply) => {
    const next = safeNext(req.query.next);
    if (sessions.valid(req.cookies[SESSION_COOKIE], await epoch())) return reply.redirect(next, 303);
    return page(reply, { title: 'Log in' }, loginPage(next));
  });

  app.post<{ Body: Form }>('/console/login', async (req, reply) => {
    const form = req.body ?? {};
    const next = safeNext(form.next);
    const wait = throttle.waitMs(req.ip);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      return page(
        reply.code(429).header('retry-after', String(seconds)),
        { title: 'Log in' },
        loginPage(next, `Too many wrong tokens from your address: try again in ${seconds} s.`),
      );
    }
    if (!sessions.checkToken(form.token)) {
      const failures = throttle.failed(req.ip);
      req.log.warn({ ip: req.ip, failures }, 'console login refused: wrong admin token');
      return page(reply.code(401), { title: 'Log in' }, loginPage(next, 'That is not the admin token.'));
    }
    throttle.succeeded(req.ip);
    reply.setCookie(SESSION_COOKIE, sessions.issue(await epoch()), {
      path: '/console',
      httpOnly: true,
      sameSite: 'strict',
      secure: req.protocol === 'https',
      maxAge: SESSION_TTL_SECONDS,
    });
    return reply.redirect(next, 303);
  });

  // Everything below needs a session.
  await app.register(async (auth) => {
    auth.addHook('preHandler', async (req: FastifyRequest<{ Body: Form }>, reply) => {
      const session = req.cookies[SESSION_COOKIE];
      if (!sessions.valid(session, await epoch())) {
        return reply.redirect(`/console/login?${new URLSearchParams({ next: req.method === 'GET' ? req.url : '/console' }).toString()}`, 303);
      }
      if (req.method === 'POST' && !sessions.checkCsrf(session!, req.body?.csrf)) {
        return page(
          reply.code(403),
          { title: 'Form expired' },
          html`<h1>Form expired</h1><p class="error" role="alert">This form was not sent from the current session. Go back, reload the page and try again.</p>`,
        );
      }
    });

    const chrome = async (req: FastifyRequest, title: string, section?: Section, flash?: string, health?: Health): Promise<Chrome> => ({
      title,
      ...(section ? { section } : {}),
      csrf: sessions.csrfToken(req.cookies[SESSION_COOKIE]!),
      status: statusLine(health ?? (await opts.health())),
      flash,
    });

    /** The flow counts of a window, this process's written first so the page shows them up to now. */
    const flowOf = async (series: readonly FlowSeries[], window: Window): Promise<FlowFrame> => {
      await opts.flow.flush();
      return FlowFrame.read(store, series, window, Date.now());
    };

    auth.get<{ Querystring: { window?: string; status?: string; limit?: string; replayed?: string } }>('/console', async (req, reply) => {
      // The event list's old address (bookmarks, links in alerts) still leads to it.
      const { window: _window, ...rest } = req.query;
      if (Object.keys(rest).length > 0) return reply.redirect(`/console/events?${new URLSearchParams(rest as Record<string, string>).toString()}`, 301);
      const [frame, health] = await Promise.all([flowOf(OVERVIEW_SERIES, WINDOWS[req.query.window === '24h' ? '24h' : '1h']), opts.health()]);
      const queue = 'depth' in health.queue ? health.queue : undefined;
      const body = overviewPage({
        frame,
        current: {
          jobLagMs: queue?.jobLagMs ?? null,
          matchLagMs: queue?.matchLagMs ?? null,
          successRate: health.actions.successRate,
          queueDepth: queue?.depth ?? null,
        },
        thresholds: opts.flow.thresholds,
        destinations: opts.flow.destinations(),
      });
      return page(reply, await chrome(req, 'Overview', 'overview', undefined, health), body);
    });

    auth.get<{ Querystring: { status?: string; limit?: string; replayed?: string } }>('/console/events', async (req, reply) => {
      const known = EVENT_FILTERS.some(([v]) => v !== '' && v === req.query.status);
      const status = known ? (req.query.status as EventListStatus) : undefined;
      const limit = Math.min(1000, Math.max(1, Number(req.query.limit) || 100));
      const events = await store.listEvents({ limit, ...(status ? { status } : {}) });
      return page(reply, await chrome(req, 'Events', 'events', replayedFlash(req.query.replayed)), eventsPage(events, status, limit));
    });

    auth.get<{ Params: { id: string }; Querystring: { replayed?: string } }>('/console/events/:id', async (req, reply) => {
      const detail = await eventDetail(store, req.params.id);
      if (!detail)
        return page(
          reply.code(404),
          await chrome(req, 'Not found', 'events'),
          html`<h1>Not found</h1><p>No event with id <code>${req.params.id}</code> is stored.</p>`,
        );
      const c = await chrome(req, `Event ${detail.stored.event.type}`, 'events', replayedFlash(req.query.replayed));
      return page(reply, c, eventPage({ ...detail, csrf: c.csrf! }));
    });

    auth.get<{ Querystring: { replayed?: string } }>('/console/dead', async (req, reply) => {
      const c = await chrome(req, 'Dead letters', 'dead', replayedFlash(req.query.replayed));
      return page(reply, c, deadPage(await store.listJobs('dead', 500), c.csrf!));
    });

    auth.post<{ Params: { id: string }; Body: Form }>('/console/jobs/:id/replay', async (req, reply) => {
      const replayed = (await store.replayJob(Number(req.params.id), Date.now())) ? 1 : 0;
      if (replayed) {
        req.log.info({ jobId: Number(req.params.id) }, 'dead job replayed from the console');
        await audit('replay', { job: Number(req.params.id) });
        opts.onReplay();
      }
      return reply.redirect(withQuery(safeNext(req.body?.back, '/console/dead'), { replayed: String(replayed) }), 303);
    });

    auth.post<{ Params: { id: string }; Body: Form }>('/console/events/:id/replay', async (req, reply) => {
      const { jobs, rematch } = await store.replayEvent(req.params.id, Date.now());
      if (jobs > 0 || rematch) {
        req.log.info({ eventId: req.params.id, jobs, rematch }, 'event replayed from the console');
        await audit('replay', { event: req.params.id, jobs, rematch });
        opts.onReplay();
      }
      return reply.redirect(`/console/events/${encodeURIComponent(req.params.id)}?replayed=${jobs + (rematch ? 1 : 0)}`, 303);
    });

    auth.post('/console/dead/replay', async (req, reply) => {
      const replayed = await store.replayDead(Date.now());
      if (replayed > 0) {
        req.log.info({ jobs: replayed }, 'all dead jobs replayed from the console');
        await audit('replay', { dead: true, jobs: replayed });
        opts.onReplay();
      }
      return reply.redirect(`/console/dead?replayed=${replayed}`, 303);
    });

    auth.get<{ Querystring: { reloaded?: string; done?: string } }>('/console/rules', async (req, reply) => {
      const flash = req.query.reloaded === 'ok' ? 'Rules reloaded.' : req.query.done ? RULE_FLASH[req.query.done] : undefined;
      const c = await chrome(req, 'Rules', 'rules', flash);
      const activity = await flowOf(['rule.matched', 'rule.failed', 'rule.held'], WINDOWS['1h']);
      return page(reply, c, rulesPage(rules, c.csrf!, await store.timingStatus(), await store.pausedRules(Date.now()), activity));
    });

    auth.post<{ Params: { id: string }; Body: Form }>('/console/rules/:id/pause', async (req, reply) => {
      const until = typeof req.body?.until === 'string' && req.body.until !== 'resumed' ? req.body.until : undefined;
      try {
        await pause(
          store,
          rules.current.all.map((r) => r.id),
          req.params.id,
          { source: 'console', ...(until ? { until } : {}) },
        );
      } catch (err) {
        if (err instanceof RuleControlError) return reply.redirect('/console/rules?done=invalid', 303);
        throw err;
      }
      req.log.info({ ruleId: req.params.id, until }, 'rule paused from the console');
      return reply.redirect('/console/rules?done=paused', 303);
    });

    auth.post<{ Params: { id: string } }>('/console/rules/:id/resume', async (req, reply) => {
      const resumed = await resume(store, req.params.id, 'console');
      if (resumed) req.log.info({ ruleId: req.params.id }, 'rule resumed from the console');
      return reply.redirect(`/console/rules?done=${resumed ? 'resumed' : 'not-paused'}`, 303);
    });

    auth.get<{ Querystring: { rule?: string } }>('/console/audit', async (req, reply) => {
      const c = await chrome(req, 'Audit log', 'audit');
      const rule = req.query.rule?.trim() || undefined;
      return page(reply, c, auditPage(await store.listAudit({ limit: 500, ...(rule ? { ruleId: rule } : {}) }), rule));
    });

    auth.post('/console/rules/reload', async (_req, reply) => {
      const status = await rules.reload('console');
      return reply.redirect(status.ok ? '/console/rules?reloaded=ok' : '/console/rules', 303);
    });

    auth.get<{ Querystring: { q?: string } }>('/console/search', async (req, reply) => {
      const q = (req.query.q ?? '').trim();
      const c = await chrome(req, 'Search', 'search');
      if (!q) return page(reply, c, searchPage('', undefined));
      return page(reply, c, searchPage(q, await store.search(q, 50)));
    });

    auth.post('/console/logout', async (req, reply) => {
      // Every session ends, this one's cookie wherever it was copied to included.
      await store.setMeta(SESSION_EPOCH_KEY, String((await epoch()) + 1));
      req.log.info({ ip: req.ip }, 'console logout: every console session ended');
      reply.clearCookie(SESSION_COOKIE, { path: '/console' });
      return reply.redirect('/console/login', 303);
    });
  });
};

const RULE_FLASH: Record<string, string> = {
  paused: 'Rule paused: its matches make no jobs until it is resumed.',
  resumed: 'Rule resumed.',
  'not-paused': 'Nothing to resume: the rule is not paused.',
  invalid: 'Not paused: no such rule, or the time is not in the future.',
};

function page(reply: FastifyReply, chrome: Chrome, body: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(layout(chrome, body).value);
}

const BASE = 'http://console.invalid';

/**
 * A redirect target from a form or query: a path inside the console, normalized (so `..` cannot
 * climb out of it and `//host` cannot name another site); anything else is the fallback.
 */
export function safeNext(next: string | undefined, fallback = '/console'): string {
  if (!next || !next.startsWith('/') || next.includes('\\') || /[\u0000-\u001f\u007f]/.test(next)) return fallback;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE || !/^\/console(\/|$)/.test(url.pathname)) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

function withQuery(path: string, params: Record<string, string>): string {
  const [base, hash = ''] = path.split('#');
  const url = new URL(base!, 'http://console.invalid');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return `${url.pathname}${url.search}${hash ? `#${hash}` : ''}`;
}

function replayedFlash(replayed: string | undefined): string | undefined {
  if (replayed === undefined) return undefined;
  const n = Number(replayed);
  if (!Number.isInteger(n) || n < 0) return undefined;
  return n === 0
    ? 'Nothing to replay: the job is no longer dead.'
    : `${n} job${n === 1 ? '' : 's'} queued again; ${n === 1 ? 'it runs' : 'they run'} from the failed action.`;
}

type Health = Awaited<ReturnType<ConsoleOptions['health']>>;

function statusLine(h: Health): StatusLine {
  const queue = 'depth' in h.queue ? h.queue : undefined;
  return {
    status: h.degraded.length > 0 ? 'degraded' : 'ok',
    reasons: h.degraded,
    ...(queue ? { queueDepth: queue.depth!, dead: queue.dead! } : {}),
    rulesVersion: h.rules.version,
    rulesCount: h.rules.count,
    successRate: h.actions.successRate,
    paused: h.destinations.paused,
  };
}
