import jsonata from 'jsonata';
import { RE2JS } from 're2js';
import { turnIfDue } from '../util/turn.js';

/**
 * Guardrails for JSONata from rules, so that neither a rule nor the event it reads can stop the
 * service (a page title is attacker-controlled):
 * - regular expressions run on RE2 (linear time, no backtracking); a pattern RE2 cannot run
 *   (backreferences, lookarounds) is refused when the rule is loaded;
 * - a budget of work per evaluation, counted, not timed: each evaluation step costs 1, and a step
 *   whose value is a long string or a long array costs 1 more per 1,000 characters or items. A
 *   paused or busy process never trips it, and the same event always gets the same answer;
 * - no value longer than MAX_STRING characters, and `$pad` checks its width before building;
 * - `$distinct` in linear time (JSONata's compares every pair);
 * - an evaluation gives the event loop a turn every 10 ms at most, so requests (/health, the
 *   webhook) are answered while a long one runs.
 */

/** Work units per millisecond of rules.evalTimeoutMs (what a slow 2-core server does in about that time). */
export const UNITS_PER_MS = 1000;
/** The longest string any step of an expression may produce. */
export const MAX_STRING = 1_000_000;
/** Longest sequence an expression may build (JSONata's own guard). */
export const SEQUENCE_LIMIT = 100_000;
/** Deepest an expression may recurse (JSONata's own guard). */
export const STACK_LIMIT = 300;

const ENTRY = Symbol.for('jsonata.__evaluate_entry');
const EXIT = Symbol.for('jsonata.__evaluate_exit');
const SPENT = Symbol('units spent');
const STEPS = Symbol('steps');

/** The evaluation used up its budget (rules.evalTimeoutMs) or made a value over a limit. */
export class BudgetExceeded extends Error {
  readonly code = 'NR_BUDGET';
}

/** A regular expression RE2 cannot run (a backreference, a lookaround) or a malformed one. */
export class UnsafeRegex extends Error {}

/**
 * A JSONata evaluator from `source` with the guardrails on; `budgetMs` is rules.evalTimeoutMs.
 * Throws JSONata's syntax errors, and UnsafeRegex for a pattern that would need backtracking.
 */
export function guardedJsonata(source: string, budgetMs: number): jsonata.Expression {
  const expr = jsonata(source, { RegexEngine: LinearRegExp as unknown as RegExpConstructor, stack: STACK_LIMIT, sequence: SEQUENCE_LIMIT });
  checkRegexes(expr.ast());
  const budget = Math.max(1, Math.round(budgetMs * UNITS_PER_MS));
  expr.assign(ENTRY as unknown as string, (_expr: unknown, _input: unknown, env: { base: Record<symbol, number> }) => {
    const base = env.base;
    const spent = (base[SPENT] = (base[SPENT] ?? 0) + 1);
    if (spent > budget) throw new BudgetExceeded(`evaluation used up its budget (rules.evalTimeoutMs: ${budgetMs} ms of work)`);
    const steps = (base[STEPS] = (base[STEPS] ?? 0) + 1);
    return (steps & 255) === 0 ? turnIfDue() : undefined;
  });
  expr.assign(EXIT as unknown as string, (_expr: unknown, _input: unknown, env: { base: Record<symbol, number> }, result: unknown) => {
    let size = 0;
    if (typeof result === 'string') {
      if (result.length > MAX_STRING) throw new BudgetExceeded(`a value grew past ${MAX_STRING.toLocaleString('en')} characters`);
      size = result.length;
    } else if (Array.isArray(result)) {
      size = result.length;
    }
    if (size >= 1000) {
      const spent = (env.base[SPENT] = (env.base[SPENT] ?? 0) + Math.floor(size / 1000));
      if (spent > budget) throw new BudgetExceeded(`evaluation used up its budget (rules.evalTimeoutMs: ${budgetMs} ms of work)`);
    }
  });
  expr.registerFunction('pad', boundedPad, '<s-ns?:s>');
  expr.registerFunction('distinct', linearDistinct, '<x:x>');
  return expr;
}

/**
 * JSONata's RegexEngine contract (`new Engine(regexp)`, `lastIndex`, `exec`) on RE2: matching
 * time is linear in the input, whatever the pattern.
 */
export class LinearRegExp {
  lastIndex = 0;
  private readonly re: RE2JS;

  constructor(pattern: RegExp) {
    this.re = compileLinear(pattern.source, pattern.flags);
  }

  exec(input: string): (string[] & { index: number; input: string }) | null {
    const from = this.lastIndex;
    const m = this.re.matcher(input);
    if (from > input.length || !m.find(from)) {
      this.lastIndex = 0;
      return null;
    }
    const found = [m.group(0) ?? ''] as string[] & { index: number; input: string };
    for (let i = 1; i <= m.groupCount(); i++) found.push(m.group(i) ?? (undefined as unknown as string));
    found.index = m.start();
    found.input = input;
    this.lastIndex = m.end();
    return found;
  }
}

function compileLinear(source: string, flags: string): RE2JS {
  let f = 0;
  if (flags.includes('i')) f |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) f |= RE2JS.MULTILINE;
  try {
    return RE2JS.compile(RE2JS.translateRegExp(source), f);
  } catch (err) {
    throw new UnsafeRegex(
      `regular expression /${source}/ cannot run in linear time (${(err as Error).message}); backreferences and lookarounds are not supported`,
    );
  }
}

interface AstNode {
  type?: string;
  value?: unknown;
  position?: number;
  [key: string]: unknown;
}

/** Every regex literal in the expression compiles on RE2, or the expression is refused. */
function checkRegexes(ast: unknown): void {
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as AstNode;
    if (n.type === 'regex' && n.value instanceof RegExp) {
      try {
        compileLinear(n.value.source, n.value.flags);
      } catch (err) {
        throw Object.assign(err as Error, { position: n.position });
      }
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'position' && k !== 'value') walk(v);
  };
  walk(ast);
}

/** JSONata's `$pad`, with the width checked before anything is built. */
function boundedPad(str: string | undefined, width: number, char?: string): string | undefined {
  if (str === undefined) return undefined;
  const w = Math.trunc(width);
  if (Math.abs(w) > MAX_STRING) throw new BudgetExceeded(`$pad width ${w} is over the limit of ${MAX_STRING.toLocaleString('en')} characters`);
  const fill = char === undefined || char.length === 0 ? ' ' : char;
  const padLength = Math.abs(w) - [...str].length;
  if (padLength <= 0) return str;
  const unit = [...fill];
  let padding = fill.repeat(Math.ceil(padLength / unit.length));
  if (unit.length > 1) padding = [...padding].slice(0, padLength).join('');
  return w > 0 ? str + padding : padding + str;
}

/** JSONata's `$distinct` (deep equality, first occurrence kept), keyed instead of compared in pairs. */
function linearDistinct(arr: unknown): unknown {
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const seen = new Set<string>();
  const out: unknown[] & { sequence?: boolean } = [];
  if ((arr as { sequence?: boolean }).sequence) out.sequence = true;
  for (const v of arr) {
    const key = canonical(v);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

/** A string equal for deep-equal values (object keys in any order). */
function canonical(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v !== 'object') return `${typeof v}:${String(v)}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
