import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface MissingVariable {
  path: (string | number)[];
  variable: string;
}

/** A `${file:…}` reference whose file cannot be read. */
export interface UnreadableFile {
  path: (string | number)[];
  file: string;
  code: string;
}

/** `${file:/run/secrets/x}`: the file's content, one trailing newline trimmed (Kubernetes and Docker secrets). */
const FILE = /\$\{file:([^}]+)\}/g;
const WHOLE_FILE = /^\$\{file:([^}]+)\}$/;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}$/;

/**
 * Replaces `${VAR}`, `${VAR:-default}` and `${file:/path}` in every string of `value`. A string
 * that is exactly one variable takes the YAML type of what it expands to (`port: ${PORT:-3000}`
 * is a number); a file's content stays a string. `$${...}` is left as a literal `${...}`. Missing
 * variables without default and unreadable files are collected.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  missing: MissingVariable[],
  path: (string | number)[] = [],
  unreadable: UnreadableFile[] = [],
): unknown {
  if (typeof value === 'string') return expandFiles(value, path, unreadable, (v) => expand(v, env, missing, path));
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, missing, [...path, i], unreadable));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, missing, [...path, k], unreadable);
    return out;
  }
  return value;
}

function expandFiles(s: string, path: (string | number)[], unreadable: UnreadableFile[], next: (s: string) => unknown): unknown {
  if (!s.includes('${file:')) return next(s);
  const read = (file: string): string => {
    try {
      return readFileSync(file.trim(), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      unreadable.push({ path, file: file.trim(), code: (err as NodeJS.ErrnoException).code ?? String(err) });
      return '';
    }
  };
  const whole = WHOLE_FILE.exec(s);
  if (whole) return read(whole[1]!);
  const withFiles = s.replace(FILE, (_m, file: string) => read(file));
  return next(withFiles);
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
