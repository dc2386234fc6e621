import { durationMs } from '../util/duration.js';
import type { ExpressionOptions } from './expression.js';
import { compileTemplate, type Template, TemplateSyntaxError, templateReadsStale } from './template.js';
import type { CompiledRule } from './types.js';

type Add = (path: (string | number)[], message: string) => void;

export interface RawTiming {
  throttle?: { key?: string; per: string };
  digest?: { key?: string; wait: string; max?: number };
  after?: string | { delay: string; restartOn?: string[]; cancelOn?: string[] };
}

/** `throttle` and `digest` of a rule, compiled; problems (a template, both at once) reported with their key. */
export function compileTiming(raw: RawTiming, options: ExpressionOptions, add: Add): Pick<CompiledRule, 'throttle' | 'digest' | 'after'> {
  const out: Pick<CompiledRule, 'throttle' | 'digest' | 'after'> = {};
  if (raw.throttle && raw.digest) add(['digest'], 'a rule takes throttle or digest, not both (a digest already runs once per group)');
  if (raw.after && (raw.throttle || raw.digest)) add(['after'], 'a rule with after takes neither throttle nor digest');
  if (raw.after) {
    const a = typeof raw.after === 'string' ? { delay: raw.after } : raw.after;
    out.after = { delayMs: durationMs(a.delay), restartOn: a.restartOn ?? [], cancelOn: a.cancelOn ?? [] };
  }
  const key = (text: string, path: string[]): Template | undefined => {
    try {
      return compileTemplate(text, options);
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      add(path, `template: ${err.message}`);
      return undefined;
    }
  };
  if (raw.throttle) {
    const k = key(raw.throttle.key ?? '{{ event.entity.id }}', ['throttle', 'key']);
    if (k) out.throttle = { key: k, perMs: durationMs(raw.throttle.per) };
  }
  if (raw.digest) {
    const k = key(raw.digest.key ?? '', ['digest', 'key']);
    if (k) out.digest = { key: k, waitMs: durationMs(raw.digest.wait), max: raw.digest.max ?? 100 };
  }
  return out;
}

/** Whether a throttle or digest key may read `event.stale`. */
export function timingReadsStale(t: Pick<CompiledRule, 'throttle' | 'digest'>): boolean {
  return (t.throttle ? templateReadsStale(t.throttle.key) : false) || (t.digest ? templateReadsStale(t.digest.key) : false);
}
