import jsonata from 'jsonata';
import { compileFast, FALLBACK, type FastEvaluator } from './fast-condition.js';
import { BudgetExceeded, guardedJsonata, STACK_LIMIT, UnsafeRegex } from './guardrails.js';

export interface ExpressionOptions {
  /** The evaluation's budget of work (rules.evalTimeoutMs), counted in steps, not timed. */
  timeoutMs: number;
}

/** A compiled JSONata expression with its source, bounded in time, depth and sequence size. */
export interface Expression {
  source: string;
  evaluate(input: unknown): Promise<unknown>;
  /** Simple paths the expression reads (`page.props.Status`), for "why did it not match". */
  paths: string[];
  /** The value of each of `paths` in `input`: what the condition saw (a large value is described, not kept). */
  explain(input: unknown): Promise<Record<string, unknown>>;
  /** Whether it may read `event.stale` (see `mayReadStale`). */
  readsStale: boolean;
}

/** A JSONata syntax error, with the 1-based column within the expression. */
export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
    /** What kind of problem, for messages: a syntax error, or a regex RE2 cannot run. */
    readonly label = 'JSONata syntax error',
  ) {
    super(message);
  }
}

/** The evaluation used up rules.evalTimeoutMs of work (see guardrails.ts): a timeout, not a bug. */
export class EvaluationTimeout extends Error {}

/**
 * Parses `source` now (so syntax errors surface at load time) and builds the evaluator on first
 * use, then keeps it: in a large folder most rules are never candidates for a given event
 * stream, and an evaluator holds its own environment (~16 KB).
 */
export function compileExpression(source: string, options: ExpressionOptions): Expression {
  const create = () => guardedJsonata(source, options.timeoutMs);
  let paths: string[];
  let fast: FastEvaluator | undefined;
  let readsStale: boolean;
  try {
    const ast = create().ast();
    paths = collectPaths(ast);
    fast = compileFast(ast);
    readsStale = mayReadStale(ast);
  } catch (err) {
    const e = err as { message?: string; position?: number; token?: string };
    throw new ExpressionSyntaxError(
      e.message ?? String(err),
      Math.max(1, e.position ?? 1),
      err instanceof UnsafeRegex ? 'unsafe regular expression' : undefined,
    );
  }
  let expr: jsonata.Expression | undefined;
  const slow = (input: unknown) => (expr ??= create()).evaluate(input).catch((err: unknown) => Promise.reject(evaluationError(err, options)));
  // Each path is a plain dotted name: the fast evaluator reads it unless an array is in the way.
  let readers: Array<{ fast: FastEvaluator | undefined; slow: () => jsonata.Expression }> | undefined;
  return {
    source,
    evaluate: (input) => {
      const v = fast ? fast(input) : FALLBACK;
      return v === FALLBACK ? slow(input) : Promise.resolve(v);
    },
    paths,
    readsStale,
    explain: async (input) => {
      // The AST is read from a throwaway parse; a JSONata evaluator is kept only for a path the
      // fast reader declines.
      readers ??= paths.map((p) => {
        let reader: jsonata.Expression | undefined;
        return { fast: compileFast(jsonata(p).ast()), slow: () => (reader ??= guardedJsonata(p, options.timeoutMs)) };
      });
      const out: Record<string, unknown> = {};
      for (const [i, reader] of readers.entries()) {
        // A fast read is plain data from the context; JSONata's sequences carry extra properties.
        let v = reader.fast ? reader.fast(input) : FALLBACK;
        if (v === FALLBACK) {
          v = await reader
            .slow()
            .evaluate(input)
            .catch(() => undefined);
          if (v !== undefined) v = JSON.parse(JSON.stringify(v)) as unknown;
        }
        out[paths[i]!] = v === undefined ? null : kept(v);
      }
      return out;
    },
  };
}

