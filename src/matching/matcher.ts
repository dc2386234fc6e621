import type { Logger } from 'pino';
import type { RuleCoordinator } from '../engine/coordinator.js';
import { evaluateEvent } from '../engine/evaluate.js';
import type { RuleSet } from '../engine/rule-set.js';
import type { FactSource, RuleOutcome } from '../engine/types.js';
import type { NotionEvent } from '../model/event.js';
import type { MatchQueue } from '../store/ports.js';
import type { DispatchResult, InsertOptions, Job, StoredEvent } from '../store/types.js';
import { backoffDelay, type BackoffPolicy } from '../delivery/backoff.js';
import { withDefaults } from '../actions/registry.js';
import type { DeliveryHooks } from '../delivery/hooks.js';
import { Pump } from '../delivery/pump.js';
import { seedPage } from '../engine/context.js';
import { pageView } from '../engine/props.js';
import { pageIdOf } from '../model/entities.js';
import { openAt } from '../engine/active-hours.js';
import { snapshotBefore, type SnapshotRecord } from '../model/snapshot.js';
import type { DigestEntry, SnapshotWrite } from '../store/types.js';
import { WakeTimes } from './wake-times.js';

export interface MatcherOptions {
  store: MatchQueue;
  rules: RuleCoordinator;
  /** A fresh fact source per event (its cache is the event's); `turnAt`: its reserved turn at Notion. */
  facts: (turnAt?: number | null) => FactSource;
  log: Logger;
  backoff: BackoffPolicy;
  maxAttempts: number;
  /** How long claimed events are ours before another replica may match them. */
  leaseMs: number;
  /** Events matched at once. */
  batch: number;
  /**
   * `event.stale` needs a write per event (the entity's latest time). 'when-read': only while an
   * enabled rule may read it (one process owns the store). 'always': replicas may run different
   * rule versions for a moment, so every event is recorded.
   */
  staleTracking: 'always' | 'when-read';
  hooks?: DeliveryHooks;
  /** Where new jobs go (the job runner). */
  jobs: JobSink;
  /** Events joined digest groups (the flusher plans its next pass). */
  onDigest?: () => void;
  /** Waits (`after`) started or restarted (the delay runner plans its next pass). */
  onDelay?: () => void;
}

/** Takes new jobs: those it has room for are stored already claimed and started without a claim. */
export interface JobSink {
  /** Holds up to `max` slots for jobs about to be stored claimed by this process. */
  reserve(max: number): number;
  /** Starts the claimed ones among `jobs`, releases the `reserved` slots, wakes for the rest. */
  adopt(jobs: Job[], reserved: number): void;
}

const POLL_MS = 1000;
/** Events handed over at insert and waiting in memory, at most; beyond it they wait in the store. */
const HANDOFF_MAX = 1024;

/**
 * Matches stored events against the active rule set, once each: for every event, in one
 * transaction, one job per matched rule with its rendered actions, the match report, and the
 * event marked dispatched. A crash before that commit just redoes the match.
 */
export class Matcher {
  private readonly pump: Pump;
  /** Events the webhook stored already leased to us: matched from memory, not read back. */
  private readonly handed: NotionEvent[] = [];
  /** Whether the store's per-entity record is kept (undefined until the first pass settles it). */
  private tracking: boolean | undefined;
  /** When events deferred by this process for Notion's turn are due: a pass is planned for each. */
  private readonly waits = new WakeTimes();

  constructor(private readonly o: MatcherOptions) {
    this.pump = new Pump(
      () => this.drain(),
      POLL_MS,
      (err) => {
        o.log.error({ err }, 'matcher failed; retrying');
        o.hooks?.onUnexpectedError?.(err, 'matcher');
      },
    );
  }

  start(): void {
    this.pump.start();
  }

  wake(): void {
    this.pump.wake();
  }

  /**
   * How to store a new event. No rule listens to its type: stored as matched at once (the report
   * the matcher would write: empty), unless stale tracking is changing, which the matcher settles
   * first. Otherwise with a lease, when there is room to match it from memory; a process that dies
   * before matching it leaves a lease that expires (or, for SQLite, is released at the next
   * start): the event is matched then. Neither: it waits in the store's queue.
   */
  intake(event: NotionEvent, now = Date.now()): InsertOptions {
    const ruleSet = this.o.rules.current;
    const track = this.tracks(ruleSet);
    if (track === this.tracking && ruleSet.index.candidates(event.type).length === 0 && !endsOrRestartsWaits(ruleSet, event.type)) {
      return { matched: { rulesVersion: ruleSet.version, ...(track ? { entityId: event.entity.id } : {}) } };
    }
    return this.handed.length < HANDOFF_MAX ? { leaseUntil: now + this.o.leaseMs } : {};
  }

