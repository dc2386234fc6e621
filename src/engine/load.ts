import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Problem } from '../config/errors.js';
import type { Config } from '../config/types.js';
import { createAjv } from '../util/ajv.js';
import { readSchema } from '../util/paths.js';
import { orList } from '../util/suggest.js';
import { turnIfDue } from '../util/turn.js';
import { dotted } from '../util/yaml-position.js';
import { encoderFor } from './encoding.js';
import { EventTypes } from './event-types.js';
import { compileExpression, ExpressionSyntaxError } from './expression.js';
import { ruleSchemaMessages } from './schema-messages.js';
import type { OffThreadParser } from './parse-off-thread.js';
import { lineIn, parseRuleFile, type ParsedDoc } from './rule-file.js';
import { compileTemplate, literalOrigin, TemplateSyntaxError, templateExpressions, templateReadsStale } from './template.js';
import { factsOf } from './rule-facts.js';
import { hashFile, hashOversized } from './folder-hash.js';
import { compileTiming, type RawTiming, timingReadsStale } from './rule-timing.js';
import type { CompiledAction, CompiledRule, Fact, Fetch } from './types.js';

export interface LoadOptions {
  evalTimeoutMs: number;
  extraEventTypes?: readonly string[];
  /** rules.maxFileBytes: a larger file is refused, not read. */
  maxFileBytes?: number;
  /** rules.maxFiles: a folder with more rule files is refused. */
  maxFiles?: number;
  /** rules.testOnReload: the folder's rule tests must pass before its rules are used (the server only). */
  testOnReload?: boolean;
  /** rules.shadowDir: a second folder whose rules all run in shadow mode (the server only; see rule-set.ts). */
  shadowDir?: string;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024;
export const DEFAULT_MAX_FILES = 1000;

/** The load options of a configuration's `rules` section. */
export function loadOptionsOf(rules: Config['rules']): LoadOptions {
  return {
    evalTimeoutMs: rules.evalTimeoutMs,
    extraEventTypes: rules.extraEventTypes,
    maxFileBytes: rules.maxFileBytes,
    maxFiles: rules.maxFiles,
    testOnReload: rules.testOnReload,
  };
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
  mode?: 'live' | 'shadow';
  on: string | string[];
  fetch?: Fetch | 'none' | Fetch[];
  when?: string;
  actions: Array<Record<string, unknown>>;
  throttle?: RawTiming['throttle'];
  digest?: RawTiming['digest'];
  after?: RawTiming['after'];
  schedule?: RawTiming['schedule'];
  active?: RawTiming['active'];
}

const schema = readSchema<Record<string, unknown>>('rule.schema.json');
const validateRule = createAjv({ useDefaults: true, strictRequired: false }).compile<RawRule>(schema);

/**
 * Reads every visible `*.yaml`/`*.yml` under `dir` (recursively, following symlinks that stay
 * inside it, skipping names that start with "." such as Kubernetes' `..data`), validates each rule
 * against schemas/rule.schema.json and compiles its condition and templates. Reports every
 * problem with file, line and rule id; never throws for anything in the folder. `validate`,
 * `test`, `run` and the server's start load rules through here.
 */
export function loadRules(dir: string, options: LoadOptions): LoadResult {
  const load = new FolderLoad(dir, options);
  for (const file of load.files) {
    const text = readRuleFile(load, file);
    if (text !== undefined) for (const doc of parseRuleFile(text).docs) load.addDocument(file, doc);
  }
  return load.result();
}

/**
 * The same as `loadRules`, for a running server: files are parsed in a worker thread (a batch of
 * up to PARSE_BATCH_BYTES per round trip), and the event loop gets a turn between files and
 * documents, so requests are answered while a large folder loads.
 */
export async function loadRulesAsync(dir: string, options: LoadOptions, parser: OffThreadParser): Promise<LoadResult> {
  const load = new FolderLoad(dir, options);
  let batch: Array<{ file: string; text: string }> = [];
  let bytes = 0;
  const parseBatch = async () => {
    const parsed = await parser.parseAll(batch.map((b) => b.text));
    for (const [i, { file }] of batch.entries()) {
      const result = parsed[i]!;
      if (result instanceof Error) {
        load.problems.push({ file, message: `cannot be parsed: ${result.message}` });
        continue;
      }
      for (const doc of result.docs) {
        await turnIfDue(LOAD_SLICE_MS);
        load.addDocument(file, doc);
      }
    }
    batch = [];
    bytes = 0;
  };
  for (const file of load.files) {
    await turnIfDue(LOAD_SLICE_MS);
    // Reads stay synchronous: the files are small (rules.maxFileBytes), and the thread pool is
    // busy with the store's fsyncs under load.
    const text = readRuleFile(load, file);
    if (text === undefined) continue;
    batch.push({ file, text });
    bytes += text.length;
    if (bytes >= PARSE_BATCH_BYTES) await parseBatch();
  }
  if (batch.length > 0) await parseBatch();
  return load.result();
}

/**
 * How long loading may hold the event loop between turns: longer slices than an evaluation's,
 * since under load every turn serves many requests, and a reload should still take under a second.
 */
const LOAD_SLICE_MS = 25;

/** Rule files sent to the parser's worker in one message, at most about this much text. */
const PARSE_BATCH_BYTES = 64 * 1024;

/** A rule file's text, hashed into the version; undefined (a problem recorded) when too large or unreadable. */
function readRuleFile(load: FolderLoad, file: string): string | undefined {
  try {
    if (load.tooLarge(file, statSync(file).size)) return undefined;
    const text = readFileSync(file, 'utf8');
    load.hashFile(file, text);
    return text;
  } catch (err) {
    load.unreadable(file, err);
    return undefined;
  }
}

/** One load of a folder, file by file and document by document. */
class FolderLoad {
  readonly problems: Problem[] = [];
  readonly files: string[];
  private readonly types: EventTypes;
  private readonly all: CompiledRule[] = [];
  private readonly seen = new Map<string, { file: string; line: number }>();
  private readonly hash = createHash('sha256');
  private readonly maxFileBytes: number;

