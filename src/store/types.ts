import type { ActionIntent, NotionEvent } from '../model/event.js';
import type { PageSnapshot, SnapshotRecord } from '../model/snapshot.js';
import type { DelayCompletion, DigestEntry, DigestFlush } from './core/timing.js';

export type { DigestEntry, DigestFlush };

/** `failed`: matched, but a rule failed for it (fetch, condition or template); `replay` matches those rules again. */
export type EventStatus = 'new' | 'dispatched' | 'failed';

export interface InsertResult {
  /** True when this id was already stored; nothing was written but the duplicate count. */
  duplicate: boolean;
}

/** Meta key of the per-entity record's state: 'partial' while it misses events (see `trackEntities`). */
export const ENTITY_RECORD_KEY = 'entity_latest';

/** How `insertEvent` stores a new event. */
export interface InsertOptions {
  /** Claimed for matching by this process until then; `claimEvents` passes it over. */
  leaseUntil?: number;
  /**
   * No rule of `rulesVersion` listens to its type: stored as already matched (status dispatched,
   * an empty report, no jobs), its entity recorded for `event.stale` when `entityId` is given.
   */
  matched?: { rulesVersion: string; entityId?: string };
}

export interface StoredEvent {
  event: NotionEvent;
  status: EventStatus;
  receivedAt: number;
  duplicates: number;
  dispatchAttempts: number;
  rulesVersion: string | null;
  /** What each candidate rule did with the event (matched, condition false, errors). */
  report: unknown;
  error: string | null;
  /** The turn reserved at a destination's pace while matching waited for it (see Destinations). */
  turnAt?: number | null;
}

/** `shadow`: a shadow rule's job, rendered and recorded, never run (see `mode: shadow`). */
export type JobStatus = 'pending' | 'running' | 'done' | 'dead' | 'shadow';

export interface Job {
  id: number;
  eventId: string;
  ruleId: string;
  actions: ActionIntent[];
  /** The first action not yet done: a retry resumes here. */
  nextAction: number;
  status: JobStatus;
  attempts: number;
  runAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  /** The turn reserved at its next action's destination while it waits for it (see Destinations). */
  turnAt?: number | null;
}

export interface Attempt {
  jobId: number;
  actionIndex: number;
  actionType: string;
  startedAt: number;
  durationMs: number;
  /** `rerendered`: not a call: the job's actions were rendered again from the current rule (replay --rerender). */
  outcome: 'ok' | 'retry' | 'dead' | 'rerendered';
  error?: string | null;
  result?: unknown;
}

/** The job's state after an attempt, written in the same transaction as the attempt. */
export interface JobUpdate {
  nextAction: number;
  status: JobStatus;
  attempts: number;
  runAt: number;
  lastError: string | null;
}

export interface DispatchResult {
  eventId: string;
  /**
   * The event's entity and time, recorded for `event.stale` of later events; omitted (or '')
   * while entity tracking is off (see `trackEntities`).
   */
  entityId?: string;
  timestamp: string;
  /** What was seen of the event's page (a rule fetched it), recorded if newer than the page's snapshot. */
  snapshot?: SnapshotWrite;
  rulesVersion: string;
  report: unknown;
  /** A rule failed for the event: it is stored as `failed`, to be replayed. */
  failed?: boolean;
  /** `runAt`: held until then (the rule's active hours); default now. `shadow`: recorded, never run. */
  jobs: Array<{ ruleId: string; actions: ActionIntent[]; runAt?: number; shadow?: boolean }>;
}

/** A page snapshot to record: the page and what was seen of it. */
export interface SnapshotWrite extends PageSnapshot {
  pageId: string;
}

/** A digest group taken for flushing (see `claimDigests`). */
export interface DigestGroup {
  ruleId: string;
  key: string;
  count: number;
  max: number;
  waitMs: number;
  openedAt: number;
}

