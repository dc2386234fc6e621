import type { NotionEvent } from '../model/event.js';
import { evaluateEvent, renderActions } from './evaluate.js';
import type { RuleSet } from './rule-set.js';
import type { ActionIntent, FactSource, RuleOutcome } from './types.js';

/** One thing that happened in a simulation, at a time of its clock. */
export interface SimStep {
  at: string;
  rule: string;
  what: 'run' | 'throttled' | 'digested' | 'digest_run' | 'delayed' | 'delay_run' | 'delay_dropped' | 'error';
  eventId?: string;
  key?: string;
  items?: number;
  actions?: ActionIntent[];
  error?: string;
}

/** What is still open when the clock stops. */
export interface SimPending {
  digests: Array<{ rule: string; key: string; items: number; dueAt: string }>;
  delays: Array<{ rule: string; key: string; eventId: string; dueAt: string }>;
}

/**
 * Throttle, digest and delays over a list of events, on a given clock: the events in timestamp
 * order, each at its own time; digest groups due `wait` after their first item (or at `max`),
 * waits rechecked when due (with the same facts), all up to `now`. Nothing is stored or sent:
 * it is `run --events` and rule tests' view of what the server would do.
 */
export async function simulate(ruleSet: RuleSet, events: NotionEvent[], facts: FactSource, now: Date): Promise<{ steps: SimStep[]; pending: SimPending }> {
  const steps: SimStep[] = [];
  const windows = new Map<string, number>();
  const groups = new Map<string, { rule: string; key: string; due: number; items: Array<Record<string, unknown>>; first: string }>();
  const waits = new Map<string, { rule: string; key: string; event: NotionEvent; due: number }>();
  const iso = (t: number) => new Date(t).toISOString();

  const flushGroup = async (id: string, at: number) => {
    const g = groups.get(id)!;
    groups.delete(id);
    const rule = ruleSet.byId.get(g.rule);
    if (!rule) return;
    const rendered = await renderActions(rule, { items: g.items, count: g.items.length, key: g.key, rule: { id: rule.id }, now: iso(at) });
    steps.push(
      'error' in rendered
        ? { at: iso(at), rule: g.rule, what: 'error', key: g.key, error: rendered.error }
        : { at: iso(at), rule: g.rule, what: 'digest_run', key: g.key, items: g.items.length, actions: rendered.actions },
    );
  };
  const recheck = async (id: string) => {
    const w = waits.get(id)!;
    waits.delete(id);
    const [o] = await evaluateEvent(ruleSet, w.event, { facts, only: (r) => r.id === w.rule, recheck: true, now: new Date(w.due) });
    if (o?.matched) steps.push({ at: iso(w.due), rule: w.rule, what: 'delay_run', eventId: w.event.id, key: w.key, actions: o.actions });
    else
      steps.push({
        at: iso(w.due),
        rule: w.rule,
        what: o && 'error' in o ? 'error' : 'delay_dropped',
        eventId: w.event.id,
        key: w.key,
        ...(o && 'error' in o ? { error: o.error } : {}),
      });
  };
  /** Timers due up to `t`, in time order. */
  const advance = async (t: number) => {
    for (;;) {
      const g = [...groups.entries()].filter(([, x]) => x.due <= t).sort((a, b) => a[1].due - b[1].due)[0];
      const w = [...waits.entries()].filter(([, x]) => x.due <= t).sort((a, b) => a[1].due - b[1].due)[0];
      if (!g && !w) return;
      if (g && (!w || g[1].due <= w[1].due)) await flushGroup(g[0], g[1].due);
      else await recheck(w![0]);
    }
  };

  for (const event of [...events].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))) {
    const t = Date.parse(event.timestamp);
    await advance(t);
    const outcomes = await evaluateEvent(ruleSet, event, { facts, now: new Date(t) });
    for (const rule of ruleSet.waiting) {
      const id = `${rule.id}|${event.entity.id}`;
      if (rule.after!.cancelOn.some((p) => typeMatches(p, event.type))) waits.delete(id);
      else if (rule.after!.restartOn.some((p) => typeMatches(p, event.type)) && waits.has(id))
        waits.set(id, { ...waits.get(id)!, event, due: t + rule.after!.delayMs });
    }
    for (const o of outcomes) await apply(o, event, t);
  }
  await advance(now.getTime());
  return {
    steps,
    pending: {
      digests: [...groups.values()].map((g) => ({ rule: g.rule, key: g.key, items: g.items.length, dueAt: iso(g.due) })),
      delays: [...waits.values()].map((w) => ({ rule: w.rule, key: w.key, eventId: w.event.id, dueAt: iso(w.due) })),
    },
  };

  async function apply(o: RuleOutcome, event: NotionEvent, t: number): Promise<void> {
    if (!o.matched) {
      if ('error' in o) steps.push({ at: iso(t), rule: o.rule, what: 'error', eventId: event.id, error: o.error });
      return;
    }
    const rule = ruleSet.byId.get(o.rule)!;
    if (o.throttleKey !== undefined && rule.throttle) {
      const id = `${o.rule}|${o.throttleKey}`;
      if ((windows.get(id) ?? -Infinity) > t) return void steps.push({ at: iso(t), rule: o.rule, what: 'throttled', eventId: event.id, key: o.throttleKey });
      windows.set(id, t + rule.throttle.perMs);
    }
    if (o.digest && rule.digest) {
      const id = `${o.rule}|${o.digest.key}`;
      const g = groups.get(id) ?? { rule: o.rule, key: o.digest.key, due: t + rule.digest.waitMs, items: [], first: event.id };
      g.items.push(o.digest.item);
      groups.set(id, g);
      steps.push({ at: iso(t), rule: o.rule, what: 'digested', eventId: event.id, key: o.digest.key });
      if (g.items.length >= rule.digest.max) await flushGroup(id, t);
      return;
    }
    if (o.delayed && rule.after) {
      const id = `${o.rule}|${event.entity.id}`;
      const restarts = rule.after.restartOn.some((p) => typeMatches(p, event.type));
      if (!waits.has(id) || restarts) waits.set(id, { rule: o.rule, key: event.entity.id, event, due: t + rule.after.delayMs });
      steps.push({ at: iso(t), rule: o.rule, what: 'delayed', eventId: event.id, key: event.entity.id });
      return;
    }
    steps.push({
      at: iso(t),
      rule: o.rule,
      what: 'run',
      eventId: event.id,
      actions: o.actions,
      ...(o.throttleKey !== undefined ? { key: o.throttleKey } : {}),
    });
  }
}

function typeMatches(pattern: string, type: string): boolean {
  return pattern === type || pattern === '*' || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1)));
}
