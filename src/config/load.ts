import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { ErrorObject } from 'ajv';
import { createAjv, usefulErrors } from '../util/ajv.js';
import { readSchema } from '../util/paths.js';
import { orList, suggest } from '../util/suggest.js';
import { dotted, lineOf, pointerToPath } from '../util/yaml-position.js';
import { ConfigError, type Problem } from './errors.js';
import { interpolate, type MissingVariable, type UnreadableFile } from './interpolate.js';
import type { Config } from './types.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * For `validate`, `test` and `run`: a missing environment variable is not an error (its key is
   * left unset), so rule authoring needs no secrets.
   */
  lenient?: boolean;
}

/** Environment variables that fill a key the file leaves unset (SPEC §2). */
const ENV_FALLBACKS: ReadonlyArray<[string, string[]]> = [
  ['NOTION_WEBHOOK_SECRET', ['notion', 'verificationToken']],
  ['NOTION_TOKEN', ['notion', 'token']],
  ['SLACK_BOT_TOKEN', ['slack', 'token']],
  ['NOTION_RULES_ADMIN_TOKEN', ['security', 'adminToken']],
  ['NOTION_RULES_HTTP_SECRET', ['http', 'signingSecret']],
  ['SENTRY_DSN', ['sentry', 'dsn']],
  ['SENTRY_ENVIRONMENT', ['sentry', 'environment']],
];

const schema = readSchema<Record<string, unknown>>('config.schema.json');
const validate = createAjv({ useDefaults: true }).compile(schema);

/** Reads, interpolates, validates and freezes a config file. Throws ConfigError listing every problem. */
export function loadConfig(file: string | undefined, options: LoadOptions = {}): Config {
  let text = '';
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError([{ file, message: code === 'ENOENT' ? 'file not found' : `cannot read (${code})` }]);
    }
  }
  return parseConfig(text, file ?? '(defaults)', options);
}

/** Like loadConfig, for configuration text already in hand; `source` names it in messages. */
export function parseConfig(text: string, source: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file: source, line: lc.linePos(e.pos[0]).line, message: `YAML: ${firstLine(e.message)}` })));
  }
  const raw: unknown = doc.toJS() ?? {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file: source, line: 1, message: 'must be a YAML mapping (server:, notion:, rules: …)' }]);
  }

  const missing: MissingVariable[] = [];
  const unreadable: UnreadableFile[] = [];
  const data = interpolate(raw, env, missing, [], unreadable) as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const u of unreadable) {
    if (options.lenient) {
      unset(data, u.path);
      continue;
    }
    problems.push({ file: source, line: lineOf(doc, lc, u.path), where: dotted(u.path), message: `cannot read the secret file ${u.file} (${u.code})` });
  }
  for (const m of missing) {
    if (options.lenient) {
      unset(data, m.path);
      continue;
    }
    problems.push({
      file: source,
      line: lineOf(doc, lc, m.path),
      where: dotted(m.path),
      message: `environment variable ${m.variable} is not set (set it, or write \${${m.variable}:-default})`,
    });
  }
  for (const [variable, path] of ENV_FALLBACKS) {
    const value = env[variable];
    if (value && getIn(data, path) === undefined) setIn(data, path, value);
  }
  // A list of verification tokens (rotation): the first signs the handshake's subscription, all are accepted.
  const tokens = getIn(data, ['notion', 'verificationToken']);
  if (Array.isArray(tokens) && tokens.length > 0 && tokens.every((t) => typeof t === 'string')) {
    const previous = getIn(data, ['notion', 'previousVerificationTokens']);
    setIn(data, ['notion', 'verificationToken'], tokens[0]);
    setIn(data, ['notion', 'previousVerificationTokens'], [...(tokens.slice(1) as string[]), ...(Array.isArray(previous) ? previous : [])]);
  }
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port)) problems.push({ file: 'environment', where: 'PORT', message: `must be a port number, got "${env.PORT}"` });
    else setIn(data, ['server', 'port'], port);
  }

  if (!validate(data)) {
    for (const e of usefulErrors(validate.errors ?? [])) problems.push(schemaProblem(e, source, doc, lc));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = { ...(data as unknown as Omit<Config, 'source'>), source };
  return deepFreeze(config);
}

function schemaProblem(e: ErrorObject, file: string, doc: ReturnType<typeof parseDocument>, lc: LineCounter): Problem {
  const path = pointerToPath(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys(propertiesAt(path));
    const hint = suggest(key, allowed, 1);
    return {
      file,
      line: lineOf(doc, lc, path, key),
      where: dotted([...path, key]),
      message: `unknown key${hint.length ? ` (did you mean "${hint[0]}"?)` : allowed.length ? ` (expected ${orList(allowed)})` : ''}`,
    };
  }
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'enum') message = `must be one of ${orList((e.params as { allowedValues: unknown[] }).allowedValues.map(String))}`;
  if (e.keyword === 'required') {
    const key = (e.params as { missingProperty: string }).missingProperty;
    return { file, line: lineOf(doc, lc, path), where: dotted([...path, key]), message: 'is required' };
  }
  return { file, line: lineOf(doc, lc, path), where: dotted(path) || '(top level)', message };
}

function propertiesAt(path: (string | number)[]): Record<string, unknown> {
  let node = schema as { properties?: Record<string, unknown> };
  for (const seg of path) node = (node.properties?.[String(seg)] ?? {}) as typeof node;
  return node.properties ?? {};
}

function getIn(obj: Record<string, unknown>, path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  return cur;
}

function setIn(obj: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (!next || typeof next !== 'object') cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function unset(obj: Record<string, unknown>, path: (string | number)[]): void {
  const parent = getIn(obj, path.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path[path.length - 1]!];
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