/** A rule's wait (`after`) taken for its recheck. */
export interface PendingDelay {
  ruleId: string;
  key: string;
  eventId: string;
  dueAt: number;
}

/** Open digest groups and pending waits, per rule. */
export interface TimingStatus {
  digests: Array<{ ruleId: string; groups: number; items: number; nextDueAt: number }>;
  delays: Array<{ ruleId: string; waiting: number; nextDueAt: number }>;
}

/**
 * The series of the service's flow per minute (see store/core/flow), a closed list: events in, rule outcomes (a
 * total and per rule), action outcomes per destination, lag.
 */
export const FLOW_SERIES = [
  'events.received',
  'events.duplicate',
  'events.rejected',
  'rules.matched',
  'rules.failed',
  'rules.held',
  'rule.matched',
  'rule.failed',
  'rule.held',
  'actions.delivered',
  'actions.retried',
  'actions.rate_limited',
  'actions.dead',
  'lag.jobs',
  'lag.match',
] as const;
export type FlowSeries = (typeof FLOW_SERIES)[number];

/**
 * One minute of one series: `item` is what the series is broken down by (a rule id, a
 * destination, a reject reason; '' for a total), `minute` is ms since the epoch / 60,000, `value`
 * a count, or for `lag.*` the largest lag seen that minute in ms.
 */
export interface FlowCount {
  series: FlowSeries;
  item: string;
  minute: number;
  value: number;
}

/** What `prune` deleted (or, dry, would delete). */
export interface PruneResult {
  events: number;
  jobs: number;
}

/** What a replay queued again. */
export interface ReplayResult {
  /** Dead jobs put back in the queue. */
  jobs: number;
  /** The event's failed rules will be matched again (it was `failed`). */
  rematch: boolean;
}

export interface SearchDocument {
  id: string;
  title: string;
  text: string;
  url: string;
  fields: Record<string, unknown>;
}

export interface SearchHit {
  id: string;
  title: string;
  url: string;
  snippet: string;
}

/**
 * `new` (not yet matched), `failed` (a rule failed for it), `pending` (jobs to run), `processed`
 * (all done), `dead` (a job is dead).
 */
export type EventListStatus = 'new' | 'failed' | 'pending' | 'processed' | 'dead';

export interface EventSummary {
  id: string;
  type: string;
  entityId: string;
  timestamp: string;
  receivedAt: number;
  status: EventListStatus;
  duplicates: number;
  jobs: { total: number; done: number; dead: number; pending: number; shadow: number };
}

/** A paused rule: it creates no jobs until resumed, or until `until`. */
export interface RulePause {
  ruleId: string;
  /** null: until resumed. */
  until: number | null;
  pausedAt: number;
  /** Who paused it: `admin-api`, `console`, `cli`. */
  source: string;
  reason: string | null;
}

