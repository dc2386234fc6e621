import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Problem } from '../config/errors.js';
import { createAjv } from '../util/ajv.js';
import { readSchema } from '../util/paths.js';
import { orList } from '../util/suggest.js';
import { dotted, lineOf } from '../util/yaml-position.js';
import { EventTypes } from './event-types.js';
import { compileExpression, ExpressionSyntaxError } from './expression.js';
import { ruleSchemaMessages } from './schema-messages.js';
import { compileTemplate, TemplateSyntaxError, templateReadsStale } from './template.js';
import type { CompiledAction, CompiledRule, Fact } from './types.js';

export interface LoadOptions {
  evalTimeoutMs: number;
  extraEventTypes?: readonly string[];
}

export interface LoadResult {
  /** Enabled rules, compiled, in folder order. Empty when there are problems. */
  rules: CompiledRule[];
  /** Every rule, enabled or not (for listings). */
  all: CompiledRule[];
  problems: Problem[];
  files: string[];
  /** Content hash of the folder: the rules version. */
  version: string;
}

interface RawRule {
  id: string;
  description?: string;
  enabled?: boolean;
  on: string | string[];
  fetch?: Fact | 'none' | Fact[];
  when?: string;
  actions: Array<Record<string, unknown>>;
}

const schema = readSchema<Record<string, unknown>>('rule.schema.json');
const validateRule = createAjv({ useDefaults: true, strictRequired: false }).compile<RawRule>(schema);

/**
 * Reads every visible `*.yaml`/`*.yml` under `dir` (recursively, following symlinks, skipping
 * names that start with "." such as Kubernetes' `..data`), validates each rule against
 * schemas/rule.schema.json and compiles its condition and templates. Reports every problem with
 * file, line and rule id. The server, `validate`, `test` and `run` all load rules through here.
 */
