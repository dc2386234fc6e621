import { readFileSync } from 'node:fs';
import { formatProblem } from '../../config/errors.js';
import { evaluateEvent } from '../../engine/evaluate.js';
import { buildRuleSet } from '../../engine/rule-set.js';
import type { Fact, FactSource, RuleOutcome } from '../../engine/types.js';
import { InvalidEvent, normalize } from '../../receiver/normalize.js';
import { authoringConfig } from '../authoring-config.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import type { AuthoringOptions } from './validate.js';

export interface RunOptions extends AuthoringOptions {
  event: string;
  dryRun?: boolean;
  page?: string;
  content?: string;
  database?: string;
  json?: boolean;
}

/**
 * `notion-rules run --event FILE --dry-run`: which rules match and their rendered actions, and for
 * each rule that did not, why (type not subscribed, condition false with the values it read,
 * condition error). Facts come from --page/--content/--database files.
 */
export async function runCommand(opts: RunOptions, explicitConfig: boolean): Promise<void> {
  const config = authoringConfig(opts.config, explicitConfig);
  const rulesDir = opts.rules ?? config.rules.dir;
  const built = buildRuleSet(rulesDir, { evalTimeoutMs: config.rules.evalTimeoutMs, extraEventTypes: config.rules.extraEventTypes });
  if (!built.ok) {
    for (const p of built.problems) print(formatProblem(p));
    throw new CliError(`the rules in ${rulesDir} are invalid (notion-rules validate)`, EXIT_PROBLEMS);
  }
  if (!opts.dryRun) {
    throw new CliError('run: only --dry-run is available from the command line; send the event to a running server to deliver its actions', EXIT_USAGE);
  }
  let event;
  try {
    event = normalize(JSON.parse(readJson(opts.event, 'event')));
  } catch (err) {
    if (err instanceof InvalidEvent) throw new CliError(`${opts.event}: not an event: ${err.detail}`, EXIT_USAGE);
    throw err;
  }
  const fixtures: Partial<Record<Fact, unknown>> = {};
  if (opts.page) fixtures.page = JSON.parse(readJson(opts.page, 'page'));
  if (opts.database) fixtures.database = JSON.parse(readJson(opts.database, 'database'));
  if (opts.content) fixtures.content = readJson(opts.content, 'content');
  const facts: FactSource = {
    get: async (fact) => {
      if (fixtures[fact] === undefined) throw new Error(`this rule fetches the ${fact}: pass --${fact} FILE`);
      return fixtures[fact];
    },
  };
  const outcomes = await evaluateEvent(built.ruleSet, event, { facts, explainAll: true });
  if (opts.json) {
    print(JSON.stringify({ event: { id: event.id, type: event.type }, version: built.ruleSet.version, outcomes }, null, 2));
    return;
  }
  print(`event ${event.id} (${event.type}) against ${built.ruleSet.rules.length} rules, version ${built.ruleSet.version} — dry run, nothing sent`);
  for (const o of outcomes) print(describe(o));
}

function describe(o: RuleOutcome): string {
  if (o.matched) {
    const lines = o.actions.map((a, i) => `    ${i + 1}. ${a.type} ${JSON.stringify(a.params)}`);
    return [`MATCH    ${o.rule}`, ...lines].join('\n');
  }
  switch (o.reason) {
    case 'condition_false':
      return `no       ${o.rule}: condition false; it read ${Object.entries(o.values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ') || 'nothing'}`;
    case 'type_not_subscribed':
      return `-        ${o.rule}: does not listen to this event type`;
    case 'disabled':
      return `-        ${o.rule}: disabled`;
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
