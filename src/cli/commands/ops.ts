import { loadConfig } from '../../config/load.js';
import { openStore } from '../../store/open.js';
import type { EventListStatus, Store } from '../../store/types.js';
import { CliError, EXIT_USAGE, print } from '../output.js';

const STATUSES: EventListStatus[] = ['new', 'failed', 'pending', 'processed', 'dead'];

async function withStore<T>(configFile: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(configFile, { lenient: true });
  const store = await openStore(config.store.url);
  try {
    return await fn(store);
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