export function loadRules(dir: string, options: LoadOptions): LoadResult {
  const problems: Problem[] = [];
  const files = listRuleFiles(dir, problems);
  const types = new EventTypes(options.extraEventTypes);
  const all: CompiledRule[] = [];
  const seen = new Map<string, { file: string; line: number }>();
  const hash = createHash('sha256');

  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, message: `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      continue;
    }
    hashFile(hash, dir, file, text);
    const lc = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [];
    if (!Array.isArray(docs)) continue; // an empty stream
    for (const doc of list) {
      if (doc.errors.length > 0) {
        for (const e of doc.errors) problems.push({ file, line: lc.linePos(e.pos[0]).line, message: `YAML: ${e.message.split('\n')[0]}` });
        continue;
      }
      if (doc.contents === null) continue; // an empty document, e.g. a trailing ---
      const rule = compileDocument(doc, lc, file, types, options, problems, all.length);
      if (!rule) continue;
      const first = seen.get(rule.id);
      if (first) {
        problems.push({ file, line: rule.line, where: rule.id, message: `duplicate rule id (first defined at ${first.file}:${first.line})` });
        continue;
      }
      seen.set(rule.id, { file, line: rule.line });
      all.push(rule);
    }
  }
  const version = hash.digest('hex').slice(0, 12);
  const ok = problems.length === 0;
  return { rules: ok ? all.filter((r) => r.enabled) : [], all, problems, files, version };
}

function compileDocument(
  doc: Document,
  lc: LineCounter,
  file: string,
  types: EventTypes,
  options: LoadOptions,
  problems: Problem[],
  order: number,
): CompiledRule | undefined {
  const data: unknown = doc.toJS();
  const docLine = lineOf(doc, lc, []);
  const idGuess = data && typeof data === 'object' && typeof (data as { id?: unknown }).id === 'string' ? (data as { id: string }).id : undefined;
  const where = idGuess ?? `(rule at line ${docLine})`;
  const before = problems.length;
  const add = (path: (string | number)[], message: string, key?: string) =>
    problems.push({ file, line: lineOf(doc, lc, path, key), where, message: path.length || key ? `${dotted(key ? [...path, key] : path)}: ${message}` : message });

  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    problems.push({ file, line: docLine, message: 'a rule must be a YAML mapping with id, on and actions' });
    return undefined;
  }
  // Event types are checked even when the schema fails, so one run reports both.
  const rawOn = (data as { on?: unknown }).on;
  const onList = typeof rawOn === 'string' ? [rawOn] : Array.isArray(rawOn) ? rawOn : [];
  onList.forEach((pattern, i) => {
    if (typeof pattern !== 'string' || types.isKnown(pattern)) return;
    const hints = types.suggest(pattern);
    const path = Array.isArray(rawOn) ? ['on', i] : ['on'];
    add(path, `unknown event type "${pattern}"${hints.length ? ` (did you mean ${orList(hints.map((h) => `"${h}"`))}?)` : ''}; add it to rules.extraEventTypes if Notion has introduced it`);
  });
  if (!validateRule(data)) {
    for (const m of ruleSchemaMessages(validateRule.errors ?? [], schema)) add(m.path, m.message, m.key);
    return undefined;
  }
  const raw = data;
  const on = Array.isArray(raw.on) ? raw.on : [raw.on];

  const exprOptions = { timeoutMs: options.evalTimeoutMs };
  let when: CompiledRule['when'];
  if (raw.when !== undefined) {
    try {
      when = compileExpression(raw.when, exprOptions);
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      add(['when'], `${err.label} at column ${err.column}: ${err.message}`);
    }
  }
  const actions: CompiledAction[] = [];
  raw.actions.forEach((item, i) => {
    const [type, params] = Object.entries(item)[0]!;
    try {
      const compiled: CompiledAction = { type, params: compileTemplate(params ?? {}, exprOptions), line: lineOf(doc, lc, ['actions', i]) };
      if (type === 'http') {
        const origin = fixedOrigin(String((params as { url?: unknown }).url ?? ''));
        if (!origin) {
          add(['actions', i, type, 'url'], 'must start with a fixed scheme and host (https://example.com/…); templates may fill only the path and query');
          return;
        }
        compiled.origin = origin;
      }
      actions.push(compiled);
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      add(['actions', i, type, ...err.path], `template: ${err.message}`);
    }
  });
  if (problems.length > before) return undefined;

  const fetch: Fact[] = raw.fetch === undefined || raw.fetch === 'none' ? [] : Array.isArray(raw.fetch) ? raw.fetch : [raw.fetch];
  return {
    id: raw.id,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    enabled: raw.enabled !== false,
    file,
    line: docLine,
    on,
    fetch,
    ...(when ? { when } : {}),
    actions,
    order,
    readsStale: (when?.readsStale ?? false) || actions.some((a) => templateReadsStale(a.params)),
  };
}

function hashFile(hash: ReturnType<typeof createHash>, dir: string, file: string, text: string): void {
  hash.update(relative(dir, file)).update('\0').update(text).update('\0');
}

/** The folder's version (content hash) as loadRules computes it, without parsing anything. */
export function rulesVersion(dir: string): string {
  const hash = createHash('sha256');
  for (const file of listRuleFiles(dir)) {
    try {
      hashFile(hash, dir, file, readFileSync(file, 'utf8'));
    } catch {
      hash.update(`unreadable:${file}`);
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** The origin written literally before any `{{` of a URL template, if it is complete. */
function fixedOrigin(url: string): string | undefined {
  const literal = url.split('{{')[0]!;
  const m = /^(https?:\/\/[^/?#]+)[/?#]/i.exec(literal) ?? (url.includes('{{') ? null : /^(https?:\/\/[^/?#]+)$/i.exec(literal));
  if (!m) return undefined;
  try {
    return new URL(m[1]!).origin;
  } catch {
    return undefined;
  }
}

/** Rule unit tests (`notion-rules test`) live beside rules as `*.test.yaml`; they are not rules. */
export const TEST_FILE = /\.test\.ya?ml$/i;

/** Visible YAML files under `dir`, sorted, each once (symlinked folders are followed once). */
export function listRuleFiles(dir: string, problems: Problem[] = []): string[] {
  const out: string[] = [];
  const visited = new Set<string>();
  const walk = (d: string) => {
    let real: string;
    try {
      real = realpathSync(d);
    } catch (err) {
      problems.push({ file: d, message: `cannot read rules folder (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(d, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = statSync(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // a dangling link, e.g. mid-swap of a ConfigMap
        }
      }
      if (isDir) walk(full);
      else if (isFile && /\.ya?ml$/i.test(entry.name) && !TEST_FILE.test(entry.name)) out.push(full);
    }
  };
  walk(dir);
  return out;
}