  /** An event just stored with the lease of `intake`. */
  handOver(event: NotionEvent): void {
    this.handed.push(event);
    this.pump.wake();
  }

  stop(timeoutMs: number): Promise<void> {
    return this.pump.stop(timeoutMs);
  }

  /** Matches due events until none is left; each batch is committed in one transaction. */
  private async drain(): Promise<void> {
    for (;;) {
      const ruleSet = this.o.rules.current; // a batch finishes with the rules it started with
      const track = this.tracks(ruleSet);
      if (track !== this.tracking) {
        // Before any event is matched with these rules: a rule that reads `stale` sees it exact.
        await this.o.store.trackEntities(track);
        this.tracking = track;
      }
      const events =
        this.handed.length > 0 ? this.handed.splice(0, this.o.batch).map(fresh) : await this.o.store.claimEvents(this.o.batch, Date.now(), this.o.leaseMs);
      if (events.length === 0) {
        const next = this.waits.next(Date.now());
        if (next !== undefined) this.pump.schedule(next - Date.now());
        return;
      }
      // What this batch saw of each page, before it is committed: the next event about the page sees it as `before`.
      const seen: BatchSeen = { records: new Map(), repeated: repeatedPages(events) };
      // Read per batch, so a pause by another process or replica holds from its next batch on.
      const paused = new Set((await this.o.store.pausedRules(Date.now())).map((p) => p.ruleId));
      const results = (await inPageOrder(events, (stored) => this.match(stored, ruleSet, track, seen, paused))).filter(
        (r): r is DispatchResult => r !== undefined,
      );
      if (results.length === 0) continue;
      const wanted = results.reduce((n, r) => n + r.jobs.filter((j) => !j.shadow).length, 0);
      const slots = wanted > 0 ? this.o.jobs.reserve(wanted) : 0;
      let jobs: Job[];
      try {
        jobs = await this.o.store.completeDispatch(results, slots > 0 ? { until: Date.now() + this.o.leaseMs, max: slots } : undefined);
      } catch (err) {
        this.o.jobs.adopt([], slots);
        throw err;
      }
      this.o.jobs.adopt(jobs, slots);
      for (const r of results)
        for (const j of r.jobs)
          if (j.shadow)
            this.o.hooks?.onShadowJob?.(
              j.ruleId,
              j.actions.map((a) => a.type),
            );
    }
  }

  /**
   * Throttled rules run once per key per window (event time): a match whose window is taken becomes
   * `throttled`. Digest matches join their groups, durably, before the match is recorded (adding is
   * idempotent, so a crash in between adds nothing twice).
   */
  private async applyTiming(event: NotionEvent, outcomes: RuleOutcome[], ruleSet: RuleSet): Promise<void> {
    const at = Date.parse(event.timestamp);
    const digests: DigestEntry[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (!o.matched) continue;
      const rule = ruleSet.byId.get(o.rule);
      if (o.throttleKey !== undefined && rule?.throttle) {
        const runs = await this.o.store.claimWindow(o.rule, o.throttleKey, event.id, at, at + rule.throttle.perMs);
        if (!runs) outcomes[i] = { rule: o.rule, matched: false, reason: 'throttled', key: o.throttleKey };
      }
      if (o.digest && rule?.digest)
        digests.push({ ruleId: o.rule, key: o.digest.key, eventId: event.id, item: o.digest.item, waitMs: rule.digest.waitMs, max: rule.digest.max });
    }
    if (digests.length > 0) {
      await this.o.store.addToDigest(digests, Date.now());
      this.o.onDigest?.();
    }
    await this.applyWaits(event, outcomes, ruleSet, at);
  }

  /**
   * Rules with `after`: a match starts the entity's wait (a pending one goes on, or starts again
   * when the rule restarts on this type); other events of a `restartOn` or `cancelOn` type restart
   * or end a pending wait. Waits run from the event's time.
   */
  private async applyWaits(event: NotionEvent, outcomes: RuleOutcome[], ruleSet: RuleSet, at: number): Promise<void> {
    if (ruleSet.waiting.length === 0) return;
    const key = event.entity.id;
    let scheduled = false;
    for (const rule of ruleSet.waiting) {
      const after = rule.after!;
      const o = outcomes.find((x) => x.rule === rule.id);
      const restarts = after.restartOn.some((t) => typeMatches(t, event.type));
      if (after.cancelOn.some((t) => typeMatches(t, event.type))) {
        if (await this.o.store.cancelDelay(rule.id, key)) this.o.log.info({ ruleId: rule.id, eventId: event.id, entityId: key }, 'wait cancelled');
      } else if (o?.matched && o.delayed) {
        await this.o.store.scheduleDelay(rule.id, key, event.id, at + after.delayMs, restarts);
        scheduled = true;
      } else if (restarts) {
        scheduled = (await this.o.store.restartDelay(rule.id, key, event.id, at + after.delayMs)) || scheduled;
      }
    }
    if (scheduled) this.o.onDelay?.();
  }

