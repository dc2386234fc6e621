import { durationMs } from '../util/duration.js';
import type { ExpressionOptions } from './expression.js';
import { compileTemplate, type Template, TemplateSyntaxError, templateReadsStale } from './template.js';
import { Cron } from 'croner';
import { compileActive } from './active-hours.js';
import type { CompiledRule, Schedule } from './types.js';

type Add = (path: (string | number)[], message: string) => void;

export interface RawTiming {
  throttle?: { key?: string; per: string };
  digest?: { key?: string; wait: string; max?: number };
  after?: string | { delay: string; restartOn?: string[]; cancelOn?: string[] };
  schedule?: { cron?: string; timezone?: string; every?: string; catchUp?: boolean; query?: Schedule['query']; each?: boolean };
  active?: { days?: string[]; hours?: string; timezone?: string };
  on: string | string[];
}

/** `throttle` and `digest` of a rule, compiled; problems (a template, both at once) reported with their key. */
export function compileTiming(
  raw: RawTiming,
  options: ExpressionOptions,
  add: Add,
): Pick<CompiledRule, 'throttle' | 'digest' | 'after' | 'schedule' | 'active'> {
  const out: Pick<CompiledRule, 'throttle' | 'digest' | 'after' | 'schedule' | 'active'> = {};
  if (raw.active) {
    try {
      out.active = compileActive(raw.active);
    } catch (err) {
      add(['active'], (err as Error).message);
    }
  }
  if (raw.throttle && raw.digest) add(['digest'], 'a rule takes throttle or digest, not both (a digest already runs once per group)');
  if (raw.after && (raw.throttle || raw.digest)) add(['after'], 'a rule with after takes neither throttle nor digest');
  const on = Array.isArray(raw.on) ? raw.on : [raw.on];
  if (on.includes('schedule') !== Boolean(raw.schedule)) {
    add(
      raw.schedule ? ['on'] : [],
      raw.schedule ? 'a rule with schedule: is `on: schedule`' : '`on: schedule` needs `schedule: { cron: … }` or `schedule: { every: … }`',
    );
  } else if (raw.schedule && on.length > 1) {
    add(['on'], 'a scheduled rule runs on its schedule only: `on: schedule`, no event types');
  } else if (raw.schedule) {
    const s = raw.schedule;
    const schedule = compileSchedule(s, add);
    if (schedule) out.schedule = schedule;
    if (raw.after || raw.throttle || raw.digest) add(['schedule'], 'a scheduled rule takes neither after, throttle nor digest');
  }
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

/** A schedule's cron and time zone checked now, so `validate` names a bad one with its line. */
function compileSchedule(s: NonNullable<RawTiming['schedule']>, add: Add): Schedule | undefined {
  if (s.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: s.timezone });
    } catch {
      add(['schedule', 'timezone'], `unknown time zone "${s.timezone}" (an IANA name such as Europe/Berlin or UTC)`);
      return undefined;
    }
  }
  if (s.cron !== undefined) {
    try {
      new Cron(s.cron, { timezone: s.timezone ?? 'UTC', paused: true });
    } catch (err) {
      add(['schedule', 'cron'], `not a cron expression (minute hour day month weekday, such as "0 9 * * MON"): ${(err as Error).message}`);
      return undefined;
    }
  }
  if (s.each && !s.query) add(['schedule', 'each'], 'runs once per page of the query: give schedule.query');
  return {
    ...(s.cron !== undefined ? { cron: s.cron, timezone: s.timezone ?? 'UTC' } : {}),
    ...(s.every !== undefined ? { everyMs: durationMs(s.every) } : {}),
    catchUp: s.catchUp !== false,
    ...(s.query ? { query: s.query } : {}),
    each: s.each === true,
  };
}

/** Whether a throttle or digest key may read `event.stale`. */
export function timingReadsStale(t: Pick<CompiledRule, 'throttle' | 'digest'>): boolean {
  return (t.throttle ? templateReadsStale(t.throttle.key) : false) || (t.digest ? templateReadsStale(t.digest.key) : false);
}
