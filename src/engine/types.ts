import type { ActionIntent, NotionEvent } from '../model/event.js';

export type { ActionIntent };
import type { ActiveHours } from './active-hours.js';
import type { Expression } from './expression.js';
import type { Template } from './template.js';

/** What a rule may fetch (`fetch:`). */
export type Fetch = 'page' | 'content' | 'database' | 'comment' | 'authors';
/**
 * What an event's evaluation may load: a fetch, the page's snapshot (`before`, read when a rule
 * uses `before` or `changes`), or a schedule's database query (`query`, for its `pages`).
 */
export type Fact = Fetch | 'before' | 'query';

/** A rule's `schedule`: when it runs (`cron` in `timezone`, or `every`), and what it reads. */
export interface Schedule {
  cron?: string;
  timezone?: string;
  everyMs?: number;
  catchUp: boolean;
  query?: { database: string; filter?: unknown; sorts?: unknown[] };
  each: boolean;
}

export interface CompiledAction {
  /** `slack`, `notion.comment`, … */
  type: string;
  params: Template;
  line: number;
  /** For `http`: the origin fixed in the rule; a rendered URL must keep it. */
  origin?: string;
}

export interface CompiledRule {
  id: string;
  description?: string;
  enabled: boolean;
  /** `shadow`: matched and rendered as if live; its jobs are recorded, never run. */
  mode: 'live' | 'shadow';
  /** Content hash of the rule as written (the audit log tells changed rules by it). */
  hash: string;
  file: string;
  line: number;
  on: string[];
  fetch: Fact[];
  when?: Expression;
  actions: CompiledAction[];
  /** Position in the folder (file path order, then document order): rules run in this order. */
  order: number;
  /** Its condition or an action may read `event.stale`. */
  readsStale: boolean;
  /** At most one run per key (a template) per window. */
  throttle?: { key: Template; perMs: number };
  /** Matches collected per key; the actions run once per group, with `items`. */
  digest?: { key: Template; waitMs: number; max: number };
  /** The condition is checked again this long after a match (per entity); the actions run only if it still holds. */
  after?: { delayMs: number; restartOn: string[]; cancelOn: string[] };
  /** `on: schedule`: the rule runs on its ticks, not on events. */
  schedule?: Schedule;
  /** Quiet hours: its jobs are held until this window is open. */
  active?: ActiveHours;
}

/** The facts fetched for an event; a fact that failed holds its error. */
export interface Facts {
  page?: Record<string, unknown>;
  content?: string;
  database?: Record<string, unknown>;
  /** Names of properties changed by the event (ids resolved against the fetched page). */
  changed?: string[];
}

/** Loads facts for an event; each fact at most once per event however many rules ask. */
export interface FactSource {
  get(fact: Fact, event: NotionEvent): Promise<unknown>;
}

export type RuleOutcome =
  | {
      rule: string;
      matched: true;
      actions: ActionIntent[];
      /** A throttled rule's rendered key: the matcher runs it once per key per window. */
      throttleKey?: string;
      /** A digest rule: no actions yet; this event joins the group `key` as `item`. */
      digest?: { key: string; item: Record<string, unknown> };
      /** A rule with `after`: no actions yet; its condition is checked again when the wait is over. */
      delayed?: true;
    }
  | { rule: string; matched: false; reason: 'condition_false'; values: Record<string, unknown> }
  | { rule: string; matched: false; reason: 'condition_error' | 'condition_timeout' | 'render_error'; error: string }
  | {
      rule: string;
      matched: false;
      reason: 'fetch_error';
      error: string;
      retriable: boolean;
      /** Flow control: Notion's pace or pause; no failure, the event waits until then… */ waitUntil?: number;
      /** …which is its reserved turn. */ turnReserved?: boolean;
    }
  | { rule: string; matched: false; reason: 'type_not_subscribed' | 'disabled' }
  /** An operator paused the rule (POST /admin/rules/:id/pause): not evaluated, no job. */
  | { rule: string; matched: false; reason: 'paused' }
  /** It matched, but it already ran for this key in the window (`throttle`). */
  | { rule: string; matched: false; reason: 'throttled'; key: string };
