import { isMap, isPair, isScalar, LineCounter, type Document, type Node } from 'yaml';

/**
 * The 1-based line of the value at `path` in a parsed YAML document, or of the key `key`
 * inside the mapping at `path`; falls back to the nearest ancestor that exists.
 */
export function lineOf(doc: Document, lc: LineCounter, path: readonly (string | number)[], key?: string): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : (doc.getIn(path.slice(0, depth), true) as Node | undefined);
    if (!node) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return lc.linePos(keyNode.range[0]).line;
    }
    if (node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}

/** Turns an ajv instancePath (`/server/port`) into key segments. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `server.port`, `actions[1].slack` */
export function dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
