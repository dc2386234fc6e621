import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { RuleCoordinator } from '../engine/coordinator.js';
import { SCHEDULE } from '../engine/evaluate.js';
import type { CompiledRule, Schedule } from '../engine/types.js';
import type { NotionEvent } from '../model/event.js';
import { normalize } from '../model/normalize.js';
import { Background } from './background.js';
import type { Ticks } from '../store/ports.js';

const POLL_MS = 5000;

export interface SchedulerOptions {
  store: Ticks;
  rules: RuleCoordinator;
  log: Logger;
  /** A tick was stored as an event: the matcher runs its rule. */
  onTick: (event: NotionEvent) => void;
}

/**
 * Runs scheduled rules (`on: schedule`): each tick becomes an event in the store, its id made of
 * the rule and the tick's time, so however many replicas see the tick, it is stored — and its rule
 * run — once (the store's dedupe); from there the matcher runs it like any event (fetches at
 * Notion's pace, retries, a job). A tick missed while nothing ran runs once at start (`catchUp`),
 * for a rule that ran before; the ticks in between are not run again.
 */
export class Scheduler extends Background {
  /** The last tick this process stored (or skipped) per rule. */
  private readonly done = new Map<string, number>();
  private readonly startedAt = Date.now();

  constructor(private readonly o: SchedulerOptions) {
    super('scheduler', POLL_MS, o.log);
  }

  protected async pass(): Promise<void> {
    const now = Date.now();
    let next = Infinity;
    for (const rule of this.o.rules.current.rules) {
      if (!rule.schedule) continue;
      const tick = latestTick(rule.schedule, now);
      if (tick !== undefined && tick !== this.done.get(rule.id)) await this.run(rule, tick);
      next = Math.min(next, nextTick(rule.schedule, now) ?? Infinity);
    }
    this.planAt(Number.isFinite(next) ? next : undefined);
  }

  private async run(rule: CompiledRule, tick: number): Promise<void> {
    const first = !this.done.has(rule.id);
    this.done.set(rule.id, tick);
    if (first && tick < this.startedAt) {
      // A tick from before this process started: run it once (catchUp) if the rule ran before.
      if (!rule.schedule!.catchUp || (await this.o.store.lastTick(rule.id)) === undefined) return;
    }
    const envelope = {
      id: `${SCHEDULE}-${rule.id}-${new Date(tick).toISOString()}`,
      type: SCHEDULE,
      timestamp: new Date(tick).toISOString(),
      entity: { id: rule.id, type: SCHEDULE },
      authors: [],
      data: { rule: rule.id, tick: new Date(tick).toISOString(), ...(rule.schedule!.query ? { query: rule.schedule!.query } : {}) },
    };
    const event = normalize(envelope, new Date(tick));
    const { duplicate } = await this.o.store.insertEvent(event, JSON.stringify(envelope));
    if (duplicate) return; // another replica stored this tick
    if (this.o.log.isLevelEnabled('debug')) this.o.log.debug({ ruleId: rule.id, tick: envelope.timestamp }, 'schedule tick');
    this.o.onTick(event);
  }
}

/** The latest tick at or before `now`. */
export function latestTick(s: Schedule, now: number): number | undefined {
  if (s.everyMs) return Math.floor(now / s.everyMs) * s.everyMs;
  const [prev] = new Cron(s.cron!, { timezone: s.timezone, paused: true }).previousRuns(1, new Date(now + 1));
  return prev?.getTime();
}

/** The first tick after `now`. */
export function nextTick(s: Schedule, now: number): number | undefined {
  if (s.everyMs) return (Math.floor(now / s.everyMs) + 1) * s.everyMs;
  return new Cron(s.cron!, { timezone: s.timezone, paused: true }).nextRun(new Date(now))?.getTime();
}