/** What the audit log records: changes to the rules and operators' actions on them. */
export interface AuditEntry {
  at: number;
  action: 'reload' | 'pause' | 'resume' | 'replay';
  ruleId?: string | null;
  /** `admin-api`, `console`, `cli`, or for a reload its trigger (`start`, `watch`, `poll`, `sighup`, `admin`). */
  source: string;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'detail'>> {
  id: number;
  ruleId: string | null;
  detail: Record<string, unknown>;
}

export interface QueueCounts {
  eventsToDispatch: number;
  /** Events a rule failed for, not replayed yet. */
  failedEvents: number;
  /** When the earliest pending job was due (null: none); its age is the queue's lag. */
  oldestPendingRunAt: number | null;
  /** When the oldest event not yet matched arrived (null: none); its age is the matcher's lag. */
  oldestNewReceivedAt: number | null;
  pending: number;
  running: number;
  dead: number;
  /** Shadow rules' jobs (recorded, never run). */
  shadow: number;
}

export interface StoreHealth {
  ok: boolean;
  kind: 'sqlite' | 'postgres';
  /** This process's identity in leases (several replicas share a PostgreSQL store). */
  replica?: string;
  /** The last write error, while writes are failing. */
  error?: string;
  schemaVersion: number;
}

/**
 * Everything the service keeps. Implemented by SQLite (embedded default) and PostgreSQL (several
 * replicas); its clients see it through their ports (ports.ts). Every method may reject with
 * StoreUnavailableError when the database cannot be written or read.
 */
export interface Store {
  /** For display (/health); decisions use the capabilities below. */
  readonly kind: 'sqlite' | 'postgres';
  /** Several processes may use this store at once (replicas): none may assume it sees every write. */
  readonly sharedByReplicas: boolean;
  /**
   * Stores an event once. Resolves only after the row is durably committed. With `leaseUntil`, a
   * new event is claimed for matching by this process at once (the caller matches it from memory);
   * `claimEvents` passes it over until then, so a process that dies leaves it to the next. With
   * `matched`, it is stored as matched already. A duplicate only counts, whatever the options.
   */
  insertEvent(event: NotionEvent, raw: string, options?: InsertOptions): Promise<InsertResult>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  countEvents(): Promise<number>;
  getMeta(key: string): Promise<string | undefined>;

  // --- dispatch: events to match against the rules
  /** Leases up to `limit` new events that are due, oldest first. */
  claimEvents(limit: number, now: number, leaseMs: number): Promise<StoredEvent[]>;
  /**
   * In one transaction, for a batch of events: their jobs and reports, each event marked
   * dispatched. Returns the jobs created. With `lease`, up to `lease.max` of them are stored
   * already claimed by this process until `lease.until` (status running, as `claimJobs` leaves
   * them), for the caller to run at once; the rest are pending.
   */
  completeDispatch(results: DispatchResult[], lease?: { until: number; max: number }): Promise<Job[]>;
  /**
   * Matching could not finish: try again at `nextAt`. Without `wait`: a failure (Notion
   * unreachable) that counts as a dispatch attempt. With it: flow control (Notion's pace, a pause),
   * free; `wait.turnAt` is the event's reserved turn, kept for whoever matches it.
   */
  deferDispatch(eventId: string, error: string, nextAt: number, wait?: { turnAt?: number }): Promise<void>;
  /** Whether an event with a later timestamp for this entity was already dispatched. */
  isStale(entityId: string, timestamp: string): Promise<boolean>;
  /** The page's latest snapshot and the one before it (rules' `before`); undefined when never seen. */
  snapshotOf(pageId: string): Promise<SnapshotRecord | undefined>;
  /** Records snapshots (each only if newer than its page's); `snapshot --database` seeds them. Returns how many were newer. */
  recordSnapshots(snapshots: SnapshotWrite[]): Promise<number>;

