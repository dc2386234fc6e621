import { createNotionClient } from '../../actions/notion-client.js';
import { formatProblem } from '../../config/errors.js';
import { limitsOf } from '../../delivery/destinations.js';
import { loadOptionsOf } from '../../engine/load.js';
import { buildRuleSet, type RuleSet } from '../../engine/rule-set.js';
import type { Fact } from '../../engine/types.js';
import { WhatIf, type RuleDiff, type WhatIfReport } from '../../engine/whatif.js';
import { historyFacts } from '../../matching/history-facts.js';
import { notionFacts } from '../../matching/facts.js';
import type { NotionEvent } from '../../model/event.js';
import { createLogger } from '../../server/logger.js';
import { durationMs } from '../../util/duration.js';
import { NotionPace } from '../notion-pace.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import type { Config } from '../../config/types.js';
import { withStore } from './ops.js';

export interface WhatIfOptions {
  config: string;
  rules: string;
  against?: string;
  since?: string;
  last?: string;
  fetch?: boolean;
  examples: string;
  json?: boolean;
  failOnChange?: boolean;
}

const PAGE = 2000;

/**
 * `notion-rules whatif --rules DIR [--since 24h | --last N]`: what the rules in DIR would have
 * done with the stored events, against the rules running now (the config's folder, or --against).
 */
export async function whatifCommand(opts: WhatIfOptions): Promise<void> {
  if (opts.since && opts.last) throw new CliError('whatif: give --since or --last, not both', EXIT_USAGE);
  const last = opts.last !== undefined ? Number(opts.last) : undefined;
  if (last !== undefined && !(Number.isInteger(last) && last > 0)) throw new CliError('whatif: --last takes a positive number of events', EXIT_USAGE);
  let sinceMs: number;
  try {
    sinceMs = durationMs(opts.since ?? '24h');
  } catch (err) {
    throw new CliError(`whatif: --since: ${(err as Error).message}`, EXIT_USAGE);
  }
  await withStore(opts.config, async (store, config) => {
    const load = (dir: string, what: string): RuleSet => {
      const built = buildRuleSet(dir, loadOptionsOf(config.rules));
      if (built.ok) return built.ruleSet;
      for (const p of built.problems) print(formatProblem(p));
      throw new CliError(`whatif: the ${what} rules in ${dir} are invalid (notion-rules validate --rules ${dir})`, EXIT_PROBLEMS);
    };
    const running = load(opts.against ?? config.rules.dir, 'running');
    const candidate = load(opts.rules, 'candidate');
    const live = opts.fetch ? pacedNotion(config) : undefined;
    const whatif = new WhatIf(running, candidate, { facts: historyFacts(store, live), examples: Math.max(0, Number(opts.examples) || 0) });

    const since = last !== undefined ? ((await store.nthLatestReceivedAt(last)) ?? 0) : Date.now() - sinceMs;
    let cursor: string | null = null;
    let seen = 0;
    do {
      const page = await store.historyEvents(since, cursor, PAGE);
      for (const stored of page.events) {
        if (last !== undefined && seen >= last) break;
        seen++;
        await whatif.add(stored.event);
      }
      cursor = last !== undefined && seen >= last ? null : page.cursor;
    } while (cursor);

    const report = whatif.report();
    const window = last !== undefined ? `the last ${report.events} events` : `${report.events} events received since ${new Date(since).toISOString()}`;
    if (opts.json)
      print(
        JSON.stringify(
          { window: { since: new Date(since).toISOString(), events: report.events }, running: running.version, candidate: candidate.version, ...report },
          null,
          2,
        ),
      );
    else printReport(report, window, running.version, candidate.version);
    if (opts.failOnChange && changed(report)) throw new CliError('whatif: the candidate rules would act differently (--fail-on-change)', EXIT_PROBLEMS);
  });
}

function changed(r: WhatIfReport): boolean {
  return r.rules.some((d) => d.newlyMatch + d.noLongerMatch + d.differentActions + d.newErrors > 0);
}

function printReport(report: WhatIfReport, window: string, running: string, candidate: string): void {
  print(`what-if: rules ${candidate} against the running ${running}, over ${window}`);
  if (report.rules.length === 0) return print(`no rule differs (${report.unchanged} unchanged): nothing would change`);
  for (const d of report.rules) {
    print(
      `${d.rule} (${d.status}): ${counts(d)}, of ${d.events} event${d.events === 1 ? '' : 's'} it listens to${d.unknown ? `; ${d.unknown} not evaluable (a page or fact of the past that is not kept; --fetch reads them now)` : ''}`,
    );
    for (const e of d.examples) print(`    ${e.change} ${e.eventId} ${e.type}: ${clip(e.before)}  →  ${clip(e.after)}`);
  }
  print(`${report.unchanged} rule${report.unchanged === 1 ? '' : 's'} unchanged (not evaluated)`);
}

function counts(d: RuleDiff): string {
  const parts = [`${d.newlyMatch} newly match`, `${d.noLongerMatch} no longer match`, `${d.differentActions} render different actions`];
  if (d.newErrors) parts.push(`${d.newErrors} newly fail`);
  return parts.join(', ');
}

function clip(s: string): string {
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

/**
 * `--fetch`: current reads from Notion for what the store did not keep, at the configured pace
 * (delivery.limits.notion, as `snapshot` reads), a page read once for all its events.
 */
function pacedNotion(config: Config): (fact: Fact, event: NotionEvent) => Promise<unknown> {
  const client = createNotionClient(config, createLogger('silent'));
  if (!client) throw new CliError('whatif --fetch needs a Notion token (NOTION_TOKEN or notion.token)', EXIT_USAGE);
  const pace = new NotionPace(1000 / limitsOf(config.delivery.limits).notion.rate, 'whatif --fetch');
  const reads = new Map<string, Promise<unknown>>();
  return (fact, event) => {
    const key = `${fact}:${fact === 'page' || fact === 'content' ? event.entity.id : event.id}`;
    let p = reads.get(key);
    if (!p) reads.set(key, (p = pace.call(`read the ${fact}`, () => notionFacts(client).get(fact, event))));
    return p;
  };
}