  /** The page as last seen before `event` (rules' `before`), this batch's reads first. */
  private async before(event: NotionEvent, seen: BatchSeen): Promise<unknown> {
    const id = pageIdOf(event);
    if (!id) return null;
    return snapshotBefore(seen.records.get(id) ?? (await this.o.store.snapshotOf(id)), event.timestamp);
  }

  /** What the event's page read (or its seed) showed, to record as the page's snapshot as of the event. */
  private async snapshot(event: NotionEvent, pageRead: Promise<unknown> | undefined, seen: BatchSeen): Promise<SnapshotWrite | undefined> {
    const pageId = pageIdOf(event);
    const page = seedPage(event) ?? ((await pageRead?.catch(() => undefined)) as Record<string, unknown> | undefined);
    if (!pageId || !page || typeof page.id !== 'string' || bare(page.id) !== bare(pageId)) return undefined;
    const view = pageView(page);
    const snapshot: SnapshotWrite = { pageId, seenAt: event.timestamp, title: view.title, props: { ...view.props } };
    // Only another event of this page later in the batch reads it before the commit.
    if (!seen.repeated.has(pageId)) return snapshot;
    const record = seen.records.get(pageId) ?? (await this.o.store.snapshotOf(pageId));
    if (!record || snapshot.seenAt > record.current.seenAt) seen.records.set(pageId, { current: snapshot, previous: record?.current ?? null });
    return snapshot;
  }

  /** Whether events matched with `ruleSet` must record their entity's time. */
  private tracks(ruleSet: RuleSet): boolean {
    return this.o.staleTracking === 'always' || ruleSet.readsStale;
  }

  /** Evaluates one event; undefined when it must wait (Notion unreachable) and was deferred. */
  private async match(
    stored: StoredEvent,
    ruleSet: RuleSet,
    track: boolean,
    seen: BatchSeen,
    paused: ReadonlySet<string>,
  ): Promise<DispatchResult | undefined> {
    const { event } = stored;
    const startedAt = this.o.hooks?.onMatched ? Date.now() : 0;
    const ids = { eventId: event.id, eventType: event.type }; // on every line about this event
    // Untracked, no rule reads it: false is never seen.
    const stale = track && (await this.o.store.isStale(event.entity.id, event.timestamp));
    // A replayed `failed` event keeps its report: only the rules that failed are matched again.
    const previous = Array.isArray(stored.report) ? (stored.report as ReportEntry[]) : undefined;
    const retry = previous && new Set(previous.filter(failure).map((r) => r.rule));
    const notion = this.o.facts(stored.turnAt);
    let pageRead: Promise<unknown> | undefined;
    const facts: FactSource = {
      get: (fact, ev) => {
        if (fact === 'before') return this.before(ev, seen);
        const p = notion.get(fact, ev);
        if (fact === 'page') pageRead = p;
        return p;
      },
    };
    const outcomes = await evaluateEvent(ruleSet, event, {
      facts,
      stale,
      onCondition: (rule) => this.o.hooks?.onConditionEvaluated?.(rule.id),
      ...(paused.size > 0 ? { paused } : {}),
      ...(retry ? { only: (rule) => retry.has(rule.id) } : {}),
    });

    const waiting = outcomes.find((o): o is Extract<RuleOutcome, { reason: 'fetch_error' }> => !o.matched && o.reason === 'fetch_error' && o.retriable);
    if (waiting?.waitUntil !== undefined) {
      // Notion's pace or pause: flow control, not a failure. The event waits, spending no attempt.
      if (this.o.log.isLevelEnabled('debug'))
        this.o.log.debug({ ...ids, ruleId: waiting.rule, until: new Date(waiting.waitUntil).toISOString() }, "waiting for Notion's turn before matching");
      await this.o.store.deferDispatch(event.id, waiting.error, waiting.waitUntil, { ...(waiting.turnReserved ? { turnAt: waiting.waitUntil } : {}) });
      // Come back at its turn, not at the next poll: turns that passed meanwhile would go together.
      this.waits.add(waiting.waitUntil);
      return undefined;
    }
    if (waiting && stored.dispatchAttempts + 1 < this.o.maxAttempts) {
      const delay = backoffDelay(stored.dispatchAttempts + 1, this.o.backoff);
      this.o.log.warn({ ...ids, ruleId: waiting.rule, err: waiting.error, retryInMs: delay }, 'Notion fetch failed; matching this event again later');
      await this.o.store.deferDispatch(event.id, waiting.error, Date.now() + delay);
      return undefined;
    }

    await this.applyTiming(event, outcomes, ruleSet);
    for (const o of outcomes) {
      const outcome = o.matched ? (o.digest ? 'digested' : o.delayed ? 'delayed' : 'matched') : o.reason;
      if (outcome !== 'type_not_subscribed' && outcome !== 'disabled') this.o.hooks?.onRuleOutcome?.(o.rule, outcome);
      if (!o.matched && 'error' in o) {
        this.o.log.warn({ ...ids, ruleId: o.rule, reason: o.reason, err: o.error }, 'rule failed for this event');
        this.o.hooks?.onRuleFailed?.(event, o.rule, o.reason, o.error);
      } else if (this.o.log.isLevelEnabled('debug')) this.o.log.debug({ ...ids, ruleId: o.rule, outcome }, o.matched ? 'rule matched' : 'rule did not match');
    }
    const snapshot = await this.snapshot(event, pageRead, seen);
    const entries: ReportEntry[] = outcomes.map((o) =>
      o.matched
        ? { rule: o.rule, matched: true, actions: o.actions.length, ...(o.digest ? { digest: o.digest.key } : {}), ...(o.delayed ? { delayed: true } : {}) }
        : o,
    );
    const report = previous ? previous.map((r) => entries.find((e) => e.rule === r.rule) ?? r) : entries;
    this.o.hooks?.onMatched?.(event, startedAt, Date.now(), entries);
    return {
      eventId: event.id,
      ...(track ? { entityId: event.entity.id } : {}),
      timestamp: event.timestamp,
      ...(snapshot ? { snapshot } : {}),
      rulesVersion: ruleSet.version,
      report,
      failed: report.some(failure),
      jobs: outcomes.flatMap((o) =>
        o.matched && o.actions.length > 0 ? [{ ruleId: o.rule, actions: withDefaults(o.actions, event), ...jobTerms(ruleSet, o.rule) }] : [],
      ),
    };
  }
}

