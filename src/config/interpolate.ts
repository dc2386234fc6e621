import { parse as parseYaml } from 'yaml';

export interface MissingVariable {
  path: (string | number)[];
  variable: string;
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of `value`. A string that is exactly one
 * reference takes the YAML type of what it expands to (`port: ${PORT:-3000}` is a number).
 * `$${...}` is left as a literal `${...}`. Missing variables without default are collected.
 */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, missing: MissingVariable[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return expand(value, env, missing, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, missing, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, missing, [...path, k]);
    return out;
  }
  return value;
}

function expand(s: string, env: NodeJS.ProcessEnv, missing: MissingVariable[], path: (string | number)[]): unknown {
  if (!s.includes('${')) return s;
  const lookup = (name: string, fallback: string | undefined): string => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing.push({ path, variable: name });
    return '';
  };
  const whole = WHOLE.exec(s);
  if (whole) {
    const text = lookup(whole[1]!, whole[2]);
    const typed: unknown = safeScalar(text);
    return typeof typed === 'number' || typeof typed === 'boolean' ? typed : text;
  }
  const escaped = s.split('$${');
  return escaped.map((part) => part.replace(VAR, (_m, name: string, fb?: string) => lookup(name, fb))).join('${');
}

function safeScalar(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return text;
  }
}
