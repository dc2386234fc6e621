/**
 * A synchronous evaluator for the conditions most rules are made of — dotted paths with `[n]`
 * indexes, literals, `= != < <= > >=`, `and`, `or`, `in`, `$not()`, `$exists()` — compiled from
 * JSONata's own AST. JSONata evaluates asynchronously (~40 µs per condition); this takes ~1 µs.
 *
 * It is exact or it declines: an expression outside the subset gets no fast evaluator, and at run
 * time a value whose JSONata semantics it does not reproduce (an array mid-path, which JSONata maps
 * over; objects compared; mismatched types, where JSONata throws) makes it return FALLBACK, and
 * JSONata evaluates the condition instead. test/unit/engine/fast-condition.test.ts compares both on
 * generated inputs.
 */
export const FALLBACK: unique symbol = Symbol('fallback');
export type FastEvaluator = (input: unknown) => unknown;

interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

type Eval = (input: unknown) => unknown; // a value, undefined, or FALLBACK

class Unsupported extends Error {}

/** The fast evaluator of a JSONata AST, or undefined when the expression is outside the subset. */
export function compileFast(ast: unknown): FastEvaluator | undefined {
  try {
    return compile(ast as Node);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

function only(node: Node, keys: string[]): void {
  for (const [k, v] of Object.entries(node)) if (v !== undefined && k !== 'position' && !keys.includes(k)) throw new Unsupported(k);
}

function compile(node: Node): Eval {
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      only(node, ['type', 'value']);
      const v = node.value;
      return () => v;
    }
    case 'path':
      only(node, ['type', 'steps']);
      return compilePath(node.steps as Node[]);
    case 'block': {
      only(node, ['type', 'expressions']);
      const exprs = node.expressions as Node[];
      if (exprs.length !== 1) throw new Unsupported('block');
      return compile(exprs[0]!);
    }
    case 'binary':
      only(node, ['type', 'value', 'lhs', 'rhs']);
      return compileBinary(String(node.value), compile(node.lhs as Node), compile(node.rhs as Node));
    case 'function': {
      only(node, ['type', 'value', 'arguments', 'procedure']);
      const proc = node.procedure as Node;
      const args = node.arguments as Node[];
      if (proc.type !== 'variable' || args.length !== 1) throw new Unsupported('function');
      const arg = compile(args[0]!);
      if (proc.value === 'not') {
        return (input) => {
          const v = arg(input);
          return v === FALLBACK ? FALLBACK : v === undefined ? undefined : !boolean(v);
        };
      }
      if (proc.value === 'exists') {
        return (input) => {
          const v = arg(input);
          return v === FALLBACK ? FALLBACK : v !== undefined;
        };
      }
      throw new Unsupported(`$${String(proc.value)}`);
    }
    default:
      throw new Unsupported(node.type);
  }
}

/** `a.b[0].c`: names from the input, each optionally indexed by non-negative integers. */
function compilePath(steps: Node[]): Eval {
  const compiled = steps.map((step) => {
    if (step.type !== 'name' || typeof step.value !== 'string') throw new Unsupported('step');
    only(step, ['type', 'value', 'stages']);
    const indexes = ((step.stages as Node[] | undefined) ?? []).map((stage) => {
      only(stage, ['type', 'expr']);
      const expr = stage.expr as Node;
      if (stage.type !== 'filter' || expr.type !== 'number' || !Number.isInteger(expr.value) || (expr.value as number) < 0) throw new Unsupported('stage');
      return expr.value as number;
    });
    return { name: step.value, indexes };
  });
  return (input) => {
    let current: unknown = input;
    for (const { name, indexes } of compiled) {
      if (current === undefined || current === null || typeof current !== 'object') return undefined;
      if (Array.isArray(current)) return FALLBACK; // JSONata maps the rest of the path over it
      // Own members only: JSONata does not see inherited ones (`constructor`, `__proto__`).
      current = Object.hasOwn(current, name) ? (current as Record<string, unknown>)[name] : undefined;
      for (const i of indexes) {
        if (current === undefined) return undefined;
        if (Array.isArray(current)) {
          current = current[i];
          if (Array.isArray(current)) return FALLBACK; // nested sequences flatten
        } else if (i > 0) {
          return undefined; // a single value is a sequence of one
        }
      }
    }
    return current;
  };
}

function compileBinary(op: string, lhs: Eval, rhs: Eval): Eval {
  switch (op) {
    case 'and':
      return (input) => {
        const l = lhs(input);
        if (l === FALLBACK) return FALLBACK;
        if (!boolean(l)) return false;
        const r = rhs(input);
        return r === FALLBACK ? FALLBACK : boolean(r);
      };
    case 'or':
      return (input) => {
        const l = lhs(input);
        if (l === FALLBACK) return FALLBACK;
        if (boolean(l)) return true;
        const r = rhs(input);
        return r === FALLBACK ? FALLBACK : boolean(r);
      };
    case '=':
    case '!=':
      return both(lhs, rhs, (l, r) => {
        if (l === undefined || r === undefined) return false;
        if (!primitive(l) || !primitive(r)) return FALLBACK; // deep equality: JSONata's
        return op === '=' ? l === r : l !== r;
      });
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const compare = COMPARE[op];
      return both(lhs, rhs, (l, r) => {
        // JSONata checks the types of the operands it has before it looks for a missing one.
        if ((l !== undefined && !comparable(l)) || (r !== undefined && !comparable(r))) return FALLBACK; // its type error
        if (l === undefined || r === undefined) return undefined;
        if (typeof l !== typeof r) return FALLBACK; // its type error
        return compare(l as number, r as number);
      });
    }
    case 'in':
      return both(lhs, rhs, (l, r) => {
        if (l === undefined || r === undefined) return false;
        if (!primitive(l)) return FALLBACK;
        if (!Array.isArray(r)) return primitive(r) ? l === r : FALLBACK;
        if (!r.every(primitive)) return FALLBACK;
        return r.includes(l);
      });
    default:
      throw new Unsupported(op);
  }
}

const COMPARE: Record<'<' | '<=' | '>' | '>=', (l: number | string, r: number | string) => boolean> = {
  '<': (l, r) => l < r,
  '<=': (l, r) => l <= r,
  '>': (l, r) => l > r,
  '>=': (l, r) => l >= r,
};

/** Both operands evaluated (JSONata evaluates both); a FALLBACK from either is the answer. */
function both(lhs: Eval, rhs: Eval, f: (l: unknown, r: unknown) => unknown): Eval {
  return (input) => {
    const l = lhs(input);
    if (l === FALLBACK) return FALLBACK;
    const r = rhs(input);
    return r === FALLBACK ? FALLBACK : f(l, r);
  };
}

function comparable(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'string';
}

function primitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** JSONata's $boolean: empty strings, arrays and objects, 0, null and false are false. */
export function boolean(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.some(boolean);
  if (typeof v === 'object') return Object.keys(v).length > 0;
  if (typeof v === 'number') return !Number.isNaN(v);
  return true;
}
