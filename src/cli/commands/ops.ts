import { loadConfig } from '../../config/load.js';
import { retentionCutoff } from '../../delivery/retention.js';
import { openStore } from '../../store/open.js';
import type { Config } from '../../config/types.js';
import type { EventListStatus, Job, Store } from '../../store/types.js';
import { destinationOf } from '../../delivery/destinations.js';
import { CliError, EXIT_USAGE, print } from '../output.js';

const STATUSES: EventListStatus[] = ['new', 'failed', 'pending', 'processed', 'dead'];

async function withStore<T>(configFile: string, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
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
      print(`${new Date(e.receivedAt).toISOString()}  ${e.status.padEnd(9)} ${e.id}  ${e.type}  jobs ${e.jobs.done}/${e.jobs.total} done${e.jobs.dead ? `, ${e.jobs.dead} dead` : ''}${e.duplicates ? `, ${e.duplicates} duplicate deliveries` : ''}`);
      if (e.status === 'failed') {
        for (const r of failedRules((await store.getEvent(e.id))?.report)) print(`    rule ${r.rule}: ${r.reason}: ${r.error}`);
      }
      if (e.status === 'new') {
        const stored = await store.getEvent(e.id);
        if (stored?.turnAt) print(`    waiting for Notion's turn (its pace) until ${new Date(stored.turnAt).toISOString()}: not a failure`);
        else if (stored?.error) print(`    to be matched again: ${stored.error}`);
      }
      if (e.status === 'pending') {
        for (const job of (await store.getJobs(e.id)).filter((j) => j.status === 'pending')) print(`    rule ${job.ruleId}, action ${job.nextAction + 1} (${job.actions[job.nextAction]?.type}): ${pendingLine(job)}`);
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
export async function replayCommand(id: string | undefined, opts: { config: string; dead?: boolean; failed?: boolean }): Promise<void> {
  if (!id && !opts.dead && !opts.failed) throw new CliError('replay: give an event ID, --dead or --failed', EXIT_USAGE);
  await withStore(opts.config, async (store) => {
    const now = Date.now();
    if (opts.dead || opts.failed) {
      if (opts.dead) print(`${await store.replayDead(now)} dead job(s) queued again`);
      if (opts.failed) print(`${await store.replayFailed(now)} failed event(s) to be matched again; a running server picks them up within a second`);
      return;
    }
    if (!(await store.getEvent(id!))) throw new CliError(`replay: no event ${id}`);
    const { jobs, rematch } = await store.replayEvent(id!, now);
    if (jobs === 0 && !rematch) return print(`event ${id} has no dead jobs and no failed rules`);
    if (jobs > 0) print(`${jobs} job(s) of ${id} queued again; a running server picks them up within a second`);
    if (rematch) print(`the failed rules of ${id} will be matched again; a running server picks it up within a second`);
  });
}

/** Why a pending job has not run yet: its turn at a destination, a pause it asked for, or a retry. */
function pendingLine(job: Job): string {
  const at = new Date(job.runAt).toISOString();
  const dest = job.actions[job.nextAction] ? destinationOf(job.actions[job.nextAction]!) : undefined;
  if (job.turnAt) return `waiting for its turn at ${dest ?? 'its destination'} (the pace) until ${new Date(job.turnAt).toISOString()}: not a failure`;
  if (job.attempts === 0 && job.lastError) return `waiting until ${at}: ${dest ?? 'the destination'} asked to slow down (${job.lastError}); no attempt spent`;
  if (job.attempts > 0) return `retrying at ${at} after ${job.attempts} failed attempt${job.attempts === 1 ? '' : 's'}: ${job.lastError ?? ''}`;
  return 'queued';
}

/** The rules that failed for an event, from its match report. */
function failedRules(report: unknown): Array<{ rule: string; reason: string; error: string }> {
  if (!Array.isArray(report)) return [];
  return report.filter((r): r is { rule: string; reason: string; error: string } => r && typeof r === 'object' && typeof r.error === 'string' && r.matched === false);
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
export async function pruneCommand(opts: { config: string; dryRun?: boolean; days?: string }): Promise<void> {
  await withStore(opts.config, async (store, config) => {
    const days = opts.days === undefined ? config.store.retention.days : Number(opts.days);
    if (!Number.isFinite(days) || days < 0) throw new CliError('prune: --days must be a number of days, 0 or more', EXIT_USAGE);
    if (days === 0) return print('store.retention.days is 0: everything is kept, nothing to prune');
    const cutoff = retentionCutoff(days);
    const when = `received before ${new Date(cutoff).toISOString()} (${days} days)`;
    if (opts.dryRun) {
      const r = await store.prune(cutoff, 0, true);
      return print(`would delete ${r.events} resolved event(s) ${when}, with ${r.jobs} job(s) and their attempts`);
    }
    const total = { events: 0, jobs: 0 };
    for (;;) {
      const r = await store.prune(cutoff, config.store.retention.batch);
      total.events += r.events;
      total.jobs += r.jobs;
      if (r.events < config.store.retention.batch) break;
    }
    print(`deleted ${total.events} resolved event(s) ${when}, with ${total.jobs} job(s) and their attempts; store size ${Math.round((await store.sizeBytes()) / 1024)} KiB`);
  });
}
