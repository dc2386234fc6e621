import type { ErrorObject } from 'ajv';
import { orList, suggest } from '../util/suggest.js';
import { pointerToPath } from '../util/yaml-position.js';

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  [k: string]: unknown;
}

export interface SchemaMessage {
  path: (string | number)[];
  /** Set when the message is about a key inside the mapping at `path`. */
  key?: string;
  message: string;
  /** For an unknown key: the known key it most resembles. */
  suggestion?: string;
  /** For a missing required key: its name (or the names it may be one of). */
  missing?: string | string[];
}

/**
 * Turns ajv's errors for a rule into messages a rule author can act on: an unknown action type or
 * parameter with a "did you mean", one line for "text or blocks" instead of two, and so on.
 */
export function ruleSchemaMessages(errors: readonly ErrorObject[], schema: SchemaNode): SchemaMessage[] {
  const out: SchemaMessage[] = [];
  const consumed = new Set<ErrorObject>();
  // One line per anyOf: its branches' errors are alternatives, not separate problems.
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branch = errors.filter((b) => b !== e && b.schemaPath.startsWith(`${e.schemaPath}/`));
    branch.forEach((b) => consumed.add(b));
    consumed.add(e);
    const path = pointerToPath(e.instancePath);
    const last = path[path.length - 1];
    if (branch.length > 0 && branch.every((b) => b.keyword === 'required')) {
      const missing = branch.map((b) => (b.params as { missingProperty: string }).missingProperty);
      out.push({ path, missing, message: `needs ${orList(missing.map((n) => `"${n}"`))}` });
    } else if (last === 'on') {
      out.push({ path, message: 'must be an event type or a list of them (page.properties_updated, page.*, *)' });
    } else if (last === 'after') {
      out.push({ path, message: 'must be a duration (48h) or { delay: 48h, restartOn: [types], cancelOn: [types] }' });
    } else if (last === 'fetch') {
      out.push({ path, message: 'must be none, page, content, database, comment or authors (or a list of them)' });
    } else {
      out.push({ path, message: branch[0]?.message ?? e.message ?? 'is invalid' });
    }
  }
  for (const e of errors) {
    if (consumed.has(e)) continue;
    const path = pointerToPath(e.instancePath);
    out.push(describe(e, path, schema));
  }
  // A misspelt key also makes the real one "missing"; the "did you mean" already says so.
  const suggested = new Set(out.flatMap((m) => (m.suggestion ? [`${m.path.join('/')}|${m.suggestion}`] : [])));
  const misspelt = (m: SchemaMessage) => [m.missing ?? []].flat().some((name) => suggested.has(`${m.path.join('/')}|${name}`));
  return dedupe(out.filter((m) => !misspelt(m)));
}

function describe(e: ErrorObject, path: (string | number)[], schema: SchemaNode): SchemaMessage {
  const inAction = path[0] === 'actions' && typeof path[1] === 'number';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(nodeAt(schema, path).properties ?? {});
      const hint = suggest(key, allowed, 1);
      const mean = hint.length ? ` (did you mean "${hint[0]}"?)` : '';
      const suggestion = hint[0] !== undefined ? { suggestion: hint[0] } : {};
      if (inAction && path.length === 2) {
        return { path, key, ...suggestion, message: `unknown action type "${key}"${mean}; actions are ${orList(allowed)}` };
      }
      if (inAction && path.length === 3) {
        return { path, key, ...suggestion, message: `unknown parameter "${key}" for ${String(path[2])}${mean}; it takes ${orList(allowed)}` };
      }
      return { path, key, ...suggestion, message: `unknown key "${key}"${mean}` };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      const what = inAction && path.length === 3 ? `${String(path[2])} needs "${key}"` : `"${key}" is required`;
      return { path, missing: key, message: what };
    }
    case 'maxProperties':
      return inAction
        ? { path, message: 'an action item has exactly one type (slack:, log:, …); write each action as its own list item' }
        : { path, message: e.message ?? 'has too many keys' };
    case 'minProperties':
      return { path, message: 'empty action: name its type (slack:, notion.comment:, log:, …)' };
    case 'enum':
      return { path, message: `must be one of ${orList((e.params as { allowedValues: unknown[] }).allowedValues.map(String))}` };
    case 'pattern':
      if (path[0] === 'id') return { path, message: 'must start with a letter or digit and use only letters, digits, ".", "_" and "-"' };
      if (path[0] === 'throttle' || path[0] === 'digest') return { path, message: 'must be a duration: 500ms, 30s, 10m, 48h, 2d' };
      return { path, message: `"${String(e.data)}" is not a valid event type (page.properties_updated, page.*, *)` };
    case 'type':
      return { path, message: `must be ${(e.params as { type: string }).type}` };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

/** The schema node for an instance path, following $ref and items. */
function nodeAt(schema: SchemaNode, path: (string | number)[]): SchemaNode {
  let node = resolve(schema, schema);
  for (const seg of path) {
    node = resolve(schema, typeof seg === 'number' ? (node.items ?? {}) : (node.properties?.[seg] ?? {}));
  }
  return node;
}

function resolve(root: SchemaNode, node: SchemaNode): SchemaNode {
  let n = node;
  for (let i = 0; i < 10 && n.$ref; i++) {
    n = n.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<SchemaNode>((acc, seg) => (acc[seg] ?? {}) as SchemaNode, root);
  }
  return n;
}

function dedupe(list: SchemaMessage[]): SchemaMessage[] {
  const seen = new Set<string>();
  return list.filter((m) => {
    const k = `${m.path.join('/')}|${m.key ?? ''}|${m.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
