/**
 * Deepest nesting of objects and arrays accepted in a webhook body. Notion's events, even the
 * seed envelope with a whole page, nest about ten levels; a body nested thousands deep is an
 * attack on whatever walks it later (the console, the admin API, rules).
 */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON `text` nests objects and arrays deeper than `max` (a scan; nothing is parsed). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