/**
 * Runs `match` for each event, events about one page one after the other in timestamp order (so
 * each sees the previous one's snapshot), pages side by side; results in the events' order.
 */
async function inPageOrder<T>(events: StoredEvent[], match: (e: StoredEvent) => Promise<T>): Promise<T[]> {
  const groups = new Map<string, number[]>();
  events.forEach((e, i) => {
    const key = pageIdOf(e.event) ?? `event:${e.event.id}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const out = new Array<T>(events.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      indexes.sort((a, b) =>
        events[a]!.event.timestamp < events[b]!.event.timestamp ? -1 : events[a]!.event.timestamp > events[b]!.event.timestamp ? 1 : a - b,
      );
      for (const i of indexes) out[i] = await match(events[i]!);
    }),
  );
  return out;
}

/** What a batch saw of its pages before its commit, for the pages with more than one event in it. */
interface BatchSeen {
  records: Map<string, SnapshotRecord>;
  repeated: ReadonlySet<string>;
}

function repeatedPages(events: StoredEvent[]): Set<string> {
  const once = new Set<string>();
  const more = new Set<string>();
  for (const e of events) {
    const id = pageIdOf(e.event);
    if (id) (once.has(id) ? more : once).add(id);
  }
  return more;
}

/** An id without dashes, lower case: Notion writes ids both ways. */
const bare = (id: string) => id.replace(/-/g, '').toLowerCase();

/** One rule's line of an event's match report. */
type ReportEntry = { rule: string; matched: boolean; reason?: string; error?: string; digest?: string; delayed?: boolean };

/**
 * How a rule's new job is stored: a shadow rule's is recorded, never run (`shadow`); one of a rule
 * with active hours waits for its window (`runAt`); others run now.
 */
export function jobTerms(ruleSet: RuleSet, ruleId: string, now = Date.now()): { runAt?: number; shadow?: true } {
  const rule = ruleSet.byId.get(ruleId);
  if (rule?.mode === 'shadow') return { shadow: true };
  if (!rule?.active) return {};
  const at = openAt(rule.active, now);
  return at > now ? { runAt: at } : {};
}

/** Whether events of this type restart or end a rule's wait (they must then be matched, even if no rule listens to them). */
function endsOrRestartsWaits(ruleSet: RuleSet, type: string): boolean {
  return ruleSet.waiting.some((r) => [...r.after!.restartOn, ...r.after!.cancelOn].some((t) => typeMatches(t, type)));
}

/** Whether an event type matches a rule's type pattern (`page.properties_updated`, `page.*`, `*`). */
function typeMatches(pattern: string, type: string): boolean {
  return pattern === type || pattern === '*' || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1)));
}

/** A rule that failed for the event (fetch, condition, template), as opposed to not matching. */
function failure(r: ReportEntry): boolean {
  return !r.matched && typeof r.error === 'string';
}

/** A just-stored event as the store would return it, without reading it back. */
function fresh(event: NotionEvent): StoredEvent {
  return { event, status: 'new', receivedAt: Date.now(), duplicates: 0, dispatchAttempts: 0, rulesVersion: null, report: null, error: null };
}
