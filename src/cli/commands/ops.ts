import { loadConfig } from '../../config/load.js';
import { retentionCutoff } from '../../delivery/retention.js';
import { openStore } from '../../store/open.js';
import type { Config } from '../../config/types.js';
import type { EventListStatus, Job, Store } from '../../store/types.js';
import { destinationOf } from '../../delivery/destinations.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import { formatProblem } from '../../config/errors.js';
import { loadOptionsOf } from '../../engine/load.js';
import { buildRuleSet } from '../../engine/rule-set.js';
import { evaluateEvent } from '../../engine/evaluate.js';
import { createNotionClient } from '../../actions/notion-client.js';
import { notionFacts } from '../../matching/facts.js';
import { withDefaults } from '../../actions/registry.js';
import { createLogger } from '../../server/logger.js';

const STATUSES: EventListStatus[] = ['new', 'failed', 'pending', 'processed', 'dead'];

export async function withStore<T>(configFile: string, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig(configFile, { lenient: true });
  const store = await openStore(config.store.url);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** `notion-rules events [--status S]`: recent events with what became of them. */
export async function eventsCommand(opts: { config: string; status?: string; limit: string; json?: boolean }): Promise<void> {
  const status = opts.status as EventListStatus | undefined;
  if (status && !STATUSES.includes(status)) throw new CliError(`events: --status must be one of ${STATUSES.join(', ')}`, EXIT_USAGE);
  await withStore(opts.config, async (store) => {
    const events = await store.listEvents({ limit: Number(opts.limit) || 50, ...(status ? { status } : {}) });
    if (opts.json) return print(JSON.stringify(events, null, 2));
    for (const e of events) {
      print(
        `${new Date(e.receivedAt).toISOString()}  ${e.status.padEnd(9)} ${e.id}  ${e.type}  jobs ${e.jobs.done}/${e.jobs.total - e.jobs.shadow} done${e.jobs.dead ? `, ${e.jobs.dead} dead` : ''}${e.jobs.shadow ? `, ${e.jobs.shadow} shadow (not sent)` : ''}${e.duplicates ? `, ${e.duplicates} duplicate deliveries` : ''}`,
      );
      const stored = await store.getEvent(e.id);
      for (const r of timedRules(stored?.report)) print(`    rule ${r}`);
      if (e.status === 'failed') {
        for (const r of failedRules(stored?.report)) print(`    rule ${r.rule}: ${r.reason}: ${r.error}`);
      }
      if (e.status === 'new') {
        if (stored?.turnAt) print(`    waiting for Notion's turn (its pace) until ${new Date(stored.turnAt).toISOString()}: not a failure`);
        else if (stored?.error) print(`    to be matched again: ${stored.error}`);
      }
      if (e.status === 'pending') {
        for (const job of (await store.getJobs(e.id)).filter((j) => j.status === 'pending'))
          print(`    rule ${job.ruleId}, action ${job.nextAction + 1} (${job.actions[job.nextAction]?.type}): ${pendingLine(job)}`);
      }
      if (e.status === 'dead' || e.jobs.dead > 0) {
        for (const job of (await store.getJobs(e.id)).filter((j) => j.status === 'dead')) {
          print(`    rule ${job.ruleId}, action ${job.nextAction + 1} (${job.actions[job.nextAction]?.type}): ${job.lastError}`);
        }
      }
    }
    if (events.length === 0) print(`no ${status ?? ''} events`.replace('  ', ' '));
  });
}

/**
 * `notion-rules replay ID | --dead | --failed`: dead jobs go back to the queue, resuming at the
 * failed action; failed events go back to the matcher, which matches their failed rules again.
 */
export async function replayCommand(
  id: string | undefined,
  opts: { config: string; dead?: boolean; failed?: boolean; rerender?: boolean; json?: boolean },
): Promise<void> {
  const say = sayer(opts.json);
  if (!id && !opts.dead && !opts.failed) throw new CliError('replay: give an event ID, --dead or --failed', EXIT_USAGE);
  if (opts.rerender && !id && !opts.dead) throw new CliError('replay: --rerender is for dead jobs: give an event ID or --dead', EXIT_USAGE);
  await withStore(opts.config, async (store, config) => {
    const now = Date.now();
    if (opts.rerender) {
      if (id && !(await store.getEvent(id))) throw new CliError(`replay: no event ${id}`);
      const dead = id ? (await store.getJobs(id)).filter((j) => j.status === 'dead') : await store.listJobs('dead', 100_000);
      await rerender(store, config, dead, now);
      if (!opts.failed) return;
    }
    const audit = (detail: Record<string, unknown>) => store.recordAudit({ at: now, action: 'replay', source: 'cli', detail });
    if (opts.dead || opts.failed) {
      if (opts.dead && !opts.rerender) {
        const jobs = await store.replayDead(now);
        if (jobs > 0) await audit({ dead: true, jobs });
        say(`${jobs} dead job(s) queued again`, { dead: jobs });
      }
      if (opts.failed) {
        const events = await store.replayFailed(now);
        if (events > 0) await audit({ failed: true, events });
        say(`${events} failed event(s) to be matched again; a running server picks them up within a second`, { failed: events });
      }
      return;
    }
    if (!(await store.getEvent(id!))) throw new CliError(`replay: no event ${id}`);
    const { jobs, rematch } = await store.replayEvent(id!, now);
    if (opts.json) print(JSON.stringify({ event: id, jobs, rematch }));
    if (jobs === 0 && !rematch) return opts.json ? undefined : print(`event ${id} has no dead jobs and no failed rules`);
    await audit({ event: id, jobs, rematch });
    if (jobs > 0 && !opts.json) print(`${jobs} job(s) of ${id} queued again; a running server picks them up within a second`);
    if (rematch && !opts.json) print(`the failed rules of ${id} will be matched again; a running server picks it up within a second`);
  });
}

/**
 * `replay --rerender`: each dead job's actions rendered again from its rule as it is now (a fixed
 * channel, a corrected template), for the job's event, and queued; it resumes at the action that
 * failed. A job whose rule is gone, no longer matches, or fails to render stays dead, with why.
 */
async function rerender(store: Store, config: Config, jobs: Job[], now: number): Promise<void> {
  const built = buildRuleSet(config.rules.dir, loadOptionsOf(config.rules));
  if (!built.ok) {
    for (const p of built.problems) print(formatProblem(p));
    throw new CliError(`replay --rerender: the rules in ${config.rules.dir} are invalid (notion-rules validate)`, EXIT_PROBLEMS);
  }
  const { ruleSet } = built;
  const notion = createNotionClient(config, createLogger('silent'));
  let queued = 0;
  for (const job of jobs) {
    const stored = await store.getEvent(job.eventId);
    const rule = ruleSet.rules.find((r) => r.id === job.ruleId);
    if (!stored || !rule) {
      print(`job ${job.id} (rule ${job.ruleId}): stays dead: ${stored ? 'the rule is no longer in the rules' : 'its event is gone'}`);
      continue;
    }
    const [outcome] = await evaluateEvent(ruleSet, stored.event, { facts: notionFacts(notion), only: (r) => r.id === job.ruleId });
    if (!outcome?.matched) {
      print(
        `job ${job.id} (rule ${job.ruleId}): stays dead: the rule as it is now ${outcome && 'error' in outcome ? `fails: ${outcome.error}` : 'does not match its event'}`,
      );
      continue;
    }
    const actions = withDefaults(outcome.actions, stored.event);
    if (actions.length !== job.actions.length) {
      print(
        `job ${job.id} (rule ${job.ruleId}): stays dead: the rule now has ${actions.length} actions, the job ${job.actions.length}; replay it as it was, or send the event again`,
      );
      continue;
    }
    if (await store.rerenderJob(job.id, actions, `re-rendered from rules version ${ruleSet.version} (replay --rerender)`, now)) queued++;
  }
  if (queued > 0) await store.recordAudit({ at: now, action: 'replay', source: 'cli', detail: { rerender: true, jobs: queued, version: ruleSet.version } });
  print(`${queued} dead job(s) re-rendered from rules version ${ruleSet.version} and queued again; a running server picks them up within a second`);
}

/** Why a pending job has not run yet: its turn at a destination, a pause it asked for, or a retry. */
function pendingLine(job: Job): string {
  const at = new Date(job.runAt).toISOString();
  const dest = job.actions[job.nextAction] ? destinationOf(job.actions[job.nextAction]!) : undefined;
  if (job.turnAt) return `waiting for its turn at ${dest ?? 'its destination'} (the pace) until ${new Date(job.turnAt).toISOString()}: not a failure`;
  if (job.attempts === 0 && job.lastError) return `waiting until ${at}: ${dest ?? 'the destination'} asked to slow down (${job.lastError}); no attempt spent`;
  if (job.attempts > 0) return `retrying at ${at} after ${job.attempts} failed attempt${job.attempts === 1 ? '' : 's'}: ${job.lastError ?? ''}`;
  if (job.runAt > Date.now()) return `held until ${at}: outside its rule's active hours`;
  return 'queued';
}

/** What throttle, digest and after did with an event, from its match report. */
function timedRules(report: unknown): string[] {
  if (!Array.isArray(report)) return [];
  return report.flatMap((r: { rule?: string; matched?: boolean; reason?: string; key?: string; digest?: string; delayed?: boolean }) => {
    if (r.reason === 'throttled') return [`${r.rule}: throttled (already ran for key "${r.key ?? ''}" in its window)`];
    if (r.matched && r.digest !== undefined) return [`${r.rule}: collected in digest group "${r.digest}"`];
    if (r.matched && r.delayed) return [`${r.rule}: waiting (after); its condition is checked again when the wait is over`];
    return [];
  });
}

/** The rules that failed for an event, from its match report. */
function failedRules(report: unknown): Array<{ rule: string; reason: string; error: string }> {
  if (!Array.isArray(report)) return [];
  return report.filter(
    (r): r is { rule: string; reason: string; error: string } => r && typeof r === 'object' && typeof r.error === 'string' && r.matched === false,
  );
}

/** `notion-rules search QUERY`: the embedded search index. */
export async function searchCommand(words: string[], opts: { config: string; limit: string; json?: boolean }): Promise<void> {
  await withStore(opts.config, async (store) => {
    const hits = await store.search(words.join(' '), Number(opts.limit) || 20);
    if (opts.json) return print(JSON.stringify(hits, null, 2));
    for (const h of hits) print(`${h.title || '(untitled)'}  ${h.url}\n    ${h.snippet}`);
    if (hits.length === 0) print('no matches');
  });
}

/**
 * `notion-rules prune [--dry-run] [--days N]`: deletes resolved events past store.retention.days
 * (or N) with their jobs and attempts, in batches, as the server does on its own; `--dry-run`
 * only counts. New, failed and dead events are never pruned.
 */
export async function pruneCommand(opts: { config: string; dryRun?: boolean; days?: string; json?: boolean }): Promise<void> {
  const say = sayer(opts.json);
  await withStore(opts.config, async (store, config) => {
    const days = opts.days === undefined ? config.store.retention.days : Number(opts.days);
    if (!Number.isFinite(days) || days < 0) throw new CliError('prune: --days must be a number of days, 0 or more', EXIT_USAGE);
    if (days === 0) return say('store.retention.days is 0: everything is kept, nothing to prune', { events: 0, jobs: 0, dryRun: opts.dryRun === true });
    const cutoff = retentionCutoff(days);
    const when = `received before ${new Date(cutoff).toISOString()} (${days} days)`;
    if (opts.dryRun) {
      const r = await store.prune(cutoff, 0, true);
      return say(`would delete ${r.events} resolved event(s) ${when}, with ${r.jobs} job(s) and their attempts`, {
        ...r,
        dryRun: true,
        cutoff: new Date(cutoff).toISOString(),
      });
    }
    const total = { events: 0, jobs: 0 };
    for (;;) {
      const r = await store.prune(cutoff, config.store.retention.batch);
      total.events += r.events;
      total.jobs += r.jobs;
      if (r.events < config.store.retention.batch) break;
    }
    const size = await store.sizeBytes();
    say(`deleted ${total.events} resolved event(s) ${when}, with ${total.jobs} job(s) and their attempts; store size ${Math.round(size / 1024)} KiB`, {
      ...total,
      dryRun: false,
      cutoff: new Date(cutoff).toISOString(),
      storeBytes: size,
    });
  });
}

/** Prints a line for people, or with --json the same facts as one JSON object. */
function sayer(json: boolean | undefined): (line: string, data: Record<string, unknown>) => void {
  return (line, data) => print(json ? JSON.stringify(data) : line);
}
