import { isAlias, isMap, isPair, isScalar, isSeq, Composer, LineCounter, Parser, type Node } from 'yaml';
import { explainYamlError, findTraps } from './yaml-traps.js';

/** One YAML document of a rule file, parsed: plain data plus where each part of it stands. */
export interface ParsedDoc {
  /** The document as plain data (undefined when it has errors). */
  data: unknown;
  /** An empty document, e.g. after a trailing `---`. */
  empty: boolean;
  /** 1-based line where the document starts. */
  line: number;
  errors: Array<{ line: number; message: string }>;
  /** Line of the value at each path (segments joined by PATH_SEP). */
  values: Record<string, number>;
  /** Line of the key that names each path. */
  keys: Record<string, number>;
}

export interface ParsedFile {
  docs: ParsedDoc[];
}

/**
 * Aliases a rule file may expand: rules need few, and a "billion laughs" file needs many. The
 * yaml library counts expanded nodes, so nested aliases add up.
 */
export const MAX_ALIAS_COUNT = 100;
const PATH_SEP = '\u0000';

/**
 * Parses a rule file's text into plain documents with line maps. Never throws: every problem,
 * including a resource-exhaustion attempt, is an error of the document it is in. Plain data in,
 * plain data out, so it can run in a worker thread (rule-parse-worker.ts).
 */
export function parseRuleFile(text: string): ParsedFile {
  const lc = new LineCounter();
  const line = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  const docs: ParsedDoc[] = [];
  try {
    const composer = new Composer({ prettyErrors: false, uniqueKeys: true });
    for (const doc of composer.compose(new Parser(lc.addNewLine).parse(text))) {
      const parsed: ParsedDoc = {
        data: undefined,
        empty: doc.contents === null,
        line: line(doc.contents?.range?.[0] ?? doc.range?.[0]),
        errors: [],
        values: {},
        keys: {},
      };
      docs.push(parsed);
      if (doc.errors.length > 0) {
        parsed.errors = doc.errors.map((e) => ({ line: line(e.pos[0]), message: explainYamlError(e.message, text, e.pos[0]) }));
        continue;
      }
      if (parsed.empty) continue;
      const traps = findTraps(doc.contents as Node, text);
      if (traps.length > 0) {
        parsed.errors = traps.map((t) => ({ line: line(t.offset), message: `YAML: ${t.message}` }));
        continue;
      }
      try {
        parsed.data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        const excessive = /alias count/i.test((err as Error).message);
        parsed.errors = [
          {
            line: parsed.line,
            message: excessive
              ? `YAML: aliases expand to more than ${MAX_ALIAS_COUNT} nodes (refused: a resource-exhaustion pattern)`
              : `YAML: ${(err as Error).message}`,
          },
        ];
        continue;
      }
      mapLines(doc.contents as Node, [], parsed, line);
    }
  } catch (err) {
    docs.push({
      data: undefined,
      empty: false,
      line: 1,
      errors: [{ line: 1, message: `YAML: cannot be parsed (${(err as Error).message})` }],
      values: {},
      keys: {},
    });
  }
  return { docs };
}

function mapLines(node: Node | null | undefined, path: (string | number)[], out: ParsedDoc, line: (offset: number | undefined) => number): void {
  if (!node) return;
  const key = path.join(PATH_SEP);
  if (node.range) out.values[key] = line(node.range[0]);
  if (isAlias(node)) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (name === undefined) continue;
      const child = [...path, name];
      const keyNode = pair.key as Node;
      if (keyNode.range) out.keys[child.join(PATH_SEP)] = line(keyNode.range[0]);
      mapLines(pair.value as Node | null, child, out, line);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => mapLines(item as Node, [...path, i], out, line));
  }
}

/**
 * The 1-based line of the value at `path`, or of the key `key` inside the mapping at `path`;
 * falls back to the nearest ancestor that exists.
 */
export function lineIn(doc: ParsedDoc, path: readonly (string | number)[], key?: string): number {
  if (key !== undefined) {
    const at = doc.keys[[...path, key].join(PATH_SEP)];
    if (at !== undefined) return at;
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const at = doc.values[path.slice(0, depth).join(PATH_SEP)];
    if (at !== undefined) return at;
  }
  return doc.line;
}
