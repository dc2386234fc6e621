import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';

/*
 * The YAML mistakes rule authors make most, told in words they can act on: an unquoted `#` starts
 * a comment (so `channel: #ship` is empty and `description: Tell #ship when done` is cut to
 * "Tell"), an unquoted `{{ … }}` is a mapping, and `@` or a backtick cannot start a plain value.
 * Each says to quote the value, and how.
 */

export interface Trap {
  offset: number;
  message: string;
}

/** Traps in a parsed document's nodes (run before the document is turned into data). */
export function findTraps(root: Node | null | undefined, text: string): Trap[] {
  const traps: Trap[] = [];
  const visit = (node: unknown, key: string) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const name = isScalar(pair.key) ? String(pair.key.value) : key;
        check(pair.value as Node | null, name);
        visit(pair.value, name);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        check(item as Node, key);
        visit(item, key);
      }
    }
  };
  const check = (value: Node | null, key: string) => {
    if (!value?.range) return;
    const at = value.range[0];
    if (isMap(value) && text.startsWith('{{', at)) {
      const end = text.indexOf('\n', at);
      const written = text.slice(at, end < 0 ? undefined : end).trim();
      traps.push({ offset: at, message: `${key}: an unquoted {{ … }} is read as a YAML mapping; quote the value: ${key}: "${written.replace(/"/g, '\\"')}"` });
      return;
    }
    if (!isScalar(value) || typeof value.comment !== 'string' || !/^\S/.test(value.comment) || value.type !== 'PLAIN') return;
    const comment = value.comment.split('\n')[0]!;
    if (value.value === null) {
      traps.push({
        offset: at,
        message: `${key}: an unquoted #${comment.split(/\s/)[0]} is read as a YAML comment, so the value is empty; quote it: ${key}: "#${comment}"`,
      });
    } else {
      const read = String(value.value);
      traps.push({
        offset: at,
        message: `${key}: an unquoted " #" starts a YAML comment, so the value was cut to "${read}"; quote it: ${key}: "${read} #${comment}"`,
      });
    }
  };
  visit(root, '(top level)');
  return traps;
}

/** A YAML error's message, with the fix for a value that starts with a reserved character. */
export function explainYamlError(message: string, text: string, offset: number): string {
  const first = message.split('\n')[0]!;
  const reserved = /reserved character (\S)/.exec(first);
  if (!reserved) return `YAML: ${first}`;
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end < 0 ? undefined : end);
  const m = /^(\s*(?:-\s+)?)([^:#]+):\s*(.*)$/.exec(line);
  const fix = m ? `${m[2]!.trim()}: "${m[3]!.replace(/"/g, '\\"')}"` : `"${text.slice(offset, end < 0 ? undefined : end).trim()}"`;
  return `YAML: a plain value cannot start with ${reserved[1]}; quote the value: ${fix}`;
}
