import { Cron } from 'croner';

/** A rule's `active` window, compiled: when it opens (a cron in its time zone) and how long it stays open. */
export interface ActiveHours {
  opens: string;
  timezone: string;
  /** Minutes the window stays open after each opening. */
  minutes: number;
}

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** `{ days: [MON-FRI], hours: "09:00-18:00", timezone }` as an opening cron and a length; throws a message on a bad one. */
export function compileActive(raw: { days?: string[]; hours?: string; timezone?: string }): ActiveHours {
  const timezone = raw.timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new Error(`unknown time zone "${timezone}" (an IANA name such as Europe/Berlin or UTC)`);
  }
  const days = new Set<number>();
  for (const d of raw.days ?? ['SUN-SAT']) {
    const [from, to] = d.split('-').map((x) => DAYS.indexOf(x));
    if (from === undefined || from < 0) throw new Error(`"${d}" is not a weekday (MON … SUN) or a range (MON-FRI)`);
    for (let i = from; ; i = (i + 1) % 7) {
      days.add(i);
      if (i === (to ?? from)) break;
    }
  }
  const [start, end] = (raw.hours ?? '00:00-24:00').split('-').map((t) => {
    const [h, m] = t.split(':').map(Number);
    return h! * 60 + m!;
  });
  let minutes = end! - start!;
  if (minutes <= 0) minutes += 24 * 60; // past midnight
  const opens = `${start! % 60} ${Math.floor(start! / 60)} * * ${[...days].sort().join(',')}`;
  return { opens, timezone, minutes };
}

/** When a job of a rule with these active hours may run: now if the window is open, else when it next opens. */
export function openAt(a: ActiveHours, now: number): number {
  const cron = new Cron(a.opens, { timezone: a.timezone, paused: true });
  const [last] = cron.previousRuns(1, new Date(now + 1));
  if (last && now < last.getTime() + a.minutes * 60_000) return now;
  return cron.nextRun(new Date(now))?.getTime() ?? now;
}