function evaluationError(err: unknown, _options: ExpressionOptions): Error {
  if (err instanceof BudgetExceeded) return new EvaluationTimeout(err.message);
  const e = err as { code?: string; message?: string; position?: number };
  if (err instanceof RangeError && /string length/i.test(String(e.message)))
    return new EvaluationTimeout('a value grew past the longest string JavaScript can hold');
  if (e.code === 'D1011') return new Error(`expression nested deeper than ${STACK_LIMIT} levels (infinite recursion?)`);
  const where = e.position ? ` (at column ${e.position})` : '';
  return new Error(`${e.message ?? String(err)}${where}`);
}

interface AstNode {
  type?: string;
  value?: unknown;
  steps?: AstNode[];
  [key: string]: unknown;
}

/**
 * Every path of plain names in the AST (`page.props.Status`, `event.type`), with constant
 * indexes (`event.authors[0].type`). A path stops at the first step it cannot name: at a filter
 * (`event.authors[type="bot"]` is read as `event.authors`, the array it filters), a wildcard or
 * a function. Paths inside a filter are relative to the items filtered, so they are not listed.
 */
function collectPaths(ast: unknown): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as AstNode;
    if (n.type === 'path' && Array.isArray(n.steps)) {
      const path = namedPrefix(n.steps);
      if (path) out.add(path);
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'position' && k !== 'stages' && k !== 'predicate') walk(v);
  };
  walk(ast);
  return [...out];
}

function namedPrefix(steps: AstNode[]): string | undefined {
  let path = '';
  for (const step of steps) {
    if (step.type !== 'name' || typeof step.value !== 'string' || step.predicate) break;
    path += (path ? '.' : '') + quoteName(step.value);
    const indexes = ((step.stages ?? []) as AstNode[]).map((st) => {
      const e = st.expr as AstNode | undefined;
      return st.type === 'filter' && e?.type === 'number' && Number.isInteger(e.value) && (e.value as number) >= 0 ? (e.value as number) : undefined;
    });
    if (indexes.includes(undefined)) break;
    path += indexes.map((i) => `[${i}]`).join('');
  }
  return path || undefined;
}

/**
 * Whether an expression may read `event.stale`: it names `stale` (`event.stale`, `"stale"`), or
 * it takes the whole event or the whole input as a value, from which `stale` could be read
 * however it is spelled (`$string(event)`, `event.$keys()`, `event.(…)`, `$`, `$$`, `*`, `**`,
 * `%`). It errs towards yes: a no lets the store skip what `stale` costs on every event.
 */
export function mayReadStale(ast: unknown): boolean {
  const walk = (node: unknown): boolean => {
    if (!node || typeof node !== 'object') return false;
    if (Array.isArray(node)) return node.some(walk);
    const n = node as AstNode;
    if (n.type === 'wildcard' || n.type === 'descendant' || n.type === 'parent') return true;
    if (n.type === 'variable' && (n.value === '' || n.value === '$')) return true;
    if ((n.type === 'name' || n.type === 'string') && n.value === 'stale') return true;
    if (n.type === 'path' && Array.isArray(n.steps) && takesWholeEvent(n.steps)) return true;
    return Object.entries(n).some(([k, v]) => k !== 'position' && walk(v));
  };
  return walk(ast);
}

/** A step `event` that is not just the way to one named field (`event.type`, `event.data.id`). */
function takesWholeEvent(steps: AstNode[]): boolean {
  return steps.some((step, i) => {
    if (step.type !== 'name' || step.value !== 'event') return false;
    const plain = Object.keys(step).every((k) => k === 'type' || k === 'value' || k === 'position');
    return !plain || steps[i + 1]?.type !== 'name';
  });
}

/** A value kept in a report at most this long (as JSON); a larger one is described, not kept. */
const EXPLAIN_MAX = 500;

/** What a report keeps of a value a condition read: itself, or a note of what it was. */
function kept(v: unknown): unknown {
  if (typeof v === 'string') return v.length <= EXPLAIN_MAX ? v : `${v.slice(0, 200)}… (${v.length} characters, not kept)`;
  if (v === null || typeof v !== 'object') return v;
  const json = JSON.stringify(v);
  if (json.length <= EXPLAIN_MAX) return v;
  return `(${Array.isArray(v) ? `array of ${v.length}` : 'object'}, ${json.length} bytes as JSON, not kept)`;
}

function quoteName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : `\`${name}\``;
}
