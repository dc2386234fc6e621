#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { version } from '../util/paths.js';
import { EXIT_OK, EXIT_USAGE, reportError } from './output.js';

const DEFAULT_CONFIG = process.env.NOTION_RULES_CONFIG ?? 'config.yaml';

type Action = (...args: unknown[]) => void | Promise<void>;

/**
 * A command's module, imported when the command runs: `--help`, `validate` and `test` do not load
 * the server, the store drivers or the API clients.
 */
async function load(path: string, name: string): Promise<Action> {
  const mod = (await import(path)) as Record<string, Action>;
  return mod[name]!;
}

function lazy(path: string, name: string): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    await (
      await load(path, name)
    )(...args);
  };
}

export function buildProgram(): Command {
  const program = new Command('notion-rules')
    .description('Notion webhook automation: verified ingestion, YAML rules, durable actions')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run notion-rules --help for usage)');

  program
    .command('serve')
    .description('receive webhooks and run rules')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--handshake', "accept only Notion's verification handshake (before you have the token)")
    .action(lazy('./commands/serve.js', 'serve'));

  program
    .command('init')
    .description('scaffold a rules folder: config.yaml, an example rule with its test and fixture, and the JSON Schemas for editors')
    .argument('<dir>', 'the folder to write (created if missing; existing files are never overwritten)')
    .option('--json', 'print the files written as JSON')
    .action(lazy('./commands/init.js', 'initCommand'));

  program
    .command('sign')
    .description('print the X-Notion-Signature header value for FILE (for curl)')
    .argument('<file>', 'the exact body to sign, or - for standard input')
    .option('-s, --secret <secret>', 'the verification token (default: $NOTION_WEBHOOK_SECRET)')
    .action(lazy('./commands/sign.js', 'signCommand'));

  program
    .command('token')
    .description("print the verification token received in Notion's handshake (the first one is kept)")
    .option('--forget', 'forget the stored token, so that the next handshake is kept')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/token.js', 'tokenCommand'));

  const explicit = (cmd: Command) => cmd.getOptionValueSource('config') === 'cli';

  program
    .command('validate')
    .description('check every rule: YAML, schema, ids, JSONata, actions, event types (exit 1 on any problem)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-r, --rules <dir>', 'rules folder (default: rules.dir of the config)')
    .option('--json', 'print the result as JSON')
    .action((opts, cmd: Command) => load('./commands/validate.js', 'validateCommand').then((run) => run(opts, explicit(cmd))));

  program
    .command('test')
    .description('run the rule unit tests (*.test.yaml) under DIR; no network')
    .argument('[dir]', 'folder of *.test.yaml files (default: the rules folder)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-r, --rules <dir>', 'rules folder (default: rules.dir of the config)')
    .option('--reporter <name>', 'text (default), junit (JUnit XML for CI) or json')
    .option('--json', 'the same as --reporter json')
    .action((dir: string | undefined, opts, cmd: Command) => load('./commands/test.js', 'testCommand').then((run) => run(dir, opts, explicit(cmd))));

  program
    .command('run')
    .description('show which rules an event matches, the rendered actions, and why the others did not')
    .option('-e, --event <file>', 'the event (either envelope), or - for standard input')
    .option('--events <dir>', 'a folder of event files: simulate throttle, digest and delays over them, on their own clock')
    .option('--now <time>', 'with --events: the clock at the end (ISO time; default now)')
    .option('--dry-run', 'evaluate only; without it the matched actions are sent once')
    .option('--page <file>', 'the page object, standing in for GET /v1/pages/:id')
    .option('--content <file>', 'the page text, standing in for its blocks')
    .option('--database <file>', 'the database object')
    .option('--comment <file>', 'the comment of a comment.* event (GET /v1/comments/:id)')
    .option('--authors <file>', 'the event authors as people: [{ id, name, type, email }]')
    .option('--before <file>', 'the page as last seen: { title, props } (rules reading before or changes)')
    .option('--json', 'print the outcomes as JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-r, --rules <dir>', 'rules folder (default: rules.dir of the config)')
    .action((opts, cmd: Command) => load('./commands/run.js', 'runCommand').then((run) => run(opts, explicit(cmd))));

  program
    .command('whatif')
    .description(
      'what a changed rules folder would have done with the stored events, against the running rules: per rule, events newly matched, no longer matched, or with different actions',
    )
    .requiredOption('-r, --rules <dir>', 'the candidate rules folder')
    .option('--against <dir>', 'the rules to compare with (default: rules.dir of the config)')
    .option('--since <duration>', 'events received this long ago or later (default 24h)')
    .option('--last <n>', 'the last N events received, instead of --since')
    .option('--fetch', "read from Notion (at its pace) what the store did not keep for a past event (a page's state then is not always kept)")
    .option('--examples <n>', 'examples shown per rule and kind of change', '3')
    .option('--fail-on-change', 'exit 1 when any rule would act differently (for CI)')
    .option('--json', 'print the report as JSON')
    .option('-c, --config <file>', 'configuration file (its store holds the events)', DEFAULT_CONFIG)
    .action(lazy('./commands/whatif.js', 'whatifCommand'));

  program
    .command('events')
    .description('recent events and what became of them')
    .option('--status <status>', 'new, pending, processed or dead')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/ops.js', 'eventsCommand'));

  program
    .command('prune')
    .description('delete resolved events past store.retention.days, with their jobs and attempts (the server does it on its own)')
    .option('--dry-run', 'only count what would be deleted')
    .option('--json', 'print JSON')
    .option('--days <n>', 'keep this many days instead of store.retention.days')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/ops.js', 'pruneCommand'));

  program
    .command('snapshot')
    .description("record what each page of a database looks like now, so rules' `before` and `changes` know the first change after deployment")
    .requiredOption('--database <id>', 'a database (each of its data sources) or a data source')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/snapshot.js', 'snapshotCommand'));

  program
    .command('replay')
    .description("queue an event's dead jobs again (they resume at the failed action) and match its failed rules again")
    .argument('[id]', 'event id')
    .option('--dead', 'every dead job')
    .option('--failed', 'every event a rule failed for: its failed rules are matched again')
    .option('--rerender', "render the dead jobs' actions again from the current rules (after fixing a rule) instead of as they were")
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/ops.js', 'replayCommand'));

  program
    .command('pause')
    .description('pause a rule: its matches make no jobs, on every replica and across restarts, until resumed (recorded in the audit log)')
    .argument('<rule>', 'rule id')
    .option('--until <time>', 'resume on its own then: an ISO time or a duration from now (2h, 30m)')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/rule-control.js', 'pauseCommand'));

  program
    .command('resume')
    .description('resume a paused rule (recorded in the audit log)')
    .argument('<rule>', 'rule id')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/rule-control.js', 'resumeCommand'));

  program
    .command('audit')
    .description('the audit log: each load of the rules (added, removed, changed) and each pause, resume and replay, with who did it')
    .option('--rule <id>', 'only entries about this rule')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/rule-control.js', 'auditCommand'));

  program
    .command('search')
    .description('query the search index')
    .argument('<words...>', 'words to find')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(lazy('./commands/ops.js', 'searchCommand'));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    return reportError(err);
  }
}

// A reader that stops early (`notion-rules events | head`) closes the pipe: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv);