  // --- throttle and digest (rules' `throttle`, `digest`)
  /**
   * Opens the rule's window for `key` from `at` to `until` (event time) and says the rule may run,
   * unless a window is open at `at`; the event that opened a window may claim it again.
   */
  claimWindow(ruleId: string, key: string, eventId: string, at: number, until: number): Promise<boolean>;
  /** Adds events to their digest groups (durably, before the match is recorded); each event once per rule. */
  addToDigest(entries: DigestEntry[], now: number): Promise<void>;
  /** Takes up to `limit` due groups nobody is flushing, as `claim`, until `now + leaseMs`. */
  claimDigests(claim: string, now: number, leaseMs: number, limit: number): Promise<DigestGroup[]>;
  digestItems(ruleId: string, key: string, max: number): Promise<Array<{ id: number; eventId: string; item: Record<string, unknown> }>>;
  /** Stores a flushed group's job and ends the group in one transaction; false when the claim is no longer ours. */
  completeDigest(flush: DigestFlush): Promise<boolean>;
  dropDigest(ruleId: string, key: string, claim: string): Promise<void>;
  postponeDigest(ruleId: string, key: string, claim: string, at: number): Promise<void>;
  nextDigestAt(): Promise<number | undefined>;
  /** Starts a rule's wait (`after`) for `key` until `dueAt`; with `restart`, a pending one starts again from this event. */
  scheduleDelay(ruleId: string, key: string, eventId: string, dueAt: number, restart: boolean): Promise<void>;
  /** A pending wait starts again from `eventId` (restartOn); false when none was pending. */
  restartDelay(ruleId: string, key: string, eventId: string, dueAt: number): Promise<boolean>;
  cancelDelay(ruleId: string, key: string): Promise<boolean>;
  claimDelays(claim: string, now: number, leaseMs: number, limit: number): Promise<PendingDelay[]>;
  /** The job of a wait whose condition still holds, with the wait's end, in one transaction; false when the claim is no longer ours. */
  completeDelay(d: DelayCompletion): Promise<boolean>;
  dropDelay(ruleId: string, key: string, claim: string): Promise<void>;
  postponeDelay(ruleId: string, key: string, claim: string, at: number): Promise<void>;
  nextDelayAt(): Promise<number | undefined>;
  timingStatus(): Promise<TimingStatus>;
  /** Pauses a rule (its matches make no jobs) and records it in the audit log. */
  pauseRule(ruleId: string, pause: { until?: number; source: string; reason?: string }, now: number): Promise<void>;
  /** Resumes a paused rule and records it; false when it was not paused. */
  resumeRule(ruleId: string, source: string, now: number): Promise<boolean>;
  /** The rules paused at `now`. */
  pausedRules(now: number): Promise<RulePause[]>;
  recordAudit(entry: AuditEntry): Promise<void>;
  /**
   * Stored events received at or after `since`, in arrival order, a page at a time (`whatif`):
   * pass the returned cursor back for the next page; null when there are no more.
   */
  historyEvents(since: number, cursor: string | null, limit: number): Promise<{ events: StoredEvent[]; cursor: string | null }>;
  /** When the `n`th most recent stored event arrived (undefined: fewer are stored). */
  nthLatestReceivedAt(n: number): Promise<number | undefined>;
  /** The audit log, newest first (`before`: ids below it, for paging). */
  listAudit(filter: { limit: number; ruleId?: string; before?: number }): Promise<AuditRecord[]>;
  /** The time of a scheduled rule's latest stored tick (its `schedule` events), if any. */
  lastTick(ruleId: string): Promise<number | undefined>;
  /**
   * The per-entity record `isStale` reads costs a write per event, so it can be off while no rule
   * reads `event.stale`. Off: the record is marked incomplete, and `completeDispatch` may get
   * results without `entityId`. On: an incomplete record is first rebuilt from the dispatched
   * events (once, after a time off), so `isStale` is exact again when this resolves.
   */
  trackEntities(on: boolean): Promise<void>;

