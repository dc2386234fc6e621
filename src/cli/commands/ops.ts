import { loadConfig } from '../../config/load.js';
import { openStore } from '../../store/open.js';
import type { EventListStatus, Store } from '../../store/types.js';
import { CliError, EXIT_USAGE, print } from '../output.js';

const STATUSES: EventListStatus[] = ['new', 'pending', 'processed', 'dead'];

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
      if (e.status === 'dead') {
        for (const job of (await store.getJobs(e.id)).filter((j) => j.status === 'dead')) {
          print(`    rule ${job.ruleId}, action ${job.nextAction + 1} (${job.actions[job.nextAction]?.type}): ${job.lastError}`);
        }
      }
    }
    if (events.length === 0) print(`no ${status ?? ''} events`.replace('  ', ' '));
  });
}

/** `notion-rules replay ID | --dead`: dead jobs go back to the queue, resuming at the failed action. */
export async function replayCommand(id: string | undefined, opts: { config: string; dead?: boolean }): Promise<void> {
  if (!id && !opts.dead) throw new CliError('replay: give an event ID or --dead', EXIT_USAGE);
  await withStore(opts.config, async (store) => {
    const now = Date.now();
    if (opts.dead) return print(`${await store.replayDead(now)} dead job(s) queued again`);
    if (!(await store.getEvent(id!))) throw new CliError(`replay: no event ${id}`);
    const n = await store.replayEvent(id!, now);
    print(n > 0 ? `${n} job(s) of ${id} queued again; a running server picks them up within a second` : `event ${id} has no dead jobs`);
  });
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
