import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleSet } from '../../engine/rule-set.js';
import { simulate } from '../../engine/simulate.js';
import { formatProblem } from '../../config/errors.js';
import { evaluateEvent } from '../../engine/evaluate.js';
import { loadOptionsOf } from '../../engine/load.js';
import { buildRuleSet } from '../../engine/rule-set.js';
import { fixtureFacts } from '../../engine/rule-tests.js';
import type { Fact, FactSource, RuleOutcome } from '../../engine/types.js';
import type { Logger } from 'pino';
import { createNotionClient } from '../../actions/notion-client.js';
import { createActions } from '../../actions/registry.js';
import type { Config } from '../../config/types.js';
import { withDefaults } from '../../actions/registry.js';
import { notionFacts } from '../../matching/facts.js';
import type { NotionEvent } from '../../model/event.js';
import { InvalidEvent, normalize } from '../../model/normalize.js';
import { pino } from 'pino';
import { createLogger } from '../../server/logger.js';
import { openStore } from '../../store/open.js';
import { authoringConfig } from '../authoring-config.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import type { AuthoringOptions } from './validate.js';

export interface RunOptions extends AuthoringOptions {
  event?: string;
  /** A folder of event files: simulate throttle, digest and delays over them (see simulate). */
  events?: string;
  /** The simulation's clock at the end (ISO); default: now. */
  now?: string;
  dryRun?: boolean;
  page?: string;
  content?: string;
  database?: string;
  comment?: string;
  authors?: string;
  before?: string;
  json?: boolean;
}

/**
 * `notion-rules run --event FILE --dry-run`: which rules match and their rendered actions, and for
 * each rule that did not, why (type not subscribed, condition false with the values it read,
 * condition error). Without --dry-run the matched actions are then sent, once.
 * Facts come from --page/--content/--database/--comment/--authors files (or the Notion API when
 * not a dry run); `before` from --before (else the page counts as never seen).
 */
export async function runCommand(opts: RunOptions, explicitConfig: boolean): Promise<void> {
  const config = authoringConfig(opts.config, explicitConfig);
  const rulesDir = opts.rules ?? config.rules.dir;
  const built = buildRuleSet(rulesDir, loadOptionsOf(config.rules));
  if (!built.ok) {
    for (const p of built.problems) print(formatProblem(p));
    throw new CliError(`the rules in ${rulesDir} are invalid (notion-rules validate)`, EXIT_PROBLEMS);
  }
  if (!opts.event === !opts.events) throw new CliError('run: give --event FILE, or --events DIR to simulate several', EXIT_USAGE);
  if (opts.events) return simulateCommand(built.ruleSet, opts);
  const event = readEvent(opts.event!);
  const { facts, notion, log } = factsFor(opts, config);
  const outcomes = await evaluateEvent(built.ruleSet, event, { facts, explainAll: true });
  const head = { event: { id: event.id, type: event.type }, version: built.ruleSet.version, outcomes };
  if (opts.json && opts.dryRun) return print(JSON.stringify(head, null, 2));
  if (!opts.json) {
    print(
      `event ${event.id} (${event.type}) against ${built.ruleSet.rules.length} rules, version ${built.ruleSet.version}${opts.dryRun ? ' — dry run, nothing sent' : ''}`,
    );
    for (const o of outcomes) print(describe(o));
  }
  if (opts.dryRun) return;
  const sent = await send(outcomes, event, config, notion, log, !opts.json);
  if (opts.json) print(JSON.stringify({ ...head, sent }, null, 2));
  const failed = sent.filter((s) => s.error !== undefined).length;
  if (failed > 0) throw new CliError(`${failed} action${failed === 1 ? '' : 's'} failed`, EXIT_PROBLEMS);
}

/** What `run` did with one action it sent. */
interface Sent {
  rule: string;
  action: number;
  type: string;
  result?: unknown;
  error?: string;
}

/**
 * `run --events DIR [--now ISO]`: the events of a folder in timestamp order through throttle,
 * digest and delays on their own clock, up to `--now`; what would run when. Nothing is sent.
 */