  constructor(
    private readonly dir: string,
    private readonly options: LoadOptions,
  ) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.files = listRuleFiles(dir, this.problems, options.maxFiles ?? DEFAULT_MAX_FILES);
    this.types = new EventTypes(options.extraEventTypes);
  }

  tooLarge(file: string, size: number): boolean {
    if (size <= this.maxFileBytes) return false;
    this.problems.push({
      file,
      message: `is ${formatBytes(size)}, over rules.maxFileBytes (${formatBytes(this.maxFileBytes)}): split it into several files, or raise the limit`,
    });
    hashOversized(this.hash, this.dir, file, size);
    return true;
  }

  unreadable(file: string, err: unknown): void {
    this.problems.push({ file, message: `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
  }

  hashFile(file: string, text: string): void {
    hashFile(this.hash, this.dir, file, text);
  }

  addDocument(file: string, doc: ParsedDoc): void {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) this.problems.push({ file, line: e.line, message: e.message });
      return;
    }
    if (doc.empty) return; // an empty document, e.g. a trailing ---
    let rule: CompiledRule | undefined;
    try {
      rule = compileDocument(doc, file, this.types, this.options, this.problems, this.all.length);
    } catch (err) {
      // A bug, not the user's: still a problem of this file, never a crash of the server.
      this.problems.push({ file, line: doc.line, message: `internal error while loading this rule: ${(err as Error).message}` });
      return;
    }
    if (!rule) return;
    const first = this.seen.get(rule.id);
    if (first) {
      this.problems.push({ file, line: rule.line, where: rule.id, message: `duplicate rule id (first defined at ${first.file}:${first.line})` });
      return;
    }
    this.seen.set(rule.id, { file, line: rule.line });
    this.all.push(rule);
  }

  result(): LoadResult {
    const version = this.hash.digest('hex').slice(0, 12);
    const ok = this.problems.length === 0;
    return { rules: ok ? this.all.filter((r) => r.enabled) : [], all: this.all, problems: this.problems, files: this.files, version };
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

function compileDocument(doc: ParsedDoc, file: string, types: EventTypes, options: LoadOptions, problems: Problem[], order: number): CompiledRule | undefined {
  const data: unknown = doc.data;
  const docLine = doc.line;
  const idGuess = data && typeof data === 'object' && typeof (data as { id?: unknown }).id === 'string' ? (data as { id: string }).id : undefined;
  const where = idGuess ?? `(rule at line ${docLine})`;
  const before = problems.length;
  const add = (path: (string | number)[], message: string, key?: string) =>
    problems.push({ file, line: lineIn(doc, path, key), where, message: path.length || key ? `${dotted(key ? [...path, key] : path)}: ${message}` : message });

  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    problems.push({ file, line: docLine, message: 'a rule must be a YAML mapping with id, on and actions' });
    return undefined;
  }
  // Event types are checked even when the schema fails, so one run reports both.
  const rawOn = (data as { on?: unknown }).on;
  const onList = typeof rawOn === 'string' ? [rawOn] : Array.isArray(rawOn) ? rawOn : [];
  onList.forEach((pattern, i) => {
    if (typeof pattern !== 'string' || pattern === 'schedule' || types.isKnown(pattern)) return;
    const hints = types.suggest(pattern);
    const path = Array.isArray(rawOn) ? ['on', i] : ['on'];
    add(
      path,
      `unknown event type "${pattern}"${hints.length ? ` (did you mean ${orList(hints.map((h) => `"${h}"`))}?)` : ''}; add it to rules.extraEventTypes if Notion has introduced it`,
    );
  });
  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 12); // before the schema adds defaults
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
      const compiled: CompiledAction = {
        type,
        params: compileTemplate(params ?? {}, exprOptions, [], (path) => encoderFor(type, path)),
        line: lineIn(doc, ['actions', i]),
      };
      if (type === 'http') {
        const origin = literalOrigin(String((params as { url?: unknown }).url ?? ''));
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
  const timing = compileTiming(raw, exprOptions, add);
  const fetch: Fact[] = factsOf(raw, on, [when?.source ?? '', ...actions.flatMap((a) => templateExpressions(a.params).map((e) => e.source))], add);
  if (timing.schedule?.query) fetch.push('query');
  if (problems.length > before) return undefined;

  return {
    id: raw.id,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    enabled: raw.enabled !== false,
    mode: raw.mode ?? 'live',
    hash,
    file,
    line: docLine,
    on,
    fetch,
    ...(when ? { when } : {}),
    actions,
    order,
    readsStale: (when?.readsStale ?? false) || actions.some((a) => templateReadsStale(a.params)) || timingReadsStale(timing),
    ...timing,
  };
}

/** The folder's version (content hash) as loadRules computes it, without parsing anything. */
export async function rulesVersion(dir: string, options: Pick<LoadOptions, 'maxFileBytes' | 'maxFiles'> = {}): Promise<string> {
  const hash = createHash('sha256');
  const max = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  for (const file of listRuleFiles(dir, [], options.maxFiles ?? DEFAULT_MAX_FILES)) {
    try {
      const size = (await stat(file)).size;
      if (size > max) hashOversized(hash, dir, file, size);
      else hashFile(hash, dir, file, await readFile(file, 'utf8'));
    } catch {
      hash.update(`unreadable:${file}`);
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** Rule unit tests (`notion-rules test`) live beside rules as `*.test.yaml`; they are not rules. */
export const TEST_FILE = /\.test\.ya?ml$/i;

/**
 * Visible YAML files under `dir`, sorted, each once (symlinked folders are followed once). A
 * symlink that leads outside the folder is a problem and is not followed; so is a folder with
 * more than `maxFiles` rule files (the list then stops there).
 */
export function listRuleFiles(dir: string, problems: Problem[] = [], maxFiles = DEFAULT_MAX_FILES): string[] {
  const out: string[] = [];
  const visited = new Set<string>();
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (err) {
    problems.push({ file: dir, message: `cannot read rules folder (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
    return out;
  }
  const inside = (real: string) => real === root || real.startsWith(root + sep);
  let full = false;
  const walk = (d: string, real: string) => {
    if (visited.has(real)) return;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      problems.push({ file: d, message: `cannot read rules folder (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      return;
    }
    for (const entry of entries) {
      if (full) return;
      if (entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let target = join(real, entry.name);
      if (entry.isSymbolicLink()) {
        try {
          target = realpathSync(path);
          const st = statSync(target);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // a dangling link, e.g. mid-swap of a ConfigMap
        }
        if (!inside(target) && (isDir || /\.ya?ml$/i.test(entry.name))) {
          problems.push({
            file: path,
            message: `is a symlink to ${target}, outside the rules folder: not read (copy the file in, or mount the folder itself)`,
          });
          continue;
        }
      }
      if (isDir) walk(path, target);
      else if (isFile && /\.ya?ml$/i.test(entry.name) && !TEST_FILE.test(entry.name)) {
        if (out.length >= maxFiles) {
          problems.push({
            file: dir,
            message: `holds more than ${maxFiles} rule files (rules.maxFiles): not loaded; merge rules into fewer files, or raise the limit`,
          });
          full = true;
          return;
        }
        out.push(path);
      }
    }
  };
  walk(dir, root);
  return out;
}