  // --- jobs: one per (event, rule)
  /** Leases up to `limit` due jobs (and jobs whose lease expired: their replica died). */
  claimJobs(limit: number, now: number, leaseMs: number): Promise<Job[]>;
  /**
   * Records an attempt and the job's new state in one transaction. False when this process no
   * longer holds the job's lease (another replica took it over): the caller must stop the job.
   */
  recordAttempt(attempt: Attempt, update: JobUpdate): Promise<boolean>;
  /**
   * A running job of ours goes back to pending until `runAt`, with nothing recorded and no
   * attempt spent: its destination asked to wait (a pause, or its pace). `turnAt`: its reserved
   * turn at the pace, kept for whoever claims it. False when the lease is no longer ours.
   */
  deferJob(jobId: number, runAt: number, turnAt?: number | null): Promise<boolean>;
  /**
   * Makes waiting jobs and events due at `at` (no later): their destination's breaker closed, so
   * what waited for it goes now rather than at the end of the breaker's wait.
   */
  hasten(jobIds: number[], eventIds: string[], at: number): Promise<void>;
  /** The destinations' pace shared by every replica using this store; undefined: kept per process. */
  readonly pace?: PaceLedger;
  /** Extends the leases of running jobs (a heartbeat for long actions). */
  extendLeases(jobIds: number[], until: number): Promise<void>;
  /** When the earliest pending job is due, if any. */
  nextRunAt(): Promise<number | undefined>;
  /** Clears leases left by a process that died (single-process stores call it at start). */
  releaseLeases(): Promise<void>;
  getJobs(eventId: string): Promise<Job[]>;
  getAttempts(jobId: number): Promise<Attempt[]>;
  listJobs(status: JobStatus, limit: number): Promise<Job[]>;
  listEvents(filter: { status?: EventListStatus; limit: number }): Promise<EventSummary[]>;
  /**
   * Puts an event's dead jobs back in the queue (they resume at the failed action) and, when the
   * event is `failed`, hands it back to the matcher, which matches its failed rules again (the
   * rules that matched keep their one job).
   */
  replayEvent(eventId: string, now: number): Promise<ReplayResult>;
  /** Hands every `failed` event back to the matcher (see replayEvent); returns how many. */
  replayFailed(now: number): Promise<number>;
  /** Puts one dead job back in the queue; false when it is not dead (already replayed, or done). */
  replayJob(jobId: number, now: number): Promise<boolean>;
  /**
   * Puts one dead job back in the queue with `actions` rendered again from the current rule; it
   * resumes at the action that failed. Recorded in its history as `rerendered` with `note`. False
   * when the job is not dead.
   */
  rerenderJob(jobId: number, actions: ActionIntent[], note: string, now: number): Promise<boolean>;
  replayDead(now: number): Promise<number>;
  counts(): Promise<QueueCounts>;

  // --- retention
  /**
   * Deletes up to `batch` resolved events received before `cutoff` — matched, every job done,
   * none finished since the cutoff — with their jobs and attempts (and entity times and page
   * snapshots older than it, and the flow counts). New, failed and dead events stay, whatever their age. With `dryRun`, counts all that
   * would go and deletes nothing.
   */
  prune(cutoff: number, batch: number, dryRun?: boolean): Promise<PruneResult>;
  // --- the flow per minute (console charts)
  /** Adds counts to their minutes (levels keep the largest), in one transaction. */
  addFlow(counts: readonly FlowCount[]): Promise<void>;
  /**
   * The stored minutes of `series` from minute `from` to minute `to`, both included; with
   * `bucketMinutes`, combined per bucket of that many minutes (aligned to multiples of it), each
   * row at its bucket's first minute.
   */
  readFlow(series: readonly FlowSeries[], from: number, to: number, bucketMinutes?: number): Promise<FlowCount[]>;
  /** The store's size on disk in bytes (the database file and its WAL; PostgreSQL's database). */
  sizeBytes(): Promise<number>;

  // --- search index (FTS5)
  indexDocument(doc: SearchDocument): Promise<void>;
  deleteDocument(id: string): Promise<boolean>;
  search(query: string, limit: number): Promise<SearchHit[]>;
  setMeta(key: string, value: string): Promise<void>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/**
 * Where destinations' pace is kept when it must hold for the whole deployment (several replicas).
 * Times are the caller's clock (ms); a shared ledger converts with its own clock.
 */
export interface PaceLedger {
  /**
   * Takes the next turn of `dest` (GCRA: one call per `intervalMs`, up to `toleranceMs` early for
   * bursts, none before a pause ends) and returns when it is.
   */
  take(dest: string, intervalMs: number, toleranceMs: number, now: number): Promise<number>;
  /** No turn of `dest` before `until`; turns after it start `resumeAfterMs` later (no burst). */
  pause(dest: string, until: number, resumeAfterMs: number, now: number): Promise<void>;
}
