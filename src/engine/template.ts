import type { Encoder } from './encoding.js';
import { compileExpression, type Expression, type ExpressionOptions } from './expression.js';

/**
 * A compiled action parameter tree. Strings with `{{ expr }}` parts become template nodes: a
 * string that is exactly one `{{ }}` keeps its value's type; mixed text renders missing values as
 * '' and objects as JSON. Where the parameter has an encoding (a URL, Slack text: see
 * encoding.ts), each value is encoded, unless written `{{{ expr }}}` (raw).
 */
export type Template =
  | { kind: 'literal'; value: unknown }
  | { kind: 'typed'; expr: Expression; encode?: Encoder }
  | { kind: 'text'; parts: Array<string | Part> }
  | { kind: 'list'; items: Template[] }
  | { kind: 'map'; entries: Array<[string, Template]> };

/** One `{{ }}` of a text: its expression and how its value is written. */
export interface Part {
  expr: Expression;
  encode?: Encoder;
}

const OPEN = '{{';
const CLOSE = '}}';
const RAW_OPEN = '{{{';
const RAW_CLOSE = '}}}';

/** Where a template sits: the encoder for a parameter path, if it has one. */
export type EncoderAt = (path: readonly (string | number)[]) => Encoder | undefined;

/** Thrown with the offending string and the syntax error inside it. */
export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
  ) {
    super(message);
  }
}

/** The expressions a template evaluates. */
export function templateExpressions(t: Template): Expression[] {
  switch (t.kind) {
    case 'literal':
      return [];
    case 'typed':
      return [t.expr];
    case 'text':
      return t.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.expr]));
    case 'list':
      return t.items.flatMap(templateExpressions);
    case 'map':
      return t.entries.flatMap(([, v]) => templateExpressions(v));
  }
}

/** Whether rendering may read `event.stale` (see `mayReadStale`). */
export function templateReadsStale(t: Template): boolean {
  switch (t.kind) {
    case 'literal':
      return false;
    case 'typed':
      return t.expr.readsStale;
    case 'text':
      return t.parts.some((p) => typeof p !== 'string' && p.expr.readsStale);
    case 'list':
      return t.items.some(templateReadsStale);
    case 'map':
      return t.entries.some(([, v]) => templateReadsStale(v));
  }
}

export function compileTemplate(value: unknown, options: ExpressionOptions, path: (string | number)[] = [], encoderAt: EncoderAt = () => undefined): Template {
  if (typeof value === 'string') return compileString(value, options, path, encoderAt(path));
  if (Array.isArray(value)) return { kind: 'list', items: value.map((v, i) => compileTemplate(v, options, [...path, i], encoderAt)) };
  if (value && typeof value === 'object') {
    return {
      kind: 'map',
      entries: Object.entries(value).map(([k, v]) => [k, compileTemplate(v, options, [...path, k], encoderAt)] as [string, Template]),
    };
  }
  return { kind: 'literal', value };
}

function compileString(s: string, options: ExpressionOptions, path: (string | number)[], encode: Encoder | undefined): Template {
  if (!s.includes(OPEN)) return { kind: 'literal', value: s };
  const parts: Array<string | Part> = [];
  let rest = s;
  while (rest.length > 0) {
    const open = rest.indexOf(OPEN);
    if (open < 0) {
      parts.push(rest);
      break;
    }
    const raw = rest.startsWith(RAW_OPEN, open);
    const [opener, closer] = raw ? [RAW_OPEN, RAW_CLOSE] : [OPEN, CLOSE];
    const close = rest.indexOf(closer, open + opener.length);
    if (close < 0) throw new TemplateSyntaxError(`unclosed "${opener}" in "${s}"`, path);
    if (open > 0) parts.push(rest.slice(0, open));
    const source = rest.slice(open + opener.length, close).trim();
    if (!source) throw new TemplateSyntaxError(`empty "${opener} ${closer}" in "${s}"`, path);
    try {
      const expr = compileExpression(source, options);
      parts.push(raw || !encode ? { expr } : { expr, encode });
    } catch (err) {
      throw new TemplateSyntaxError(`in "${opener} ${source} ${closer}": ${(err as Error).message}`, path);
    }
    rest = rest.slice(close + closer.length);
  }
  if (parts.length === 1 && typeof parts[0] !== 'string') return { kind: 'typed', ...parts[0]! };
  return { kind: 'text', parts };
}

/** Renders a template against the evaluation context. */
export async function renderTemplate(t: Template, context: unknown): Promise<unknown> {
  switch (t.kind) {
    case 'literal':
      return t.value;
    case 'typed': {
      const v = plain(await t.expr.evaluate(context));
      if (v === undefined) return '';
      return t.encode && typeof v === 'string' ? t.encode(v) : v;
    }
    case 'text': {
      let out = '';
      for (const p of t.parts) {
        if (typeof p === 'string') out += p;
        else {
          const text = toText(await p.expr.evaluate(context));
          out += p.encode ? p.encode(text) : text;
        }
      }
      return out;
    }
    case 'list':
      return Promise.all(t.items.map((i) => renderTemplate(i, context)));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of t.entries) {
        out[k] = await renderTemplate(v, context);
      }
      return out;
    }
  }
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(plain(v));
}

/** JSONata sequences are arrays with extra flags; hand back plain JSON values. */
function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  if (typeof v === 'function') return undefined;
  return JSON.parse(JSON.stringify(v)) as unknown;
}

/** The origin written literally before any `{{` of a URL template, if it is complete. */
export function literalOrigin(url: string): string | undefined {
  const literal = url.split('{{')[0]!;
  const m = /^(https?:\/\/[^/?#]+)[/?#]/i.exec(literal) ?? (url.includes('{{') ? null : /^(https?:\/\/[^/?#]+)$/i.exec(literal));
  if (!m) return undefined;
  try {
    return new URL(m[1]!).origin;
  } catch {
    return undefined;
  }
}