async function simulateCommand(ruleSet: RuleSet, opts: RunOptions): Promise<void> {
  const files = readdirSync(opts.events!)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new CliError(`run: no *.json event files in ${opts.events}`, EXIT_USAGE);
  const events = files.map((f) => readEvent(join(opts.events!, f)));
  const now = opts.now ? new Date(opts.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new CliError(`run: --now "${opts.now}" is not a date (2026-11-30T09:00:00Z)`, EXIT_USAGE);
  const { facts } = factsFor({ ...opts, dryRun: true }, authoringConfig(opts.config, false));
  const result = await simulate(ruleSet, events, facts, now);
  if (opts.json) return print(JSON.stringify(result, null, 2));
  print(`${events.length} events from ${opts.events}, clock until ${now.toISOString()} — simulation, nothing sent`);
  for (const s of result.steps) {
    const detail = s.error ?? (s.actions ? s.actions.map((a) => `${a.type} ${JSON.stringify(a.params)}`).join('; ') : '');
    print(
      `${s.at}  ${s.what.padEnd(13)} ${s.rule}${s.key !== undefined ? ` [${s.key}]` : ''}${s.items !== undefined ? ` ${s.items} items` : ''}${s.eventId ? ` ${s.eventId}` : ''}${detail ? `: ${detail}` : ''}`,
    );
  }
  for (const d of result.pending.digests) print(`pending       ${d.rule} [${d.key}] digest of ${d.items} items, due ${d.dueAt}`);
  for (const d of result.pending.delays) print(`pending       ${d.rule} [${d.key}] wait for ${d.eventId}, due ${d.dueAt}`);
}

function readEvent(file: string): NotionEvent {
  try {
    return normalize(JSON.parse(readJson(file, 'event')));
  } catch (err) {
    if (err instanceof InvalidEvent) throw new CliError(`${file}: not an event: ${err.detail}`, EXIT_USAGE);
    throw err;
  }
}

/** The facts of `run`: fixture files first; without one, the Notion API when a token is configured and this is no dry run. */
function factsFor(opts: RunOptions, config: Config): { facts: FactSource; notion: ReturnType<typeof createNotionClient>; log: Logger } {
  const fixtures: Partial<Record<Fact, unknown>> = {};
  if (opts.page) fixtures.page = JSON.parse(readJson(opts.page, 'page'));
  if (opts.database) fixtures.database = JSON.parse(readJson(opts.database, 'database'));
  if (opts.content) fixtures.content = readJson(opts.content, 'content');
  if (opts.comment) fixtures.comment = JSON.parse(readJson(opts.comment, 'comment'));
  if (opts.authors) fixtures.authors = JSON.parse(readJson(opts.authors, 'authors'));
  if (opts.before) fixtures.before = JSON.parse(readJson(opts.before, 'before'));
  const given = fixtureFacts(fixtures, 'no fixture:');
  // Log lines (a `log` action's among them) go to stderr when stdout carries the JSON.
  const log = createLogger(config.log.level, opts.json ? pino.destination(2) : undefined);
  const notion = opts.dryRun ? undefined : createNotionClient(config, log);
  const api = notion ? notionFacts(notion) : undefined;
  const facts: FactSource = {
    get: async (fact, ev) => {
      // A page never seen; the event's authors without names: as in rule tests.
      if (fixtures[fact] !== undefined || fact === 'before' || (fact === 'authors' && !api)) return given.get(fact, ev);
      if (api) return api.get(fact, ev);
      throw new Error(`this rule fetches the ${fact}: pass --${fact} FILE${opts.dryRun ? '' : ' (or set NOTION_TOKEN)'}`);
    },
  };
  return { facts, notion, log };
}

/**
 * Runs the matched rules' actions once, in order, through the server's own executors; a rule stops
 * at its first failure. No job is stored and nothing is retried: this is for trying a rule out.
 */
async function send(
  outcomes: RuleOutcome[],
  event: NotionEvent,
  config: Config,
  notion: ReturnType<typeof createNotionClient>,
  log: Logger,
  lines: boolean,
): Promise<Sent[]> {
  const store = await openStore(config.store.url);
  const actions = createActions(config, notion, log);
  const sent: Sent[] = [];
  try {
    for (const o of outcomes) {
      if (!o.matched) continue;
      for (const [i, action] of withDefaults(o.actions, event).entries()) {
        try {
          const result = await actions.get(action.type)!(action.params, {
            eventId: event.id,
            ruleId: o.rule,
            actionIndex: i,
            retry: false,
            since: Date.now(),
            log: log.child({ eventId: event.id, ruleId: o.rule }),
            store,
          });
          sent.push({ rule: o.rule, action: i + 1, type: action.type, ...(result ? { result } : {}) });
          if (lines) print(`sent     ${o.rule} ${i + 1}. ${action.type}${result ? ` ${JSON.stringify(result)}` : ''}`);
        } catch (err) {
          sent.push({ rule: o.rule, action: i + 1, type: action.type, error: (err as Error).message });
          if (lines) print(`FAILED   ${o.rule} ${i + 1}. ${action.type}: ${(err as Error).message}`);
          break;
        }
      }
    }
  } finally {
    await store.close();
  }
  return sent;
}

function describe(o: RuleOutcome): string {
  if (o.matched) {
    const lines = o.actions.map((a, i) => `    ${i + 1}. ${a.type} ${JSON.stringify(a.params)}`);
    if (o.digest) lines.push(`    joins digest group "${o.digest.key}": its actions run once for the group, with items`);
    if (o.throttleKey !== undefined) lines.push(`    throttle key "${o.throttleKey}": runs once per key per window`);
    return [`MATCH    ${o.rule}`, ...lines].join('\n');
  }
  switch (o.reason) {
    case 'condition_false':
      return `no       ${o.rule}: condition false; it read ${
        Object.entries(o.values)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join(', ') || 'nothing'
      }`;
    case 'type_not_subscribed':
      return `-        ${o.rule}: does not listen to this event type`;
    case 'disabled':
      return `-        ${o.rule}: disabled`;
    case 'throttled':
      return `-        ${o.rule}: throttled (already ran for key "${o.key}" in its window)`;
    case 'paused':
      return `-        ${o.rule}: paused`;
    default:
      return `ERROR    ${o.rule}: ${o.reason.replace('_', ' ')}: ${o.error}`;
  }
}

function readJson(file: string, what: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`--${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, EXIT_USAGE);
  }
}
